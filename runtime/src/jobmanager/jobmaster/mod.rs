//! The JobMaster: runs exactly one job (Flink's `JobMaster`, with the
//! `DefaultScheduler` it drives).
//!
//! It expands the submitted JobGraph into the ExecutionGraph, has its
//! [`slot_pool`] ask the ResourceManager for the slots the job needs, and
//! once all are there the [`scheduler`] deploys every subtask (a streaming
//! job is scheduled all at once). It then follows every execution's state,
//! reported by the TaskManagers, and moves the job's status: CREATED →
//! RUNNING → FINISHED, or FAILING → FAILED when a task fails or a
//! TaskManager is lost, or CANCELLING → CANCELED on request. Every move goes
//! through [`crate::state`].
//!
//! With checkpointing on, its
//! [`CheckpointCoordinator`](crate::jobmanager::checkpoint::coordinator)
//! triggers a checkpoint every interval at the sources and completes it when
//! every subtask acknowledged; completed checkpoints commit the collect
//! sinks' transactions ([`collect`]); the JobMaster's side of it is in
//! `checkpointing`. A failure ([`failure`]) then
//! restarts instead of failing, as [`failover`] decides: the failed pipelined region (or, with
//! `full` failover, the whole job) is cancelled and redeployed after the
//! restart strategy's delay, with the state of the latest completed
//! checkpoint; new slots replace lost ones.
//!
//! In: slot offers, task states, metrics, records and acknowledgements from
//! TaskManagers; answers of the ResourceManager; timer ticks; client
//! requests (cancel, savepoint). Out (through the [`Outbox`]): deployments
//! and cancellations to TaskManagers, slot requests to the ResourceManager,
//! events, the job's result.

mod checkpointing;
pub mod collect;
pub mod failover;
pub mod failure;
pub mod history;
pub mod scheduler;
pub mod slot_pool;

use crate::events::{EventKind, HostCtx, TaskCounters};
use crate::graph::{ExecutionGraph, JobGraph, JobId};
use crate::ids::ExecutionVertexId;
use crate::job_config::RestartStrategy;
use crate::jobmanager::checkpoint::coordinator::CheckpointCoordinator;
use crate::jobmanager::checkpoint::snapshot::StoredCheckpoint;
use crate::jobmanager::checkpoint::storage::CheckpointStorage;
use crate::jobmanager::outbox::{Outbox, ToJobMaster};
use crate::rpc::{ExecutionAttemptId, JobResult, SlotOffer, VertexMetrics};
use crate::state::{ExecutionState, JobStatus};
use collect::CollectCoordinator;
use failover::{FailoverRegions, RegionIdx, RestartTracker};
use slot_pool::SlotPool;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// One subtask's current execution (Flink's `Execution`: one attempt).
#[derive(Debug, Clone)]
pub struct ExecutionInfo {
    /// State of the current attempt; moved only by [`JobMaster::set_state`].
    state: ExecutionState,
    /// Attempt number (grows with each restart of its region).
    pub attempt: u32,
    /// Counters reported for it.
    pub counters: TaskCounters,
    /// When it started running (ms).
    pub running_since: Option<u64>,
    /// When it ended (ms).
    pub ended_at: Option<u64>,
}

impl ExecutionInfo {
    /// A first attempt, CREATED.
    fn new(attempt: u32) -> Self {
        ExecutionInfo {
            state: ExecutionState::Created,
            attempt,
            counters: TaskCounters::default(),
            running_since: None,
            ended_at: None,
        }
    }

    /// The next attempt of the same subtask: a new `Execution`, CREATED,
    /// keeping the counters so far (as Flink's `resetForNewExecution`).
    fn next_attempt(&self) -> Self {
        ExecutionInfo {
            counters: self.counters.clone(),
            ..ExecutionInfo::new(self.attempt + 1)
        }
    }

    /// The attempt's state.
    pub fn state(&self) -> ExecutionState {
        self.state
    }
}

/// What a JobMaster starts from.
pub struct JobStart {
    /// The job.
    pub job_graph: JobGraph,
    /// Checkpoint storage.
    pub storage: Arc<dyn CheckpointStorage>,
    /// State to restore: (path, checkpoint, `recovered` = taken over from a
    /// previous leader rather than a savepoint of another job).
    pub restore: Option<(String, StoredCheckpoint, bool)>,
    /// First attempt number of its executions (unique per leader).
    pub attempt_base: u64,
    /// A recovered job's retained checkpoints (paths, oldest first).
    pub retained: Vec<String>,
    /// Restarts its predecessor made (a recovered job goes on counting).
    pub restarts: u32,
}

