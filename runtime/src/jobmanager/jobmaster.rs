//! The JobMaster: runs exactly one job (Flink's `JobMaster` with its
//! `SlotPool` and `DefaultScheduler`).
//!
//! It expands the submitted JobGraph into the ExecutionGraph, asks the
//! ResourceManager for the slots the job needs, accepts the TaskManagers'
//! slot offers into its slot pool, and deploys every subtask once all slots
//! are there (a streaming job is scheduled all at once). With *slot sharing*,
//! slot `k` of a sharing group holds subtask `k` of every chain in that group,
//! so a job needs, per group, as many slots as its highest parallelism.
//! It then follows every execution's state, reported by the TaskManagers,
//! and moves the job's status: CREATED → RUNNING → FINISHED, or FAILING →
//! FAILED when a task fails or a TaskManager is lost, or CANCELLING →
//! CANCELED on request. All moves go through [`JobStatus::check`] and
//! [`ExecutionState::check`].
//!
//! With checkpointing on, its *CheckpointCoordinator* triggers a checkpoint
//! every interval at the sources, collects every subtask's snapshot, and on
//! completion commits the sinks' pre-committed transactions (two-phase
//! commit: output is visible only once the checkpoint covering it is
//! complete). A failure then restarts instead of failing, as the restart
//! strategy allows: the failed pipelined region (or, with `full` failover,
//! the whole job) is cancelled and redeployed after the delay, with the
//! state of the latest completed checkpoint; new slots replace lost ones.

use super::Outbox;
use super::resourcemanager::ResourceManager;
use crate::checkpoint::StoredCheckpoint;
use crate::checkpoint::{FailoverStrategy, RestartStrategy, RestartTracker};
use crate::events::{EventKind, HostCtx, TaskCounters};
use crate::graph::{ExecutionGraph, JobGraph, JobId};
use crate::operators::KindClass;
use crate::operators::Value;
use crate::rpc::CheckpointBarrier;
use crate::rpc::{
    AllocationId, ExecutionAttemptId, InputGateDescriptor, JobResult, Location, ResourceId,
    ResultPartitionDescriptor, SlotOffer, TaskDeploymentDescriptor, ToTaskManager, Txn,
    VertexMetrics,
};
use crate::state::{ExecutionState, JobStatus};
use crate::storage::CheckpointStorage;
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::sync::Arc;

/// A slot in the job's slot pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSlot {
    /// Allocation.
    pub allocation: AllocationId,
    /// TaskManager.
    pub resource_id: ResourceId,
    /// Its data address.
    pub data_addr: String,
    /// Slot index on the TaskManager.
    pub slot: u32,
}

/// One subtask's current execution.
#[derive(Debug, Clone)]
pub struct ExecutionInfo {
    /// State of the current attempt.
    pub state: ExecutionState,
    /// Attempt number (grows with each restart of its region).
    pub attempt: u32,
    /// Counters reported for it.
    pub counters: TaskCounters,
    /// When it started running (ms).
    pub running_since: Option<u64>,
    /// When it ended (ms).
    pub ended_at: Option<u64>,
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
}

/// A slot sharing slot: (group, index).
pub type SharingSlot = (String, u32);

/// The JobMaster of one job.
pub struct JobMaster {
    ctx: HostCtx,
    /// Job id.
    pub id: JobId,
    /// The submitted graph.
    pub job_graph: JobGraph,
    /// Its parallel expansion.
    pub execution_graph: ExecutionGraph,
    /// Status.
    pub status: JobStatus,
    /// Failure cause.
    pub cause: Option<String>,
    /// Executions by (vertex, subtask).
    pub executions: BTreeMap<(u32, u32), ExecutionInfo>,
    /// Requested allocations and the sharing slot each is for.
    pub requested: BTreeMap<AllocationId, SharingSlot>,
    /// Slots in the pool, by sharing slot.
    pub slots: BTreeMap<SharingSlot, PoolSlot>,
    /// Committed records of collect sinks (visible output).
    pub collected: Vec<Value>,
    /// Pre-committed transactions: (vertex, subtask, attempt, txn, records).
    pub pending_txns: Vec<(u32, u32, u32, Txn, Vec<Value>)>,
    /// Pipelined regions: the vertices of each connected part of the dataflow.
    pub regions: Vec<Vec<u32>>,
    /// Restart strategy in effect.
    pub restart: RestartStrategy,
    /// Failure history.
    pub tracker: RestartTracker,
    /// A restart waiting for its delay: (when, regions).
    pub pending_restart: Option<(u64, BTreeSet<usize>)>,
    /// The CheckpointCoordinator.
    pub checkpoints: CheckpointCoordinator,
    /// Checkpoint storage.
    pub storage: Arc<dyn CheckpointStorage>,
    /// Savepoints taken (described paths).
    pub savepoints: Vec<String>,
    /// The savepoint the job started from.
    pub restored_from: Option<String>,
    /// Where the latest completed checkpoint was written.
    pub last_checkpoint_path: Option<String>,
    /// Submission time.
    pub submitted_at: u64,
    /// When all tasks were first RUNNING.
    pub running_at: Option<u64>,
    /// When the job ended.
    pub ended_at: Option<u64>,
}

