//! The three graphs of a Flink job, from program to parallel execution.
//!
//! ```text
//!  job file / StreamEnv ──► StreamGraph ──(chaining, on the client)──► JobGraph
//!                                                                        │
//!                             (on the JobMaster, by parallelism)         ▼
//!                                                                 ExecutionGraph
//! ```
//!
//! All three are petgraph graphs on one base, [`ordered_graph`], that keeps
//! Flink's declaration order: indices are positions, a node's inputs come in
//! the order they were declared, and the topological order takes ready nodes
//! in that order, so ids, names and plans do not depend on petgraph's insides.
//!
//! - [`stream_graph`]: operators and partitioners as written (Flink's `StreamGraph`).
//! - [`error`]: what the client refuses ([`GraphError`]): a cycle names every operator on it.
//! - [`job_graph`]: operator chains (`JobVertex`) and ship strategies (`JobEdge`).
//! - [`execution_graph`]: subtasks and channels (`ExecutionVertex`, POINTWISE / ALL_TO_ALL).
//! - [`plan`]: the plan as text and as Flink's `GET /jobs/:id/plan` JSON.
//! - [`ids`]: stable 32-hex-digit ids.
//! - [`picture`]: the graphs as `viz`'s picture model.
//! - [`flink_plan`]: a real Flink's `GET /jobs/:id/plan` answer as the same picture model.

pub mod error;
pub mod execution_graph;
pub mod flink_plan;
pub mod ids;
pub mod job_graph;
pub mod ordered_graph;
pub mod picture;
pub mod plan;
pub mod stream_graph;

/// A subtask of a job vertex; it lives with the shared ids.
pub use crate::ids::ExecutionVertexId;
pub use error::GraphError;
pub use execution_graph::{Channel, ExecutionEdge, ExecutionGraph, ExecutionJobVertex};
pub use flink_plan::{FlinkPlanError, dataflow_text, flink_job_dataflow, flink_plan_dataflow};
pub use ids::{ApplicationId, JobId, JobVertexId};
pub use job_graph::{JobEdge, JobGraph, JobVertex, VertexIdx, is_chainable};
pub use ordered_graph::{DanglingEdge, Endpoints, OrderedGraph};
pub use picture::viz_model;
pub use stream_graph::{
    ChainingStrategy, DistributionPattern, NodeIdx, Partitioner, StreamEdge, StreamGraph,
    StreamNode,
};
