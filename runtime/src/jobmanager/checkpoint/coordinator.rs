//! The CheckpointCoordinator: triggers checkpoints, collects the
//! acknowledgements, completes and stores them (Flink's
//! `CheckpointCoordinator`, with its `PendingCheckpoint` and
//! `CompletedCheckpoint`).
//!
//! Each JobMaster has one. Every interval (or when a savepoint is asked for)
//! it picks the next checkpoint id and has the JobMaster send a
//! [`CheckpointBarrier`] to every source; each subtask snapshots its state
//! when the barrier passes it and acknowledges with its encoded
//! [`TaskSnapshot`](super::snapshot::TaskSnapshot). When every subtask has
//! acknowledged, the checkpoint is written to checkpoint storage
//! ([`super::storage`]) and only then completed: a checkpoint that cannot be
//! written is never restored from. One checkpoint is in flight at a time, and
//! the last `state.checkpoints.num-retained` completed checkpoints (1 by
//! default, as in Flink) are retained; the HA pointer names them all, so a
//! new leader can fall back to an older one when the newest is damaged.
//!
//! In: ticks, acknowledgements, aborts from the JobMaster. Out: barriers to
//! inject, checkpoint events, files in storage, the HA pointer to the
//! retained checkpoints.

use super::snapshot::StoredCheckpoint;
use super::storage::CheckpointStorage;
use crate::events::{EventKind, HostCtx};
use crate::graph::{JobGraph, JobId};
use crate::ids::{CheckpointId, ExecutionVertexId};
use crate::jobmanager::outbox::{HaOp, Outbox};
use crate::operators::Value;
use crate::rpc::CheckpointBarrier;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A checkpoint every subtask acknowledged.
#[derive(Debug, Clone)]
pub struct CompletedCheckpoint {
    /// Id.
    pub id: CheckpointId,
    /// Each subtask's encoded snapshot.
    pub states: BTreeMap<ExecutionVertexId, Vec<u8>>,
}

/// A checkpoint in progress.
#[derive(Debug, Clone)]
pub struct PendingCheckpoint {
    /// Id.
    pub id: CheckpointId,
    /// Whether it is a savepoint.
    pub savepoint: bool,
    /// Whether the sources stop after it.
    pub stop: bool,
    /// Trigger time (ms).
    pub triggered_at: u64,
    /// Snapshots so far, with alignment times.
    pub acks: BTreeMap<ExecutionVertexId, (Vec<u8>, u64)>,
    /// Fully acknowledged, and being written to a slow checkpoint storage
    /// until then (ms): not complete, and nothing triggers meanwhile.
    pub writing_until: Option<u64>,
}

/// Why a savepoint cannot be taken now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SavepointError {
    /// Only a running job takes savepoints.
    #[error("job {job} is {status}, not RUNNING")]
    NotRunning {
        /// The job.
        job: JobId,
        /// Its status.
        status: crate::state::JobStatus,
    },
    /// One at a time.
    #[error("a savepoint is already in progress")]
    InProgress,
}

/// Flink's `CheckpointCoordinator`: triggers, collects, completes, stores.
pub struct CheckpointCoordinator {
    ctx: HostCtx,
    job: JobId,
    storage: Arc<dyn CheckpointStorage>,
    /// Interval (ms); `None` when checkpointing is off.
    pub interval_ms: Option<u64>,
    /// Next checkpoint id.
    pub next_id: CheckpointId,
    /// Next trigger time (ms).
    pub next_trigger_at: u64,
    /// The checkpoint in progress (at most one at a time).
    pub pending: Option<PendingCheckpoint>,
    /// The latest completed checkpoint (what a restart restores).
    pub latest: Option<CompletedCheckpoint>,
    /// Completed so far.
    pub completed: u64,
    /// A savepoint asked for and not yet triggered: `Some(stop)`.
    pub requested_savepoint: Option<bool>,
    /// A checkpoint asked for ahead of its interval (REST's
    /// `POST /jobs/:jid/checkpoints`), not yet triggered.
    pub requested_checkpoint: bool,
    /// Why the latest savepoint failed (aborted or not written), if one did.
    pub savepoint_failure: Option<String>,
    /// Savepoints written (described paths).
    pub savepoints: Vec<String>,
    /// Where the latest completed checkpoint was written.
    pub last_checkpoint_path: Option<String>,
    /// The completed checkpoints kept in storage, oldest first: what a new
    /// leader may fall back to when the newest is damaged.
    pub retained: std::collections::VecDeque<String>,
    /// How many to keep (Flink's `state.checkpoints.num-retained`, 1 by
    /// default); older ones are deleted.
    pub num_retained: usize,
    /// The job's restarts so far (kept in the HA pointer, so that a new
    /// leader goes on counting).
    pub restarts: u32,
    /// Statistics for the REST API ([`super::stats`]).
    pub stats: super::stats::CheckpointStats,
}

