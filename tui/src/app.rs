//! The application state, the keys, and what each key does.
//!
//! The shape is ratatui's (demo2, gitui): a key becomes an [`Action`]
//! ([`App::handle_key`], pure), an action changes the state
//! ([`App::update`]), and the screen is drawn from the state
//! ([`crate::ui::render`], pure). Time is the simulator's virtual time:
//! [`App::advance`] steps the cluster (live) or moves the playback clock
//! (replay), then folds the new events into the [`ClusterView`].
//!
//! Time travel: the view is always the fold of the first `cursor` events.
//! Moving the cursor back re-folds from the nearest snapshot (one every
//! [`SNAPSHOT_EVERY`] events), so stepping backwards is as cheap as
//! stepping forwards. In a live run the cluster keeps its own present;
//! looking at the past never changes it, and a fault always hits the present.
//!
//! Attached to a real cluster ([`App::attach`], in `app/attached.rs`), the
//! events come from polls of its REST API instead, time is the wall clock,
//! the controls go over REST after a confirmation, and the faults are the
//! simulator's only.

mod attached;
mod navigate;

pub use crate::attach::AttachedState;

use crate::cluster::{self, ClusterView, TmStatus};
use crate::nav::{Nav, Prompt};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use runtime::events::Event;
use runtime::graph::JobGraph;
use sim::Simulation;
use sim::logging::LogBuffer;
use sim::scenario::{FaultAction, Scenario};
use std::sync::Arc;

/// A snapshot of the view is kept every this many events.
pub const SNAPSHOT_EVERY: usize = 256;

/// Slowest and fastest pace (virtual seconds per real second).
pub const SPEEDS: (f64, f64) = (1.0 / 64.0, 64.0);

/// Where events come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The scenario runs in the simulator, now.
    Live,
    /// A recorded trace plays back.
    Replay,
    /// A running cluster's REST API is polled ([`App::attach`]).
    Attached,
}

pub use crate::nav::Screen;

/// Which dataflow graph (when there is no room for both side by side).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowView {
    /// Operators and partitioning, as written (StreamGraph).
    Condensed,
    /// Subtasks, channels and chains, as deployed (ExecutionGraph).
    Parallel,
}

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Leave.
    Quit,
    /// Pause or resume virtual time.
    TogglePause,
    /// Forward to the next event (pauses).
    StepForward,
    /// Back to the previous event (pauses): time travel.
    StepBack,
    /// To the first event.
    First,
    /// Back to the present.
    Present,
    /// Double the pace.
    Faster,
    /// Halve the pace.
    Slower,
    /// Select the next TaskManager.
    NextTaskManager,
    /// Select the previous TaskManager.
    PrevTaskManager,
    /// Select the next job.
    NextJob,
    /// Crash the selected TaskManager.
    Crash,
    /// Restart the selected TaskManager.
    Restart,
    /// Partition the selected TaskManager from the JobManager, or repair.
    Partition,
    /// Cancel the selected job.
    CancelJob,
    /// Take a savepoint of the selected job.
    Savepoint,
    /// Stop the selected job with a savepoint.
    StopWithSavepoint,
    /// Trigger a checkpoint of the selected job now (attached).
    Checkpoint,
    /// Yes to the question asked (`y`).
    Confirm,
    /// No to the question asked (any other key).
    Dismiss,
    /// Show a screen.
    Show(Screen),
    /// Switch between the condensed and the parallel dataflow.
    ToggleFlow,
    /// Open or close the help.
    Help,
    /// Open the command line (`:`).
    OpenCommand,
    /// Open the filter line (`/`).
    OpenFilter,
    /// A character typed on the open line.
    Type(char),
    /// Backspace on the open line.
    Erase,
    /// Tab on the command line: complete.
    Complete,
    /// Enter on the open line: run the command, keep the filter.
    Submit,
    /// Esc on the open line: close it (a filter is cleared).
    CancelPrompt,
    /// Enter: one level down (job → vertices → subtask).
    Drill,
    /// Esc: one level up (or clear the filter); nothing at the top.
    Back,
    /// Move the highlighted row of a list by this much.
    Move(i8),
    /// Nothing.
    None,
}

