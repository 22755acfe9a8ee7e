//! The ExecutionGraph: the JobGraph expanded by parallelism, on the JobMaster.
//!
//! Flink's JobMaster turns every `JobVertex` into an `ExecutionJobVertex` with
//! one `ExecutionVertex` per subtask, and every `JobEdge` into channels
//! between subtasks (`EdgeManagerBuildUtil`): POINTWISE edges (forward,
//! rescale) connect each producer to a contiguous range of consumers, or each
//! consumer to a range of producers; ALL_TO_ALL edges connect every pair.
//! Global partitioning sends everything to subtask 0, so only those channels
//! are wired. This is the "parallel view" of the dataflow.
//!
//! The graph has the JobGraph's shape (a petgraph graph with one
//! [`ExecutionJobVertex`] per job vertex, at the same index, and one
//! [`ExecutionEdge`] per job edge, also at the same index); the subtasks are
//! `0..parallelism` of each vertex and the channels sit on the edges.

use super::job_graph::{JobGraph, VertexIdx};
use super::ordered_graph::{Endpoints, OrderedGraph};
use super::stream_graph::{DistributionPattern, Partitioner};
use crate::ids::ExecutionVertexId;
use petgraph::graph::DiGraph;
use serde::{Deserialize, Serialize};

/// One channel: a producer subtask's partition feeding a consumer subtask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Channel {
    /// The producing subtask.
    pub from: u32,
    /// The consuming subtask.
    pub to: u32,
}

/// All subtasks of one job vertex (Flink's `ExecutionJobVertex`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionJobVertex {
    /// The job vertex (the same index in the JobGraph).
    pub job_vertex: VertexIdx,
    /// Number of subtasks (`ExecutionVertex`es), `0..parallelism`.
    pub parallelism: u32,
}

/// The channels of one job edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionEdge {
    /// Index of the job edge (see [`JobGraph::edge`]).
    pub job_edge: usize,
    /// The producing job vertex.
    pub source: VertexIdx,
    /// The consuming job vertex.
    pub target: VertexIdx,
    /// All channels, ordered by producer then consumer.
    pub channels: Vec<Channel>,
}

impl Endpoints for ExecutionEdge {
    fn endpoints(&self) -> (usize, usize) {
        (self.source, self.target)
    }
}

/// The parallel dataflow.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionGraph {
    graph: OrderedGraph<ExecutionJobVertex, ExecutionEdge>,
}

// ANCHOR: wire
/// The channels between `up` producers and `down` consumers for one
/// distribution pattern, as Flink's `EdgeManagerBuildUtil` connects them.
pub fn wire(partitioner: Partitioner, up: u32, down: u32) -> Vec<Channel> {
    let mut ch = Vec::new();
    match (partitioner, partitioner.distribution()) {
        (Partitioner::Global, _) => {
            for from in 0..up {
                ch.push(Channel { from, to: 0 });
            }
        }
        (_, DistributionPattern::AllToAll) => {
            for from in 0..up {
                for to in 0..down {
                    ch.push(Channel { from, to });
                }
            }
        }
        (_, DistributionPattern::Pointwise) => {
            if up == down {
                for i in 0..up {
                    ch.push(Channel { from: i, to: i });
                }
            } else if up > down {
                // Each consumer reads a contiguous range of producers.
                for to in 0..down {
                    let start = to * up / down;
                    let end = (to + 1) * up / down;
                    for from in start..end {
                        ch.push(Channel { from, to });
                    }
                }
            } else {
                // Each producer feeds a contiguous range of consumers.
                for from in 0..up {
                    let start = (from * down).div_ceil(up);
                    let end = ((from + 1) * down).div_ceil(up);
                    for to in start..end {
                        ch.push(Channel { from, to });
                    }
                }
            }
            ch.sort();
        }
    }
    ch
}
// ANCHOR_END: wire

impl ExecutionGraph {
    /// Expands a JobGraph by parallelism.
    pub fn from_job_graph(jg: &JobGraph) -> ExecutionGraph {
        let mut graph = OrderedGraph::new();
        for (job_vertex, v) in jg.vertices().enumerate() {
            graph.add_node(ExecutionJobVertex {
                job_vertex,
                parallelism: v.parallelism,
            });
        }
        for (job_edge, e) in jg.edges().enumerate() {
            let up = jg.vertex(e.source).parallelism;
            let down = jg.vertex(e.target).parallelism;
            graph.add_edge(ExecutionEdge {
                job_edge,
                source: e.source,
                target: e.target,
                channels: wire(e.partitioner, up, down),
            });
        }
        ExecutionGraph { graph }
    }

    /// The subtasks of job vertex `v`.
    pub fn vertex(&self, v: VertexIdx) -> &ExecutionJobVertex {
        self.graph.node(v)
    }

    /// One entry per job vertex, in job-vertex order.
    pub fn vertices(&self) -> impl ExactSizeIterator<Item = &ExecutionJobVertex> + '_ {
        self.graph.nodes()
    }

    /// Number of job vertices.
    pub fn vertex_count(&self) -> usize {
        self.graph.node_count()
    }

    /// Parallelism of job vertex `v` (its subtasks are `0..p`).
    pub fn parallelism(&self, v: VertexIdx) -> u32 {
        self.vertex(v).parallelism
    }

    /// The channels of job edge `e`.
    pub fn edge(&self, e: usize) -> &ExecutionEdge {
        self.graph.edge(e)
    }

    /// Channels per job edge, in job-edge order.
    pub fn edges(&self) -> impl ExactSizeIterator<Item = &ExecutionEdge> + '_ {
        self.graph.edges()
    }

    /// Number of edges (that of the JobGraph).
    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// The petgraph graph, for its algorithms.
    pub fn graph(&self) -> &DiGraph<ExecutionJobVertex, ExecutionEdge> {
        self.graph.graph()
    }

    /// Every subtask, vertex by vertex.
    pub fn execution_vertices(&self) -> impl Iterator<Item = ExecutionVertexId> + '_ {
        self.vertices().enumerate().flat_map(|(vertex, v)| {
            (0..v.parallelism).map(move |subtask| ExecutionVertexId::new(vertex as u32, subtask))
        })
    }

    /// Number of subtasks in all.
    pub fn subtask_count(&self) -> u32 {
        self.vertices().map(|v| v.parallelism).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(ch: &[Channel]) -> Vec<(u32, u32)> {
        ch.iter().map(|c| (c.from, c.to)).collect()
    }

    /// Rescale 1 → 2: the single producer feeds both consumers.
    #[test]
    fn pointwise_one_to_two() {
        assert_eq!(pairs(&wire(Partitioner::Rescale, 1, 2)), [(0, 0), (0, 1)]);
    }
}
