//! The collect sinks' coordinator on the JobMaster: the job's visible output
//! and the two-phase commit of it (Flink's `CollectSinkOperatorCoordinator`,
//! with the commit rule of `TwoPhaseCommitSinkFunction`).
//!
//! A collect sink sends its records to the JobMaster. Without checkpoints
//! they are visible at once. With checkpoints each batch is a *pre-committed
//! transaction* of the checkpoint that follows it, and becomes visible only
//! when that checkpoint completes (or the job finishes): a restart from an
//! earlier checkpoint drops what was never committed, so nothing is seen
//! twice. Transactions of an attempt that was since replaced are dropped.
//!
//! In: records from sinks, completed checkpoints, the job finishing. Out:
//! the committed output (the job's result, and what a checkpoint stores).

use crate::ids::{CheckpointId, ExecutionVertexId};
use crate::operators::Value;
use crate::rpc::{ExecutionAttemptId, Txn};

/// A pre-committed transaction of one sink attempt.
#[derive(Debug, Clone)]
struct PendingTxn {
    /// The sink subtask that sent it, and its attempt.
    subtask: ExecutionVertexId,
    attempt: u32,
    txn: Txn,
    records: Vec<Value>,
}

/// The committed output and the pre-committed transactions of a job.
#[derive(Debug, Clone, Default)]
pub struct CollectCoordinator {
    /// Committed records (visible output).
    pub collected: Vec<Value>,
    pending: Vec<PendingTxn>,
}

impl CollectCoordinator {
    /// Starts with output committed earlier (a new leader resuming a job).
    pub fn with_committed(collected: Vec<Value>) -> Self {
        CollectCoordinator {
            collected,
            pending: Vec::new(),
        }
    }

    /// Records from a collect sink: visible at once, or held as a
    /// pre-committed transaction until its checkpoint (or the job) completes.
    pub fn collected(&mut self, attempt: ExecutionAttemptId, txn: Txn, records: Vec<Value>) {
        match txn {
            Txn::Immediate => self.collected.extend(records),
            _ => self.pending.push(PendingTxn {
                subtask: attempt.execution_vertex(),
                attempt: attempt.attempt,
                txn,
                records,
            }),
        }
    }

    /// The output that is visible once checkpoint `id` completes; `current`
    /// says whether an attempt (subtask, attempt number) is still the one
    /// in charge.
    pub fn committed_through(
        &self,
        id: CheckpointId,
        current: impl Fn(ExecutionVertexId, u32) -> bool,
    ) -> Vec<Value> {
        let mut out = self.collected.clone();
        for t in &self.pending {
            if current(t.subtask, t.attempt) && matches!(t.txn, Txn::Checkpoint(n) if n <= id) {
                out.extend(t.records.iter().cloned());
            }
        }
        out
    }

    /// Makes the pre-committed transactions of current attempts that
    /// `which` selects visible; drops those of replaced attempts.
    pub fn commit(
        &mut self,
        which: impl Fn(Txn) -> bool,
        current: impl Fn(ExecutionVertexId, u32) -> bool,
    ) {
        for t in std::mem::take(&mut self.pending) {
            if !current(t.subtask, t.attempt) {
                continue;
            }
            if which(t.txn) {
                self.collected.extend(t.records);
            } else {
                self.pending.push(t);
            }
        }
    }
}
