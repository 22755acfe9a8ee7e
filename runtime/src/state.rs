//! Lifecycles: application state, job status, execution state and task
//! slot state, with legal transitions in one place.
//!
//! Flink's `ApplicationState`, `JobStatus`, `ExecutionState` and
//! `TaskSlotState` are state machines; the Dispatcher, the JobMaster and
//! the TaskExecutor move them only through [`ApplicationState::check`],
//! [`JobStatus::check`], [`ExecutionState::check`] and
//! [`TaskSlotState::check`], so an impossible move (FINISHED → RUNNING) is
//! a bug caught where it happens rather than a confusing trace later.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The status of a job (Flink's `JobStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum JobStatus {
    /// Accepted by the Dispatcher, JobMaster starting.
    Initializing,
    /// ExecutionGraph built, waiting for slots.
    Created,
    /// Tasks deployed or running.
    Running,
    /// A task failed; remaining tasks are being cancelled.
    Failing,
    /// Terminal: failed.
    Failed,
    /// Cancel requested; tasks are being cancelled.
    Cancelling,
    /// Terminal: cancelled.
    Canceled,
    /// Terminal: all tasks finished.
    Finished,
    /// Waiting before a restart (restart strategy).
    Restarting,
}

impl JobStatus {
    /// Flink's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Initializing => "INITIALIZING",
            JobStatus::Created => "CREATED",
            JobStatus::Running => "RUNNING",
            JobStatus::Failing => "FAILING",
            JobStatus::Failed => "FAILED",
            JobStatus::Cancelling => "CANCELLING",
            JobStatus::Canceled => "CANCELED",
            JobStatus::Finished => "FINISHED",
            JobStatus::Restarting => "RESTARTING",
        }
    }

    /// Whether the job is done for good.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobStatus::Failed | JobStatus::Canceled | JobStatus::Finished
        )
    }

    /// Whether `self → to` is a legal move.
    pub fn can_move_to(self, to: JobStatus) -> bool {
        use JobStatus::*;
        matches!(
            (self, to),
            (Initializing, Created)
                | (Created, Running)
                | (Created, Failing)
                | (Created, Cancelling)
                | (Running, Finished)
                | (Running, Failing)
                | (Running, Cancelling)
                | (Running, Restarting)
                | (Created, Restarting)
                | (Restarting, Created)
                | (Restarting, Cancelling)
                | (Restarting, Failed)
                | (Failing, Failed)
                | (Failing, Restarting)
                | (Failing, Cancelling)
                | (Cancelling, Canceled)
                | (Initializing, Failed)
                | (Initializing, Cancelling)
        )
    }

    /// Checks a move; the error names both states.
    pub fn check(self, to: JobStatus) -> Result<JobStatus, IllegalTransition<JobStatus>> {
        if self.can_move_to(to) {
            Ok(to)
        } else {
            Err(IllegalTransition { from: self, to })
        }
    }
}

/// The state of an application (Flink 2.x's `ApplicationState`): a
/// program's `main` and the jobs it submitted, or one job submitted on its
/// own (a `SingleJobApplication`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ApplicationState {
    /// Known to the Dispatcher, `main` not started.
    Created,
    /// `main` runs, or its jobs do.
    Running,
    /// A job (or `main`) failed; the rest is being cleaned up.
    Failing,
    /// Terminal: failed.
    Failed,
    /// Being cancelled (a job of it was cancelled).
    Canceling,
    /// Terminal: cancelled.
    Canceled,
    /// Terminal: `main` returned and every job of it FINISHED.
    Finished,
}

