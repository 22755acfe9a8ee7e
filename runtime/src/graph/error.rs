//! Programs Flink's client refuses: the errors of [`StreamGraph::validate`](super::StreamGraph::validate).
//!
//! Flink's client throws from `StreamGraph` / `StreamingJobGraphGenerator`
//! when a program cannot run: a forward edge across a parallelism change, a
//! keyed operator without `keyBy`, a loop. Each [`GraphError`] here carries
//! the operator ids it talks about (for its message, so it reads alone) and
//! the node or edge index (so the job-file layer, [`crate::jobfile`], can
//! point at the line), and [`GraphError::help`] says how to fix it.

use super::ids::NodeIdx;
use crate::operators::{TypeMismatch, ValueType};

/// A program that Flink's client would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// `parallelism = 0`.
    #[error("operator `{id}` has parallelism 0")]
    ZeroParallelism {
        /// The node.
        node: NodeIdx,
        /// Its operator id.
        id: String,
    },
    /// A parallelism over [`crate::net::limits::MAX_PARALLELISM`].
    #[error("operator `{id}` has parallelism {parallelism}, over the cap of {cap}")]
    ParallelismOverCap {
        /// The node.
        node: NodeIdx,
        /// Its operator id.
        id: String,
        /// What it asks for.
        parallelism: u32,
        /// The cap.
        cap: u32,
    },
    /// An explicit forward edge between operators of different parallelism.
    #[error(
        "Forward partitioning does not allow change of parallelism: \
         `{upstream_id}` has parallelism {upstream}, `{downstream_id}` has {downstream}"
    )]
    ForwardParallelismChange {
        /// The edge.
        edge: usize,
        /// Upstream operator id.
        upstream_id: String,
        /// Upstream parallelism.
        upstream: u32,
        /// Downstream operator id.
        downstream_id: String,
        /// Downstream parallelism.
        downstream: u32,
    },
    /// A keyed operator whose input is not hash-partitioned.
    #[error("`{id}` is a keyed operator ({kind}) but its input is not keyed")]
    NotKeyed {
        /// The node.
        node: NodeIdx,
        /// Its operator id.
        id: String,
        /// Its kind.
        kind: &'static str,
    },
    /// A source with inputs.
    #[error("`{id}` is a source ({kind}) and cannot have inputs")]
    SourceWithInputs {
        /// The node.
        node: NodeIdx,
        /// Its operator id.
        id: String,
        /// Its kind.
        kind: &'static str,
    },
    /// An operator other than a source without inputs.
    #[error("`{id}` ({kind}) has no input: add input = \"<id>\"")]
    NoInputs {
        /// The node.
        node: NodeIdx,
        /// Its operator id.
        id: String,
        /// Its kind.
        kind: &'static str,
    },
    /// A sink that feeds another operator.
    #[error("`{reader}` reads from `{sink}`, which is a sink and has no output")]
    SinkWithOutput {
        /// The edge leaving the sink.
        edge: usize,
        /// The sink's operator id.
        sink: String,
        /// The id of the operator that reads from it.
        reader: String,
    },
    /// A function applied to records it does not accept.
    #[error("operator `{id}`: {mismatch}")]
    Type {
        /// The node.
        node: NodeIdx,
        /// Its operator id.
        id: String,
        /// What does not fit.
        #[source]
        mismatch: TypeMismatch,
    },
    /// A keyed operator whose `key = "f0"` meets records that are not pairs.
    #[error("operator `{id}`: key = \"f0\" needs (key, count) pairs but the input carries {input}")]
    KeyNeedsPairs {
        /// The node.
        node: NodeIdx,
        /// Its operator id.
        id: String,
        /// What its input carries.
        input: ValueType,
    },
    /// The dataflow has a cycle.
    #[error("the dataflow has a cycle through {}", and_list(ids))]
    Cycle {
        /// Every node on the cycle, in declaration order.
        nodes: Vec<NodeIdx>,
        /// Their operator ids, in the same order.
        ids: Vec<String>,
        /// The edges that close it, `(reader, input)` by operator id, in
        /// declaration order.
        reads: Vec<(String, String)>,
    },
}

impl GraphError {
    /// How to fix it (may be empty).
    pub fn help(&self) -> String {
        match self {
            GraphError::ZeroParallelism { .. } => "parallelism must be at least 1".into(),
            GraphError::ParallelismOverCap { cap, .. } => {
                format!("a job's operators may run at most {cap} subtasks each")
            }
            GraphError::ForwardParallelismChange { .. } => {
                "use partition = \"rebalance\" (or \"rescale\"), or give both operators \
                 the same parallelism"
                    .into()
            }
            GraphError::NotKeyed { .. } => {
                "add partition = \"hash\" and key = \"f0\" (Flink's keyBy) to this operator".into()
            }
            GraphError::SourceWithInputs { .. } | GraphError::NoInputs { .. } => String::new(),
            GraphError::SinkWithOutput { .. } => {
                "read from the operator before the sink instead".into()
            }
            GraphError::Type { .. } | GraphError::KeyNeedsPairs { .. } => {
                "change `fn` or the operator before it".into()
            }
            GraphError::Cycle { reads, .. } => {
                let reads: Vec<String> = reads
                    .iter()
                    .map(|(reader, input)| format!("`{reader}` reads from `{input}`"))
                    .collect();
                format!(
                    "a dataflow must be acyclic: {}; remove one of these inputs",
                    reads.join(", ")
                )
            }
        }
    }
}

/// `` `a` ``, `` `a` and `b` ``, `` `a`, `b` and `c` ``.
fn and_list(ids: &[String]) -> String {
    let quoted: Vec<String> = ids.iter().map(|id| format!("`{id}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}
