//! The cluster as the UI knows it: a fold of the event stream.
//!
//! Flink's web UI shows what the JobManager's REST API reports: the
//! TaskManagers and their slots, the jobs, their vertices and metrics. Here
//! all of that is one value, [`ClusterView`], built by folding
//! [`Event`]s one at a time with [`fold`]. Nothing here reaches into the
//! runtime: a recorded trace folds to exactly the same view as a live run,
//! which is what makes replay and time travel possible (fold the first `n`
//! events again, and you see the cluster as it was after event `n`).
//!
//! The nouns are Flink's: a TaskManager offers task slots; the
//! ResourceManager's SlotManager allocates a slot to a job (an allocation);
//! the JobMaster deploys one subtask of each job vertex (operator chain)
//! into a slot (slot sharing), each an execution attempt with an
//! `ExecutionState`.

use runtime::events::{Event, EventKind, Fault, Role, TaskCounters};
use runtime::graph::JobId;
use runtime::ids::{AllocationId, CheckpointId};
use runtime::state::{ExecutionState, JobStatus};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What the UI knows of a TaskManager's process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TmStatus {
    /// The active ResourceManager asked its environment for it.
    Requested,
    /// The process started and is registering at the ResourceManager.
    Starting,
    /// Registered: its slots are the ResourceManager's to allocate.
    Registered,
    /// The process was killed; the JobManager does not know yet (it
    /// notices only when heartbeats time out).
    Crashed {
        /// When it was killed (ms).
        at: u64,
    },
    /// The ResourceManager declared it lost, and its slots with it.
    Lost {
        /// When (ms).
        at: u64,
        /// Why (usually a heartbeat timeout).
        cause: String,
    },
    /// Stopped by the active ResourceManager because it was idle.
    Released,
}

impl TmStatus {
    /// One word for the status.
    pub fn label(&self) -> &'static str {
        match self {
            TmStatus::Requested => "REQUESTED",
            TmStatus::Starting => "STARTING",
            TmStatus::Registered => "REGISTERED",
            TmStatus::Crashed { .. } => "CRASHED",
            TmStatus::Lost { .. } => "LOST",
            TmStatus::Released => "RELEASED",
        }
    }
}

/// One TaskManager and its task slots (its `TaskSlotTable`).
#[derive(Debug, Clone)]
pub struct TaskManagerView {
    /// Resource id (host name), e.g. `taskmanager-1`.
    pub name: String,
    /// Process / registration status.
    pub status: TmStatus,
    /// Its slots, by index.
    pub slots: Vec<SlotView>,
    /// When its process was last killed (kept after it is declared lost).
    pub crashed_at: Option<u64>,
    /// When the JobManager saw its control connection drop.
    pub connection_lost_at: Option<u64>,
    /// How often its process was restarted.
    pub restarts: u32,
}

/// Whether a slot is free, allocated to a job, or running its subtasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotState {
    /// Offered by the TaskManager, not allocated.
    Free,
    /// Allocated to a job; no subtask running in it (yet, or any more).
    Allocated,
    /// At least one subtask in it is RUNNING.
    Running,
}

/// One task slot.
#[derive(Debug, Clone, Default)]
pub struct SlotView {
    /// The allocation id it carries, when allocated.
    pub allocation: Option<AllocationId>,
    /// The job (id) it is allocated to.
    pub job: Option<JobId>,
    /// The subtasks deployed into it: one per job vertex at most (slot sharing).
    pub tasks: Vec<SlotTask>,
    /// When it last changed hands (allocated or freed), to highlight it.
    pub changed_at: u64,
}

impl SlotView {
    /// Free, allocated or running.
    pub fn state(&self) -> SlotState {
        if self.allocation.is_none() && self.tasks.is_empty() {
            SlotState::Free
        } else if self
            .tasks
            .iter()
            .any(|t| t.state == ExecutionState::Running)
        {
            SlotState::Running
        } else {
            SlotState::Allocated
        }
    }
}

/// A subtask as it sits in a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotTask {
    /// Job vertex (operator chain) name.
    pub vertex: String,
    /// Subtask index (0-based).
    pub subtask: u32,
    /// Parallelism of the vertex.
    pub parallelism: u32,
    /// Execution attempt.
    pub attempt: u32,
    /// Its ExecutionState.
    pub state: ExecutionState,
}

