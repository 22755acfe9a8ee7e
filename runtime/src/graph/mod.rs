//! The three graphs of a Flink job, from program to parallel execution.
//!
//! ```text
//!  job file / StreamEnv ──► StreamGraph ──(chaining, on the client)──► JobGraph
//!                                                                        │
//!                             (on the JobMaster, by parallelism)         ▼
//!                                                                 ExecutionGraph
//! ```
//!
//! - [`stream_graph`]: operators and partitioners as written (Flink's `StreamGraph`).
//! - [`job_graph`]: operator chains (`JobVertex`) and ship strategies (`JobEdge`).
//! - [`execution_graph`]: subtasks and channels (`ExecutionVertex`, POINTWISE / ALL_TO_ALL).
//! - [`plan`]: the plan as text and as Flink's `GET /jobs/:id/plan` JSON.
//! - [`ids`]: stable 32-hex-digit ids.

pub mod execution_graph;
pub mod ids;
pub mod job_graph;
pub mod picture;
pub mod plan;
pub mod stream_graph;

pub use execution_graph::{Channel, ExecutionEdge, ExecutionGraph, ExecutionVertexId};
pub use ids::{JobId, JobVertexId};
pub use job_graph::{JobEdge, JobGraph, JobVertex, VertexIdx, is_chainable};
pub use picture::viz_model;
pub use stream_graph::{
    ChainingStrategy, DistributionPattern, GraphError, NodeIdx, Partitioner, StreamEdge,
    StreamGraph, StreamNode,
};
