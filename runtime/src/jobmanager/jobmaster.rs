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

use super::Outbox;
use super::resourcemanager::ResourceManager;
use crate::events::{EventKind, HostCtx, TaskCounters};
use crate::graph::{ExecutionGraph, JobGraph, JobId};
use crate::operators::Value;
use crate::rpc::{
    AllocationId, ExecutionAttemptId, InputGateDescriptor, JobResult, Location, ResourceId,
    ResultPartitionDescriptor, SlotOffer, TaskDeploymentDescriptor, ToTaskManager, VertexMetrics,
};
use crate::state::{ExecutionState, JobStatus};
use std::collections::BTreeMap;

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
    /// Counters reported for it.
    pub counters: TaskCounters,
    /// When it started running (ms).
    pub running_since: Option<u64>,
    /// When it ended (ms).
    pub ended_at: Option<u64>,
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
    /// The job's attempt generation (grows on restart).
    pub attempt: u32,
    /// Executions by (vertex, subtask).
    pub executions: BTreeMap<(u32, u32), ExecutionInfo>,
    /// Requested allocations and the sharing slot each is for.
    pub requested: BTreeMap<AllocationId, SharingSlot>,
    /// Slots in the pool, by sharing slot.
    pub slots: BTreeMap<SharingSlot, PoolSlot>,
    /// Records of collect sinks.
    pub collected: Vec<Value>,
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
        job_graph: JobGraph,
        rm: &mut ResourceManager,
        out: &mut Outbox,
    ) -> JobMaster {
        let execution_graph = ExecutionGraph::from_job_graph(&job_graph);
        let submitted_at = ctx.now_ms();
        let mut executions = BTreeMap::new();
        for ev in execution_graph.execution_vertices() {
            executions.insert(
                (ev.vertex as u32, ev.subtask),
                ExecutionInfo {
                    state: ExecutionState::Created,
                    counters: TaskCounters::default(),
                    running_since: None,
                    ended_at: None,
                },
            );
        }
        let mut jm = JobMaster {
            ctx,
            id,
            job_graph,
            execution_graph,
            status: JobStatus::Initializing,
            cause: None,
            attempt: 0,
            executions,
            requested: BTreeMap::new(),
            slots: BTreeMap::new(),
            collected: Vec::new(),
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
        self.job_graph.vertices[v as usize].name.clone()
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
        self.ctx.emit(EventKind::TaskStateChanged {
            job: self.id.to_string(),
            vertex: name,
            subtask: s,
            attempt: self.attempt,
            from: from.to_string(),
            to: to.to_string(),
            cause,
        });
        true
    }

    /// The sharing slots the job needs, in a fixed order.
    fn sharing_slots(&self) -> Vec<SharingSlot> {
        let mut max: BTreeMap<&str, u32> = BTreeMap::new();
        for v in &self.job_graph.vertices {
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
        for sharing in self.sharing_slots() {
            let allocation = rm.request_slot(self.id, &sharing.0, out);
            self.requested.insert(allocation, sharing);
        }
    }

    /// Slot offers from a TaskManager (`offerSlots`): accepted when they
    /// answer a request of the current attempt, returned otherwise.
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
                Some(sharing) if self.status == JobStatus::Running => {
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
        if self.requested.is_empty() && self.status == JobStatus::Running {
            self.deploy(out);
        }
    }

    fn location(&self, v: usize, subtask: u32) -> Option<(&PoolSlot, Location)> {
        let group = self.job_graph.vertices[v].slot_sharing_group.clone();
        let slot = self.slots.get(&(group, subtask))?;
        Some((
            slot,
            Location {
                resource_id: slot.resource_id.clone(),
                data_addr: slot.data_addr.clone(),
            },
        ))
    }

    /// Deploys every subtask into its sharing slot (`submitTask`).
    fn deploy(&mut self, out: &mut Outbox) {
        let jg = &self.job_graph;
        let eg = &self.execution_graph;
        let mut deployments = Vec::new();
        for (v, vertex) in jg.vertices.iter().enumerate() {
            for s in 0..vertex.parallelism {
                let Some((slot, _)) = self.location(v, s) else {
                    continue;
                };
                let inputs = jg
                    .edges
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.target == v)
                    .map(|(ei, e)| InputGateDescriptor {
                        edge: ei as u32,
                        channels: eg.edges[ei]
                            .channels
                            .iter()
                            .filter(|c| c.to == s)
                            .filter_map(|c| self.location(e.source, c.from).map(|(_, l)| (c.from, l)))
                            .collect(),
                    })
                    .collect();
                let outputs = jg
                    .edges
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.source == v)
                    .map(|(ei, e)| ResultPartitionDescriptor {
                        edge: ei as u32,
                        partitioner: e.partitioner,
                        consumer_parallelism: jg.vertices[e.target].parallelism,
                        channels: eg.edges[ei]
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
                        attempt: self.attempt,
                    },
                    allocation: slot.allocation,
                    job_graph: jg.clone(),
                    parallelism: vertex.parallelism,
                    inputs,
                    outputs,
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
                    attempt: self.attempt,
                    resource_id: rid.clone(),
                    slot,
                });
                out.to_tm(rid, ToTaskManager::SubmitTask(Box::new(tdd)));
            }
        }
    }

    fn is_current(&self, attempt: &ExecutionAttemptId) -> bool {
        attempt.job == self.id && attempt.attempt == self.attempt
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
        let (v, s) = (attempt.vertex, attempt.subtask);
        // A cancelled task answers with empty counters; keep the last real ones.
        if let Some(e) = self.executions.get_mut(&(v, s))
            && !counters_are_empty(&counters)
        {
            e.counters = counters;
        }
        let failure = cause.clone();
        // A task passes through INITIALIZING on its own; the JobMaster only
        // records what it hears, in order.
        if state == ExecutionState::Running {
            self.set_state(v, s, ExecutionState::Initializing, None);
        }
        self.set_state(v, s, state, cause);
        if self.running_at.is_none()
            && self
                .executions
                .values()
                .all(|e| e.state == ExecutionState::Running || e.state == ExecutionState::Finished)
        {
            self.running_at = Some(self.ctx.now_ms());
        }
        match state {
            ExecutionState::Failed if self.status == JobStatus::Running => {
                let name = self.vertex_name(v);
                let cause = format!(
                    "{name} ({}/{}) failed: {}",
                    s + 1,
                    self.job_graph.vertices[v as usize].parallelism,
                    failure.unwrap_or_else(|| "unknown cause".into())
                );
                self.fail(cause, out);
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

    /// Records from a collect sink.
    pub fn collected(&mut self, attempt: ExecutionAttemptId, records: Vec<Value>) {
        if self.is_current(&attempt) {
            self.collected.extend(records);
        }
    }

    /// A TaskManager is gone: executions on it fail, and so does the job.
    pub fn task_manager_lost(&mut self, rid: &str, cause: &str, out: &mut Outbox) {
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
        if matches!(self.status, JobStatus::Running | JobStatus::Created) {
            self.fail(cause.to_string(), out);
        } else {
            self.check_done(out);
        }
    }

    /// Fails the job: cancels the remaining tasks, then FAILED.
    pub fn fail(&mut self, cause: String, out: &mut Outbox) {
        self.cause = Some(cause.clone());
        self.move_to(JobStatus::Failing, Some(cause));
        self.cancel_executions(out);
        self.check_done(out);
    }

    /// Cancels the job (`cancel`).
    pub fn cancel(&mut self, out: &mut Outbox) -> bool {
        if self.status.is_terminal() || self.status == JobStatus::Cancelling {
            return false;
        }
        self.move_to(JobStatus::Cancelling, None);
        self.cancel_executions(out);
        self.check_done(out);
        true
    }

    fn cancel_executions(&mut self, out: &mut Outbox) {
        let keys: Vec<(u32, u32)> = self.executions.keys().copied().collect();
        for (v, s) in keys {
            let state = self.executions[&(v, s)].state;
            match state {
                ExecutionState::Created | ExecutionState::Scheduled => {
                    self.set_state(v, s, ExecutionState::Canceled, None);
                }
                ExecutionState::Deploying | ExecutionState::Initializing | ExecutionState::Running => {
                    self.set_state(v, s, ExecutionState::Canceling, None);
                    if let Some((slot, _)) = self.location(v as usize, s) {
                        let rid = slot.resource_id.clone();
                        out.to_tm(
                            rid,
                            ToTaskManager::CancelTask {
                                attempt: ExecutionAttemptId {
                                    job: self.id,
                                    vertex: v,
                                    subtask: s,
                                    attempt: self.attempt,
                                },
                            },
                        );
                    } else {
                        self.set_state(v, s, ExecutionState::Canceled, None);
                    }
                }
                _ => {}
            }
        }
    }

    /// Ends the job when every execution is terminal.
    fn check_done(&mut self, out: &mut Outbox) {
        if !self.executions.values().all(|e| e.state.is_terminal()) {
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
        let cause = if to == JobStatus::Failed { self.cause.clone() } else { None };
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
            .vertices
            .iter()
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
        }
    }
}

fn counters_are_empty(c: &TaskCounters) -> bool {
    *c == TaskCounters::default()
}