/// One job as the JobMaster reports it.
#[derive(Debug, Clone)]
pub struct JobView {
    /// Job id.
    pub id: JobId,
    /// Job name.
    pub name: String,
    /// Its JobStatus.
    pub status: JobStatus,
    /// Why it failed, when it did.
    pub cause: Option<String>,
    /// When the Dispatcher accepted it (ms).
    pub submitted_at: u64,
    /// When it reached a terminal status (ms).
    pub ended_at: Option<u64>,
    /// Position in submission order (picks its colour).
    pub color: usize,
    /// Index of its dataflow in the scenario, when known.
    pub template: Option<usize>,
    /// Its job vertices (operator chains).
    pub vertices: Vec<VertexView>,
    /// Latest traffic per channel `(job edge, producer, consumer)`.
    pub channels: BTreeMap<(usize, u32, u32), ChannelRate>,
    /// Slot requests waiting for a free slot.
    pub pending_slots: BTreeSet<AllocationId>,
    /// How often the restart strategy restarted (part of) it.
    pub restarts: u32,
    /// The last restart: `(attempt, checkpoint restored, when)`.
    pub last_restart: Option<(u32, Option<CheckpointId>, u64)>,
    /// Checkpoints, as Flink's checkpoint tab counts them.
    pub checkpoints: CheckpointStats,
    /// Failures and restarts, oldest first, at most [`HISTORY`].
    pub exceptions: Vec<ExceptionRecord>,
}

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

fn push_capped<T>(v: &mut Vec<T>, x: T) {
    if v.len() >= HISTORY {
        v.remove(0);
    }
    v.push(x);
}

impl CheckpointStats {
    /// The record of checkpoint `id`; one triggered at `triggered_at` when
    /// it was first seen finished (attached: a poll can miss the trigger).
    fn record_mut(
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

/// One job vertex (operator chain) and its subtasks.
#[derive(Debug, Clone)]
pub struct VertexView {
    /// Chain name, operators joined by ` -> `.
    pub name: String,
    /// Parallelism.
    pub parallelism: u32,
    /// One entry per subtask.
    pub subtasks: Vec<SubtaskView>,
}

/// One subtask (ExecutionVertex) and its current attempt.
#[derive(Debug, Clone, Default)]
pub struct SubtaskView {
    /// ExecutionState of the current attempt.
    pub state: ExecutionState,
    /// Current attempt number.
    pub attempt: u32,
    /// `(TaskManager, slot)` it was deployed to.
    pub location: Option<(String, u32)>,
    /// Latest counters.
    pub counters: TaskCounters,
    /// Back-pressure of the last interval, per mille.
    pub backpressure_permille: u32,
    /// When the counters were reported (ms).
    pub metrics_at: Option<u64>,
    /// Records out per second over the last interval.
    pub out_per_sec: u64,
    /// Records in per second over the last interval.
    pub in_per_sec: u64,
    /// When it started RUNNING (ms).
    pub running_since: Option<u64>,
    /// Why it failed.
    pub cause: Option<String>,
}

/// The traffic of one channel in its last report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelRate {
    /// Records per second.
    pub per_sec: u64,
    /// When reported (ms).
    pub at: u64,
    /// Whether it crosses TaskManagers (network) or stays in memory.
    pub remote: bool,
}

/// Everything the UI shows, as of the last folded event.
#[derive(Debug, Clone)]
pub struct ClusterView {
    /// Time of the last folded event (ms).
    pub now_ms: u64,
    /// How many events were folded.
    pub folded: usize,
    /// TaskManagers, in natural name order (`taskmanager-2` before `-10`).
    pub taskmanagers: Vec<TaskManagerView>,
    /// Jobs, in submission order.
    pub jobs: Vec<JobView>,
    /// The JobManager that leads (the one whose process runs).
    pub leader: Option<String>,
    /// How many times a JobManager gained leadership (more than one means
    /// the leader changed: a crash, a restart, a failover).
    pub elections: u32,
    /// Whether JobManagers run with high availability (a leader election was seen).
    pub ha: bool,
    /// Network partitions in force, each pair sorted.
    pub partitions: BTreeSet<(String, String)>,
    /// Faults injected so far.
    pub faults: u32,
    /// The scenario's dataflows, to know a job's vertices and edges.
    catalog: Arc<Vec<viz::Dataflow>>,
}

fn natural_key(name: &str) -> (String, u64) {
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (prefix, num) = name.split_at(name.len() - digits);
    (prefix.to_string(), num.parse().unwrap_or(0))
}

impl ClusterView {
    /// An empty cluster that knows the scenario's dataflows (by job name).
    pub fn new(catalog: Arc<Vec<viz::Dataflow>>) -> Self {
        ClusterView {
            now_ms: 0,
            folded: 0,
            taskmanagers: Vec::new(),
            jobs: Vec::new(),
            leader: None,
            ha: false,
            elections: 0,
            partitions: BTreeSet::new(),
            faults: 0,
            catalog,
        }
    }

    /// Replaces the dataflows known by name with a catalog that holds
    /// them and more (attached, plans arrive as jobs do). A job already
    /// seen keeps its index into it.
    pub fn set_catalog(&mut self, catalog: Arc<Vec<viz::Dataflow>>) {
        self.catalog = catalog;
    }