impl JobMaster {
    /// Creates the JobMaster: builds the ExecutionGraph and starts scheduling.
    pub fn start(
        ctx: HostCtx,
        id: JobId,
        start: JobStart,
        rm: &mut ResourceManager,
        out: &mut Outbox,
    ) -> JobMaster {
        let JobStart {
            job_graph,
            storage,
            restore,
            attempt_base,
        } = start;
        let execution_graph = ExecutionGraph::from_job_graph(&job_graph);
        let submitted_at = ctx.now_ms();
        let mut executions = BTreeMap::new();
        for ev in execution_graph.execution_vertices() {
            executions.insert(
                (ev.vertex as u32, ev.subtask),
                ExecutionInfo {
                    state: ExecutionState::Created,
                    attempt: attempt_base as u32,
                    counters: TaskCounters::default(),
                    running_since: None,
                    ended_at: None,
                },
            );
        }
        let mut checkpoints =
            CheckpointCoordinator::new(job_graph.stream_graph.checkpoint_interval_ms, submitted_at);
        // `recovered`: a new leader resumes its predecessor's job (with the
        // output committed so far); otherwise a new job starts from a savepoint.
        let mut committed = Vec::new();
        let restored_from = restore
            .as_ref()
            .filter(|(_, _, recovered)| !recovered)
            .map(|(path, _, _)| path.clone());
        if let Some((_, stored, recovered)) = restore {
            // Numbering goes on from the checkpoint, as in Flink.
            checkpoints.next_id = stored.id + 1;
            checkpoints.latest = Some(CompletedCheckpoint {
                id: stored.id,
                states: stored.states.into_iter().collect(),
            });
            if recovered {
                committed = stored.committed;
            }
        }
        let regions = pipelined_regions(&job_graph);
        let restart = job_graph.stream_graph.restart_strategy();
        let mut jm = JobMaster {
            ctx,
            id,
            job_graph,
            checkpoints,
            storage,
            savepoints: Vec::new(),
            restored_from,
            last_checkpoint_path: None,
            regions,
            restart,
            tracker: RestartTracker::default(),
            pending_restart: None,
            pending_txns: Vec::new(),
            collected: committed,
            execution_graph,
            status: JobStatus::Initializing,
            cause: None,
            executions,
            requested: BTreeMap::new(),
            slots: BTreeMap::new(),
            submitted_at,
            running_at: None,
            ended_at: None,
        };
        jm.move_to(JobStatus::Created, None);
        jm.move_to(JobStatus::Running, None);
        jm.request_slots(rm, out);
        jm
    }

    fn move_to(&mut self, to: JobStatus, cause: Option<String>) {
        let from = self.status;
        match from.check(to) {
            Ok(to) => {
                self.status = to;
                if to.is_terminal() {
                    self.ended_at = Some(self.ctx.now_ms());
                }
                self.ctx.emit(EventKind::JobStatusChanged {
                    job: self.id.to_string(),
                    name: self.job_graph.name.clone(),
                    from: from.to_string(),
                    to: to.to_string(),
                    cause,
                });
            }
            Err(e) => debug_assert!(false, "{e}"),
        }
    }

    fn vertex_name(&self, v: u32) -> String {
        self.job_graph.vertex(v as usize).name.clone()
    }

    fn set_state(&mut self, v: u32, s: u32, to: ExecutionState, cause: Option<String>) -> bool {
        let now = self.ctx.now_ms();
        let name = self.vertex_name(v);
        let Some(e) = self.executions.get_mut(&(v, s)) else {
            return false;
        };
        let from = e.state;
        if from == to || from.check(to).is_err() {
            return false;
        }
        e.state = to;
        if to == ExecutionState::Running {
            e.running_since = Some(now);
        }
        if to.is_terminal() {
            e.ended_at = Some(now);
        }
        let attempt = e.attempt;
        self.ctx.emit(EventKind::TaskStateChanged {
            job: self.id.to_string(),
            vertex: name,
            subtask: s,
            attempt,
            from: from.to_string(),
            to: to.to_string(),
            cause,
        });
        true
    }

    /// The sharing slots the job needs, in a fixed order.
    fn sharing_slots(&self) -> Vec<SharingSlot> {
        let mut max: BTreeMap<&str, u32> = BTreeMap::new();
        for v in self.job_graph.vertices() {
            let m = max.entry(v.slot_sharing_group.as_str()).or_default();
            *m = (*m).max(v.parallelism);
        }
        max.into_iter()
            .flat_map(|(g, p)| (0..p).map(move |k| (g.to_string(), k)))
            .collect()
    }