impl std::fmt::Debug for CheckpointCoordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointCoordinator")
            .field("job", &self.job)
            .field("next_id", &self.next_id)
            .field("pending", &self.pending.as_ref().map(|p| p.id))
            .field("latest", &self.latest.as_ref().map(|c| c.id))
            .finish()
    }
}

/// What [`CheckpointCoordinator::complete`] completed.
#[derive(Debug, Clone, Copy)]
pub struct Completion {
    /// Id.
    pub id: CheckpointId,
    /// Whether it was a savepoint.
    pub savepoint: bool,
    /// Whether the job stops after it.
    pub stop: bool,
}

impl CheckpointCoordinator {
    /// A coordinator for one job; the first checkpoint comes one interval
    /// after `now`.
    pub fn new(
        ctx: HostCtx,
        job: JobId,
        storage: Arc<dyn CheckpointStorage>,
        interval_ms: Option<u64>,
        now: u64,
    ) -> Self {
        CheckpointCoordinator {
            ctx,
            job,
            storage,
            interval_ms,
            next_id: CheckpointId(1),
            next_trigger_at: now + interval_ms.unwrap_or(0),
            pending: None,
            latest: None,
            completed: 0,
            requested_savepoint: None,
            requested_checkpoint: false,
            savepoint_failure: None,
            savepoints: Vec::new(),
            last_checkpoint_path: None,
            retained: Default::default(),
            num_retained: 1,
            restarts: 0,
            stats: super::stats::CheckpointStats::default(),
        }
    }

    /// Resumes from a stored checkpoint: numbering goes on from it, as in
    /// Flink, and it is what the first deployment restores. `retained`:
    /// the predecessor's retained checkpoints, oldest first (the one
    /// restored last), which this coordinator goes on retaining.
    pub fn restore_from(&mut self, stored: &StoredCheckpoint, retained: Vec<String>) {
        self.last_checkpoint_path = retained.last().cloned();
        self.retained = retained.into();
        self.next_id = stored.id.next();
        self.stats.restored = Some((stored.id, self.ctx.now_ms()));
        self.latest = Some(CompletedCheckpoint {
            id: stored.id,
            states: stored.states.iter().cloned().collect(),
        });
    }

    /// Asks for a savepoint (`triggerSavepoint`, or `stopWithSavepoint`);
    /// the next tick triggers it.
    pub fn request_savepoint(&mut self, stop: bool) -> Result<(), SavepointError> {
        if self.savepoint_in_progress() {
            return Err(SavepointError::InProgress);
        }
        self.requested_savepoint = Some(stop);
        Ok(())
    }

    /// Asks for a checkpoint now, ahead of the interval (Flink's
    /// `triggerCheckpoint` from REST); the next tick triggers it.
    pub fn request_checkpoint(&mut self) {
        self.requested_checkpoint = true;
    }

    /// Whether a savepoint is asked for or under way.
    pub fn savepoint_in_progress(&self) -> bool {
        self.requested_savepoint.is_some() || self.pending.as_ref().is_some_and(|p| p.savepoint)
    }