    /// The scenario's dataflows.
    pub fn catalog(&self) -> &[viz::Dataflow] {
        &self.catalog
    }

    /// The dataflow of a job, when the scenario has it.
    pub fn dataflow(&self, job: &JobView) -> Option<&viz::Dataflow> {
        job.template.and_then(|i| self.catalog.get(i))
    }

    /// A TaskManager by name.
    pub fn taskmanager(&self, name: &str) -> Option<&TaskManagerView> {
        self.taskmanagers.iter().find(|t| t.name == name)
    }

    /// A job by id.
    pub fn job(&self, id: JobId) -> Option<&JobView> {
        self.jobs.iter().find(|j| j.id == id)
    }

    /// Whether `a` and `b` are cut from each other.
    pub fn partitioned(&self, a: &str, b: &str) -> bool {
        let key = if a <= b {
            (a.to_string(), b.to_string())
        } else {
            (b.to_string(), a.to_string())
        };
        self.partitions.contains(&key)
    }

    fn tm_mut(&mut self, name: &str, status: TmStatus) -> &mut TaskManagerView {
        let pos = match self.taskmanagers.iter().position(|t| t.name == name) {
            Some(p) => p,
            None => {
                let key = natural_key(name);
                let at = self
                    .taskmanagers
                    .iter()
                    .position(|t| natural_key(&t.name) > key)
                    .unwrap_or(self.taskmanagers.len());
                self.taskmanagers.insert(
                    at,
                    TaskManagerView {
                        name: name.to_string(),
                        status,
                        slots: Vec::new(),
                        crashed_at: None,
                        connection_lost_at: None,
                        restarts: 0,
                    },
                );
                at
            }
        };
        &mut self.taskmanagers[pos]
    }

    fn slot_mut(&mut self, tm: &str, slot: u32) -> &mut SlotView {
        let t = self.tm_mut(tm, TmStatus::Registered);
        let i = slot as usize;
        if t.slots.len() <= i {
            t.slots.resize_with(i + 1, SlotView::default);
        }
        &mut t.slots[i]
    }