    fn request_slots(&mut self, rm: &mut ResourceManager, out: &mut Outbox) {
        let keys: Vec<(u32, u32)> = self.executions.keys().copied().collect();
        for (v, s) in keys {
            self.set_state(v, s, ExecutionState::Scheduled, None);
        }
        self.request_missing_slots(rm, out);
    }

    /// Requests every sharing slot that is neither in the pool nor asked for.
    fn request_missing_slots(&mut self, rm: &mut ResourceManager, out: &mut Outbox) {
        let asked: BTreeSet<SharingSlot> = self.requested.values().cloned().collect();
        for sharing in self.sharing_slots() {
            if !self.slots.contains_key(&sharing) && !asked.contains(&sharing) {
                let allocation = rm.request_slot(self.id, &sharing.0, out);
                self.requested.insert(allocation, sharing);
            }
        }
    }

    /// Slot offers from a TaskManager (`offerSlots`): accepted when they
    /// answer an open request, returned otherwise.
    pub fn offer_slots(
        &mut self,
        rid: &str,
        data_addr: &str,
        offers: &[SlotOffer],
        out: &mut Outbox,
    ) {
        let mut accepted = Vec::new();
        for offer in offers {
            match self.requested.remove(&offer.allocation) {
                Some(sharing)
                    if matches!(self.status, JobStatus::Running | JobStatus::Restarting) =>
                {
                    self.slots.insert(
                        sharing,
                        PoolSlot {
                            allocation: offer.allocation,
                            resource_id: rid.to_string(),
                            data_addr: data_addr.to_string(),
                            slot: offer.slot,
                        },
                    );
                    accepted.push(offer.allocation);
                }
                _ => out.to_tm(
                    rid.to_string(),
                    ToTaskManager::FreeSlot {
                        allocation: offer.allocation,
                    },
                ),
            }
        }
        if !accepted.is_empty() {
            out.to_tm(
                rid.to_string(),
                ToTaskManager::SlotsAccepted {
                    job: self.id,
                    allocations: accepted,
                },
            );
        }
        if self.requested.is_empty()
            && self.status == JobStatus::Running
            && self.pending_restart.is_none()
            && self
                .executions
                .values()
                .any(|e| e.state == ExecutionState::Scheduled)
        {
            let all: BTreeSet<usize> = (0..self.regions.len()).collect();
            self.deploy(&all, out);
        }
    }

    fn location(&self, v: usize, subtask: u32) -> Option<(&PoolSlot, Location)> {
        let group = self.job_graph.vertex(v).slot_sharing_group.clone();
        let slot = self.slots.get(&(group, subtask))?;
        Some((
            slot,
            Location {
                resource_id: slot.resource_id.clone(),
                data_addr: slot.data_addr.clone(),
            },
        ))
    }

    fn region_of(&self, v: u32) -> usize {
        self.regions
            .iter()
            .position(|r| r.contains(&v))
            .expect("every vertex is in a region")
    }

    /// Deploys the subtasks of some regions into their sharing slots (`submitTask`).
    fn deploy(&mut self, regions: &BTreeSet<usize>, out: &mut Outbox) {
        let jg = &self.job_graph;
        let eg = &self.execution_graph;
        let restore = self.checkpoints.latest.as_ref();
        let mut deployments = Vec::new();
        for (v, vertex) in jg.vertices().enumerate() {
            if !regions.contains(&self.region_of(v as u32)) {
                continue;
            }
            for s in 0..vertex.parallelism {
                let Some((slot, _)) = self.location(v, s) else {
                    continue;
                };
                let attempt = self.executions[&(v as u32, s)].attempt;
                let inputs = jg
                    .edges()
                    .enumerate()
                    .filter(|(_, e)| e.target == v)
                    .map(|(ei, e)| InputGateDescriptor {
                        edge: ei as u32,
                        channels: eg
                            .edge(ei)
                            .channels
                            .iter()
                            .filter(|c| c.to == s)
                            .filter_map(|c| {
                                self.location(e.source, c.from).map(|(_, l)| (c.from, l))
                            })
                            .collect(),
                    })
                    .collect();
                let outputs = jg
                    .edges()
                    .enumerate()
                    .filter(|(_, e)| e.source == v)
                    .map(|(ei, e)| ResultPartitionDescriptor {
                        edge: ei as u32,
                        partitioner: e.partitioner,
                        consumer_parallelism: jg.vertex(e.target).parallelism,
                        channels: eg
                            .edge(ei)
                            .channels
                            .iter()
                            .filter(|c| c.from == s)
                            .filter_map(|c| self.location(e.target, c.to).map(|(_, l)| (c.to, l)))
                            .collect(),
                    })
                    .collect();
                let tdd = TaskDeploymentDescriptor {
                    attempt: ExecutionAttemptId {
                        job: self.id,
                        vertex: v as u32,
                        subtask: s,
                        attempt,
                    },
                    allocation: slot.allocation,
                    job_graph: jg.clone(),
                    parallelism: vertex.parallelism,
                    inputs,
                    outputs,
                    checkpointing: jg.stream_graph.checkpoint_interval_ms.is_some(),
                    restore: restore.and_then(|c| c.states.get(&(v as u32, s)).cloned()),
                };
                deployments.push((slot.resource_id.clone(), slot.slot, tdd));
            }
        }
        for (rid, slot, tdd) in deployments {
            let (v, s) = (tdd.attempt.vertex, tdd.attempt.subtask);
            if self.set_state(v, s, ExecutionState::Deploying, None) {
                self.ctx.emit(EventKind::TaskDeployed {
                    job: self.id.to_string(),
                    vertex: self.vertex_name(v),
                    subtask: s,
                    parallelism: tdd.parallelism,
                    attempt: tdd.attempt.attempt,
                    resource_id: rid.clone(),
                    slot,
                });
                out.to_tm(rid, ToTaskManager::SubmitTask(Box::new(tdd)));
            }
        }
    }

