//! The Dispatcher's applications (Flink 2.x's `AbstractApplication` and
//! `PackagedProgramApplication`, as the Dispatcher keeps them).
//!
//! Flink 2.x wraps every job in an application. A job submitted on its own
//! is a `SingleJobApplication` whose id is the job's id: the Dispatcher
//! needs no record of it, its state follows its job
//! ([`ApplicationState::of_single_job`]). A program's `main` running on the
//! JobManager (application mode, or an application file run over REST) is
//! one [`ApplicationRecord`]: the jobs `main` submitted, in order, and its
//! state with the time it entered each, moved only through
//! [`ApplicationState::check`].
//!
//! [`application`](super::application) runs `main`; this module holds what
//! the Dispatcher knows of it. A leaf: it imports no role.
//!
//! In: the application's creation, the jobs `main` submits, `main`'s end.
//! Out: the record `/applications/*` reads.

use crate::application::{Application, JobOrder};
use crate::graph::{ApplicationId, JobId};
use crate::state::{ApplicationState, IllegalTransition};
use std::collections::BTreeMap;

/// What the Dispatcher knows of one application's `main`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplicationRecord {
    /// Its id.
    pub id: ApplicationId,
    /// Its name (Flink names a program's application after its main class).
    pub name: String,
    /// The order of its jobs.
    pub order: JobOrder,
    /// How many jobs `main` has.
    pub planned: usize,
    /// The jobs `main` submitted so far, in order.
    pub jobs: Vec<JobId>,
    /// Where it is.
    pub state: ApplicationState,
    /// When it entered each state (cluster ms).
    pub status_at: BTreeMap<ApplicationState, u64>,
    /// Why it failed or was cancelled, in `main`'s words.
    pub cause: Option<String>,
    /// Whether the cluster goes when `main` is done (application mode's
    /// `shutDownOnFinish`; not for an application run in a session).
    pub shut_down_on_finish: bool,
}

impl ApplicationRecord {
    /// A new application of `app`, CREATED at `now`.
    pub fn new(id: ApplicationId, app: &Application, shut_down_on_finish: bool, now: u64) -> Self {
        ApplicationRecord {
            id,
            name: app.name.clone(),
            order: app.order,
            planned: app.jobs.len(),
            jobs: Vec::new(),
            state: ApplicationState::Created,
            status_at: BTreeMap::from([(ApplicationState::Created, now)]),
            cause: None,
            shut_down_on_finish,
        }
    }

    /// Moves to `to` at `now`, if that is a legal move.
    pub fn transition(
        &mut self,
        to: ApplicationState,
        now: u64,
    ) -> Result<(), IllegalTransition<ApplicationState>> {
        self.state = self.state.check(to)?;
        self.status_at.insert(to, now);
        Ok(())
    }

    /// `main` returned: the application ends in `end` (through FAILING or
    /// CANCELING, as Flink moves), at `now`.
    pub fn end(
        &mut self,
        end: ApplicationState,
        cause: Option<String>,
        now: u64,
    ) -> Result<(), IllegalTransition<ApplicationState>> {
        for &next in ApplicationState::path_to(end) {
            self.transition(next, now)?;
        }
        self.cause = cause;
        Ok(())
    }

    /// Whether `main` has submitted what it submits before it first waits:
    /// its first job (sequential), every job (parallel), or it is done.
    /// `POST /jars/:id/run` answers then, with the job ids so far.
    pub fn submitted_first_jobs(&self) -> bool {
        let first = match self.order {
            JobOrder::Sequential => 1,
            JobOrder::Parallel => self.planned,
        };
        self.jobs.len() >= first.min(self.planned) || self.state.is_terminal()
    }

    /// When it started (entered CREATED), cluster ms.
    pub fn created_at(&self) -> u64 {
        self.status_at
            .get(&ApplicationState::Created)
            .copied()
            .unwrap_or_default()
    }

    /// When it ended (cluster ms), if it did.
    pub fn ended_at(&self) -> Option<u64> {
        self.state
            .is_terminal()
            .then(|| self.status_at.get(&self.state).copied())
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record moves CREATED → RUNNING → (CANCELING →) CANCELED with the
    /// time of each, and a sequential `main` has submitted its first jobs
    /// after one job, a parallel one after all.
    #[test]
    fn a_record_follows_main() {
        let app = Application {
            name: "reports".into(),
            jobs: Vec::new(),
            order: JobOrder::Sequential,
        };
        let mut r = ApplicationRecord::new(ApplicationId(1), &app, false, 5);
        r.planned = 2;
        assert!(!r.submitted_first_jobs());
        r.jobs.push(JobId(7));
        assert!(r.submitted_first_jobs());
        r.order = JobOrder::Parallel;
        assert!(
            !r.submitted_first_jobs(),
            "a parallel main submits both first"
        );
        r.transition(ApplicationState::Running, 6).expect("legal");
        r.end(
            ApplicationState::Canceled,
            Some("job \"b\" ended CANCELED".into()),
            9,
        )
        .expect("legal");
        assert_eq!(r.state, ApplicationState::Canceled);
        assert_eq!(r.status_at.get(&ApplicationState::Canceling), Some(&9));
        assert_eq!(r.ended_at(), Some(9));
        assert_eq!(r.created_at(), 5);
        assert!(
            r.submitted_first_jobs(),
            "an ended main has submitted all it will"
        );
        assert!(r.transition(ApplicationState::Running, 10).is_err());
    }
}
