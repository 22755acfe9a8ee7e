//! The view of the cluster the UI renders: TaskManagers with their slots
//! and the subtasks in them, jobs with their vertices and subtasks (what
//! Flink's REST API calls `/taskmanagers`, `/jobs/:id`, its vertices).

use runtime::events::TaskCounters;
use runtime::graph::JobId;
use runtime::ids::{AllocationId, CheckpointId};
use runtime::state::{ExecutionState, JobStatus};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::checkpoints::*;

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

    pub(super) fn tm_mut(&mut self, name: &str, status: TmStatus) -> &mut TaskManagerView {
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

    pub(super) fn slot_mut(&mut self, tm: &str, slot: u32) -> &mut SlotView {
        let t = self.tm_mut(tm, TmStatus::Registered);
        let i = slot as usize;
        if t.slots.len() <= i {
            t.slots.resize_with(i + 1, SlotView::default);
        }
        &mut t.slots[i]
    }

    pub(super) fn job_mut(&mut self, id: JobId, name: &str, t: u64) -> &mut JobView {
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

    pub(super) fn subtask_mut(
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
    pub(super) fn edges_from(&self, job: &JobView, vertex: &str) -> Vec<usize> {
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
