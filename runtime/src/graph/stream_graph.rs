//! The StreamGraph: the program as the user wrote it, one node per operator.
//!
//! Flink's `StreamGraph` (package `org.apache.flink.streaming.api.graph`) is
//! what a DataStream program builds before any optimisation: `StreamNode`s for
//! operators and `StreamEdge`s carrying a `StreamPartitioner`. The client later
//! chains it into a [`JobGraph`](super::JobGraph). Here it is built either from
//! a job file ([`crate::jobfile`]) or from the Rust builder ([`crate::api`]),
//! and both end in [`StreamGraph::validate`], which applies the checks Flink's
//! client applies (forward across a parallelism change, keyed operators
//! without `keyBy`, mistyped functions, cycles) and answers a
//! [`GraphError`].
//!
//! The operators and edges live in a petgraph graph
//! ([`OrderedGraph`]) in declaration order; read them
//! with [`StreamGraph::node`], [`StreamGraph::nodes`], [`StreamGraph::edge`],
//! [`StreamGraph::in_edges`] and friends.

use super::error::GraphError;
use super::ordered_graph::{Endpoints, OrderedGraph};
use crate::operators::{KeySelector, KindClass, OperatorKind, ValueType};
use petgraph::Direction;
use petgraph::graph::DiGraph;
use serde::{Deserialize, Serialize};
use std::fmt;

pub use super::ids::NodeIdx;

/// How records are distributed from one operator's subtasks to the next
/// operator's subtasks (Flink's `StreamPartitioner` subclasses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Partitioner {
    /// Subtask i sends to subtask i (`ForwardPartitioner`); chainable.
    Forward,
    /// Round robin over all downstream subtasks (`RebalancePartitioner`).
    Rebalance,
    /// Round robin over a local group of downstream subtasks (`RescalePartitioner`).
    Rescale,
    /// Random downstream subtask (`ShufflePartitioner`), from a seeded RNG.
    Shuffle,
    /// By key group of the key (`KeyGroupStreamPartitioner`, i.e. `keyBy`).
    Hash(KeySelector),
    /// Every record to every downstream subtask (`BroadcastPartitioner`).
    Broadcast,
    /// Everything to downstream subtask 0 (`GlobalPartitioner`).
    Global,
}

impl Partitioner {
    /// Flink's ship strategy name, as `GET /jobs/:id/plan` prints it.
    pub fn ship_strategy(self) -> &'static str {
        match self {
            Partitioner::Forward => "FORWARD",
            Partitioner::Rebalance => "REBALANCE",
            Partitioner::Rescale => "RESCALE",
            Partitioner::Shuffle => "SHUFFLE",
            Partitioner::Hash(_) => "HASH",
            Partitioner::Broadcast => "BROADCAST",
            Partitioner::Global => "GLOBAL",
        }
    }

    /// The job-file spelling.
    pub fn file_name(self) -> &'static str {
        match self {
            Partitioner::Forward => "forward",
            Partitioner::Rebalance => "rebalance",
            Partitioner::Rescale => "rescale",
            Partitioner::Shuffle => "shuffle",
            Partitioner::Hash(_) => "hash",
            Partitioner::Broadcast => "broadcast",
            Partitioner::Global => "global",
        }
    }

    // ANCHOR: distribution
    /// Whether the JobMaster wires this edge subtask-to-few (POINTWISE) or
    /// subtask-to-all (ALL_TO_ALL).
    pub fn distribution(self) -> DistributionPattern {
        match self {
            Partitioner::Forward | Partitioner::Rescale => DistributionPattern::Pointwise,
            _ => DistributionPattern::AllToAll,
        }
    }
    // ANCHOR_END: distribution
}

impl fmt::Display for Partitioner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Partitioner::Hash(k) => write!(f, "HASH({})", k.as_str()),
            p => f.write_str(p.ship_strategy()),
        }
    }
}

/// Flink's `DistributionPattern`: how a job edge's subtasks connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DistributionPattern {
    /// Each producer talks to a few consumers (forward, rescale).
    Pointwise,
    /// Every producer talks to every consumer.
    AllToAll,
}

impl fmt::Display for DistributionPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DistributionPattern::Pointwise => "POINTWISE",
            DistributionPattern::AllToAll => "ALL_TO_ALL",
        })
    }
}

/// Flink's `ChainingStrategy` as a program sets it per operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ChainingStrategy {
    /// Chains with its neighbours when the rules allow (`ALWAYS`).
    #[default]
    Default,
    /// Starts a new chain but lets successors chain to it (`startNewChain()`, `HEAD`).
    StartNewChain,
    /// Never chains, on either side (`disableChaining()`, `NEVER`).
    Disable,
}

