//! Checkpoint statistics for the REST API (Flink's `CheckpointStatsTracker`
//! with its `CheckpointStatsHistory`, `CompletedCheckpointStats`,
//! `FailedCheckpointStats` and per-vertex `TaskStateStats`).
//!
//! The CheckpointCoordinator tells it when a checkpoint is triggered, when
//! each subtask acknowledges (with its state's size and alignment time),
//! and when the checkpoint completes or fails. It keeps counts over the
//! job's life and the newest [`RETAINED`] checkpoints in detail.
//!
//! In: those moments (cluster ms). Out: read by `rest/checkpoints.rs`;
//! nothing here changes how checkpoints are taken.

use crate::ids::CheckpointId;
use crate::ids::ExecutionVertexId;
use std::collections::{BTreeMap, VecDeque};

/// How many checkpoints are kept in detail: the `history` shows the newest
/// of them, and the `summary` is computed over them (Flink computes it over
/// every completed checkpoint; we keep memory bounded).
pub const RETAINED: usize = 100;

/// Where a checkpoint stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointOutcome {
    /// Triggered, not every subtask acknowledged yet.
    InProgress,
    /// Every subtask acknowledged and it was stored.
    Completed,
    /// Aborted (timed out, a task failed or finished, storage failed).
    Failed,
}

impl CheckpointOutcome {
    /// Flink's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckpointOutcome::InProgress => "IN_PROGRESS",
            CheckpointOutcome::Completed => "COMPLETED",
            CheckpointOutcome::Failed => "FAILED",
        }
    }
}

/// One subtask's acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubtaskAck {
    /// When it arrived (cluster ms).
    pub at: u64,
    /// Its state's size in bytes.
    pub size: u64,
    /// How long its barriers took to align (ms).
    pub alignment_ms: u64,
}

/// One checkpoint's statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointRecord {
    /// Id.
    pub id: CheckpointId,
    /// A savepoint, not a periodic checkpoint.
    pub savepoint: bool,
    /// Where it stands.
    pub outcome: CheckpointOutcome,
    /// When it was triggered (cluster ms).
    pub triggered_at: u64,
    /// Subtasks that must acknowledge (known from the first ack on; 0 before).
    pub num_subtasks: usize,
    /// Acknowledgements by (vertex, subtask).
    pub acks: BTreeMap<ExecutionVertexId, SubtaskAck>,
    /// When it completed or failed (cluster ms).
    pub ended_at: Option<u64>,
    /// Why it failed.
    pub failure: Option<String>,
    /// Where it was written.
    pub path: Option<String>,
}

impl CheckpointRecord {
    /// Its size: the sum of the acknowledged states.
    pub fn size(&self) -> u64 {
        self.acks.values().map(|a| a.size).sum()
    }
    /// The latest acknowledgement's time, if any.
    pub fn latest_ack(&self) -> Option<u64> {
        self.acks.values().map(|a| a.at).max()
    }
    /// From trigger to the latest acknowledgement (ms); 0 before any.
    pub fn duration(&self) -> u64 {
        self.latest_ack()
            .map_or(0, |t| t.saturating_sub(self.triggered_at))
    }
    /// The longest alignment of any subtask (ms).
    pub fn alignment(&self) -> u64 {
        self.acks
            .values()
            .map(|a| a.alignment_ms)
            .max()
            .unwrap_or(0)
    }
}

/// The job's checkpoint statistics.
#[derive(Debug, Clone, Default)]
pub struct CheckpointStats {
    /// The newest checkpoints, oldest first.
    pub history: VecDeque<CheckpointRecord>,
    /// Completed over the job's life.
    pub completed: u64,
    /// Failed over the job's life.
    pub failed: u64,
    /// The checkpoint the job was restored from: (id, when).
    pub restored: Option<(CheckpointId, u64)>,
}

impl CheckpointStats {
    fn record(&mut self, id: CheckpointId) -> Option<&mut CheckpointRecord> {
        self.history.iter_mut().rev().find(|r| r.id == id)
    }

    /// A checkpoint was triggered.
    pub fn triggered(&mut self, id: CheckpointId, savepoint: bool, now: u64) {
        self.history.push_back(CheckpointRecord {
            id,
            savepoint,
            outcome: CheckpointOutcome::InProgress,
            triggered_at: now,
            num_subtasks: 0,
            acks: BTreeMap::new(),
            ended_at: None,
            failure: None,
            path: None,
        });
        while self.history.len() > RETAINED {
            self.history.pop_front();
        }
    }

    /// A subtask acknowledged; `total` subtasks must.
    pub fn acknowledged(
        &mut self,
        id: CheckpointId,
        key: ExecutionVertexId,
        ack: SubtaskAck,
        total: usize,
    ) {
        if let Some(r) = self.record(id) {
            r.num_subtasks = total;
            r.acks.insert(key, ack);
        }
    }

    /// It completed, written at `path`.
    pub fn completed(&mut self, id: CheckpointId, now: u64, path: Option<String>) {
        self.completed += 1;
        if let Some(r) = self.record(id) {
            r.outcome = CheckpointOutcome::Completed;
            r.ended_at = Some(now);
            r.path = path;
        }
    }

    /// It failed.
    pub fn failed(&mut self, id: CheckpointId, now: u64, cause: &str) {
        self.failed += 1;
        if let Some(r) = self.record(id) {
            r.outcome = CheckpointOutcome::Failed;
            r.ended_at = Some(now);
            r.failure = Some(cause.to_string());
        }
    }

    /// In progress now (0 or 1: one checkpoint at a time).
    pub fn in_progress(&self) -> usize {
        self.history
            .iter()
            .filter(|r| r.outcome == CheckpointOutcome::InProgress)
            .count()
    }

    /// The newest record of this outcome (and savepoint-ness, if given).
    pub fn latest(
        &self,
        outcome: CheckpointOutcome,
        savepoint: Option<bool>,
    ) -> Option<&CheckpointRecord> {
        self.history
            .iter()
            .rev()
            .find(|r| r.outcome == outcome && savepoint.is_none_or(|s| r.savepoint == s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_goes_from_trigger_through_acks_to_completion() {
        let mut st = CheckpointStats::default();
        st.triggered(CheckpointId(1), false, 100);
        let ack = |at, size| SubtaskAck {
            at,
            size,
            alignment_ms: at - 100,
        };
        st.acknowledged(
            CheckpointId(1),
            ExecutionVertexId::new(0, 0),
            ack(110, 5),
            2,
        );
        st.acknowledged(
            CheckpointId(1),
            ExecutionVertexId::new(1, 0),
            ack(130, 7),
            2,
        );
        assert_eq!(st.in_progress(), 1);
        st.completed(CheckpointId(1), 131, Some("chk-1".into()));
        let r = st
            .latest(CheckpointOutcome::Completed, Some(false))
            .expect("completed");
        assert_eq!((r.size(), r.duration(), r.alignment()), (12, 30, 30));
        st.triggered(CheckpointId(2), false, 200);
        st.failed(CheckpointId(2), 300, "timed out");
        assert_eq!((st.completed, st.failed, st.in_progress()), (1, 1, 0));
    }
}
