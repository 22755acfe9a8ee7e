//! The JobMaster's side of checkpointing (Flink's `SchedulerBase`
//! `acknowledgeCheckpoint`, `triggerSavepoint`, `triggerCheckpoint`, and
//! the `CheckpointCoordinator`'s completion of a fully acknowledged
//! checkpoint).
//!
//! In: the sinks' pre-committed records, subtasks' acknowledgements,
//! requests for a savepoint or a checkpoint. Out: triggers to the source
//! subtasks; a checkpoint written to storage (after a slow storage's
//! write time), completed, and the sinks' transactions up to it committed.

use super::JobMaster;
use crate::ids::CheckpointId;
use crate::jobmanager::checkpoint::coordinator::{PendingCheckpoint, SavepointError};
use crate::jobmanager::outbox::Outbox;
use crate::operators::{KindClass, Value};
use crate::rpc::{ExecutionAttemptId, ToTaskManager, Txn};
use crate::state::JobStatus;

impl JobMaster {
    /// Records from a collect sink.
    pub fn collected(&mut self, attempt: ExecutionAttemptId, txn: Txn, records: Vec<Value>) {
        if self.is_current(&attempt) {
            self.sinks.collected(attempt, txn, records);
        }
    }

    /// A subtask's snapshot for a checkpoint (`acknowledgeCheckpoint`).
    pub fn acknowledge(
        &mut self,
        attempt: ExecutionAttemptId,
        checkpoint: CheckpointId,
        state: Vec<u8>,
        alignment_ms: u64,
        out: &mut Outbox,
    ) {
        if !self.is_current(&attempt) {
            return;
        }
        let key = attempt.execution_vertex();
        let name = self.vertex_name(attempt.vertex);
        let total = self.executions.len();
        let Some(acked) =
            self.checkpoints
                .acknowledge(checkpoint, key, &name, state, alignment_ms, total)
        else {
            return;
        };
        self.finish_checkpoint(acked, out);
    }

    /// A fully acknowledged checkpoint, written: stored, completed, and the
    /// sinks' transactions up to it committed.
    pub(super) fn finish_checkpoint(&mut self, acked: PendingCheckpoint, out: &mut Outbox) {
        // Complete only once it is durable: a checkpoint that cannot be
        // written is never restored from, and commits nothing.
        let id = acked.id;
        let current = |id, a| self.is_current_attempt(id, a);
        let committed = self.sinks.committed_through(id, current);
        if self
            .checkpoints
            .store(&self.job_graph, &acked, committed, out)
        {
            self.checkpoints.complete(acked);
            self.commit(|t| matches!(t, Txn::Checkpoint(n) if n <= id));
        }
    }

    /// Makes the selected pre-committed transactions of current attempts visible.
    pub(super) fn commit(&mut self, which: impl Fn(Txn) -> bool) {
        let executions = &self.executions;
        self.sinks.commit(which, |id, a| {
            executions.get(&id).is_some_and(|e| e.attempt == a)
        });
    }

    /// Asks for a savepoint (`triggerSavepoint`, or `stopWithSavepoint`).
    pub fn request_savepoint(&mut self, stop: bool) -> Result<(), SavepointError> {
        if self.status != JobStatus::Running {
            return Err(SavepointError::NotRunning {
                job: self.id,
                status: self.status,
            });
        }
        self.checkpoints.request_savepoint(stop)
    }

    /// Asks for a checkpoint now (REST's `POST /jobs/:jid/checkpoints`).
    pub fn request_checkpoint(&mut self) -> Result<(), SavepointError> {
        if self.status != JobStatus::Running {
            return Err(SavepointError::NotRunning {
                job: self.id,
                status: self.status,
            });
        }
        self.checkpoints.request_checkpoint();
        Ok(())
    }

    /// Sends a checkpoint barrier to every source subtask (`triggerCheckpoint`).
    pub(super) fn trigger_sources(
        &self,
        barrier: crate::rpc::CheckpointBarrier,
        stop: bool,
        out: &mut Outbox,
    ) {
        for (&id, e) in &self.executions {
            let head = self.job_graph.vertex(id.vertex_index()).operators[0];
            if self.job_graph.stream_graph.node(head).kind.class() != KindClass::Source {
                continue;
            }
            if let Some(slot) = self.slot_of(id) {
                out.to_tm(
                    slot.resource_id.clone(),
                    ToTaskManager::TriggerCheckpoint {
                        attempt: ExecutionAttemptId::new(self.id, id, e.attempt),
                        barrier,
                        stop,
                    },
                );
            }
        }
    }
}