    fn is_current(&self, attempt: &ExecutionAttemptId) -> bool {
        attempt.job == self.id
            && self
                .executions
                .get(&(attempt.vertex, attempt.subtask))
                .is_some_and(|e| e.attempt == attempt.attempt)
    }

    /// A TaskManager reported a task's state (`updateTaskExecutionState`).
    pub fn task_state(
        &mut self,
        attempt: ExecutionAttemptId,
        state: ExecutionState,
        cause: Option<String>,
        counters: TaskCounters,
        rm: &mut ResourceManager,
        out: &mut Outbox,
    ) {
        if !self.is_current(&attempt) {
            return;
        }
        let (v, s) = (attempt.vertex, attempt.subtask);
        // A cancelled task answers with empty counters; keep the last real ones.
        if let Some(e) = self.executions.get_mut(&(v, s))
            && counters != TaskCounters::default()
        {
            e.counters = counters;
        }
        // A task passes through INITIALIZING on its own; the JobMaster only
        // records what it hears, in order.
        if state == ExecutionState::Running {
            self.set_state(v, s, ExecutionState::Initializing, None);
        }
        if !self.set_state(v, s, state, cause.clone()) {
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
            self.checkpoints.task_finished(&self.ctx, self.id, (v, s));
        }
        match state {
            ExecutionState::Failed => {
                let name = self.vertex_name(v);
                let cause = format!(
                    "{name} ({}/{}) failed: {}",
                    s + 1,
                    self.job_graph.vertex(v as usize).parallelism,
                    cause.unwrap_or_else(|| "unknown cause".into())
                );
                self.on_failure(vec![(v, s)], cause, rm, out);
            }
            _ => self.check_done(out),
        }
    }

    /// Periodic counters of a running task.
    pub fn task_metrics(&mut self, attempt: ExecutionAttemptId, counters: TaskCounters) {
        if !self.is_current(&attempt) {
            return;
        }
        if let Some(e) = self.executions.get_mut(&(attempt.vertex, attempt.subtask)) {
            e.counters = counters;
        }
    }

    /// Records from a collect sink: visible at once, or held as a
    /// pre-committed transaction until its checkpoint (or the job) completes.
    pub fn collected(&mut self, attempt: ExecutionAttemptId, txn: Txn, records: Vec<Value>) {
        if !self.is_current(&attempt) {
            return;
        }
        match txn {
            Txn::Immediate => self.collected.extend(records),
            _ => self.pending_txns.push((
                attempt.vertex,
                attempt.subtask,
                attempt.attempt,
                txn,
                records,
            )),
        }
    }

    /// A subtask's snapshot for a checkpoint.
    pub fn acknowledge(
        &mut self,
        attempt: ExecutionAttemptId,
        checkpoint: u64,
        state: Vec<u8>,
        alignment_ms: u64,
        out: &mut Outbox,
    ) {
        if !self.is_current(&attempt) {
            return;
        }
        let key = (attempt.vertex, attempt.subtask);
        let name = self.vertex_name(attempt.vertex);
        let total = self.executions.len();
        if let Some(acked) = self.checkpoints.acknowledge(
            &self.ctx,
            self.id,
            checkpoint,
            key,
            &name,
            state,
            alignment_ms,
            total,
        ) {
            // Complete only once it is durable: a checkpoint that cannot be
            // written is never restored from, and commits nothing.
            let id = acked.id;
            if self.persist(&acked, out) {
                self.checkpoints.complete(&self.ctx, self.id, acked);
                self.commit(|t| matches!(t, Txn::Checkpoint(n) if n <= id));
            }
        }
    }

    /// The output that is visible once checkpoint `id` completes.
    fn committed_through(&self, id: u64) -> Vec<Value> {
        let mut out = self.collected.clone();
        for (v, s, a, txn, records) in &self.pending_txns {
            let current = self
                .executions
                .get(&(*v, *s))
                .is_some_and(|e| e.attempt == *a);
            if current && matches!(txn, Txn::Checkpoint(n) if *n <= id) {
                out.extend(records.iter().cloned());
            }
        }
        out
    }