    fn job_mut(&mut self, id: JobId, name: &str, t: u64) -> &mut JobView {
        let pos = match self.jobs.iter().position(|j| j.id == id) {
            Some(p) => p,
            None => {
                let taken: BTreeSet<usize> = self.jobs.iter().filter_map(|j| j.template).collect();
                let template = self
                    .catalog
                    .iter()
                    .enumerate()
                    .position(|(i, d)| d.name == name && !taken.contains(&i))
                    .or_else(|| self.catalog.iter().position(|d| d.name == name));
                let vertices = template
                    .map(|i| {
                        self.catalog[i]
                            .vertices
                            .iter()
                            .map(|v| VertexView {
                                name: v.name.clone(),
                                parallelism: v.parallelism,
                                subtasks: (0..v.parallelism)
                                    .map(|_| SubtaskView::default())
                                    .collect(),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                self.jobs.push(JobView {
                    id,
                    name: name.to_string(),
                    status: JobStatus::Initializing,
                    cause: None,
                    submitted_at: t,
                    ended_at: None,
                    color: self.jobs.len(),
                    template,
                    vertices,
                    channels: BTreeMap::new(),
                    pending_slots: BTreeSet::new(),
                    restarts: 0,
                    last_restart: None,
                    checkpoints: CheckpointStats::default(),
                    exceptions: Vec::new(),
                });
                self.jobs.len() - 1
            }
        };
        &mut self.jobs[pos]
    }

    fn subtask_mut(
        &mut self,
        job: JobId,
        vertex: &str,
        subtask: u32,
        parallelism: u32,
        t: u64,
    ) -> &mut SubtaskView {
        let j = self.job_mut(job, &job.short(), t);
        let v = match j.vertices.iter().position(|v| v.name == vertex) {
            Some(p) => p,
            None => {
                j.vertices.push(VertexView {
                    name: vertex.to_string(),
                    parallelism,
                    subtasks: Vec::new(),
                });
                j.vertices.len() - 1
            }
        };
        let v = &mut j.vertices[v];
        let i = subtask as usize;
        if v.subtasks.len() <= i {
            v.subtasks.resize_with(i + 1, SubtaskView::default);
            v.parallelism = v.parallelism.max(i as u32 + 1);
        }
        &mut v.subtasks[i]
    }

    /// Producer vertex index of a job edge, from the scenario's dataflow.
    fn edges_from(&self, job: &JobView, vertex: &str) -> Vec<usize> {
        let Some(df) = self.dataflow(job) else {
            return Vec::new();
        };
        let Some(v) = df.vertices.iter().position(|x| x.name == vertex) else {
            return Vec::new();
        };
        df.vertex_edges
            .iter()
            .enumerate()
            .filter(|(_, e)| e.from == v)
            .map(|(i, _)| i)
            .collect()
    }
}

fn is_taskmanager(view: &ClusterView, host: &str) -> bool {
    host.starts_with("taskmanager") || view.taskmanager(host).is_some()
}

fn sorted_pair(a: String, b: String) -> (String, String) {
    if a <= b { (a, b) } else { (b, a) }
}

/// Folds one event into the view. Unknown or purely informative events
/// only advance the clock.
pub fn fold(view: &mut ClusterView, e: &Event) {
    view.now_ms = view.now_ms.max(e.t);
    view.folded += 1;
    let t = e.t;
    match &e.kind {
        EventKind::HostStarted { role } => match role {
            Role::TaskManager => {
                let tm = view.tm_mut(&e.host, TmStatus::Starting);
                tm.status = TmStatus::Starting;
                tm.slots.clear();
                tm.connection_lost_at = None;
            }
            // Without high availability the one JobManager leads once it runs.
            Role::JobManager if !view.ha => {
                view.elections += 1;
                view.leader = Some(e.host.clone());
            }
            _ => {}
        },
        // With high availability the coordinator says who leads.
        EventKind::LeaderElected { leader, .. } => {
            if !view.ha {
                view.ha = true;
                view.elections = 0;
            }
            view.elections += 1;
            view.leader = Some(leader.clone());
        }
        EventKind::LeaderLost { leader, .. } if view.leader.as_deref() == Some(leader.as_str()) => {
            view.leader = None;
        }
        EventKind::TaskManagerRegistered {
            resource_id, slots, ..
        } => {
            let tm = view.tm_mut(resource_id, TmStatus::Registered);
            let fresh = !matches!(tm.status, TmStatus::Registered);
            tm.status = TmStatus::Registered;
            tm.connection_lost_at = None;
            if fresh {
                tm.slots.clear();
            }
            tm.slots.resize_with(*slots as usize, SlotView::default);
        }
        EventKind::TaskManagerLost { resource_id, cause } => {
            let tm = view.tm_mut(resource_id, TmStatus::Registered);
            tm.status = TmStatus::Lost {
                at: t,
                cause: cause.clone(),
            };
        }
        EventKind::WorkerRequested { resource_id, .. } => {
            view.tm_mut(resource_id, TmStatus::Requested);
        }
        EventKind::WorkerReleased { resource_id } => {
            let tm = view.tm_mut(resource_id, TmStatus::Released);
            tm.status = TmStatus::Released;
            tm.slots.clear();
        }
        EventKind::ConnectionLost { peer, .. }
            if e.host == "jobmanager" && is_taskmanager(view, peer) =>
        {
            view.tm_mut(peer, TmStatus::Registered).connection_lost_at = Some(t);
        }
        EventKind::SlotRequestPending { job, allocation } => {
            view.job_mut(*job, &job.short(), t)
                .pending_slots
                .insert(*allocation);
        }
        EventKind::SlotAllocated {
            job,
            allocation,
            resource_id,
            slot,
        } => {
            view.job_mut(*job, &job.short(), t)
                .pending_slots
                .remove(allocation);
            let s = view.slot_mut(resource_id, *slot);
            s.allocation = Some(*allocation);
            s.job = Some(*job);
            s.tasks.clear();
            s.changed_at = t;
        }
        EventKind::SlotFreed {
            allocation,
            resource_id,
            slot,
        } => {
            let s = view.slot_mut(resource_id, *slot);
            if s.allocation.is_none() || s.allocation.as_ref() == Some(allocation) {
                *s = SlotView {
                    changed_at: t,
                    ..SlotView::default()
                };
            }
        }
        EventKind::JobSubmitted { job, name, .. } => {
            let j = view.job_mut(*job, name, t);
            j.name = name.clone();
            j.submitted_at = t;
        }
        EventKind::JobStatusChanged {
            job,
            name,
            to,
            cause,
            ..
        } => {
            let j = view.job_mut(*job, name, t);
            j.status = *to;
            if let Some(c) = cause
                && matches!(to, JobStatus::Failing | JobStatus::Failed)
            {
                push_capped(
                    &mut j.exceptions,
                    ExceptionRecord {
                        at: t,
                        kind: ExceptionKind::JobFailed,
                        cause: c.clone(),
                        task: None,
                        taskmanager: None,
                    },
                );
            }
            if cause.is_some() {
                j.cause = cause.clone();
            } else if *to == JobStatus::Running {
                // Recovered: the restart line tells what happened.
                j.cause = None;
            }
            if to.is_terminal() {
                j.ended_at = Some(t);
                j.channels.clear();
                for v in &mut j.vertices {
                    for s in &mut v.subtasks {
                        s.out_per_sec = 0;
                        s.in_per_sec = 0;
                    }
                }
            }
        }
        EventKind::TaskDeployed {
            job,
            vertex,
            subtask,
            parallelism,
            attempt,
            resource_id,
            slot,
            ..
        } => {
            let subtask = &subtask.0;
            let st = view.subtask_mut(*job, vertex, *subtask, *parallelism, t);
            let old = st.location.take();
            st.location = Some((resource_id.to_string(), *slot));
            if *attempt != st.attempt {
                // A new execution attempt counts from zero again.
                st.counters = TaskCounters::default();
                st.metrics_at = None;
                st.out_per_sec = 0;
                st.in_per_sec = 0;
            }
            st.attempt = *attempt;
            st.cause = None;
            if let Some((otm, oslot)) = old
                && (*resource_id != otm || oslot != *slot)
            {
                let s = view.slot_mut(&otm, oslot);
                s.tasks
                    .retain(|x| !(x.vertex == *vertex && x.subtask == *subtask));
            }
            let s = view.slot_mut(resource_id, *slot);
            if s.job.is_none() {
                s.job = Some(*job);
            }
            let task = SlotTask {
                vertex: vertex.clone(),
                subtask: *subtask,
                parallelism: *parallelism,
                attempt: *attempt,
                state: ExecutionState::Deploying,
            };
            match s
                .tasks
                .iter_mut()
                .find(|x| x.vertex == *vertex && x.subtask == *subtask)
            {
                Some(x) => *x = task,
                None => s.tasks.push(task),
            }
        }
        EventKind::TaskStateChanged {
            job,
            vertex,
            subtask,
            attempt,
            to,
            cause,
            ..
        } => {
            let subtask = &subtask.0;
            let st = view.subtask_mut(*job, vertex, *subtask, subtask + 1, t);
            if *attempt < st.attempt {
                return;
            }
            st.attempt = *attempt;
            st.state = *to;
            if cause.is_some() {
                st.cause = cause.clone();
            }
            if *to == ExecutionState::Running {
                st.running_since = Some(t);
            }
            let ended = to.is_terminal();
            if ended {
                st.out_per_sec = 0;
                st.in_per_sec = 0;
            }
            let location = st.location.clone();
            let failure = (*to == ExecutionState::Failed).then(|| ExceptionRecord {
                at: t,
                kind: ExceptionKind::TaskFailed,
                cause: cause
                    .clone()
                    .unwrap_or_else(|| "(no cause reported)".into()),
                task: Some(format!("{vertex} [{}]", subtask + 1)),
                taskmanager: location.as_ref().map(|(tm, _)| tm.clone()),
            });
            if let Some(x) = failure
                && let Some(j) = view.jobs.iter_mut().find(|j| j.id == *job)
            {
                push_capped(&mut j.exceptions, x);
            }
            if let Some((tm, slot)) = location {
                let s = view.slot_mut(&tm, slot);
                if let Some(x) = s
                    .tasks
                    .iter_mut()
                    .find(|x| x.vertex == *vertex && x.subtask == *subtask)
                {
                    x.state = *to;
                    x.attempt = *attempt;
                }
            }
            if ended && let Some(j) = view.job(*job) {
                let edges = view.edges_from(j, vertex);
                if let Some(j) = view.jobs.iter_mut().find(|j| j.id == *job) {
                    j.channels
                        .retain(|(edge, from, _), _| !(edges.contains(edge) && from == subtask));
                }
            }
        }
        EventKind::TaskMetrics {
            job,
            vertex,
            subtask,
            counters,
            backpressure_permille,
            ..
        } => {
            let subtask = &subtask.0;
            let st = view.subtask_mut(*job, vertex, *subtask, subtask + 1, t);
            let since = st.metrics_at.or(st.running_since);
            let (prev_out, prev_in) = (st.counters.records_out, st.counters.records_in);
            let dt = since.map_or(1_000, |s| t.saturating_sub(s)).max(1);
            st.out_per_sec = counters.records_out.saturating_sub(prev_out) * 1_000 / dt;
            st.in_per_sec = counters.records_in.saturating_sub(prev_in) * 1_000 / dt;
            st.counters = counters.clone();
            st.backpressure_permille = *backpressure_permille;
            st.metrics_at = Some(t);
        }
        EventKind::ChannelTraffic {
            job,
            edge,
            from,
            to,
            records,
            remote,
            ..
        } => {
            let j = view.job_mut(*job, &job.short(), t);
            let key = (*edge, *from, *to);
            let dt = j
                .channels
                .get(&key)
                .map_or(1_000, |c| t.saturating_sub(c.at))
                .max(1);
            j.channels.insert(
                key,
                ChannelRate {
                    per_sec: records * 1_000 / dt,
                    at: t,
                    remote: *remote,
                },
            );
        }
        EventKind::CheckpointTriggered { job, id, savepoint } => {
            let j = view.job_mut(*job, &job.short(), t);
            j.checkpoints.pending = Some((*id, t, 0));
            j.checkpoints.record_mut(*id, t, *savepoint);
        }
        EventKind::CheckpointAcknowledged { job, id, .. } => {
            let j = view.job_mut(*job, &job.short(), t);
            if let Some((pid, _, acks)) = &mut j.checkpoints.pending
                && *pid == *id
            {
                *acks += 1;
            }
            if let Some(r) = j.checkpoints.history.iter_mut().rev().find(|r| r.id == *id) {
                r.acks += 1;
            }
        }
        EventKind::CheckpointCompleted {
            job,
            id,
            duration_ms,
            size,
            acks,
            alignment_ms,
        } => {
            let j = view.job_mut(*job, &job.short(), t);
            let c = &mut j.checkpoints;
            let r = c.record_mut(*id, t.saturating_sub(*duration_ms), false);
            r.state = CheckpointState::Completed;
            r.duration_ms = Some(*duration_ms);
            r.size = Some(*size);
            r.alignment_ms = Some(*alignment_ms);
            r.acks = *acks;
            c.completed += 1;
            c.last = Some(CompletedCheckpoint {
                id: *id,
                at: t,
                duration_ms: *duration_ms,
                size: *size,
                acks: *acks,
            });
            if c.pending.is_some_and(|(p, _, _)| p <= *id) {
                c.pending = None;
            }
        }
        EventKind::SavepointCompleted { job, id, path, .. } => {
            let j = view.job_mut(*job, &job.short(), t);
            j.checkpoints.savepoints.push((*id, path.clone()));
            let r = j.checkpoints.record_mut(*id, t, true);
            r.savepoint = true;
            r.state = CheckpointState::Completed;
            r.duration_ms = Some(t.saturating_sub(r.triggered_at));
            if j.checkpoints.pending.is_some_and(|(p, _, _)| p == *id) {
                j.checkpoints.pending = None;
            }
        }
        EventKind::CheckpointAborted { job, id, cause } => {
            let j = view.job_mut(*job, &job.short(), t);
            let c = &mut j.checkpoints;
            c.record_mut(*id, t, false).state = CheckpointState::Aborted(cause.clone());
            c.aborted += 1;
            c.last_abort_cause = Some(cause.clone());
            if c.pending.is_some_and(|(p, _, _)| p == *id) {
                c.pending = None;
            }
        }
        EventKind::RestartScheduled {
            job,
            name,
            vertices,
            delay_ms,
            cause,
        } => {
            let j = view.job_mut(*job, name, t);
            j.restarts += 1;
            j.checkpoints.pending = None;
            for r in &mut j.checkpoints.history {
                if r.state == CheckpointState::InProgress {
                    r.state = CheckpointState::Aborted("the job restarts".into());
                }
            }
            push_capped(
                &mut j.exceptions,
                ExceptionRecord {
                    at: t,
                    kind: ExceptionKind::RestartScheduled,
                    cause: format!("{cause} (restart {} in {delay_ms} ms)", j.restarts),
                    task: Some(vertices.join(", ")),
                    taskmanager: None,
                },
            );
        }
        EventKind::Restarted {
            job,
            name,
            attempt,
            from_checkpoint,
            ..
        } => {
            let j = view.job_mut(*job, name, t);
            j.last_restart = Some((*attempt, *from_checkpoint, t));
            let from = match from_checkpoint {
                Some(c) => format!("from checkpoint {c}"),
                None => "from scratch (no checkpoint yet)".into(),
            };
            push_capped(
                &mut j.exceptions,
                ExceptionRecord {
                    at: t,
                    kind: ExceptionKind::Restarted,
                    cause: format!("redeployed as attempt {attempt} {from}"),
                    task: None,
                    taskmanager: None,
                },
            );
        }
        EventKind::FaultInjected { fault } => {
            view.faults += 1;
            match fault {
                Fault::Crash { host: h } => {
                    if is_taskmanager(view, h) {
                        let tm = view.tm_mut(h, TmStatus::Registered);
                        if !matches!(tm.status, TmStatus::Lost { .. } | TmStatus::Released) {
                            tm.status = TmStatus::Crashed { at: t };
                        }
                        tm.crashed_at = Some(t);
                    } else if view.leader.as_deref() == Some(h.as_str()) {
                        view.leader = None;
                    }
                }
                Fault::Restart { host: h } => {
                    if is_taskmanager(view, h) {
                        let tm = view.tm_mut(h, TmStatus::Starting);
                        tm.restarts += 1;
                    } else if view.leader.as_deref() == Some(h.as_str()) {
                        view.leader = None;
                    }
                }
                Fault::StartTaskManager { host: h } => {
                    view.tm_mut(h, TmStatus::Starting);
                }
                Fault::Partition { a, b } => {
                    view.partitions.insert(sorted_pair(a.clone(), b.clone()));
                }
                Fault::Repair { a, b } => {
                    view.partitions.remove(&sorted_pair(a.clone(), b.clone()));
                }
                Fault::NoBusiestTaskManager
                | Fault::Delay { .. }
                | Fault::CancelJob { .. }
                | Fault::Savepoint { .. }
                | Fault::StopWithSavepoint { .. }
                | Fault::StorageWritesFail { .. }
                | Fault::StorageWritesSlow { .. }
                | Fault::StorageDamaged { .. } => {}
            }
        }
        _ => {}
    }
}

/// Whether an event is a measurement or a per-subtask detail that the
/// logs and stepping leave out (metrics, checkpoint acknowledgements).
pub fn is_noise(e: &Event) -> bool {
    e.kind.is_metric() || matches!(e.kind, EventKind::CheckpointAcknowledged { .. })
}

/// Folds many events.
pub fn fold_all<'a>(view: &mut ClusterView, events: impl IntoIterator<Item = &'a Event>) {
    for e in events {
        fold(view, e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t: u64, host: &str, kind: EventKind) -> Event {
        Event {
            t,
            host: host.into(),
            kind,
        }
    }

    /// A TaskManager's slots fill with a job's subtasks, and a crash is
    /// first only a crash (the JobManager does not know), then a loss.
    #[test]
    fn slots_fill_and_a_crash_becomes_a_loss() {
        let mut v = ClusterView::new(Arc::new(Vec::new()));
        let j1 = JobId::from_parts(&["j1"]);
        let events = vec![
            ev(
                0,
                "taskmanager-1",
                EventKind::HostStarted {
                    role: Role::TaskManager,
                },
            ),
            ev(
                3,
                "jobmanager",
                EventKind::TaskManagerRegistered {
                    resource_id: "taskmanager-1".into(),
                    slots: 2,
                    data_addr: "x".into(),
                },
            ),
            ev(
                10,
                "jobmanager",
                EventKind::SlotAllocated {
                    job: j1,
                    allocation: AllocationId(1),
                    resource_id: "taskmanager-1".into(),
                    slot: 1,
                },
            ),
            ev(
                11,
                "jobmanager",
                EventKind::TaskDeployed {
                    job: j1,
                    vertex: "A -> B".into(),
                    vertex_index: 0,
                    subtask: runtime::ids::SubtaskIndex(0),
                    parallelism: 1,
                    attempt: 0,
                    resource_id: "taskmanager-1".into(),
                    slot: 1,
                },
            ),
            ev(
                12,
                "jobmanager",
                EventKind::TaskStateChanged {
                    job: j1,
                    vertex: "A -> B".into(),
                    vertex_index: 0,
                    subtask: runtime::ids::SubtaskIndex(0),
                    attempt: 0,
                    from: ExecutionState::Initializing,
                    to: ExecutionState::Running,
                    cause: None,
                },
            ),
        ];
        fold_all(&mut v, &events);
        let tm = &v.taskmanagers[0];
        assert_eq!(tm.slots[0].state(), SlotState::Free);
        assert_eq!(tm.slots[1].state(), SlotState::Running);
        fold(
            &mut v,
            &ev(
                20,
                "sim",
                EventKind::FaultInjected {
                    fault: Fault::Crash {
                        host: "taskmanager-1".into(),
                    },
                },
            ),
        );
        assert_eq!(v.taskmanagers[0].status, TmStatus::Crashed { at: 20 });
        fold(
            &mut v,
            &ev(
                30,
                "jobmanager",
                EventKind::TaskManagerLost {
                    resource_id: "taskmanager-1".into(),
                    cause: "timeout".into(),
                },
            ),
        );
        assert!(matches!(
            v.taskmanagers[0].status,
            TmStatus::Lost { at: 30, .. }
        ));
        assert_eq!(v.taskmanagers[0].crashed_at, Some(20));
    }

    /// TaskManagers sort by number, not by string.
    #[test]
    fn natural_order() {
        let mut v = ClusterView::new(Arc::new(Vec::new()));
        for n in ["taskmanager-10", "taskmanager-2", "taskmanager-1"] {
            fold(
                &mut v,
                &ev(
                    0,
                    n,
                    EventKind::HostStarted {
                        role: Role::TaskManager,
                    },
                ),
            );
        }
        let names: Vec<&str> = v.taskmanagers.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["taskmanager-1", "taskmanager-2", "taskmanager-10"]);
    }

    /// A partition and its repair fold into the set of cut links, read
    /// from the structured fault (no text is parsed).
    #[test]
    fn partitions_come_and_go() {
        let mut v = ClusterView::new(Arc::new(Vec::new()));
        let cut = |a: &str, b: &str| Fault::Partition {
            a: a.into(),
            b: b.into(),
        };
        fold(
            &mut v,
            &ev(
                1,
                "sim",
                EventKind::FaultInjected {
                    fault: cut("taskmanager-2", "jobmanager"),
                },
            ),
        );
        assert!(v.partitioned("jobmanager", "taskmanager-2"));
        fold(
            &mut v,
            &ev(
                2,
                "sim",
                EventKind::FaultInjected {
                    fault: Fault::Repair {
                        a: "jobmanager".into(),
                        b: "taskmanager-2".into(),
                    },
                },
            ),
        );
        assert!(!v.partitioned("jobmanager", "taskmanager-2"));
        assert_eq!(v.faults, 2);
    }

    /// The checkpoint history keeps each checkpoint's life (triggered,
    /// acknowledged, completed or aborted), also one first seen completed
    /// (attached, a poll can miss the trigger); a failed task and the
    /// restart go into the exceptions with the task and its TaskManager.
    #[test]
    fn checkpoint_history_and_exceptions() {
        let mut v = ClusterView::new(Arc::new(Vec::new()));
        let j = JobId::from_parts(&["j"]);
        let jm = |t, kind| ev(t, "jobmanager", kind);
        let sub = runtime::ids::SubtaskIndex(1);
        fold_all(
            &mut v,
            &[
                jm(
                    100,
                    EventKind::CheckpointTriggered {
                        job: j,
                        id: CheckpointId(1),
                        savepoint: false,
                    },
                ),
                jm(
                    105,
                    EventKind::CheckpointAcknowledged {
                        job: j,
                        id: CheckpointId(1),
                        vertex: "A".into(),
                        vertex_index: 0,
                        subtask: sub,
                        size: 10,
                        alignment_ms: 1,
                    },
                ),
                jm(
                    110,
                    EventKind::CheckpointCompleted {
                        job: j,
                        id: CheckpointId(1),
                        duration_ms: 10,
                        size: 64,
                        alignment_ms: 3,
                        acks: 2,
                    },
                ),
                jm(
                    300,
                    EventKind::CheckpointCompleted {
                        job: j,
                        id: CheckpointId(2),
                        duration_ms: 20,
                        size: 65,
                        alignment_ms: 0,
                        acks: 2,
                    },
                ),
                jm(
                    400,
                    EventKind::CheckpointTriggered {
                        job: j,
                        id: CheckpointId(3),
                        savepoint: false,
                    },
                ),
                jm(
                    450,
                    EventKind::TaskDeployed {
                        job: j,
                        vertex: "A".into(),
                        vertex_index: 0,
                        subtask: sub,
                        parallelism: 2,
                        attempt: 0,
                        resource_id: "taskmanager-2".into(),
                        slot: 0,
                    },
                ),
                jm(
                    500,
                    EventKind::TaskStateChanged {
                        job: j,
                        vertex: "A".into(),
                        vertex_index: 0,
                        subtask: sub,
                        attempt: 0,
                        from: ExecutionState::Running,
                        to: ExecutionState::Failed,
                        cause: Some("boom".into()),
                    },
                ),
                jm(
                    500,
                    EventKind::RestartScheduled {
                        job: j,
                        name: "j".into(),
                        vertices: vec!["A".into()],
                        delay_ms: 100,
                        cause: "boom".into(),
                    },
                ),
            ],
        );
        let job = &v.jobs[0];
        let h = &job.checkpoints.history;
        assert_eq!(h.len(), 3);
        assert_eq!(
            (
                h[0].state.clone(),
                h[0].triggered_at,
                h[0].acks,
                h[0].alignment_ms
            ),
            (CheckpointState::Completed, 100, 2, Some(3))
        );
        assert_eq!((h[1].id, h[1].triggered_at), (CheckpointId(2), 280));
        assert!(
            matches!(h[2].state, CheckpointState::Aborted(_)),
            "a restart gives up #3"
        );
        let x = &job.exceptions;
        assert_eq!(x.len(), 2);
        assert_eq!(x[0].kind, ExceptionKind::TaskFailed);
        assert_eq!(x[0].task.as_deref(), Some("A [2]"));
        assert_eq!(x[0].taskmanager.as_deref(), Some("taskmanager-2"));
        assert_eq!(x[0].cause, "boom");
        assert_eq!(x[1].kind, ExceptionKind::RestartScheduled);
    }
}
