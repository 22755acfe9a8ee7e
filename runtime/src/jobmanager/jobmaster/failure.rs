//! Failures and the end of a job: what the JobMaster does when tasks fail
//! or a TaskManager is lost, when the job is cancelled or fails, and when
//! every execution has ended (Flink's `DefaultScheduler.handleTaskFailure`
//! and `ExecutionFailureHandler`, and the JobMaster's terminal states).
//!
//! A failure asks the restart strategy ([`RestartTracker`](super::failover))
//! whether to restart; if so, the failover strategy names the pipelined
//! regions to cancel and redeploy after the delay, else the job fails. In:
//! failed executions, a lost TaskManager, cancel and fail requests. Out
//! (through the [`Outbox`]): cancellations, slot requests and releases,
//! status moves (through [`crate::state`]) and the job's end.

use super::JobMaster;
use crate::events::EventKind;
use crate::ids::ExecutionVertexId;
use crate::jobmanager::outbox::Outbox;
use crate::state::{ExecutionState, JobStatus};

impl JobMaster {
    // ANCHOR: on_failure
    /// Failed executions: restart what the failover strategy says after the
    /// restart strategy's delay, or fail the job when it gives up.
    pub(super) fn on_failure(
        &mut self,
        failed: Vec<ExecutionVertexId>,
        cause: String,
        out: &mut Outbox,
    ) {
        self.record_exception(failed.first().copied(), &cause);
        if !matches!(self.status, JobStatus::Running | JobStatus::Restarting) {
            self.check_done(out);
            return;
        }
        let now = self.ctx.now_ms();
        let Some(delay) = self.tracker.on_failure(&self.restart, now) else {
            self.fail(cause, out);
            return;
        };
        // With HA, the count outlives this leader: a successor goes on from it.
        self.checkpoints.restarts = self.tracker.restarts();
        out.ha.push(self.checkpoints.ha_pointer());
        let mut regions = self.regions.to_restart(
            self.job_graph.stream_graph.failover,
            failed.iter().map(|id| id.vertex),
        );
        if let Some((_, earlier)) = self.pending_restart.take() {
            regions.extend(earlier);
        }
        self.checkpoints.abort(&format!("restart after: {cause}"));
        let restarting: Vec<ExecutionVertexId> = self
            .executions
            .keys()
            .copied()
            .filter(|id| self.regions.contains(&regions, id.vertex))
            .collect();
        for &id in &restarting {
            self.cancel_execution(id, out);
        }
        let names: Vec<String> = self
            .job_graph
            .vertices()
            .enumerate()
            .filter(|(v, _)| self.regions.contains(&regions, *v as u32))
            .map(|(_, vx)| vx.name.clone())
            .collect();
        if regions.len() == self.regions.len() && self.status == JobStatus::Running {
            self.move_to(JobStatus::Restarting, Some(cause.clone()));
        }
        self.ctx.emit(EventKind::RestartScheduled {
            job: self.id,
            name: self.job_graph.name.clone(),
            vertices: names,
            delay_ms: delay,
            cause,
        });
        self.pending_restart = Some((now + delay, regions));
        self.slot_pool.request_missing(out);
    }
    // ANCHOR_END: on_failure

    /// A TaskManager is gone: its slots leave the pool, executions on it fail.
    pub fn task_manager_lost(&mut self, rid: &str, cause: &str, out: &mut Outbox) {
        let on_it: Vec<ExecutionVertexId> = self
            .executions
            .iter()
            .filter(|(_, e)| !e.state.is_terminal())
            .map(|(k, _)| *k)
            .filter(|&id| self.slot_of(id).is_some_and(|slot| slot.resource_id == rid))
            .collect();
        let held = self.slot_pool.task_manager_lost(rid);
        if on_it.is_empty() && !held {
            return;
        }
        for &id in &on_it {
            self.set_state(id, ExecutionState::Failed, Some(cause.to_string()));
        }
        if on_it.is_empty() {
            // Only finished work lived there; a later restart re-requests the slot.
            return;
        }
        self.on_failure(on_it, cause.to_string(), out);
    }

    /// Fails the job: cancels the remaining tasks, then FAILED.
    pub fn fail(&mut self, cause: String, out: &mut Outbox) {
        self.cause = Some(cause.clone());
        self.pending_restart = None;
        self.checkpoints.abort("the job failed");
        self.move_to(JobStatus::Failing, Some(cause));
        self.cancel_executions(out);
        self.check_done(out);
    }

    /// Cancels the job (`cancel`); false when it is already ending.
    pub fn cancel(&mut self, out: &mut Outbox) -> bool {
        if self.status.is_terminal() || self.status == JobStatus::Cancelling {
            return false;
        }
        self.pending_restart = None;
        self.checkpoints.abort("the job is cancelled");
        self.move_to(JobStatus::Cancelling, None);
        self.cancel_executions(out);
        self.check_done(out);
        true
    }

    /// Ends the job when every execution is terminal.
    pub(super) fn check_done(&mut self, out: &mut Outbox) {
        if self.pending_restart.is_some()
            || !self.executions.values().all(|e| e.state.is_terminal())
        {
            return;
        }
        let to = match self.status {
            JobStatus::Running
                if self
                    .executions
                    .values()
                    .all(|e| e.state == ExecutionState::Finished) =>
            {
                JobStatus::Finished
            }
            JobStatus::Failing => JobStatus::Failed,
            JobStatus::Cancelling => JobStatus::Canceled,
            _ => return,
        };
        if to == JobStatus::Finished {
            // Every task ended its input: the final transactions commit.
            self.commit(|_| true);
        }
        let cause = if to == JobStatus::Failed {
            self.cause.clone()
        } else {
            None
        };
        self.move_to(to, cause);
        self.slot_pool.release_all(out);
        out.ended.push(self.id);
    }

    /// Keeps a failure in the exception history, with the first failed
    /// task's name and where it ran.
    fn record_exception(&mut self, task: Option<ExecutionVertexId>, cause: &str) {
        let now = self.ctx.now_ms();
        let task_name = task.map(|t| {
            let vx = self.job_graph.vertex(t.vertex as usize);
            format!("{} ({}/{})", vx.name, t.subtask.0 + 1, vx.parallelism)
        });
        let slot = task.and_then(|t| self.slot_of(t));
        let entry = super::history::ExceptionEntry {
            at: now,
            cause: cause.to_string(),
            task_name,
            endpoint: slot.map(|p| p.data_addr.clone()),
            task_manager: slot.map(|p| p.resource_id.to_string()),
        };
        self.history.exception(entry);
    }
}