impl ApplicationState {
    /// Flink's spelling (`CANCELING` with one L, unlike a job's `CANCELLING`).
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationState::Created => "CREATED",
            ApplicationState::Running => "RUNNING",
            ApplicationState::Failing => "FAILING",
            ApplicationState::Failed => "FAILED",
            ApplicationState::Canceling => "CANCELING",
            ApplicationState::Canceled => "CANCELED",
            ApplicationState::Finished => "FINISHED",
        }
    }

    /// Whether the application is done for good.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ApplicationState::Failed | ApplicationState::Canceled | ApplicationState::Finished
        )
    }

    /// Whether `self → to` is a legal move (Flink's
    /// `AbstractApplication.ALLOWED_TRANSITIONS`).
    pub fn can_move_to(self, to: ApplicationState) -> bool {
        use ApplicationState::*;
        matches!(
            (self, to),
            (Created, Running)
                | (Created, Canceling)
                | (Running, Finished)
                | (Running, Failing)
                | (Running, Canceling)
                | (Failing, Failed)
                | (Canceling, Canceled)
        )
    }

    /// Checks a move; the error names both states.
    pub fn check(
        self,
        to: ApplicationState,
    ) -> Result<ApplicationState, IllegalTransition<ApplicationState>> {
        if self.can_move_to(to) {
            Ok(to)
        } else {
            Err(IllegalTransition { from: self, to })
        }
    }

    /// The states a RUNNING application passes through to end in `end`
    /// (Flink moves through FAILING to FAILED and CANCELING to CANCELED);
    /// empty unless `end` is terminal.
    pub fn path_to(end: ApplicationState) -> &'static [ApplicationState] {
        use ApplicationState::*;
        match end {
            Finished => &[Finished],
            Failed => &[Failing, Failed],
            Canceled => &[Canceling, Canceled],
            Created | Running | Failing | Canceling => &[],
        }
    }

    /// The state of a `SingleJobApplication` whose job is in `job`: RUNNING
    /// from its submission until the job is terminal, then the job's end
    /// (Flink's `SingleJobApplication.jobStatusChanges`).
    pub fn of_single_job(job: JobStatus) -> ApplicationState {
        match job {
            JobStatus::Finished => ApplicationState::Finished,
            JobStatus::Canceled => ApplicationState::Canceled,
            JobStatus::Failed => ApplicationState::Failed,
            _ => ApplicationState::Running,
        }
    }

    /// How an application whose `main` returned ends (Flink's
    /// `PackagedProgramApplication`): FINISHED when no job failed it;
    /// CANCELED when the job that failed it was cancelled; FAILED when a
    /// job failed or `main` itself did (`failed_by` is then `None`).
    pub fn after_main(succeeded: bool, failed_by: Option<JobStatus>) -> ApplicationState {
        match (succeeded, failed_by) {
            (true, _) => ApplicationState::Finished,
            (false, Some(JobStatus::Canceled)) => ApplicationState::Canceled,
            (false, _) => ApplicationState::Failed,
        }
    }
}

impl fmt::Display for ApplicationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Lifecycle for ApplicationState {
    const WHAT: &'static str = "application state";
    const ALL: &'static [Self] = &[
        ApplicationState::Created,
        ApplicationState::Running,
        ApplicationState::Failing,
        ApplicationState::Failed,
        ApplicationState::Canceling,
        ApplicationState::Canceled,
        ApplicationState::Finished,
    ];
}