impl ChainingStrategy {
    /// The job-file spelling.
    pub fn file_name(self) -> &'static str {
        match self {
            ChainingStrategy::Default => "default",
            ChainingStrategy::StartNewChain => "start_new_chain",
            ChainingStrategy::Disable => "disable",
        }
    }
}

/// One operator of the program.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamNode {
    /// The operator's id in the job file (unique in the job); used for
    /// stable vertex ids, as Flink's `uid`.
    pub id: String,
    /// Display name ("Source: Seq").
    pub name: String,
    /// What it does.
    pub kind: OperatorKind,
    /// Number of parallel subtasks.
    pub parallelism: u32,
    /// The operator's chaining request.
    pub chaining: ChainingStrategy,
    /// Slot sharing group: subtasks of one group may share a slot.
    pub slot_sharing_group: String,
}

/// A connection between two operators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamEdge {
    /// Upstream node.
    pub source: NodeIdx,
    /// Downstream node.
    pub target: NodeIdx,
    /// How records are distributed.
    pub partitioner: Partitioner,
}

impl Endpoints for StreamEdge {
    fn endpoints(&self) -> (usize, usize) {
        (self.source, self.target)
    }
}

/// The whole program before optimisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamGraph {
    /// Job name.
    pub job_name: String,
    /// Job-level switch; false is Flink's `env.disableOperatorChaining()`.
    pub chaining_enabled: bool,
    /// Operators and their connections, both in declaration order (the
    /// order of a node's inputs is the order of its edges).
    graph: OrderedGraph<StreamNode, StreamEdge>,
    /// Checkpoint interval in milliseconds; `None` means checkpointing is off.
    pub checkpoint_interval_ms: Option<u64>,
    /// Aligned or unaligned checkpoints.
    pub checkpoint_mode: crate::job_config::CheckpointMode,
    /// Completed checkpoints kept in storage (`state.checkpoints.num-retained`);
    /// `None` is Flink's default, 1.
    pub checkpoints_retained: Option<u32>,
    /// Restart strategy; `None` takes Flink's default for the checkpointing setting.
    pub restart: Option<crate::job_config::RestartStrategy>,
    /// What restarts after a failure.
    pub failover: crate::job_config::FailoverStrategy,
}

impl StreamGraph {
    /// An empty program.
    pub fn new(job_name: impl Into<String>) -> Self {
        StreamGraph {
            job_name: job_name.into(),
            chaining_enabled: true,
            graph: OrderedGraph::new(),
            checkpoint_interval_ms: None,
            checkpoint_mode: Default::default(),
            checkpoints_retained: None,
            restart: None,
            failover: Default::default(),
        }
    }

    /// How many completed checkpoints are retained (at least 1).
    pub fn retained_checkpoints(&self) -> u32 {
        self.checkpoints_retained.unwrap_or(1).max(1)
    }

    /// The restart strategy in effect (Flink's default when none is set).
    pub fn restart_strategy(&self) -> crate::job_config::RestartStrategy {
        self.restart.clone().unwrap_or_else(|| {
            crate::job_config::RestartStrategy::default_for(self.checkpoint_interval_ms.is_some())
        })
    }

    /// Appends an operator; returns its index.
    pub fn add_node(&mut self, node: StreamNode) -> NodeIdx {
        self.graph.add_node(node)
    }

    /// Appends a connection between two operators already added; returns
    /// its index.
    pub fn add_edge(&mut self, edge: StreamEdge) -> usize {
        self.graph.add_edge(edge)
    }

    /// The operator at index `n`.
    pub fn node(&self, n: NodeIdx) -> &StreamNode {
        self.graph.node(n)
    }

    /// The operator at index `n`, to change its properties.
    pub fn node_mut(&mut self, n: NodeIdx) -> &mut StreamNode {
        self.graph.node_mut(n)
    }

