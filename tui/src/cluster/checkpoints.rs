//! A job's checkpoints and exceptions as the UI knows them (Flink's
//! `CheckpointStatsTracker` behind `/jobs/:id/checkpoints`, and the
//! exception history behind `/jobs/:id/exceptions`).

use runtime::ids::CheckpointId;

/// A job's checkpoints (the CheckpointCoordinator's statistics).
#[derive(Debug, Clone, Default)]
pub struct CheckpointStats {
    /// How many completed.
    pub completed: u32,
    /// How many were aborted.
    pub aborted: u32,
    /// The latest completed one.
    pub last: Option<CompletedCheckpoint>,
    /// The one in flight: `(id, triggered at, acknowledgements so far)`.
    pub pending: Option<(CheckpointId, u64, u32)>,
    /// Why the last aborted one was given up.
    pub last_abort_cause: Option<String>,
    /// Savepoints taken: `(id, path)`.
    pub savepoints: Vec<(CheckpointId, String)>,
    /// The latest checkpoints and savepoints, oldest first, at most
    /// [`HISTORY`] (Flink's `web.checkpoints.history` keeps 10).
    pub history: Vec<CheckpointRecord>,
}

/// How many checkpoints and exceptions a job keeps for the screens.
pub const HISTORY: usize = 32;

/// Where a checkpoint is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointState {
    /// Triggered, not all subtasks acknowledged yet.
    InProgress,
    /// Every subtask acknowledged.
    Completed,
    /// Given up, and why.
    Aborted(String),
}

/// One checkpoint (or savepoint) as Flink's checkpoint history lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRecord {
    /// Checkpoint id.
    pub id: CheckpointId,
    /// Whether it is a savepoint.
    pub savepoint: bool,
    /// When the CheckpointCoordinator triggered it (ms).
    pub triggered_at: u64,
    /// Its state.
    pub state: CheckpointState,
    /// From trigger to completion (ms), once completed.
    pub duration_ms: Option<u64>,
    /// Total state size (bytes), once completed.
    pub size: Option<u64>,
    /// Longest barrier alignment of any subtask (ms), once completed.
    pub alignment_ms: Option<u64>,
    /// Acknowledgements so far.
    pub acks: u32,
}

/// What went wrong in a job, as Flink's exception history lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionRecord {
    /// When (ms).
    pub at: u64,
    /// What kind of entry.
    pub kind: ExceptionKind,
    /// The cause as reported.
    pub cause: String,
    /// The task (`vertex [subtask]`, 1-based), when a task failed.
    pub task: Option<String>,
    /// The TaskManager the task ran on, when known.
    pub taskmanager: Option<String>,
}

/// The kinds of [`ExceptionRecord`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExceptionKind {
    /// An execution attempt FAILED.
    TaskFailed,
    /// The job went FAILING or FAILED.
    JobFailed,
    /// The restart strategy scheduled a restart.
    RestartScheduled,
    /// The failed region was redeployed.
    Restarted,
}

impl ExceptionKind {
    /// A short label.
    pub fn label(self) -> &'static str {
        match self {
            ExceptionKind::TaskFailed => "task failed",
            ExceptionKind::JobFailed => "job failed",
            ExceptionKind::RestartScheduled => "restart",
            ExceptionKind::Restarted => "restarted",
        }
    }
}

pub(super) fn push_capped<T>(v: &mut Vec<T>, x: T) {
    if v.len() >= HISTORY {
        v.remove(0);
    }
    v.push(x);
}

impl CheckpointStats {
    /// The record of checkpoint `id`; one triggered at `triggered_at` when
    /// it was first seen finished (attached: a poll can miss the trigger).
    pub(super) fn record_mut(
        &mut self,
        id: CheckpointId,
        triggered_at: u64,
        savepoint: bool,
    ) -> &mut CheckpointRecord {
        match self.history.iter().rposition(|r| r.id == id) {
            Some(i) => &mut self.history[i],
            None => {
                push_capped(
                    &mut self.history,
                    CheckpointRecord {
                        id,
                        savepoint,
                        triggered_at,
                        state: CheckpointState::InProgress,
                        duration_ms: None,
                        size: None,
                        alignment_ms: None,
                        acks: 0,
                    },
                );
                let last = self.history.len() - 1;
                &mut self.history[last]
            }
        }
    }
}

/// A completed checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompletedCheckpoint {
    /// Checkpoint id.
    pub id: CheckpointId,
    /// When it completed (ms).
    pub at: u64,
    /// From trigger to completion (ms).
    pub duration_ms: u64,
    /// Total state size (bytes).
    pub size: u64,
    /// Subtasks that acknowledged.
    pub acks: u32,
}