/// The JobMaster of one job.
pub struct JobMaster {
    ctx: HostCtx,
    /// Job id.
    pub id: JobId,
    /// The submitted graph.
    pub job_graph: JobGraph,
    /// Its parallel expansion.
    pub execution_graph: ExecutionGraph,
    /// Status; moved only by [`JobMaster::move_to`].
    status: JobStatus,
    /// Failure cause.
    pub cause: Option<String>,
    /// Executions by subtask (Flink's `ExecutionVertex` → current `Execution`).
    pub executions: BTreeMap<ExecutionVertexId, ExecutionInfo>,
    /// The job's slots.
    pub slot_pool: SlotPool,
    /// Committed and pre-committed output of collect sinks.
    pub sinks: CollectCoordinator,
    /// Pipelined regions: what restarts together.
    pub regions: FailoverRegions,
    /// Restart strategy in effect.
    pub restart: RestartStrategy,
    /// Failure history.
    pub tracker: RestartTracker,
    /// A restart waiting for its delay: (when, regions).
    pub pending_restart: Option<(u64, BTreeSet<RegionIdx>)>,
    /// The CheckpointCoordinator.
    pub checkpoints: CheckpointCoordinator,
    /// The savepoint the job started from.
    pub restored_from: Option<String>,
    /// Submission time.
    pub submitted_at: u64,
    /// When all tasks were first RUNNING.
    pub running_at: Option<u64>,
    /// When the job ended.
    pub ended_at: Option<u64>,
    /// What the REST API shows beyond the above ([`history`]).
    pub history: history::JobHistory,
}

impl JobMaster {
    /// Creates the JobMaster: builds the ExecutionGraph and starts scheduling.
    pub fn start(ctx: HostCtx, id: JobId, start: JobStart, out: &mut Outbox) -> JobMaster {
        let JobStart {
            job_graph,
            storage,
            restore,
            attempt_base,
            retained,
            restarts,
        } = start;
        let execution_graph = ExecutionGraph::from_job_graph(&job_graph);
        let submitted_at = ctx.now_ms();
        let executions = execution_graph
            .execution_vertices()
            .map(|ev| (ev, ExecutionInfo::new(attempt_base as u32)))
            .collect();
        let mut checkpoints = CheckpointCoordinator::new(
            ctx.clone(),
            id,
            storage,
            job_graph.stream_graph.checkpoint_interval_ms,
            submitted_at,
        );
        checkpoints.num_retained = job_graph.stream_graph.retained_checkpoints() as usize;
        checkpoints.restarts = restarts;
        // `recovered`: a new leader resumes its predecessor's job (with the
        // output committed so far); otherwise a new job starts from a savepoint.
        let mut committed = Vec::new();
        let restored_from = restore
            .as_ref()
            .filter(|(_, _, recovered)| !recovered)
            .map(|(path, _, _)| path.clone());
        if let Some((_, stored, recovered)) = restore {
            checkpoints.restore_from(&stored, if recovered { retained } else { Vec::new() });
            if recovered {
                committed = stored.committed;
            }
        }
        let mut jm = JobMaster {
            regions: FailoverRegions::of(&job_graph),
            restart: job_graph.stream_graph.restart_strategy(),
            slot_pool: SlotPool::new(id, &job_graph),
            ctx,
            id,
            job_graph,
            checkpoints,
            restored_from,
            tracker: RestartTracker::resuming(restarts),
            pending_restart: None,
            sinks: CollectCoordinator::with_committed(committed),
            execution_graph,
            status: JobStatus::Initializing,
            cause: None,
            executions,
            submitted_at,
            running_at: None,
            ended_at: None,
            history: history::JobHistory::default(),
        };
        jm.history.status(JobStatus::Initializing, submitted_at);
        jm.move_to(JobStatus::Created, None);
        jm.move_to(JobStatus::Running, None);
        jm.request_slots(out);
        jm
    }

    /// The job's status.
    pub fn status(&self) -> JobStatus {
        self.status
    }