/// A status or state name that is not Flink's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a {1} (Flink spells them like RUNNING)")]
pub struct UnknownState(String, &'static str);

impl std::str::FromStr for JobStatus {
    type Err = UnknownState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

impl std::str::FromStr for ExecutionState {
    type Err = UnknownState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

/// A lifecycle value from Flink's spelling of it.
fn parse<S: Lifecycle>(s: &str) -> Result<S, UnknownState> {
    S::ALL
        .iter()
        .copied()
        .find(|v| v.to_string() == s)
        .ok_or_else(|| UnknownState(s.to_string(), S::WHAT))
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state of one execution attempt of a subtask (Flink's `ExecutionState`).
/// A new attempt starts CREATED (the `Default`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub enum ExecutionState {
    /// Exists, not scheduled.
    #[default]
    Created,
    /// Waiting for its slot.
    Scheduled,
    /// Sent to a TaskManager.
    Deploying,
    /// The TaskManager set it up (restoring state).
    Initializing,
    /// Processing records.
    Running,
    /// Terminal: input ended and all output flushed.
    Finished,
    /// Being cancelled.
    Canceling,
    /// Terminal: cancelled.
    Canceled,
    /// Terminal: failed.
    Failed,
}

impl ExecutionState {
    /// Flink's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionState::Created => "CREATED",
            ExecutionState::Scheduled => "SCHEDULED",
            ExecutionState::Deploying => "DEPLOYING",
            ExecutionState::Initializing => "INITIALIZING",
            ExecutionState::Running => "RUNNING",
            ExecutionState::Finished => "FINISHED",
            ExecutionState::Canceling => "CANCELING",
            ExecutionState::Canceled => "CANCELED",
            ExecutionState::Failed => "FAILED",
        }
    }

    /// Whether the attempt is over.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ExecutionState::Finished | ExecutionState::Canceled | ExecutionState::Failed
        )
    }

    /// Whether `self → to` is a legal move.
    pub fn can_move_to(self, to: ExecutionState) -> bool {
        use ExecutionState::*;
        matches!(
            (self, to),
            (Created, Scheduled)
                | (Scheduled, Deploying)
                | (Deploying, Initializing)
                | (Initializing, Running)
                | (Running, Finished)
                | (
                    Created | Scheduled | Deploying | Initializing | Running,
                    Canceling
                )
                | (
                    Created | Scheduled | Deploying | Initializing | Running | Canceling,
                    Canceled
                )
                | (
                    Scheduled | Deploying | Initializing | Running | Canceling,
                    Failed
                )
        )
    }

    /// Checks a move; the error names both states.
    pub fn check(
        self,
        to: ExecutionState,
    ) -> Result<ExecutionState, IllegalTransition<ExecutionState>> {
        if self.can_move_to(to) {
            Ok(to)
        } else {
            Err(IllegalTransition { from: self, to })
        }
    }
}

impl fmt::Display for ExecutionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state of one slot of a TaskManager (Flink's `TaskSlotState`, with
/// the free state Flink expresses by the slot's absence from the table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TaskSlotState {
    /// Not allocated to any job.
    Free,
    /// Allocated to a job (the ResourceManager asked), offered to its JobMaster.
    Allocated,
    /// In use by its job: the JobMaster accepted it or deployed into it.
    Active,
    /// Being freed: its tasks are cancelled, then it is free again.
    Releasing,
}

impl TaskSlotState {
    /// Flink's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskSlotState::Free => "FREE",
            TaskSlotState::Allocated => "ALLOCATED",
            TaskSlotState::Active => "ACTIVE",
            TaskSlotState::Releasing => "RELEASING",
        }
    }

    /// Whether `self → to` is a legal move.
    pub fn can_move_to(self, to: TaskSlotState) -> bool {
        use TaskSlotState::*;
        matches!(
            (self, to),
            (Free, Allocated)
                | (Allocated, Active)
                | (Active, Allocated)
                | (Allocated | Active, Releasing)
                | (Releasing, Free)
        )
    }

    /// Checks a move; the error names both states.
    pub fn check(
        self,
        to: TaskSlotState,
    ) -> Result<TaskSlotState, IllegalTransition<TaskSlotState>> {
        if self.can_move_to(to) {
            Ok(to)
        } else {
            Err(IllegalTransition { from: self, to })
        }
    }
}

impl fmt::Display for TaskSlotState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A lifecycle whose moves [`IllegalTransition`] can name.
pub trait Lifecycle: fmt::Display + Copy + 'static {
    /// What the state is of, in words ("job status").
    const WHAT: &'static str;
    /// Every state, in the order Flink declares them.
    const ALL: &'static [Self];
}

impl Lifecycle for JobStatus {
    const WHAT: &'static str = "job status";
    const ALL: &'static [Self] = &[
        JobStatus::Initializing,
        JobStatus::Created,
        JobStatus::Running,
        JobStatus::Failing,
        JobStatus::Failed,
        JobStatus::Cancelling,
        JobStatus::Canceled,
        JobStatus::Finished,
        JobStatus::Restarting,
    ];
}