    /// Operators in declaration order (index order).
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = &StreamNode> + '_ {
        self.graph.nodes()
    }

    /// Operators in declaration order, to change their properties.
    pub fn nodes_mut(&mut self) -> impl Iterator<Item = &mut StreamNode> + '_ {
        self.graph.nodes_mut()
    }

    /// Number of operators.
    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    /// The edge at index `e`.
    pub fn edge(&self, e: usize) -> &StreamEdge {
        self.graph.edge(e)
    }

    /// Edges in declaration order (index order).
    pub fn edges(&self) -> impl ExactSizeIterator<Item = &StreamEdge> + '_ {
        self.graph.edges()
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// The petgraph graph, for its algorithms.
    pub fn graph(&self) -> &DiGraph<StreamNode, StreamEdge> {
        self.graph.graph()
    }

    /// Edge indices into `node`, in input order.
    pub fn in_edges(&self, node: NodeIdx) -> impl Iterator<Item = usize> + use<> {
        self.graph.edges_of(node, Direction::Incoming)
    }

    /// Edge indices out of `node`, in declaration order.
    pub fn out_edges(&self, node: NodeIdx) -> impl Iterator<Item = usize> + use<> {
        self.graph.edges_of(node, Direction::Outgoing)
    }

    // ANCHOR: default_partitioner
    /// The partitioner Flink picks when the program names none: forward at
    /// equal parallelism, rebalance otherwise.
    pub fn default_partitioner(upstream: u32, downstream: u32) -> Partitioner {
        if upstream == downstream {
            Partitioner::Forward
        } else {
            Partitioner::Rebalance
        }
    }
    // ANCHOR_END: default_partitioner

    /// Nodes in a topological order that keeps declaration order among
    /// ready nodes (as Flink's `StreamingJobGraphGenerator` walks them), or
    /// the cycle, every operator on it named.
    pub fn topological_order(&self) -> Result<Vec<NodeIdx>, GraphError> {
        self.graph.topological_order().map_err(|nodes| {
            let reads = self
                .edges()
                .filter(|e| nodes.contains(&e.source) && nodes.contains(&e.target))
                .map(|e| {
                    (
                        self.node(e.target).id.clone(),
                        self.node(e.source).id.clone(),
                    )
                })
                .collect();
            GraphError::Cycle {
                ids: nodes.iter().map(|&n| self.node(n).id.clone()).collect(),
                nodes,
                reads,
            }
        })
    }

    /// Every check Flink's client makes before it builds a JobGraph, and the
    /// record types. Returns the first problem in declaration order.
    pub fn validate(&self) -> Result<(), GraphError> {
        for (i, n) in self.nodes().enumerate() {
            if n.parallelism == 0 {
                return Err(GraphError::ZeroParallelism {
                    node: i,
                    id: n.id.clone(),
                });
            }
            let inputs = self.in_edges(i).count();
            match n.kind.class() {
                KindClass::Source if inputs > 0 => {
                    return Err(GraphError::SourceWithInputs {
                        node: i,
                        id: n.id.clone(),
                        kind: n.kind.kind_name(),
                    });
                }
                KindClass::Source => {}
                _ if inputs == 0 => {
                    return Err(GraphError::NoInputs {
                        node: i,
                        id: n.id.clone(),
                        kind: n.kind.kind_name(),
                    });
                }
                _ => {}
            }
        }
        for (i, e) in self.edges().enumerate() {
            let (up, down) = (self.node(e.source), self.node(e.target));
            if up.kind.class() == KindClass::Sink {
                return Err(GraphError::SinkWithOutput {
                    edge: i,
                    sink: up.id.clone(),
                    reader: down.id.clone(),
                });
            }
            if e.partitioner == Partitioner::Forward && up.parallelism != down.parallelism {
                return Err(GraphError::ForwardParallelismChange {
                    edge: i,
                    upstream_id: up.id.clone(),
                    upstream: up.parallelism,
                    downstream_id: down.id.clone(),
                    downstream: down.parallelism,
                });
            }
        }
        for (i, n) in self.nodes().enumerate() {
            if n.kind.class() == KindClass::Keyed
                && self
                    .in_edges(i)
                    .any(|e| !matches!(self.edge(e).partitioner, Partitioner::Hash(_)))
            {
                return Err(GraphError::NotKeyed {
                    node: i,
                    id: n.id.clone(),
                    kind: n.kind.kind_name(),
                });
            }
        }
        let order = self.topological_order()?;
        let mut types: Vec<Option<ValueType>> = vec![None; self.node_count()];
        for n in order {
            let mut input: Option<ValueType> = None;
            for e in self.in_edges(n) {
                let t = types[self.edge(e).source];
                input = match (input, t) {
                    (None, t) => t,
                    (Some(a), Some(b)) if a == b => Some(a),
                    (Some(_), _) => Some(ValueType::Any),
                };
            }
            let node = self.node(n);
            let out = node
                .kind
                .output_type(input)
                .map_err(|mismatch| GraphError::Type {
                    node: n,
                    id: node.id.clone(),
                    mismatch,
                })?;
            if node.kind.class() == KindClass::Keyed
                && let Some(e) = self.in_edges(n).next()
                && let Partitioner::Hash(KeySelector::F0) = self.edge(e).partitioner
                && let Some(t) = input
                && t != ValueType::Pair
                && t != ValueType::Any
            {
                return Err(GraphError::KeyNeedsPairs {
                    node: n,
                    id: node.id.clone(),
                    input: t,
                });
            }
            types[n] = Some(out);
        }
        Ok(())
    }
}
