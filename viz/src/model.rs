//! The picture model: what a drawing needs, and nothing else.
//!
//! Two models: [`Dataflow`] is one job (the condensed, chained and parallel
//! views); [`Cluster`] is a snapshot of a running cluster (the slots and
//! cluster views). Both are plain data with indices, filled by others.
//!
//! `viz` is a leaf crate so that both the runtime's `mini-flink plan --dot`
//! and the TUI can draw. The runtime fills the dataflow model from its
//! StreamGraph, JobGraph and ExecutionGraph (`runtime::graph::viz_model`);
//! the TUI fills the cluster model from its fold of the event stream
//! (`tui::pictures`). Every renderer is a pure function of its model, so the
//! same input always gives the same DOT.

use serde::Serialize;

/// A whole job: its operators (condensed view), its chains (job vertices)
/// and its channels (parallel view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dataflow {
    /// Job name.
    pub name: String,
    /// Operators in declaration order.
    pub operators: Vec<Operator>,
    /// Operator-to-operator edges in declaration order.
    pub operator_edges: Vec<OperatorEdge>,
    /// Job vertices (operator chains) in topological order.
    pub vertices: Vec<Vertex>,
    /// Job edges between vertices, each with its subtask channels.
    pub vertex_edges: Vec<VertexEdge>,
}

/// One operator of the program (a StreamNode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operator {
    /// Unique id from the job file.
    pub id: String,
    /// Display name ("Source: Seq").
    pub name: String,
    /// Job-file kind ("sequence", "map", …).
    pub kind: String,
    /// Parallelism.
    pub parallelism: u32,
    /// Slot sharing group.
    pub slot_sharing_group: String,
    /// Index into [`Dataflow::vertices`] of the chain holding it.
    pub vertex: usize,
}

/// An edge of the condensed view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperatorEdge {
    /// Upstream operator index.
    pub from: usize,
    /// Downstream operator index.
    pub to: usize,
    /// Partitioning label ("FORWARD", "HASH(f0)", "REBALANCE", …).
    pub partitioning: String,
    /// Whether chaining fused the two operators into one task.
    pub chained: bool,
}

/// One operator chain (a JobVertex): deployed as one task per subtask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Vertex {
    /// Operators' names joined by " -> ".
    pub name: String,
    /// Parallelism.
    pub parallelism: u32,
    /// Slot sharing group.
    pub slot_sharing_group: String,
    /// Operator indices in chain order, head first.
    pub operators: Vec<usize>,
}

/// A job edge with its channels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VertexEdge {
    /// Upstream vertex index.
    pub from: usize,
    /// Downstream vertex index.
    pub to: usize,
    /// FORWARD, REBALANCE, RESCALE, SHUFFLE, HASH, BROADCAST or GLOBAL.
    pub ship_strategy: String,
    /// POINTWISE or ALL_TO_ALL.
    pub distribution: String,
    /// (producer subtask, consumer subtask) pairs, every channel.
    pub channels: Vec<(u32, u32)>,
}

/// A snapshot of a whole cluster, as its REST API would report it at one
/// moment: the JobManagers, the jobs, the TaskManagers with their task
/// slots, and which TaskManagers exchange data. The slots and cluster
/// views ([`crate::ClusterDiagram`]) draw it.
///
/// Everything refers to everything else by index (a slot's job is an index
/// into [`Cluster::jobs`]), so the pictures are pure functions of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Cluster {
    /// What is pictured (a scenario's name).
    pub name: String,
    /// When (virtual ms).
    pub at_ms: u64,
    /// The JobManager processes; with high availability one leads and the
    /// others stand by.
    pub jobmanagers: Vec<JobManager>,
    /// The jobs the Dispatcher knows, in submission order. A job's index
    /// picks its colour in every view.
    pub jobs: Vec<Job>,
    /// The TaskManagers, in the order to draw them.
    pub taskmanagers: Vec<TaskManager>,
    /// TaskManager pairs with at least one network channel between them.
    pub data_connections: Vec<DataConnection>,
}

/// One JobManager process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobManager {
    /// Host name (`jobmanager`, `jobmanager-2`).
    pub name: String,
    /// Whether it leads: the leader runs the Dispatcher, the
    /// ResourceManager and the JobMasters; a standby runs nothing yet.
    pub leader: bool,
}

/// One job; while it is not finished a JobMaster runs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Job {
    /// Job id (32 hex digits).
    pub id: String,
    /// Job name.
    pub name: String,
    /// JobStatus, Flink's spelling (`RUNNING`).
    pub status: String,
    /// Whether its JobMaster still runs (the status is not terminal).
    pub active: bool,
}

/// One TaskManager and its task slots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskManager {
    /// Resource id (`taskmanager-1`).
    pub name: String,
    /// Its status as shown (`REGISTERED`, `CRASHED`, `LOST`).
    pub status: String,
    /// Whether its process runs.
    pub alive: bool,
    /// Whether the ResourceManager counts it as registered (a crashed
    /// TaskManager stays registered until its heartbeats time out).
    pub registered: bool,
    /// Its slots, by index.
    pub slots: Vec<Slot>,
}

/// One task slot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Slot {
    /// Index into [`Cluster::jobs`] of the job it is allocated to; `None`
    /// for a free slot.
    pub job: Option<usize>,
    /// The subtasks sharing it: at most one per job vertex (slot sharing).
    pub subtasks: Vec<SlotSubtask>,
}

/// A subtask deployed into a slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlotSubtask {
    /// Job vertex (operator chain) name, operators joined by ` -> `.
    pub vertex: String,
    /// Subtask index, 0-based.
    pub subtask: u32,
    /// The vertex's parallelism.
    pub parallelism: u32,
    /// ExecutionState, Flink's spelling (`RUNNING`).
    pub state: String,
}

impl SlotSubtask {
    /// The subtask's name as Flink writes it: `Source -> Map (1/2)`.
    pub fn task_name(&self) -> String {
        format!(
            "{} ({}/{})",
            self.vertex,
            self.subtask + 1,
            self.parallelism
        )
    }
}

/// Data flowing from one TaskManager to another over the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataConnection {
    /// Index into [`Cluster::taskmanagers`] of the producing side.
    pub from: usize,
    /// Index of the consuming side.
    pub to: usize,
    /// How many subtask-to-subtask channels it carries.
    pub channels: u32,
}