impl Lifecycle for ExecutionState {
    const WHAT: &'static str = "execution state";
    const ALL: &'static [Self] = &[
        ExecutionState::Created,
        ExecutionState::Scheduled,
        ExecutionState::Deploying,
        ExecutionState::Initializing,
        ExecutionState::Running,
        ExecutionState::Finished,
        ExecutionState::Canceling,
        ExecutionState::Canceled,
        ExecutionState::Failed,
    ];
}

impl Lifecycle for TaskSlotState {
    const WHAT: &'static str = "task slot";
    const ALL: &'static [Self] = &[
        TaskSlotState::Free,
        TaskSlotState::Allocated,
        TaskSlotState::Active,
        TaskSlotState::Releasing,
    ];
}

/// An illegal move of a lifecycle: `from` cannot become `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IllegalTransition<S> {
    /// The state it is in.
    pub from: S,
    /// The state asked for.
    pub to: S,
}

impl<S: Lifecycle> fmt::Display for IllegalTransition<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "illegal {} transition {} -> {}",
            S::WHAT,
            self.from,
            self.to
        )
    }
}

impl<S: Lifecycle + fmt::Debug> std::error::Error for IllegalTransition<S> {}

/// An illegal move of a task slot.
pub type TaskSlotTransitionError = IllegalTransition<TaskSlotState>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Terminal states stay terminal.
    #[test]
    fn terminal_states_do_not_move() {
        assert!(JobStatus::Finished.check(JobStatus::Running).is_err());
        assert!(
            ExecutionState::Finished
                .check(ExecutionState::Running)
                .is_err()
        );
        assert!(
            ExecutionState::Running
                .check(ExecutionState::Finished)
                .is_ok()
        );
    }

    /// The error names the lifecycle and both states, as the panics and
    /// logs that print it did when it was a string.
    #[test]
    fn an_illegal_transition_names_both_states() {
        let e = JobStatus::Finished.check(JobStatus::Running).unwrap_err();
        assert_eq!(
            e,
            IllegalTransition {
                from: JobStatus::Finished,
                to: JobStatus::Running
            }
        );
        assert_eq!(
            e.to_string(),
            "illegal job status transition FINISHED -> RUNNING"
        );
        let e = ExecutionState::Finished
            .check(ExecutionState::Running)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "illegal execution state transition FINISHED -> RUNNING"
        );
        let e = TaskSlotState::Free
            .check(TaskSlotState::Active)
            .unwrap_err();
        assert_eq!(e.to_string(), "illegal task slot transition FREE -> ACTIVE");
    }

    /// The application rules: every path from RUNNING is legal and ends
    /// where it says; `main`'s end and a single job's status map to
    /// Flink's application states.
    #[test]
    fn application_states_follow_flinks_rules() {
        use ApplicationState as A;
        for end in [A::Finished, A::Failed, A::Canceled] {
            let mut at = A::Running;
            for &next in A::path_to(end) {
                at = at.check(next).expect("a legal path");
            }
            assert_eq!(at, end);
            assert!(end.is_terminal());
            assert!(end.check(A::Running).is_err());
        }
        assert!(
            A::Running.check(A::Failed).is_err(),
            "FAILED only through FAILING"
        );
        assert!(
            A::Running.check(A::Canceled).is_err(),
            "CANCELED only through CANCELING"
        );
        assert_eq!(A::after_main(true, None), A::Finished);
        assert_eq!(A::after_main(false, Some(JobStatus::Canceled)), A::Canceled);
        assert_eq!(A::after_main(false, Some(JobStatus::Failed)), A::Failed);
        assert_eq!(A::after_main(false, None), A::Failed, "main itself failed");
        assert_eq!(A::of_single_job(JobStatus::Cancelling), A::Running);
        assert_eq!(A::of_single_job(JobStatus::Restarting), A::Running);
        assert_eq!(A::of_single_job(JobStatus::Canceled), A::Canceled);
        assert_eq!(A::of_single_job(JobStatus::Finished), A::Finished);
        assert_eq!(A::Canceling.to_string(), "CANCELING");
    }
}