    /// Moves the job's status. An illegal move is a bug in the JobMaster
    /// (every caller checks the status it moves from), so it panics.
    fn move_to(&mut self, to: JobStatus, cause: Option<String>) {
        let from = self.status;
        if let Err(e) = from.check(to) {
            panic!("JobMaster of job {}: {e}", self.id);
        }
        self.status = to;
        self.history.status(to, self.ctx.now_ms());
        if to.is_terminal() {
            self.ended_at = Some(self.ctx.now_ms());
        }
        tracing::info!(
            job = %self.id,
            name = %self.job_graph.name,
            %from,
            %to,
            cause = cause.as_deref().unwrap_or(""),
            "job status changed"
        );
        self.ctx.emit(EventKind::JobStatusChanged {
            job: self.id,
            name: self.job_graph.name.clone(),
            from,
            to,
            cause,
        });
    }

    fn vertex_name(&self, v: u32) -> String {
        self.job_graph.vertex(v as usize).name.clone()
    }

    /// Moves an execution's state when the move is legal and new; reports
    /// of states an attempt already left (late or repeated) change nothing.
    fn set_state(
        &mut self,
        id: ExecutionVertexId,
        to: ExecutionState,
        cause: Option<String>,
    ) -> bool {
        let now = self.ctx.now_ms();
        let name = self.vertex_name(id.vertex);
        let Some(e) = self.executions.get_mut(&id) else {
            return false;
        };
        let from = e.state;
        if from == to || from.check(to).is_err() {
            return false;
        }
        e.state = to;
        self.history.state(id, to, now);
        if to == ExecutionState::Running {
            e.running_since = Some(now);
        }
        if to.is_terminal() {
            e.ended_at = Some(now);
        }
        let attempt = e.attempt;
        self.ctx.emit(EventKind::TaskStateChanged {
            job: self.id,
            vertex: name,
            vertex_index: id.vertex,
            subtask: id.subtask,
            attempt,
            from,
            to,
            cause,
        });
        true
    }

    /// Whether `attempt` is the current attempt of subtask `id`.
    fn is_current_attempt(&self, id: ExecutionVertexId, attempt: u32) -> bool {
        self.executions
            .get(&id)
            .is_some_and(|e| e.attempt == attempt)
    }

    fn is_current(&self, attempt: &ExecutionAttemptId) -> bool {
        attempt.job == self.id
            && self.is_current_attempt(attempt.execution_vertex(), attempt.attempt)
    }

    fn request_slots(&mut self, out: &mut Outbox) {
        let keys: Vec<ExecutionVertexId> = self.executions.keys().copied().collect();
        for id in keys {
            self.set_state(id, ExecutionState::Scheduled, None);
        }
        self.slot_pool.request_missing(out);
    }

    /// A message of the ResourceManager.
    pub fn on_resource_manager(&mut self, msg: ToJobMaster, out: &mut Outbox) {
        match msg {
            ToJobMaster::SlotRequestRegistered {
                allocation,
                sharing,
            } => self.slot_pool.request_registered(allocation, sharing),
            ToJobMaster::AllocationLost { allocation } => {
                // An allocation this job was waiting for went away with its
                // TaskManager before the slot was offered: ask again.
                if self.slot_pool.allocation_lost(allocation) && !self.status.is_terminal() {
                    self.slot_pool.request_missing(out);
                }
            }
        }
    }

    /// Slot offers from a TaskManager (`offerSlots`); deploys once the
    /// last slot is there.
    pub fn offer_slots(
        &mut self,
        rid: &str,
        data_addr: &str,
        offers: &[SlotOffer],
        out: &mut Outbox,
    ) {
        let accepting = matches!(self.status, JobStatus::Running | JobStatus::Restarting);
        self.slot_pool.offer(rid, data_addr, offers, accepting, out);
        if !self.slot_pool.is_waiting()
            && self.status == JobStatus::Running
            && self.pending_restart.is_none()
            && self
                .executions
                .values()
                .any(|e| e.state == ExecutionState::Scheduled)
        {
            let all = self.regions.all();
            self.deploy(&all, out);
        }
    }