    /// Writes a completed checkpoint (or savepoint) to checkpoint storage.
    /// Returns whether it was written.
    fn persist(&mut self, done: &PendingCheckpoint, out: &mut Outbox) -> bool {
        let stored = StoredCheckpoint {
            job_name: self.job_graph.name.clone(),
            id: done.id,
            savepoint: done.savepoint,
            vertices: self
                .job_graph
                .vertices()
                .map(|v| (v.id, v.parallelism))
                .collect(),
            states: done
                .acks
                .iter()
                .map(|(k, (v, _))| (*k, v.clone()))
                .collect(),
            committed: self.committed_through(done.id),
        };
        let path = if done.savepoint {
            let job = self.id.to_string();
            format!(
                "savepoints/{}/savepoint-{}-{}",
                self.job_graph.name.replace(
                    |c: char| !(c.is_alphanumeric() || c == '-' || c == '_'),
                    "_"
                ),
                &job[..6],
                done.id
            )
        } else {
            format!("checkpoints/{}/chk-{}", self.id, done.id)
        };
        match self
            .storage
            .write(&path, &crate::net::frame::encode(&stored))
        {
            Ok(()) if done.savepoint => {
                let described = self.storage.describe(&path);
                self.ctx.emit(EventKind::SavepointCompleted {
                    job: self.id.to_string(),
                    id: done.id,
                    path: described.clone(),
                    stop: done.stop,
                });
                self.savepoints.push(described);
                true
            }
            Ok(()) => {
                out.ha.push(super::HaOp::Put(
                    format!("checkpoints/{}", self.id),
                    path.clone().into_bytes(),
                ));
                // Flink retains one completed checkpoint by default
                // (`state.checkpoints.num-retained`): drop the previous one.
                if let Some(old) = self.last_checkpoint_path.replace(path) {
                    let _ = self.storage.delete(&old);
                }
                true
            }
            Err(e) => {
                self.ctx.emit(EventKind::CheckpointAborted {
                    job: self.id.to_string(),
                    id: done.id,
                    cause: format!("cannot write {}: {e}", self.storage.describe(&path)),
                });
                false
            }
        }
    }

    /// Asks for a savepoint (`triggerSavepoint`, or `stopWithSavepoint`).
    pub fn request_savepoint(&mut self, stop: bool) -> Result<(), String> {
        if self.status != JobStatus::Running {
            return Err(format!("job {} is {}, not RUNNING", self.id, self.status));
        }
        if self.checkpoints.requested_savepoint.is_some()
            || self
                .checkpoints
                .pending
                .as_ref()
                .is_some_and(|p| p.savepoint)
        {
            return Err("a savepoint is already in progress".into());
        }
        self.checkpoints.requested_savepoint = Some(stop);
        Ok(())
    }

    /// Makes pre-committed transactions of current attempts visible.
    fn commit(&mut self, which: impl Fn(Txn) -> bool) {
        let txns = std::mem::take(&mut self.pending_txns);
        for (v, s, a, txn, records) in txns {
            let current = self.executions.get(&(v, s)).is_some_and(|e| e.attempt == a);
            if !current {
                continue;
            }
            if which(txn) {
                self.collected.extend(records);
            } else {
                self.pending_txns.push((v, s, a, txn, records));
            }
        }
    }

    /// Timers: checkpoint triggers and due restarts.
    pub fn tick(&mut self, rm: &mut ResourceManager, out: &mut Outbox) {
        let now = self.ctx.now_ms();
        if let Some((at, regions)) = &self.pending_restart
            && *at <= now
        {
            let regions = regions.clone();
            self.request_missing_slots(rm, out);
            if self.requested.is_empty() {
                self.pending_restart = None;
                self.redeploy(regions, out);
            }
        }
        if self.status == JobStatus::Running
            && self.pending_restart.is_none()
            && self
                .executions
                .values()
                .all(|e| e.state == ExecutionState::Running)
        {
            let sources: Vec<ExecutionAttemptId> = self
                .executions
                .iter()
                .filter(|((v, _), _)| {
                    let head = self.job_graph.vertex(*v as usize).operators[0];
                    self.job_graph.stream_graph.node(head).kind.class() == KindClass::Source
                })
                .map(|(&(v, s), e)| ExecutionAttemptId {
                    job: self.id,
                    vertex: v,
                    subtask: s,
                    attempt: e.attempt,
                })
                .collect();
            if let Some((barrier, stop)) = self.checkpoints.maybe_trigger(&self.ctx, self.id, now) {
                for a in sources {
                    if let Some((slot, _)) = self.location(a.vertex as usize, a.subtask) {
                        out.to_tm(
                            slot.resource_id.clone(),
                            ToTaskManager::TriggerCheckpoint {
                                attempt: a,
                                barrier,
                                stop,
                            },
                        );
                    }
                }
            }
        }
        self.checkpoints.expire(&self.ctx, self.id, now);
    }