/// The whole state of the UI.
pub struct App {
    /// Live or replay.
    pub mode: Mode,
    sim: Option<Box<Simulation<'static>>>,
    /// Scenario name.
    pub title: String,
    /// Scenario description.
    pub description: String,
    /// Seed of the run.
    pub seed: u64,
    /// Heartbeat timeout of the cluster (ms), to explain crashes.
    pub heartbeat_timeout_ms: u64,
    /// The scenario's jobs: name and submission time (ms).
    pub scenario_jobs: Vec<(String, u64)>,
    /// The scenario's dataflows, per job.
    pub dataflows: Arc<Vec<viz::Dataflow>>,
    /// Every event known so far (live: produced so far; replay: the whole trace).
    pub events: Vec<Event>,
    /// The source's present (ms): the simulator's clock or the playback clock.
    pub now_ms: u64,
    /// Whether the source has nothing more to say.
    pub ended: bool,
    /// The view shows the fold of `events[..cursor]`.
    pub cursor: usize,
    /// The fold of `events[..cursor]`.
    pub view: ClusterView,
    snapshots: Vec<ClusterView>,
    /// Virtual time stands still.
    pub paused: bool,
    /// Virtual seconds per real second.
    pub speed: f64,
    carry: f64,
    /// The screen shown.
    pub screen: Screen,
    /// Which dataflow graph, when only one fits.
    pub flow: FlowView,
    /// The selected TaskManager.
    pub selected_tm: Option<String>,
    /// The selected job (name).
    pub selected_job: Option<String>,
    /// Whether the help overlay is open.
    pub help: bool,
    /// The command line, the filter and the drill-down path.
    pub nav: Nav,
    /// A message for the status line.
    pub status: Option<String>,
    /// Virtual and wall-clock age of the status message (ms), to let it fade.
    status_age: (u64, f64),
    /// Set when the user asked to leave.
    pub quit: bool,
    /// The log (`tracing`), kept in memory while the terminal is drawn,
    /// and how far it has been read; see [`App::attach_log`].
    log: Option<(LogBuffer, usize)>,
    /// The REST link and what it says, when attached.
    attached: Option<AttachedState>,
}

/// The dataflow pictures of a scenario's jobs.
pub fn dataflows(scenario: &Scenario) -> Vec<viz::Dataflow> {
    scenario
        .jobs
        .iter()
        .map(|j| runtime::graph::viz_model(&JobGraph::from_stream_graph(&j.graph)))
        .collect()
}

impl App {
    fn new(mode: Mode, scenario: &Scenario, seed: u64, events: Vec<Event>) -> App {
        let mut app = App::blank(mode, dataflows(scenario), events);
        app.title = scenario.name.clone();
        app.description = scenario.description.clone();
        app.seed = seed;
        app.heartbeat_timeout_ms = scenario.cluster.heartbeat_timeout_ms;
        app.scenario_jobs = scenario
            .jobs
            .iter()
            .map(|j| (j.graph.job_name.clone(), j.at_ms))
            .collect();
        app.selected_job = scenario.jobs.first().map(|j| j.graph.job_name.clone());
        app
    }

    /// An app with no scenario: the title, the jobs and the selection are
    /// the caller's to fill in.
    fn blank(mode: Mode, dataflows: Vec<viz::Dataflow>, events: Vec<Event>) -> App {
        let dataflows = Arc::new(dataflows);
        let view = ClusterView::new(dataflows.clone());
        App {
            mode,
            sim: None,
            title: String::new(),
            description: String::new(),
            seed: 0,
            heartbeat_timeout_ms: 0,
            scenario_jobs: Vec::new(),
            dataflows,
            events,
            now_ms: 0,
            ended: false,
            cursor: 0,
            snapshots: vec![view.clone()],
            view,
            paused: false,
            speed: 1.0,
            carry: 0.0,
            screen: Screen::Cluster,
            flow: FlowView::Condensed,
            selected_tm: Some("taskmanager-1".into()),
            selected_job: None,
            help: false,
            nav: Nav::default(),
            status: None,
            status_age: (0, 0.0),
            quit: false,
            log: None,
            attached: None,
        }
    }

