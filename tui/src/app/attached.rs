//! The app attached to a real cluster: polls folded as they arrive, a
//! stale mark while they fail, and the controls a real cluster supports,
//! each asked for with a question that `y` answers.
//!
//! The events come from [`crate::attach`]'s poller thread (the polls, and
//! the JobManager's own event stream where it serves one); everything else
//! (the fold, time travel over what was received, the screens) is the
//! same as in the simulator. Time is wall-clock ms since attaching.

use super::{Action, App, Mode};
use crate::attach::{AttachOptions, AttachedState, Attachment, Control, Poll, RestError, Update};
use crate::ui::jobs::FRESH_MS;
use runtime::graph::JobId;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Flink's default `heartbeat.timeout` (ms), used to explain a lost TaskManager.
pub const FLINK_HEARTBEAT_TIMEOUT_MS: u64 = 50_000;

impl App {
    /// Attaches to a running JobManager's REST API: connects and polls
    /// once (an address where nothing listens fails here, before any
    /// terminal is touched), then polls in the background.
    pub fn attach(opts: AttachOptions) -> Result<App, RestError> {
        let (link, first) = Attachment::start(opts)?;
        let mut app = App::blank(Mode::Attached, Vec::new(), Vec::new());
        let version = link.version.clone().unwrap_or_else(|| "?".into());
        app.title = format!(
            "Flink {version} @ {}",
            link.url.trim_start_matches("http://")
        );
        app.description = format!(
            "attached to the REST API at {}, polled every {}",
            link.url,
            super::secs(link.refresh_ms)
        );
        app.heartbeat_timeout_ms = FLINK_HEARTBEAT_TIMEOUT_MS;
        app.selected_tm = None;
        app.now_ms = link.clock.now();
        app.attached = Some(AttachedState {
            link,
            stale: None,
            polls: 0,
            last_poll_ms: 0,
            first_poll_ms: app.now_ms,
            warnings: Vec::new(),
            stream: None,
            durations: Default::default(),
            confirm: None,
        });
        app.apply(Update::Polled(first));
        app.seek(app.available());
        app.pick_defaults();
        Ok(app)
    }

    /// The REST link, when attached.
    pub fn attached(&self) -> Option<&AttachedState> {
        self.attached.as_ref()
    }

    /// How long a subtask's last metrics count as "now" (ms): attached,
    /// they come once a poll.
    pub fn fresh_ms(&self) -> u64 {
        match &self.attached {
            Some(a) => FRESH_MS.max(a.refresh_ms() * 2 + 500),
            None => FRESH_MS,
        }
    }

    /// Whether a question waits for `y`.
    pub fn confirming(&self) -> bool {
        self.attached.as_ref().is_some_and(|a| a.confirm.is_some())
    }

    /// Waits up to `limit` for the poller's next word and folds it (tests
    /// and scripts; the terminal loop drains without waiting).
    pub fn wait_for_update(&mut self, limit: Duration) -> bool {
        let Some(a) = &self.attached else {
            return false;
        };
        let follow = self.at_present() && !self.paused;
        match a.link.wait(limit) {
            Some(u) => {
                self.apply(u);
                self.pull_attached(follow);
                true
            }
            None => false,
        }
    }