    fn redeploy(&mut self, regions: BTreeSet<usize>, out: &mut Outbox) {
        let mut names = Vec::new();
        let mut attempt = 0;
        let keys: Vec<(u32, u32)> = self.executions.keys().copied().collect();
        for (v, s) in keys {
            if !regions.contains(&self.region_of(v)) {
                continue;
            }
            if s == 0 {
                names.push(self.vertex_name(v));
            }
            let e = self.executions.get_mut(&(v, s)).expect("key exists");
            e.attempt += 1;
            e.state = ExecutionState::Created;
            e.running_since = None;
            e.ended_at = None;
            attempt = attempt.max(e.attempt);
            self.set_state(v, s, ExecutionState::Scheduled, None);
        }
        if self.status == JobStatus::Restarting {
            self.move_to(JobStatus::Created, None);
            self.move_to(JobStatus::Running, None);
        }
        self.ctx.emit(EventKind::Restarted {
            job: self.id.to_string(),
            name: self.job_graph.name.clone(),
            vertices: names,
            attempt,
            from_checkpoint: self.checkpoints.latest.as_ref().map(|c| c.id),
        });
        self.deploy(&regions, out);
    }

    /// Failed executions: restart what the failover strategy says after the
    /// restart strategy's delay, or fail the job when it gives up.
    fn on_failure(
        &mut self,
        failed: Vec<(u32, u32)>,
        cause: String,
        rm: &mut ResourceManager,
        out: &mut Outbox,
    ) {
        if !matches!(self.status, JobStatus::Running | JobStatus::Restarting) {
            self.check_done(out);
            return;
        }
        let now = self.ctx.now_ms();
        let Some(delay) = self.tracker.on_failure(&self.restart, now) else {
            self.fail(cause, out);
            return;
        };
        let mut regions: BTreeSet<usize> = match self.job_graph.stream_graph.failover {
            FailoverStrategy::Full => (0..self.regions.len()).collect(),
            FailoverStrategy::Region => failed.iter().map(|&(v, _)| self.region_of(v)).collect(),
        };
        if let Some((_, earlier)) = self.pending_restart.take() {
            regions.extend(earlier);
        }
        self.checkpoints
            .abort(&self.ctx, self.id, &format!("restart after: {cause}"));
        let restarting: Vec<(u32, u32)> = self
            .executions
            .keys()
            .copied()
            .filter(|(v, _)| regions.contains(&self.region_of(*v)))
            .collect();
        for &(v, s) in &restarting {
            self.cancel_execution(v, s, out);
        }
        let names: Vec<String> = self
            .job_graph
            .vertices()
            .enumerate()
            .filter(|(v, _)| regions.contains(&self.region_of(*v as u32)))
            .map(|(_, vx)| vx.name.clone())
            .collect();
        if regions.len() == self.regions.len() && self.status == JobStatus::Running {
            self.move_to(JobStatus::Restarting, Some(cause.clone()));
        }
        self.ctx.emit(EventKind::RestartScheduled {
            job: self.id.to_string(),
            name: self.job_graph.name.clone(),
            vertices: names,
            delay_ms: delay,
            cause,
        });
        self.pending_restart = Some((now + delay, regions));
        self.request_missing_slots(rm, out);
    }

    /// Cancels one execution at once (a restarting attempt does not wait for
    /// the TaskManager's answer: its reports are stale from now on).
    fn cancel_execution(&mut self, v: u32, s: u32, out: &mut Outbox) {
        let state = self.executions[&(v, s)].state;
        self.send_cancel(v, s, out);
        if !state.is_terminal() {
            self.set_state(v, s, ExecutionState::Canceling, None);
            self.set_state(v, s, ExecutionState::Canceled, None);
        }
    }

    /// Tells the TaskManager running an execution to cancel it (`cancelTask`);
    /// false when it is not deployed anywhere.
    fn send_cancel(&mut self, v: u32, s: u32, out: &mut Outbox) -> bool {
        let e = &self.executions[&(v, s)];
        let (state, attempt) = (e.state, e.attempt);
        if !matches!(
            state,
            ExecutionState::Deploying | ExecutionState::Initializing | ExecutionState::Running
        ) {
            return false;
        }
        let Some((slot, _)) = self.location(v as usize, s) else {
            return false;
        };
        out.to_tm(
            slot.resource_id.clone(),
            ToTaskManager::CancelTask {
                attempt: ExecutionAttemptId {
                    job: self.id,
                    vertex: v,
                    subtask: s,
                    attempt,
                },
            },
        );
        true
    }

    /// An allocation this job was waiting for went away with its
    /// TaskManager before the slot was offered: ask again.
    pub fn allocation_lost(
        &mut self,
        allocation: AllocationId,
        rm: &mut ResourceManager,
        out: &mut Outbox,
    ) {
        if self.requested.remove(&allocation).is_some() && !self.status.is_terminal() {
            self.request_missing_slots(rm, out);
        }
    }