    /// Runs `scenario` in the simulator. The cluster is kept up until the
    /// scenario's `duration_ms` (not only until the jobs end), so there is
    /// time to break it.
    pub fn live(scenario: &Scenario, seed: Option<u64>) -> App {
        let mut s = scenario.clone();
        s.run_until_ms = s.run_until_ms.max(s.duration_ms);
        let sim = Simulation::new(&s, seed);
        let mut app = App::new(Mode::Live, scenario, sim.seed(), Vec::new());
        app.sim = Some(Box::new(sim));
        app
    }

    /// Plays back a recorded trace of `scenario` (the scenario gives the graphs).
    pub fn replay(scenario: &Scenario, events: Vec<Event>) -> App {
        let mut app = App::new(Mode::Replay, scenario, scenario.seed, events);
        app.ended = app.events.is_empty();
        // What happened at time 0 is already there.
        app.seek(app.available());
        app
    }

    /// The last time of the trace (replay) or the present (live).
    pub fn end_ms(&self) -> u64 {
        match self.mode {
            Mode::Live | Mode::Attached => self.now_ms,
            Mode::Replay => self.events.last().map_or(0, |e| e.t),
        }
    }

    /// How many events have happened by the source's present.
    pub fn available(&self) -> usize {
        match self.mode {
            Mode::Live | Mode::Attached => self.events.len(),
            Mode::Replay => self.events.partition_point(|e| e.t <= self.now_ms),
        }
    }

    /// Whether the view shows the present (not the past).
    pub fn at_present(&self) -> bool {
        self.cursor >= self.available()
    }

    /// The time the view shows (ms).
    pub fn shown_ms(&self) -> u64 {
        if self.at_present() {
            self.now_ms
        } else if self.cursor == 0 {
            0
        } else {
            self.events[self.cursor - 1].t
        }
    }

    /// Moves the view to the fold of `events[..n]`.
    pub fn seek(&mut self, n: usize) {
        let n = n.min(self.events.len());
        if n < self.cursor {
            let k = (n / SNAPSHOT_EVERY).min(self.snapshots.len() - 1);
            self.view = self.snapshots[k].clone();
            // Attached, dataflows arrive as jobs do; the catalog only grows.
            self.view.set_catalog(self.dataflows.clone());
            self.cursor = k * SNAPSHOT_EVERY;
        }
        while self.cursor < n {
            cluster::fold(&mut self.view, &self.events[self.cursor]);
            self.cursor += 1;
            if self.cursor.is_multiple_of(SNAPSHOT_EVERY)
                && self.snapshots.len() == self.cursor / SNAPSHOT_EVERY
            {
                self.snapshots.push(self.view.clone());
            }
        }
    }

    fn pull(&mut self) {
        if let Some(sim) = &self.sim {
            let new = sim.events().since(self.events.len());
            self.events.extend(new);
            self.now_ms = sim.now_ms();
        }
    }

    /// Advances the source by `ms` of virtual time and, when the view
    /// shows the present, folds what happened.
    pub fn advance(&mut self, ms: u64) {
        self.age_status(ms, 0.0);
        let follow = self.at_present();
        match self.mode {
            Mode::Live => {
                if let Some(sim) = &mut self.sim {
                    for _ in 0..ms {
                        match sim.step() {
                            Ok(false) => {}
                            Ok(true) => {
                                self.ended = true;
                                break;
                            }
                            Err(e) => {
                                self.ended = true;
                                self.paused = true;
                                self.status = Some(format!("the simulation stopped: {e}"));
                                break;
                            }
                        }
                    }
                }
                self.pull();
                self.show_log();
            }
            Mode::Replay => {
                self.now_ms = (self.now_ms + ms).min(self.end_ms());
                self.ended = self.now_ms >= self.end_ms();
            }
            Mode::Attached => {
                self.pull_attached(follow);
                return;
            }
        }
        if follow {
            self.seek(self.available());
        }
    }