    /// A TaskManager reported a task's state (`updateTaskExecutionState`).
    pub fn task_state(
        &mut self,
        attempt: ExecutionAttemptId,
        state: ExecutionState,
        cause: Option<String>,
        counters: TaskCounters,
        out: &mut Outbox,
    ) {
        if !self.is_current(&attempt) {
            return;
        }
        let id = attempt.execution_vertex();
        // A cancelled task answers with empty counters; keep the last real ones.
        if let Some(e) = self.executions.get_mut(&id)
            && counters != TaskCounters::default()
        {
            e.counters = counters;
        }
        // A task passes through INITIALIZING on its own; the JobMaster only
        // records what it hears, in order.
        if state == ExecutionState::Running {
            self.set_state(id, ExecutionState::Initializing, None);
        }
        if !self.set_state(id, state, cause.clone()) {
            return;
        }
        if self.running_at.is_none()
            && self
                .executions
                .values()
                .all(|e| e.state == ExecutionState::Running || e.state == ExecutionState::Finished)
        {
            self.running_at = Some(self.ctx.now_ms());
        }
        if state == ExecutionState::Finished {
            self.checkpoints.task_finished(id);
        }
        match state {
            ExecutionState::Failed => {
                let name = self.vertex_name(id.vertex);
                let cause = format!(
                    "{name} ({}/{}) failed: {}",
                    id.subtask.0 + 1,
                    self.job_graph.vertex(id.vertex_index()).parallelism,
                    cause.unwrap_or_else(|| "unknown cause".into())
                );
                tracing::info!(job = %self.id, %cause, "a task failed");
                self.on_failure(vec![id], cause, out);
            }
            _ => self.check_done(out),
        }
    }

    /// Periodic counters of a running task.
    pub fn task_metrics(&mut self, attempt: ExecutionAttemptId, counters: TaskCounters) {
        if !self.is_current(&attempt) {
            return;
        }
        let key = attempt.execution_vertex();
        self.history.report(key, self.ctx.now_ms(), &counters);
        if let Some(e) = self.executions.get_mut(&key) {
            e.counters = counters;
        }
    }

    /// Timers: due restarts and checkpoint triggers.
    pub fn tick(&mut self, out: &mut Outbox) {
        let now = self.ctx.now_ms();
        if let Some((at, regions)) = &self.pending_restart
            && *at <= now
        {
            let regions = regions.clone();
            self.slot_pool.request_missing(out);
            if !self.slot_pool.is_waiting() {
                self.pending_restart = None;
                self.redeploy(regions, out);
            }
        }
        if let Some(written) = self.checkpoints.written(now) {
            self.finish_checkpoint(written, out);
        }
        if self.status == JobStatus::Running
            && self.pending_restart.is_none()
            && self
                .executions
                .values()
                .all(|e| e.state == ExecutionState::Running)
            && let Some((barrier, stop)) = self.checkpoints.maybe_trigger(now)
        {
            self.trigger_sources(barrier, stop, out);
        }
        self.checkpoints.expire(now);
    }

    /// The job's result as the client sees it.
    pub fn result(&self) -> JobResult {
        let now = self.ctx.now_ms();
        let vertices = self
            .job_graph
            .vertices()
            .enumerate()
            .map(|(v, vx)| {
                let mut total = TaskCounters::default();
                let mut bp = 0u32;
                for s in 0..vx.parallelism {
                    if let Some(e) = self.executions.get(&ExecutionVertexId::new(v as u32, s)) {
                        let c = &e.counters;
                        total.records_in += c.records_in;
                        total.records_out += c.records_out;
                        total.bytes_in += c.bytes_in;
                        total.bytes_out += c.bytes_out;
                        total.backpressured_ms += c.backpressured_ms;
                        total.idle_ms += c.idle_ms;
                        if let Some(start) = e.running_since {
                            let span = e.ended_at.unwrap_or(now).saturating_sub(start).max(1);
                            bp = bp.max(((c.backpressured_ms * 1000) / span).min(1000) as u32);
                        }
                    }
                }
                VertexMetrics {
                    name: vx.name.clone(),
                    parallelism: vx.parallelism,
                    counters: total,
                    backpressure_permille: bp,
                }
            })
            .collect();
        JobResult {
            id: self.id,
            name: self.job_graph.name.clone(),
            status: self.status,
            cause: self.cause.clone(),
            collected: self.sinks.collected.clone(),
            vertices,
            submitted_at: self.submitted_at,
            running_at: self.running_at,
            ended_at: self.ended_at,
            restarts: self.tracker.restarts(),
            checkpoints_completed: self.checkpoints.completed,
            latest_checkpoint: self.checkpoints.latest.as_ref().map(|c| c.id),
            savepoints: self.checkpoints.savepoints.clone(),
            restored_from: self.restored_from.clone(),
        }
    }
}