    /// A TaskManager is gone: its slots leave the pool, executions on it fail.
    pub fn task_manager_lost(
        &mut self,
        rid: &str,
        cause: &str,
        rm: &mut ResourceManager,
        out: &mut Outbox,
    ) {
        let on_it: Vec<(u32, u32)> = self
            .executions
            .iter()
            .filter(|(_, e)| !e.state.is_terminal())
            .map(|(k, _)| *k)
            .filter(|&(v, s)| {
                self.location(v as usize, s)
                    .is_some_and(|(slot, _)| slot.resource_id == rid)
            })
            .collect();
        let held = self.slots.values().any(|s| s.resource_id == rid);
        self.slots.retain(|_, s| s.resource_id != rid);
        if on_it.is_empty() && !held {
            return;
        }
        for (v, s) in &on_it {
            self.set_state(*v, *s, ExecutionState::Failed, Some(cause.to_string()));
        }
        if on_it.is_empty() {
            // Only finished work lived there; a later restart re-requests the slot.
            return;
        }
        self.on_failure(on_it, cause.to_string(), rm, out);
    }

    /// Fails the job: cancels the remaining tasks, then FAILED.
    pub fn fail(&mut self, cause: String, out: &mut Outbox) {
        self.cause = Some(cause.clone());
        self.pending_restart = None;
        self.checkpoints.abort(&self.ctx, self.id, "the job failed");
        self.move_to(JobStatus::Failing, Some(cause));
        self.cancel_executions(out);
        self.check_done(out);
    }

    /// Cancels the job (`cancel`).
    pub fn cancel(&mut self, out: &mut Outbox) -> bool {
        if self.status.is_terminal() || self.status == JobStatus::Cancelling {
            return false;
        }
        self.pending_restart = None;
        self.checkpoints
            .abort(&self.ctx, self.id, "the job is cancelled");
        self.move_to(JobStatus::Cancelling, None);
        self.cancel_executions(out);
        self.check_done(out);
        true
    }

    /// Cancels every execution; deployed ones become CANCELED when their
    /// TaskManager confirms.
    fn cancel_executions(&mut self, out: &mut Outbox) {
        let keys: Vec<(u32, u32)> = self.executions.keys().copied().collect();
        for (v, s) in keys {
            let state = self.executions[&(v, s)].state;
            if state.is_terminal() {
                continue;
            }
            let deployed = self.send_cancel(v, s, out);
            self.set_state(v, s, ExecutionState::Canceling, None);
            if !deployed {
                self.set_state(v, s, ExecutionState::Canceled, None);
            }
        }
    }

    /// Ends the job when every execution is terminal.
    fn check_done(&mut self, out: &mut Outbox) {
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
        self.release_slots(out);
        out.ended.push(self.id);
    }

    fn release_slots(&mut self, out: &mut Outbox) {
        for slot in std::mem::take(&mut self.slots).into_values() {
            out.to_tm(
                slot.resource_id,
                ToTaskManager::FreeSlot {
                    allocation: slot.allocation,
                },
            );
        }
        self.requested.clear();
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
                    if let Some(e) = self.executions.get(&(v as u32, s)) {
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
            collected: self.collected.clone(),
            vertices,
            submitted_at: self.submitted_at,
            running_at: self.running_at,
            ended_at: self.ended_at,
            restarts: self.tracker.restarts(),
            checkpoints_completed: self.checkpoints.completed,
            latest_checkpoint: self.checkpoints.latest.as_ref().map(|c| c.id),
            savepoints: self.savepoints.clone(),
            restored_from: self.restored_from.clone(),
        }
    }
}

/// The pipelined regions of a streaming job: connected components of the
/// JobGraph (every streaming exchange is pipelined, so a region is a
/// connected part of the dataflow).
pub fn pipelined_regions(jg: &JobGraph) -> Vec<Vec<u32>> {
    let n = jg.vertex_count();
    let mut region: Vec<usize> = (0..n).collect();
    fn find(r: &mut [usize], x: usize) -> usize {
        let mut x = x;
        while r[x] != x {
            r[x] = r[r[x]];
            x = r[x];
        }
        x
    }
    for e in jg.edges() {
        let (a, b) = (find(&mut region, e.source), find(&mut region, e.target));
        if a != b {
            region[a.max(b)] = a.min(b);
        }
    }
    let mut groups: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
    for v in 0..n {
        let root = find(&mut region, v);
        groups.entry(root).or_default().push(v as u32);
    }
    groups.into_values().collect()
}

/// A checkpoint every subtask acknowledged.
#[derive(Debug, Clone)]
pub struct CompletedCheckpoint {
    /// Id.
    pub id: u64,
    /// Each subtask's encoded snapshot.
    pub states: BTreeMap<(u32, u32), Vec<u8>>,
}