    /// Triggers a requested savepoint, or the next checkpoint when it is
    /// due; returns the barrier and whether the sources stop after it.
    pub fn maybe_trigger(&mut self, now: u64) -> Option<(CheckpointBarrier, bool)> {
        if self.pending.is_some() {
            return None;
        }
        let (savepoint, stop) = match self.requested_savepoint.take() {
            Some(stop) => (true, stop),
            None if std::mem::take(&mut self.requested_checkpoint) => (false, false),
            None => {
                let interval = self.interval_ms?;
                if now < self.next_trigger_at {
                    return None;
                }
                self.next_trigger_at = now + interval;
                (false, false)
            }
        };
        let id = self.next_id;
        self.next_id = id.next();
        self.pending = Some(PendingCheckpoint {
            id,
            savepoint,
            stop,
            triggered_at: now,
            acks: BTreeMap::new(),
            writing_until: None,
        });
        self.stats.triggered(id, savepoint, now);
        self.ctx.emit(EventKind::CheckpointTriggered {
            job: self.job,
            id,
            savepoint,
        });
        Some((
            CheckpointBarrier {
                id,
                timestamp: now,
                savepoint,
            },
            stop,
        ))
    }

    // ANCHOR: acknowledge
    /// Records one acknowledgement; returns the checkpoint when this one
    /// completed the set of `total` subtasks.
    pub fn acknowledge(
        &mut self,
        id: CheckpointId,
        subtask: ExecutionVertexId,
        vertex: &str,
        state: Vec<u8>,
        alignment_ms: u64,
        total: usize,
    ) -> Option<PendingCheckpoint> {
        let p = self
            .pending
            .as_mut()
            .filter(|p| p.id == id && p.writing_until.is_none())?;
        self.ctx.emit(EventKind::CheckpointAcknowledged {
            job: self.job,
            id,
            vertex: vertex.to_string(),
            vertex_index: subtask.vertex,
            subtask: subtask.subtask,
            size: state.len() as u64,
            alignment_ms,
        });
        let ack = super::stats::SubtaskAck {
            at: self.ctx.now_ms(),
            size: state.len() as u64,
            alignment_ms,
        };
        self.stats.acknowledged(id, subtask, ack, total);
        p.acks.insert(subtask, (state, alignment_ms));
        if p.acks.len() < total {
            return None;
        }
        // A slow storage holds the checkpoint until its write is done
        // ([`CheckpointCoordinator::written`]).
        let delay = self.storage.write_delay_ms();
        if delay > 0 {
            p.writing_until = Some(self.ctx.now_ms() + delay);
            return None;
        }
        self.pending.take()
    }

    /// The fully acknowledged checkpoint whose slow write is done by `now`.
    pub fn written(&mut self, now: u64) -> Option<PendingCheckpoint> {
        self.pending
            .as_ref()
            .and_then(|p| p.writing_until)
            .is_some_and(|t| t <= now)
            .then(|| self.pending.take())
            .flatten()
    }
    // ANCHOR_END: acknowledge

    /// Writes a fully acknowledged checkpoint (or savepoint) to checkpoint
    /// storage, with the sinks' output `committed` up to it. Returns whether
    /// it was written; a checkpoint that was not is aborted.
    pub fn store(
        &mut self,
        jg: &JobGraph,
        done: &PendingCheckpoint,
        committed: Vec<Value>,
        out: &mut Outbox,
    ) -> bool {
        let stored = StoredCheckpoint {
            job_name: jg.name.clone(),
            id: done.id,
            savepoint: done.savepoint,
            vertices: jg.vertices().map(|v| (v.id, v.parallelism)).collect(),
            states: done
                .acks
                .iter()
                .map(|(k, (v, _))| (*k, v.clone()))
                .collect(),
            committed,
        };
        let path = if done.savepoint {
            let job = self.job.to_string();
            format!(
                "savepoints/{}/savepoint-{}-{}",
                jg.name.replace(
                    |c: char| !(c.is_alphanumeric() || c == '-' || c == '_'),
                    "_"
                ),
                &job[..6],
                done.id
            )
        } else {
            format!("checkpoints/{}/chk-{}", self.job, done.id)
        };
        match super::storage::store(self.storage.as_ref(), &path, &stored) {
            Ok(()) if done.savepoint => {
                let described = self.storage.describe(&path);
                self.ctx.emit(EventKind::SavepointCompleted {
                    job: self.job,
                    id: done.id,
                    path: described.clone(),
                    stop: done.stop,
                });
                self.savepoints.push(described);
                true
            }
            Ok(()) => {
                // Flink retains one completed checkpoint by default
                // (`state.checkpoints.num-retained`): older ones go.
                self.retained.retain(|p| p != &path);
                self.retained.push_back(path.clone());
                while self.retained.len() > self.num_retained.max(1) {
                    if let Some(old) = self.retained.pop_front() {
                        let _ = self.storage.delete(&old);
                    }
                }
                out.ha.push(self.ha_pointer());
                self.last_checkpoint_path = Some(path);
                true
            }
            Err(e) => {
                let cause = format!("cannot write {}: {e}", self.storage.describe(&path));
                tracing::error!(job = %self.job, checkpoint = %done.id, %cause, "checkpoint storage failed");
                self.stats.failed(done.id, self.ctx.now_ms(), &cause);
                if done.savepoint {
                    self.savepoint_failure = Some(cause.clone());
                }
                self.ctx.emit(EventKind::CheckpointAborted {
                    job: self.job,
                    id: done.id,
                    cause,
                });
                false
            }
        }
    }

