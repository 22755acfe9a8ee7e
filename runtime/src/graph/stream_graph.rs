//! The StreamGraph: the program as the user wrote it, one node per operator.
//!
//! Flink's `StreamGraph` (package `org.apache.flink.streaming.api.graph`) is
//! what a DataStream program builds before any optimisation: `StreamNode`s for
//! operators and `StreamEdge`s carrying a `StreamPartitioner`. The client later
//! chains it into a [`JobGraph`](super::JobGraph). Here it is built either from
//! a job file ([`crate::jobfile`]) or from the Rust builder ([`crate::api`]),
//! and both end in [`StreamGraph::validate`], which applies the checks Flink's
//! client applies (forward across a parallelism change, keyed operators
//! without `keyBy`, mistyped functions).

use crate::operators::{KeySelector, KindClass, OperatorKind, ValueType};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Index of a node in [`StreamGraph::nodes`].
pub type NodeIdx = usize;

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

    /// Whether the JobMaster wires this edge subtask-to-few (POINTWISE) or
    /// subtask-to-all (ALL_TO_ALL).
    pub fn distribution(self) -> DistributionPattern {
        match self {
            Partitioner::Forward | Partitioner::Rescale => DistributionPattern::Pointwise,
            _ => DistributionPattern::AllToAll,
        }
    }
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

/// The whole program before optimisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamGraph {
    /// Job name.
    pub job_name: String,
    /// Job-level switch; false is Flink's `env.disableOperatorChaining()`.
    pub chaining_enabled: bool,
    /// Operators in declaration order.
    pub nodes: Vec<StreamNode>,
    /// Edges in declaration order (the order of each node's inputs).
    pub edges: Vec<StreamEdge>,
    /// Checkpoint interval in milliseconds; `None` means checkpointing is off.
    pub checkpoint_interval_ms: Option<u64>,
    /// Aligned or unaligned checkpoints.
    pub checkpoint_mode: crate::job_config::CheckpointMode,
    /// Restart strategy; `None` takes Flink's default for the checkpointing setting.
    pub restart: Option<crate::job_config::RestartStrategy>,
    /// What restarts after a failure.
    pub failover: crate::job_config::FailoverStrategy,
}

/// A program that Flink's client would refuse, located by node or edge so
/// the job-file layer can point at the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphError {
    /// `parallelism = 0`.
    ZeroParallelism {
        /// The node.
        node: NodeIdx,
    },
    /// An explicit forward edge between operators of different parallelism.
    ForwardParallelismChange {
        /// The edge.
        edge: usize,
        /// Upstream parallelism.
        upstream: u32,
        /// Downstream parallelism.
        downstream: u32,
    },
    /// A keyed operator whose input is not hash-partitioned.
    NotKeyed {
        /// The node.
        node: NodeIdx,
    },
    /// A source with inputs, or another operator without.
    Inputs {
        /// The node.
        node: NodeIdx,
        /// What is wrong.
        message: String,
    },
    /// A sink that feeds another operator.
    SinkWithOutput {
        /// The edge leaving the sink.
        edge: usize,
    },
    /// A function applied to records it does not accept.
    Type {
        /// The node.
        node: NodeIdx,
        /// What is wrong.
        message: String,
    },
    /// The graph has a cycle through this node.
    Cycle {
        /// A node on the cycle.
        node: NodeIdx,
    },
}

impl GraphError {
    /// A one-line description and a suggested fix.
    pub fn describe(&self, g: &StreamGraph) -> (String, String) {
        let name = |n: NodeIdx| g.nodes[n].id.clone();
        match self {
            GraphError::ZeroParallelism { node } => (
                format!("operator `{}` has parallelism 0", name(*node)),
                "parallelism must be at least 1".into(),
            ),
            GraphError::ForwardParallelismChange {
                edge,
                upstream,
                downstream,
            } => {
                let e = &g.edges[*edge];
                (
                    format!(
                        "Forward partitioning does not allow change of parallelism: \
                         `{}` has parallelism {upstream}, `{}` has {downstream}",
                        name(e.source),
                        name(e.target)
                    ),
                    "use partition = \"rebalance\" (or \"rescale\"), or give both operators \
                     the same parallelism"
                        .into(),
                )
            }
            GraphError::NotKeyed { node } => (
                format!(
                    "`{}` is a keyed operator ({}) but its input is not keyed",
                    name(*node),
                    g.nodes[*node].kind.kind_name()
                ),
                "add partition = \"hash\" and key = \"f0\" (Flink's keyBy) to this operator".into(),
            ),
            GraphError::Inputs { message, .. } => (message.clone(), String::new()),
            GraphError::SinkWithOutput { edge } => (
                format!(
                    "`{}` reads from `{}`, which is a sink and has no output",
                    name(g.edges[*edge].target),
                    name(g.edges[*edge].source)
                ),
                "read from the operator before the sink instead".into(),
            ),
            GraphError::Type { node, message } => (
                format!("operator `{}`: {message}", name(*node)),
                "change `fn` or the operator before it".into(),
            ),
            GraphError::Cycle { node } => (
                format!("the dataflow has a cycle through `{}`", name(*node)),
                "a dataflow must be acyclic: follow the `input`s and remove the loop".into(),
            ),
        }
    }
}

impl StreamGraph {
    /// An empty program.
    pub fn new(job_name: impl Into<String>) -> Self {
        StreamGraph {
            job_name: job_name.into(),
            chaining_enabled: true,
            nodes: Vec::new(),
            edges: Vec::new(),
            checkpoint_interval_ms: None,
            checkpoint_mode: Default::default(),
            restart: None,
            failover: Default::default(),
        }
    }