    /// Shows the log lines written into `log` from now on in the status
    /// line, the latest one at a time (the TUI's subscriber writes there
    /// rather than to the terminal it draws on).
    pub fn attach_log(&mut self, log: LogBuffer) {
        let (_, seen) = log.text_from(0);
        self.log = Some((log, seen));
    }

    /// The latest line logged since the last look, to the status line
    /// (unless it says something else than the log: that stays).
    fn show_log(&mut self) {
        let Some((log, seen)) = &mut self.log else {
            return;
        };
        let (new, now) = log.text_from(*seen);
        *seen = now;
        let free = self.status.as_ref().is_none_or(|s| s.starts_with("log: "));
        if free && let Some(line) = new.lines().rev().find(|l| !l.trim().is_empty()) {
            self.status = Some(format!("log: {}", line.trim()));
            self.status_age = (0, 0.0);
        }
    }

    /// Runs until the source's present is at least `t` ms (tests, benches).
    pub fn run_until(&mut self, t: u64) {
        if self.mode == Mode::Attached {
            // The cluster's clock is not ours to run.
            self.advance(0);
            return;
        }
        while self.now_ms < t && !self.ended {
            let step = (t - self.now_ms).min(100);
            self.advance(step);
        }
        self.seek(self.available());
    }

    /// A status message fades after 8 s of virtual time or 5 s of real time.
    fn age_status(&mut self, virtual_ms: u64, wall_ms: f64) {
        if self.status.is_none() {
            self.status_age = (0, 0.0);
            return;
        }
        self.status_age.0 += virtual_ms;
        self.status_age.1 += wall_ms;
        if self.status_age.0 >= 8_000 || self.status_age.1 >= 5_000.0 {
            self.status = None;
            self.status_age = (0, 0.0);
        }
    }

    /// Advances by `wall_ms` real milliseconds at the current pace.
    pub fn tick(&mut self, wall_ms: f64) {
        // A question stays until it is answered.
        if !self.confirming() {
            self.age_status(0, wall_ms);
        }
        if self.mode == Mode::Attached {
            // Polls arrive paused or not; paused, the view stays put.
            let follow = self.at_present() && !self.paused;
            self.pull_attached(follow);
            return;
        }
        if self.paused || self.ended {
            return;
        }
        let v = wall_ms * self.speed + self.carry;
        let ms = v.floor();
        self.carry = v - ms;
        // Never more than 2 s of virtual time per frame: the UI stays responsive.
        self.advance((ms as u64).min(2_000));
    }

