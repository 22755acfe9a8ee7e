//! The navigation keys' effects: the `:` command line, the `/` filter,
//! `Enter` down and `Esc` up the Jobs screen's levels (the web
//! dashboard's job list → job → vertex → subtask). The pure parts (the
//! commands, their aliases, the path) are in [`crate::nav`].

use super::{Action, App, Screen};
use crate::cluster::{JobView, VertexView};
use crate::nav::{self, Command, Crumb, Prompt};

impl App {
    /// The jobs that pass the filter (name, status or cause), in
    /// submission order.
    pub fn visible_jobs(&self) -> Vec<&JobView> {
        self.view
            .jobs
            .iter()
            .filter(|j| {
                self.nav.matches(&j.name)
                    || self.nav.matches(j.status.as_str())
                    || j.cause.as_deref().is_some_and(|c| self.nav.matches(c))
            })
            .collect()
    }

    /// What the filter looks at in event `i`: its host and its description.
    pub fn event_text(&self, i: usize) -> String {
        let e = &self.events[i];
        format!("{} {}", e.host, e.kind.describe())
    }

    /// Whether event `i` passes the filter.
    pub fn event_passes(&self, i: usize) -> bool {
        self.nav.filter.is_empty() || self.nav.matches(&self.event_text(i))
    }

    /// The job the drill-down path is in, if it is there (at the time shown).
    pub fn nav_job(&self) -> Option<&JobView> {
        let name = self.nav.job()?;
        self.view.jobs.iter().find(|j| j.name == name)
    }

    /// The vertex the drill-down path is in, if it is there.
    pub fn nav_vertex(&self) -> Option<&VertexView> {
        let name = self.nav.vertex()?;
        self.nav_job()?.vertices.iter().find(|v| v.name == name)
    }

    /// How many rows the list of the current level has.
    fn rows(&self) -> usize {
        match self.nav.path.len() {
            0 => self.visible_jobs().len(),
            1 => self.nav_job().map_or(0, |j| j.vertices.len()),
            _ => self.nav_vertex().map_or(0, |v| v.subtasks.len()),
        }
    }

    pub(super) fn edit_prompt(&mut self, action: Action) {
        let Some(prompt) = &mut self.nav.prompt else {
            return;
        };
        match (prompt, action) {
            (Prompt::Command(line), Action::Type(c)) => line.push(c),
            (Prompt::Command(line), Action::Erase) => {
                // Backspace on an empty line closes it.
                let was_empty = line.pop().is_none();
                if was_empty {
                    self.nav.prompt = None;
                }
            }
            (Prompt::Command(line), Action::Complete) => *line = nav::complete(line).0,
            (Prompt::Command(line), Action::Submit) => {
                let parsed = nav::parse(line);
                self.nav.prompt = None;
                match parsed {
                    Ok(c) => self.run(c),
                    Err(nav::CommandError::Empty) => {}
                    Err(e) => self.status = Some(e.to_string()),
                }
            }
            (Prompt::Filter, Action::Type(c)) => {
                self.nav.filter.push(c);
                self.filter_changed();
            }
            (Prompt::Filter, Action::Erase) => {
                if self.nav.filter.pop().is_none() {
                    self.nav.prompt = None;
                }
                self.filter_changed();
            }
            (Prompt::Filter, Action::Submit) => self.nav.prompt = None,
            (Prompt::Filter, Action::CancelPrompt) => {
                self.nav.prompt = None;
                self.nav.filter.clear();
                self.filter_changed();
            }
            (Prompt::Command(_), Action::CancelPrompt) => self.nav.prompt = None,
            _ => {}
        }
    }

    fn filter_changed(&mut self) {
        if self.screen == Screen::Jobs && self.nav.path.is_empty() {
            self.nav.row = self.job_row();
        }
    }

    /// The row of the selected job in the visible list (0 when filtered out).
    fn job_row(&self) -> usize {
        self.visible_jobs()
            .iter()
            .position(|j| self.selected_job.as_deref() == Some(j.name.as_str()))
            .unwrap_or(0)
    }

    /// Runs a command from the command line.
    pub fn run(&mut self, c: Command) {
        match c {
            Command::Show(Screen::Jobs) => {
                self.screen = Screen::Jobs;
                self.nav.path.clear();
                self.nav.row = self.job_row();
            }
            Command::Show(s) => self.screen = s,
            Command::Help => self.help = true,
            Command::Quit => self.quit = true,
        }
    }

    pub(super) fn drill(&mut self) {
        if self.screen != Screen::Jobs {
            // From the cluster or dataflow screen, into the selected job.
            if matches!(self.screen, Screen::Cluster | Screen::Dataflow)
                && let Some(job) = self.selected_job.clone()
                && self.view.jobs.iter().any(|j| j.name == job)
            {
                self.screen = Screen::Jobs;
                self.nav.path = vec![Crumb::Job(job)];
                self.nav.row = 0;
            }
            return;
        }
        let row = self.nav.row;
        let next = match self.nav.path.len() {
            0 => self
                .visible_jobs()
                .get(row)
                .map(|j| Crumb::Job(j.name.clone())),
            1 => self
                .nav_job()
                .and_then(|j| j.vertices.get(row))
                .map(|v| Crumb::Vertex(v.name.clone())),
            2 => self
                .nav_vertex()
                .filter(|v| row < v.subtasks.len())
                .map(|_| Crumb::Subtask(row as u32)),
            _ => {
                self.status = Some("a subtask is the bottom: Esc goes back".into());
                return;
            }
        };
        match next {
            Some(Crumb::Job(name)) => {
                self.selected_job = Some(name.clone());
                self.nav.path.push(Crumb::Job(name));
                self.nav.row = 0;
            }
            Some(Crumb::Vertex(name)) => {
                self.nav.path.push(Crumb::Vertex(name));
                self.nav.row = 0;
            }
            Some(c) => self.nav.path.push(c),
            None => self.status = Some("nothing to open here".into()),
        }
    }

    pub(super) fn back(&mut self) {
        if self.screen == Screen::Jobs
            && let Some(c) = self.nav.path.pop()
        {
            self.nav.row = match c {
                Crumb::Job(name) => self
                    .visible_jobs()
                    .iter()
                    .position(|j| j.name == name)
                    .unwrap_or(0),
                Crumb::Vertex(name) => self
                    .nav_job()
                    .and_then(|j| j.vertices.iter().position(|v| v.name == name))
                    .unwrap_or(0),
                Crumb::Subtask(i) => i as usize,
            };
            return;
        }
        if !self.nav.filter.is_empty() {
            self.nav.filter.clear();
            self.filter_changed();
        }
        // At the top, Esc does nothing: q quits.
    }

    pub(super) fn move_row(&mut self, d: i8) {
        let n = self.rows();
        if n == 0 {
            return;
        }
        let row = (self.nav.row as isize + d as isize).clamp(0, n as isize - 1) as usize;
        self.nav.row = row;
        match self.nav.path.len() {
            0 => self.selected_job = self.visible_jobs().get(row).map(|j| j.name.clone()),
            3 => self.nav.path[2] = Crumb::Subtask(row as u32),
            _ => {}
        }
    }
}
