//! The picture model: what a dataflow drawing needs, and nothing else.
//!
//! `viz` is a leaf crate so that both the runtime's `mini-flink plan --dot`
//! and the TUI can draw. The runtime fills this model from its StreamGraph,
//! JobGraph and ExecutionGraph (`runtime::graph::viz_model`); every renderer
//! here is a pure function of it, so the same job always gives the same DOT.

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