    /// What a key means (pure: no state changes).
    pub fn handle_key(&self, key: KeyEvent) -> Action {
        if key.kind == KeyEventKind::Release {
            return Action::None;
        }
        if key.modifiers.contains(KeyModifiers::CONTROL) {
            return match key.code {
                KeyCode::Char('c') | KeyCode::Char('d') => Action::Quit,
                _ => Action::None,
            };
        }
        if self.help {
            return match key.code {
                KeyCode::Char('q') => Action::Quit,
                _ => Action::Help,
            };
        }
        if self.nav.prompt.is_some() {
            return match key.code {
                KeyCode::Char(c) => Action::Type(c),
                KeyCode::Backspace => Action::Erase,
                KeyCode::Tab => Action::Complete,
                KeyCode::Enter => Action::Submit,
                KeyCode::Esc => Action::CancelPrompt,
                _ => Action::None,
            };
        }
        if self.confirming() {
            return match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => Action::Confirm,
                _ => Action::Dismiss,
            };
        }
        let list = self.screen == Screen::Jobs;
        match key.code {
            KeyCode::Char('q') => Action::Quit,
            KeyCode::Esc => Action::Back,
            KeyCode::Enter => Action::Drill,
            KeyCode::Char(':') => Action::OpenCommand,
            KeyCode::Char('/') => Action::OpenFilter,
            KeyCode::Down | KeyCode::Char('j') if list => Action::Move(1),
            KeyCode::Up | KeyCode::Char('k') if list => Action::Move(-1),
            KeyCode::Char(' ') => Action::TogglePause,
            KeyCode::Char('.') | KeyCode::Char('n') | KeyCode::Right => Action::StepForward,
            KeyCode::Char(',') | KeyCode::Char('b') | KeyCode::Left => Action::StepBack,
            KeyCode::Home => Action::First,
            KeyCode::End => Action::Present,
            KeyCode::Char('+') | KeyCode::Char('=') => Action::Faster,
            KeyCode::Char('-') | KeyCode::Char('_') => Action::Slower,
            KeyCode::Tab | KeyCode::Down | KeyCode::Char('j') => Action::NextTaskManager,
            KeyCode::BackTab | KeyCode::Up | KeyCode::Char('k') => Action::PrevTaskManager,
            KeyCode::Char('J') | KeyCode::Char('o') => Action::NextJob,
            KeyCode::Char('c') => Action::Crash,
            KeyCode::Char('r') => Action::Restart,
            KeyCode::Char('p') => Action::Partition,
            KeyCode::Char('x') => Action::CancelJob,
            KeyCode::Char('s') => Action::Savepoint,
            KeyCode::Char('S') => Action::StopWithSavepoint,
            KeyCode::Char('C') => Action::Checkpoint,
            KeyCode::Char('1') => Action::Show(Screen::Cluster),
            KeyCode::Char('2') => Action::Show(Screen::Dataflow),
            KeyCode::Char('3') | KeyCode::Char('e') => Action::Show(Screen::Events),
            KeyCode::Char('v') => Action::ToggleFlow,
            KeyCode::Char('?') | KeyCode::Char('h') | KeyCode::F(1) => Action::Help,
            _ => Action::None,
        }
    }

    /// Does what an action asks.
    pub fn update(&mut self, action: Action) {
        if action != Action::None {
            self.status = None;
            self.status_age = (0, 0.0);
        }
        match action {
            Action::Quit => self.quit = true,
            Action::TogglePause => {
                if self.paused {
                    self.resume();
                } else {
                    self.paused = true;
                }
            }
            Action::StepForward => self.step_forward(),
            Action::StepBack => self.step_back(),
            Action::First => {
                self.paused = true;
                self.seek(0);
            }
            Action::Present => self.seek(self.available()),
            Action::Faster => {
                self.speed = (self.speed * 2.0).min(SPEEDS.1);
                self.status = Some(format!("pace {}", speed_label(self.speed)));
            }
            Action::Slower => {
                self.speed = (self.speed / 2.0).max(SPEEDS.0);
                self.status = Some(format!("pace {}", speed_label(self.speed)));
            }
            Action::NextTaskManager => self.select_tm(1),
            Action::PrevTaskManager => self.select_tm(-1),
            Action::NextJob => self.select_job(),
            Action::Crash | Action::Restart | Action::Partition if self.mode == Mode::Attached => {
                self.simulator_only(action);
            }
            Action::CancelJob
            | Action::Savepoint
            | Action::StopWithSavepoint
            | Action::Checkpoint
                if self.mode == Mode::Attached =>
            {
                self.ask_control(action);
            }
            Action::Checkpoint => {
                self.status = Some(
                    "a checkpoint on demand is for a real cluster (--attach): here the CheckpointCoordinator triggers one every interval".into(),
                );
            }
            Action::Confirm => self.confirm_control(),
            Action::Dismiss => self.dismiss_control(),
            Action::Crash => {
                if let Some(tm) = self.selected_tm.clone() {
                    self.inject(FaultAction::Crash(tm));
                }
            }
            Action::Restart => {
                if let Some(tm) = self.selected_tm.clone() {
                    self.inject(FaultAction::Restart(tm));
                }
            }
            Action::Partition => {
                if let Some(tm) = self.selected_tm.clone() {
                    let jm = "jobmanager".to_string();
                    if self.view.partitioned(&jm, &tm) {
                        self.inject(FaultAction::Repair(jm, tm));
                    } else {
                        self.inject(FaultAction::Partition(jm, tm));
                    }
                }
            }
            Action::CancelJob => match self.selected_job.clone() {
                Some(job) => self.inject(FaultAction::CancelJob(job)),
                None => self.status = Some("no job to cancel".into()),
            },
            Action::Savepoint => match self.selected_job.clone() {
                Some(job) => self.inject(FaultAction::Savepoint(job)),
                None => self.status = Some("no job to take a savepoint of".into()),
            },
            Action::StopWithSavepoint => match self.selected_job.clone() {
                Some(job) => self.inject(FaultAction::StopWithSavepoint(job)),
                None => self.status = Some("no job to stop".into()),
            },
            Action::Show(s) => self.screen = s,
            Action::ToggleFlow => {
                if self.screen == Screen::Dataflow {
                    self.flow = match self.flow {
                        FlowView::Condensed => FlowView::Parallel,
                        FlowView::Parallel => FlowView::Condensed,
                    };
                } else {
                    self.screen = Screen::Dataflow;
                }
            }
            Action::Help => self.help = !self.help,
            Action::OpenCommand => self.nav.prompt = Some(Prompt::Command(String::new())),
            Action::OpenFilter => {
                self.nav.filter.clear();
                self.nav.prompt = Some(Prompt::Filter);
            }
            Action::Type(_)
            | Action::Erase
            | Action::Complete
            | Action::Submit
            | Action::CancelPrompt => self.edit_prompt(action),
            Action::Drill => self.drill(),
            Action::Back => self.back(),
            Action::Move(d) => self.move_row(d),
            Action::None => {}
        }
    }

    /// Handles a key: [`App::handle_key`] then [`App::update`].
    pub fn key(&mut self, key: KeyEvent) {
        let a = self.handle_key(key);
        self.update(a);
    }

    fn resume(&mut self) {
        self.paused = false;
        if !self.at_present() {
            match self.mode {
                // A recording resumes from where you looked.
                Mode::Replay => self.now_ms = self.shown_ms(),
                Mode::Live | Mode::Attached => self.status = Some("back to the present".into()),
            }
            self.seek(self.available());
        }
        if self.ended && self.mode == Mode::Live {
            self.status = Some(format!(
                "the scenario ended at {}: the cluster is frozen",
                secs(self.now_ms)
            ));
        }
    }

    fn step_forward(&mut self) {
        self.paused = true;
        loop {
            let avail = self.available();
            if let Some(i) = (self.cursor..avail).find(|&i| !cluster::is_noise(&self.events[i])) {
                self.seek(i + 1);
                if self.mode == Mode::Replay && self.now_ms < self.events[i].t {
                    self.now_ms = self.events[i].t;
                }
                return;
            }
            self.seek(avail);
            match self.mode {
                Mode::Attached => {
                    self.status = Some(
                        "this is the latest: what happens next comes with the next poll".into(),
                    );
                    return;
                }
                Mode::Live => {
                    // Advance the cluster until something happens (at most a minute).
                    let start = self.now_ms;
                    let before = self.events.len();
                    while !self.ended && self.now_ms < start + 60_000 {
                        self.advance(1);
                        if self.events[before..].iter().any(|e| !cluster::is_noise(e)) {
                            break;
                        }
                    }
                    if !self.events[before..].iter().any(|e| !cluster::is_noise(e)) {
                        self.status = Some("nothing happened".into());
                        return;
                    }
                    // advance() folded everything; go back to the first new event.
                    let first = (before..self.events.len())
                        .find(|&i| !cluster::is_noise(&self.events[i]))
                        .unwrap_or(before);
                    self.seek(first + 1);
                    return;
                }
                Mode::Replay => match self.events[avail..].iter().find(|e| !cluster::is_noise(e)) {
                    Some(e) => self.now_ms = e.t,
                    None => {
                        self.now_ms = self.end_ms();
                        self.ended = true;
                        self.seek(self.events.len());
                        self.status = Some("end of the recording".into());
                        return;
                    }
                },
            }
        }
    }

    fn step_back(&mut self) {
        self.paused = true;
        if self.cursor == 0 {
            self.status = Some("this is the beginning".into());
            return;
        }
        let target = (0..self.cursor - 1)
            .rev()
            .find(|&i| !cluster::is_noise(&self.events[i]))
            .map_or(0, |i| i + 1);
        self.seek(target);
    }

    fn select_tm(&mut self, delta: isize) {
        let names: Vec<&str> = self
            .view
            .taskmanagers
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        if names.is_empty() {
            return;
        }
        let cur = self
            .selected_tm
            .as_deref()
            .and_then(|s| names.iter().position(|n| *n == s));
        let next = match cur {
            Some(i) => (i as isize + delta).rem_euclid(names.len() as isize) as usize,
            None => 0,
        };
        self.selected_tm = Some(names[next].to_string());
    }

    fn select_job(&mut self) {
        let mut names: Vec<String> = self.view.jobs.iter().map(|j| j.name.clone()).collect();
        for d in self.dataflows.iter() {
            if !names.contains(&d.name) {
                names.push(d.name.clone());
            }
        }
        if names.is_empty() {
            return;
        }
        let cur = self
            .selected_job
            .as_ref()
            .and_then(|s| names.iter().position(|n| n == s));
        let next = cur.map_or(0, |i| (i + 1) % names.len());
        self.selected_job = Some(names[next].clone());
    }

    /// Applies a fault to the live cluster, now.
    pub fn inject(&mut self, action: FaultAction) {
        if self.mode == Mode::Attached {
            self.status = Some(format!(
                "{action}: simulator only (a real cluster is not ours to break)"
            ));
            return;
        }
        if self.mode == Mode::Replay {
            self.status = Some("this is a recording: the past cannot be changed".into());
            return;
        }
        if self.ended {
            self.status = Some(format!(
                "the scenario ended at {}: faults no longer apply",
                secs(self.now_ms)
            ));
            return;
        }
        if let FaultAction::Crash(h) | FaultAction::Restart(h) = &action
            && self.view.taskmanager(h).is_none()
        {
            self.status = Some(format!("{h} is not part of the cluster"));
            return;
        }
        let hint = match &action {
            FaultAction::Crash(h) => {
                if matches!(
                    self.view.taskmanager(h).map(|t| &t.status),
                    Some(TmStatus::Crashed { .. })
                ) {
                    self.status = Some(format!("{h} is already down; r restarts it"));
                    return;
                }
                format!(
                    "crashed {h}: the JobManager notices only after the heartbeat timeout ({})",
                    secs(self.heartbeat_timeout_ms)
                )
            }
            FaultAction::Restart(h) => {
                format!("restarting {h}: it registers again with empty slots")
            }
            FaultAction::Partition(a, b) => format!("cut {a} from {b}: p again repairs"),
            FaultAction::Repair(a, b) => format!("repaired the link {a} <-> {b}"),
            FaultAction::CancelJob(j) => format!("asked the JobManager to cancel \"{j}\""),
            FaultAction::Savepoint(j) => {
                format!(
                    "asked for a savepoint of \"{j}\": a checkpoint you keep, to resume or upgrade from"
                )
            }
            FaultAction::StopWithSavepoint(j) => {
                format!("stopping \"{j}\" with a savepoint: the sources stop after the barrier")
            }
            other => other.to_string(),
        };
        let was_present = self.at_present();
        if let Some(sim) = &mut self.sim {
            sim.inject(&action);
        }
        self.pull();
        self.seek(self.available());
        self.status = Some(if was_present {
            hint
        } else {
            format!("back to the present; {hint}")
        });
    }
}

/// Seconds with milliseconds.
pub fn secs(ms: u64) -> String {
    format!("{}.{:03}s", ms / 1000, ms % 1000)
}

/// The pace as people say it: `1x`, `4x`, `1/8x`.
pub fn speed_label(speed: f64) -> String {
    if speed >= 1.0 {
        format!("{}x", speed.round() as u64)
    } else {
        format!("1/{}x", (1.0 / speed).round() as u64)
    }
}

/// A line of a trace that is not an event.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {source}")]
pub struct TraceError {
    /// 1-based line number.
    pub line: usize,
    /// What serde made of it.
    pub source: serde_json::Error,
}

/// Reads a JSON-lines trace (`sim run --trace`): one event per line.
pub fn parse_trace(text: &str) -> Result<Vec<Event>, TraceError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let e: Event = serde_json::from_str(line).map_err(|source| TraceError {
            line: i + 1,
            source,
        })?;
        out.push(e);
    }
    Ok(out)
}