    /// Waits until `done` holds, folding updates, for at most `limit`.
    pub fn wait_until(&mut self, limit: Duration, done: impl Fn(&App) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        while !done(self) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            self.wait_for_update(left.min(Duration::from_millis(200)));
        }
        true
    }

    /// Folds what the poller said since the last look.
    pub(super) fn pull_attached(&mut self, follow: bool) {
        let Some(a) = &self.attached else { return };
        let updates = a.link.updates();
        self.now_ms = a.link.clock.now().max(self.now_ms);
        for u in updates {
            self.apply(u);
        }
        if follow {
            self.seek(self.available());
        }
        if self.selected_job.is_none() || self.selected_tm.is_none() {
            self.pick_defaults();
        }
    }

    fn apply(&mut self, u: Update) {
        let now = self.now_ms;
        let Some(a) = &mut self.attached else { return };
        match u {
            Update::Polled(Poll {
                events,
                dataflows,
                warnings,
                durations,
            }) => {
                a.durations = durations;
                a.stale = None;
                a.polls += 1;
                a.last_poll_ms = now;
                a.warnings = warnings;
                if !dataflows.is_empty() {
                    Arc::make_mut(&mut self.dataflows).extend(dataflows);
                    self.view.set_catalog(self.dataflows.clone());
                }
                self.events.extend(events);
            }
            Update::Streamed(events) => self.events.extend(events),
            Update::Stream(None) => a.stream = Some(Ok(())),
            Update::Stream(Some(why)) => a.stream = Some(Err(why)),
            Update::Failed(e) => a.stale = Some(e.to_string()),
            Update::Answer(Ok(msg)) => self.status = Some(msg),
            Update::Answer(Err(msg)) => self.status = Some(format!("error: {msg}")),
        }
    }

    /// Selects the first TaskManager, and a running job (else the newest).
    fn pick_defaults(&mut self) {
        if self.selected_tm.is_none() {
            self.selected_tm = self.view.taskmanagers.first().map(|t| t.name.clone());
        }
        if self.selected_job.is_none() {
            let jobs = &self.view.jobs;
            self.selected_job = jobs
                .iter()
                .find(|j| !j.status.is_terminal())
                .or(jobs.last())
                .map(|j| j.name.clone());
        }
    }

    /// Crash, restart and partition belong to the simulator.
    pub(super) fn simulator_only(&mut self, action: Action) {
        let what = match action {
            Action::Crash => "crashing a TaskManager",
            Action::Restart => "restarting a TaskManager",
            _ => "cutting a network link",
        };
        self.status = Some(format!(
            "{what} is simulator only: a real cluster is not ours to break (run a scenario to try it)"
        ));
    }

    /// The job a control applies to: the selected one (by name; the
    /// running one of that name when there are several).
    fn control_target(&self) -> Option<(JobId, String)> {
        let name = self.selected_job.as_ref()?;
        let jobs = self.view.jobs.iter().filter(|j| &j.name == name);
        let job = jobs
            .clone()
            .rev()
            .find(|j| !j.status.is_terminal())
            .or_else(|| jobs.clone().next_back())?;
        Some((job.id, job.name.clone()))
    }

    /// Asks before sending a control.
    pub(super) fn ask_control(&mut self, action: Action) {
        let control = match action {
            Action::CancelJob => Control::Cancel,
            Action::Savepoint => Control::Savepoint,
            Action::StopWithSavepoint => Control::StopWithSavepoint,
            _ => Control::Checkpoint,
        };
        let Some((id, name)) = self.control_target() else {
            self.status = Some(format!("no job to {}", control.verb()));
            return;
        };
        self.status = Some(format!(
            "{} \"{name}\" ({})? y: yes, any other key: no",
            capitalised(control.verb()),
            id.short()
        ));
        if let Some(a) = &mut self.attached {
            a.confirm = Some((control, id, name));
        }
    }

    /// `y`: sends the control waiting for it.
    pub(super) fn confirm_control(&mut self) {
        let Some(a) = &mut self.attached else { return };
        let Some((control, id, name)) = a.confirm.take() else {
            return;
        };
        self.status = Some(if a.link.control(control, id, &name) {
            format!("sending: {} \"{name}\"…", control.verb())
        } else {
            "error: the poller has stopped; restart the TUI".into()
        });
    }

    /// Any other key: forgets the question.
    pub(super) fn dismiss_control(&mut self) {
        if let Some(a) = &mut self.attached
            && let Some((control, _, name)) = a.confirm.take()
        {
            self.status = Some(format!("did not {} \"{name}\"", control.verb()));
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