    /// The restart strategy in effect (Flink's default when none is set).
    pub fn restart_strategy(&self) -> crate::job_config::RestartStrategy {
        self.restart.clone().unwrap_or_else(|| {
            crate::job_config::RestartStrategy::default_for(self.checkpoint_interval_ms.is_some())
        })
    }

    /// Edge indices into `node`, in input order.
    pub fn in_edges(&self, node: NodeIdx) -> impl Iterator<Item = usize> + '_ {
        self.edges
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.target == node)
            .map(|(i, _)| i)
    }

    /// Edge indices out of `node`, in declaration order.
    pub fn out_edges(&self, node: NodeIdx) -> impl Iterator<Item = usize> + '_ {
        self.edges
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.source == node)
            .map(|(i, _)| i)
    }

    /// The partitioner Flink picks when the program names none: forward at
    /// equal parallelism, rebalance otherwise.
    pub fn default_partitioner(upstream: u32, downstream: u32) -> Partitioner {
        if upstream == downstream {
            Partitioner::Forward
        } else {
            Partitioner::Rebalance
        }
    }

    /// Nodes in a topological order that keeps declaration order among
    /// ready nodes (Kahn's algorithm), or the cycle it found.
    pub fn topological_order(&self) -> Result<Vec<NodeIdx>, GraphError> {
        let mut indeg = vec![0usize; self.nodes.len()];
        for e in &self.edges {
            indeg[e.target] += 1;
        }
        let mut order = Vec::with_capacity(self.nodes.len());
        let mut done = vec![false; self.nodes.len()];
        while let Some(n) = (0..self.nodes.len()).find(|&n| !done[n] && indeg[n] == 0) {
            done[n] = true;
            order.push(n);
            for e in self.out_edges(n) {
                indeg[self.edges[e].target] -= 1;
            }
        }
        match (0..self.nodes.len()).find(|&n| !done[n]) {
            // The first undone node may merely sit behind the cycle; walk
            // inputs among undone nodes until a node repeats: that one is on it.
            Some(start) => {
                let mut seen = vec![false; self.nodes.len()];
                let mut n = start;
                while !seen[n] {
                    seen[n] = true;
                    n = self
                        .in_edges(n)
                        .map(|e| self.edges[e].source)
                        .find(|&s| !done[s])
                        .unwrap_or(n);
                }
                Err(GraphError::Cycle { node: n })
            }
            None => Ok(order),
        }
    }

    /// Every check Flink's client makes before it builds a JobGraph, and the
    /// record types. Returns the first problem in declaration order.
    pub fn validate(&self) -> Result<(), GraphError> {
        for (i, n) in self.nodes.iter().enumerate() {
            if n.parallelism == 0 {
                return Err(GraphError::ZeroParallelism { node: i });
            }
            let inputs = self.in_edges(i).count();
            match n.kind.class() {
                KindClass::Source if inputs > 0 => {
                    return Err(GraphError::Inputs {
                        node: i,
                        message: format!(
                            "`{}` is a source ({}) and cannot have inputs",
                            n.id,
                            n.kind.kind_name()
                        ),
                    });
                }
                KindClass::Source => {}
                _ if inputs == 0 => {
                    return Err(GraphError::Inputs {
                        node: i,
                        message: format!(
                            "`{}` ({}) has no input: add input = \"<id>\"",
                            n.id,
                            n.kind.kind_name()
                        ),
                    });
                }
                _ => {}
            }
        }
        for (i, e) in self.edges.iter().enumerate() {
            let (up, down) = (&self.nodes[e.source], &self.nodes[e.target]);
            if up.kind.class() == KindClass::Sink {
                return Err(GraphError::SinkWithOutput { edge: i });
            }
            if e.partitioner == Partitioner::Forward && up.parallelism != down.parallelism {
                return Err(GraphError::ForwardParallelismChange {
                    edge: i,
                    upstream: up.parallelism,
                    downstream: down.parallelism,
                });
            }
        }
        for (i, n) in self.nodes.iter().enumerate() {
            if n.kind.class() == KindClass::Keyed
                && self
                    .in_edges(i)
                    .any(|e| !matches!(self.edges[e].partitioner, Partitioner::Hash(_)))
            {
                return Err(GraphError::NotKeyed { node: i });
            }
        }
        let order = self.topological_order()?;
        let mut types: Vec<Option<ValueType>> = vec![None; self.nodes.len()];
        for n in order {
            let mut input: Option<ValueType> = None;
            for e in self.in_edges(n) {
                let t = types[self.edges[e].source];
                input = match (input, t) {
                    (None, t) => t,
                    (Some(a), Some(b)) if a == b => Some(a),
                    (Some(_), _) => Some(ValueType::Any),
                };
            }
            let node = &self.nodes[n];
            let out = node
                .kind
                .output_type(input)
                .map_err(|message| GraphError::Type { node: n, message })?;
            if node.kind.class() == KindClass::Keyed
                && let Some(e) = self.in_edges(n).next()
                && let Partitioner::Hash(KeySelector::F0) = self.edges[e].partitioner
                && input.is_some_and(|t| t != ValueType::Pair && t != ValueType::Any)
            {
                return Err(GraphError::Type {
                    node: n,
                    message: format!(
                        "key = \"f0\" needs (key, count) pairs but the input carries {}",
                        input.unwrap_or(ValueType::Any)
                    ),
                });
            }
            types[n] = Some(out);
        }
        Ok(())
    }
}
