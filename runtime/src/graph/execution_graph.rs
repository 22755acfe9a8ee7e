//! The ExecutionGraph: the JobGraph expanded by parallelism, on the JobMaster.
//!
//! Flink's JobMaster turns every `JobVertex` into an `ExecutionJobVertex` with
//! one `ExecutionVertex` per subtask, and every `JobEdge` into channels
//! between subtasks (`EdgeManagerBuildUtil`): POINTWISE edges (forward,
//! rescale) connect each producer to a contiguous range of consumers, or each
//! consumer to a range of producers; ALL_TO_ALL edges connect every pair.
//! Global partitioning sends everything to subtask 0, so only those channels
//! are wired. This is the "parallel view" of the dataflow.

use super::job_graph::{JobGraph, VertexIdx};
use super::stream_graph::{DistributionPattern, Partitioner};
use serde::{Deserialize, Serialize};

/// One subtask of a job vertex (Flink's `ExecutionVertex`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ExecutionVertexId {
    /// The job vertex.
    pub vertex: VertexIdx,
    /// The subtask index, `0..parallelism`.
    pub subtask: u32,
}

/// One channel: a producer subtask's partition feeding a consumer subtask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Channel {
    /// The producing subtask.
    pub from: u32,
    /// The consuming subtask.
    pub to: u32,
}

/// The channels of one job edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionEdge {
    /// Index in [`JobGraph::edges`].
    pub job_edge: usize,
    /// All channels, ordered by producer then consumer.
    pub channels: Vec<Channel>,
}

/// The parallel dataflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionGraph {
    /// Parallelism per job vertex (its subtasks are `0..p`).
    pub parallelism: Vec<u32>,
    /// Channels per job edge, in job-edge order.
    pub edges: Vec<ExecutionEdge>,
}

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

impl ExecutionGraph {
    /// Expands a JobGraph by parallelism.
    pub fn from_job_graph(jg: &JobGraph) -> ExecutionGraph {
        let parallelism: Vec<u32> = jg.vertices.iter().map(|v| v.parallelism).collect();
        let edges = jg
            .edges
            .iter()
            .enumerate()
            .map(|(i, e)| ExecutionEdge {
                job_edge: i,
                channels: wire(e.partitioner, parallelism[e.source], parallelism[e.target]),
            })
            .collect();
        ExecutionGraph { parallelism, edges }
    }

    /// Every subtask, vertex by vertex.
    pub fn execution_vertices(&self) -> impl Iterator<Item = ExecutionVertexId> + '_ {
        self.parallelism
            .iter()
            .enumerate()
            .flat_map(|(vertex, &p)| {
                (0..p).map(move |subtask| ExecutionVertexId { vertex, subtask })
            })
    }

    /// Number of subtasks in all.
    pub fn subtask_count(&self) -> u32 {
        self.parallelism.iter().sum()
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