    /// The HA store's pointer of this job: the retained checkpoints, newest
    /// last, one per line, and `restarts=N` once the job restarted (see
    /// [`parse_pointer`]).
    pub fn ha_pointer(&self) -> HaOp {
        let mut lines: Vec<String> = self.retained.iter().cloned().collect();
        if self.restarts > 0 {
            lines.push(format!("restarts={}", self.restarts));
        }
        HaOp::Put(
            format!("checkpoints/{}", self.job),
            lines.join("\n").into_bytes(),
        )
    }

    /// Marks a fully acknowledged (and stored) checkpoint complete: it is
    /// now what a restart restores.
    pub fn complete(&mut self, p: PendingCheckpoint) -> Completion {
        let id = p.id;
        let size = p.acks.values().map(|(s, _)| s.len() as u64).sum();
        let alignment = p.acks.values().map(|(_, a)| *a).max().unwrap_or(0);
        self.ctx.emit(EventKind::CheckpointCompleted {
            job: self.job,
            id,
            duration_ms: self.ctx.now_ms() - p.triggered_at,
            size,
            alignment_ms: alignment,
            acks: p.acks.len() as u32,
        });
        self.completed += 1;
        let path = if p.savepoint {
            self.savepoints.last().cloned()
        } else {
            self.last_checkpoint_path.clone()
        };
        self.stats.completed(id, self.ctx.now_ms(), path);
        self.latest = Some(CompletedCheckpoint {
            id,
            states: p.acks.into_iter().map(|(k, (s, _))| (k, s)).collect(),
        });
        Completion {
            id,
            savepoint: p.savepoint,
            stop: p.stop,
        }
    }

    /// A task finished before acknowledging: the pending checkpoint cannot complete.
    pub fn task_finished(&mut self, subtask: ExecutionVertexId) {
        if self
            .pending
            .as_ref()
            .is_some_and(|p| !p.acks.contains_key(&subtask))
        {
            self.abort("a task finished before acknowledging");
        }
    }

    /// Gives up the pending checkpoint.
    pub fn abort(&mut self, cause: &str) {
        if let Some(p) = self.pending.take() {
            self.stats.failed(p.id, self.ctx.now_ms(), cause);
            if p.savepoint {
                self.savepoint_failure = Some(format!("savepoint {} aborted: {cause}", p.id));
            }
            self.ctx.emit(EventKind::CheckpointAborted {
                job: self.job,
                id: p.id,
                cause: cause.to_string(),
            });
        }
    }

    /// Aborts a checkpoint that takes too long (10 intervals, at least 10 s).
    pub fn expire(&mut self, now: u64) {
        let limit = self.interval_ms.unwrap_or(0).saturating_mul(10).max(10_000);
        if self
            .pending
            .as_ref()
            .is_some_and(|p| now.saturating_sub(p.triggered_at) > limit)
        {
            self.abort("timed out");
        }
    }
}

/// Reads an HA pointer ([`CheckpointCoordinator::ha_pointer`]): the
/// retained checkpoints' paths, oldest first, and the restarts so far.
pub fn parse_pointer(value: &str) -> (Vec<String>, u32) {
    let mut paths = Vec::new();
    let mut restarts = 0;
    for line in value.lines().filter(|l| !l.is_empty()) {
        match line.strip_prefix("restarts=") {
            Some(n) => restarts = n.parse().unwrap_or(0),
            None => paths.push(line.to_string()),
        }
    }
    (paths, restarts)
}