/// A checkpoint in progress.
#[derive(Debug, Clone)]
pub struct PendingCheckpoint {
    /// Id.
    pub id: u64,
    /// Whether it is a savepoint.
    pub savepoint: bool,
    /// Whether the sources stop after it.
    pub stop: bool,
    /// Trigger time (ms).
    pub triggered_at: u64,
    /// Snapshots so far, with alignment times.
    pub acks: BTreeMap<(u32, u32), (Vec<u8>, u64)>,
}

/// Flink's `CheckpointCoordinator`: triggers, collects, completes.
#[derive(Debug, Clone)]
pub struct CheckpointCoordinator {
    /// Interval (ms); `None` when checkpointing is off.
    pub interval_ms: Option<u64>,
    /// Next checkpoint id.
    pub next_id: u64,
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
}

/// What [`CheckpointCoordinator::acknowledge`] completed.
#[derive(Debug, Clone, Copy)]
pub struct Completion {
    /// Id.
    pub id: u64,
    /// Whether it was a savepoint.
    pub savepoint: bool,
    /// Whether the job stops after it.
    pub stop: bool,
}

impl CheckpointCoordinator {
    /// A coordinator; the first checkpoint comes one interval after `now`.
    pub fn new(interval_ms: Option<u64>, now: u64) -> Self {
        CheckpointCoordinator {
            interval_ms,
            next_id: 1,
            next_trigger_at: now + interval_ms.unwrap_or(0),
            pending: None,
            latest: None,
            completed: 0,
            requested_savepoint: None,
        }
    }

    /// Triggers a requested savepoint, or the next checkpoint when it is
    /// due; returns the barrier and whether the sources stop after it.
    pub fn maybe_trigger(
        &mut self,
        ctx: &HostCtx,
        job: JobId,
        now: u64,
    ) -> Option<(CheckpointBarrier, bool)> {
        if self.pending.is_some() {
            return None;
        }
        let (savepoint, stop) = match self.requested_savepoint.take() {
            Some(stop) => (true, stop),
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
        self.next_id += 1;
        self.pending = Some(PendingCheckpoint {
            id,
            savepoint,
            stop,
            triggered_at: now,
            acks: BTreeMap::new(),
        });
        ctx.emit(EventKind::CheckpointTriggered {
            job: job.to_string(),
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

    /// Records one acknowledgement; returns the id when it completed the checkpoint.
    #[allow(clippy::too_many_arguments)]
    pub fn acknowledge(
        &mut self,
        ctx: &HostCtx,
        job: JobId,
        id: u64,
        subtask: (u32, u32),
        vertex: &str,
        state: Vec<u8>,
        alignment_ms: u64,
        total: usize,
    ) -> Option<PendingCheckpoint> {
        let p = self.pending.as_mut().filter(|p| p.id == id)?;
        ctx.emit(EventKind::CheckpointAcknowledged {
            job: job.to_string(),
            id,
            vertex: vertex.to_string(),
            subtask: subtask.1,
            size: state.len() as u64,
            alignment_ms,
        });
        p.acks.insert(subtask, (state, alignment_ms));
        if p.acks.len() < total {
            return None;
        }
        self.pending.take()
    }

    /// Marks a fully acknowledged (and stored) checkpoint complete: it is
    /// now what a restart restores.
    pub fn complete(&mut self, ctx: &HostCtx, job: JobId, p: PendingCheckpoint) -> Completion {
        let id = p.id;
        let size = p.acks.values().map(|(s, _)| s.len() as u64).sum();
        let alignment = p.acks.values().map(|(_, a)| *a).max().unwrap_or(0);
        ctx.emit(EventKind::CheckpointCompleted {
            job: job.to_string(),
            id,
            duration_ms: ctx.now_ms() - p.triggered_at,
            size,
            alignment_ms: alignment,
            acks: p.acks.len() as u32,
        });
        self.completed += 1;
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
    pub fn task_finished(&mut self, ctx: &HostCtx, job: JobId, subtask: (u32, u32)) {
        if self
            .pending
            .as_ref()
            .is_some_and(|p| !p.acks.contains_key(&subtask))
        {
            self.abort(ctx, job, "a task finished before acknowledging");
        }
    }

    /// Gives up the pending checkpoint.
    pub fn abort(&mut self, ctx: &HostCtx, job: JobId, cause: &str) {
        if let Some(p) = self.pending.take() {
            ctx.emit(EventKind::CheckpointAborted {
                job: job.to_string(),
                id: p.id,
                cause: cause.to_string(),
            });
        }
    }

    /// Aborts a checkpoint that takes too long (10 intervals, at least 10 s).
    pub fn expire(&mut self, ctx: &HostCtx, job: JobId, now: u64) {
        let limit = self.interval_ms.unwrap_or(0).saturating_mul(10).max(10_000);
        if self
            .pending
            .as_ref()
            .is_some_and(|p| now.saturating_sub(p.triggered_at) > limit)
        {
            self.abort(ctx, job, "timed out");
        }
    }
}
