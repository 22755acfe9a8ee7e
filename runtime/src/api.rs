//! The DataStream-style builder: mini-flink programs written in Rust.
//!
//! Mirrors Flink's `StreamExecutionEnvironment` / `DataStream` API: every call
//! adds a transformation, partitioning calls (`rebalance`, `key_by`, …) set
//! how the next operator reads, and modifiers (`name`, `set_parallelism`,
//! `start_new_chain`, `disable_chaining`, `slot_sharing_group`) change the
//! operator just added. [`StreamEnv::build`] resolves the defaults exactly as
//! a job file does (the job-file loader uses the same [`GraphBuilder`]), so
//! the same pipeline gives the same [`StreamGraph`] either way.
//!
//! ```
//! use runtime::api::StreamEnv;
//! use runtime::operators::{FlatMapFn, KeySelector, MapFn};
//!
//! let env = StreamEnv::new("wordcount").parallelism(2);
//! env.words(["to be or not to be"]).name("Source: Words").set_parallelism(1)
//!     .flat_map(FlatMapFn::Tokenize).name("Split")
//!     .map(MapFn::ToPair).name("Pair")
//!     .key_by(KeySelector::F0)
//!     .sum().name("Sum")
//!     .collect().name("Sink: Collect");
//! let graph = env.build().unwrap();
//! let job = runtime::graph::JobGraph::from_stream_graph(&graph);
//! let names: Vec<&str> = job.vertices().map(|v| v.name.as_str()).collect();
//! assert_eq!(names, ["Source: Words", "Split -> Pair", "Sum -> Sink: Collect"]);
//! assert_eq!(job.slots_needed(), 2);
//! ```

use crate::graph::{
    ChainingStrategy, GraphError, NodeIdx, Partitioner, StreamEdge, StreamGraph, StreamNode,
};
use crate::operators::{FilterFn, FlatMapFn, KeySelector, MapFn, OperatorKind, ReduceFn};
use std::cell::RefCell;
use std::rc::Rc;

/// An operator as declared, before defaults are resolved.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    /// Unique id.
    pub id: String,
    /// Display name; `None` takes the kind's default.
    pub name: Option<String>,
    /// What it does.
    pub kind: OperatorKind,
    /// `None` takes the job's default parallelism.
    pub parallelism: Option<u32>,
    /// Chaining request.
    pub chaining: ChainingStrategy,
    /// `None` inherits from the inputs ("default" at sources).
    pub slot_sharing_group: Option<String>,
}

/// The shared lower half of the job-file loader and [`StreamEnv`]: collects
/// nodes and edges and resolves Flink's defaults in [`GraphBuilder::build`].
#[derive(Debug, Clone)]
pub struct GraphBuilder {
    /// Job name.
    pub job_name: String,
    /// Default parallelism (Flink's `parallelism.default`, 1 if unset).
    pub parallelism: u32,
    /// Job-level chaining switch.
    pub chaining_enabled: bool,
    /// Checkpoint interval, if checkpointing is on.
    pub checkpoint_interval_ms: Option<u64>,
    /// Aligned or unaligned checkpoints.
    pub checkpoint_mode: crate::job_config::CheckpointMode,
    /// Completed checkpoints retained (`None`: Flink's default, 1).
    pub checkpoints_retained: Option<u32>,
    /// Restart strategy (`None`: Flink's default).
    pub restart: Option<crate::job_config::RestartStrategy>,
    /// Failover strategy.
    pub failover: crate::job_config::FailoverStrategy,
    /// Declared nodes.
    pub nodes: Vec<NodeSpec>,
    /// Declared edges: source, target, explicit partitioner.
    pub edges: Vec<(NodeIdx, NodeIdx, Option<Partitioner>)>,
}

impl GraphBuilder {
    /// An empty job with parallelism 1 and chaining on.
    pub fn new(job_name: impl Into<String>) -> Self {
        GraphBuilder {
            job_name: job_name.into(),
            parallelism: 1,
            chaining_enabled: true,
            checkpoint_interval_ms: None,
            checkpoint_mode: Default::default(),
            checkpoints_retained: None,
            restart: None,
            failover: Default::default(),
            nodes: Vec::new(),
            edges: Vec::new(),
        }
    }

    /// Resolves names, parallelism, default partitioners and inherited slot
    /// sharing groups, then validates.
    pub fn build(&self) -> Result<StreamGraph, GraphError> {
        let mut g = StreamGraph::new(self.job_name.clone());
        g.chaining_enabled = self.chaining_enabled;
        g.checkpoint_interval_ms = self.checkpoint_interval_ms;
        g.checkpoint_mode = self.checkpoint_mode;
        g.checkpoints_retained = self.checkpoints_retained;
        g.restart = self.restart.clone();
        g.failover = self.failover;
        for n in &self.nodes {
            g.add_node(StreamNode {
                id: n.id.clone(),
                name: n
                    .name
                    .clone()
                    .unwrap_or_else(|| n.kind.default_name().to_string()),
                kind: n.kind.clone(),
                parallelism: n.parallelism.unwrap_or(self.parallelism),
                chaining: n.chaining,
                slot_sharing_group: String::new(),
            });
        }
        for &(source, target, p) in &self.edges {
            let partitioner = p.unwrap_or_else(|| {
                StreamGraph::default_partitioner(
                    g.node(source).parallelism,
                    g.node(target).parallelism,
                )
            });
            g.add_edge(StreamEdge {
                source,
                target,
                partitioner,
            });
        }
        // Slot sharing groups are inherited along the dataflow, so resolve
        // them in topological order (which also finds cycles).
        for n in g.topological_order()? {
            let group = match &self.nodes[n].slot_sharing_group {
                Some(s) => s.clone(),
                None => {
                    let mut groups = g
                        .in_edges(n)
                        .map(|e| g.node(g.edge(e).source).slot_sharing_group.clone());
                    match groups.next() {
                        Some(first) if groups.all(|x| x == first) => first,
                        _ => "default".to_string(),
                    }
                }
            };
            g.node_mut(n).slot_sharing_group = group;
        }
        g.validate()?;
        Ok(g)
    }
}

/// The environment a Rust program builds its dataflow in
/// (Flink's `StreamExecutionEnvironment`).
#[derive(Debug, Clone)]
pub struct StreamEnv {
    inner: Rc<RefCell<GraphBuilder>>,
}

/// A stream of records: the output of one operator, or a union of several
/// (Flink's `DataStream`).
#[derive(Debug, Clone)]
pub struct DataStream {
    inner: Rc<RefCell<GraphBuilder>>,
    /// The operators whose output this stream is.
    heads: Vec<NodeIdx>,
    /// How the next operator reads this stream; `None` = Flink's default.
    partitioner: Option<Partitioner>,
}

/// A stream partitioned by key (Flink's `KeyedStream`).
#[derive(Debug, Clone)]
pub struct KeyedStream {
    stream: DataStream,
}

impl StreamEnv {
    /// A new program with parallelism 1 and chaining on.
    pub fn new(job_name: &str) -> Self {
        StreamEnv {
            inner: Rc::new(RefCell::new(GraphBuilder::new(job_name))),
        }
    }

    /// Sets the default parallelism.
    pub fn parallelism(self, p: u32) -> Self {
        self.inner.borrow_mut().parallelism = p;
        self
    }

    /// Flink's `env.disableOperatorChaining()`.
    pub fn disable_operator_chaining(self) -> Self {
        self.inner.borrow_mut().chaining_enabled = false;
        self
    }

    /// Flink's `env.setRestartStrategy(..)`.
    pub fn restart_strategy(self, s: crate::job_config::RestartStrategy) -> Self {
        self.inner.borrow_mut().restart = Some(s);
        self
    }

    /// Flink's `env.enableCheckpointing(interval)`.
    pub fn enable_checkpointing(self, interval_ms: u64) -> Self {
        self.inner.borrow_mut().checkpoint_interval_ms = Some(interval_ms);
        self
    }

    fn source(&self, kind: OperatorKind) -> DataStream {
        let node = add_node(&self.inner, kind, &[]);
        DataStream {
            inner: self.inner.clone(),
            heads: vec![node],
            partitioner: None,
        }
    }

    /// The numbers `from..=to` (Flink's `fromSequence`).
    pub fn sequence(&self, from: i64, to: i64) -> DataStream {
        self.source(OperatorKind::Sequence { from, to })
    }

    /// Lines of text.
    pub fn words<S: Into<String>>(&self, lines: impl IntoIterator<Item = S>) -> DataStream {
        self.source(OperatorKind::Words {
            lines: lines.into_iter().map(Into::into).collect(),
        })
    }

    /// `count` keyed records over `keys` keys at `rate` records/s per subtask.
    pub fn generator(&self, keys: u64, count: u64, rate: u64) -> DataStream {
        self.source(OperatorKind::Generator { keys, count, rate })
    }

    /// The StreamGraph of the program, with Flink's defaults resolved.
    pub fn build(&self) -> Result<StreamGraph, GraphError> {
        self.inner.borrow().build()
    }
}

fn add_node(
    inner: &Rc<RefCell<GraphBuilder>>,
    kind: OperatorKind,
    inputs: &[(NodeIdx, Option<Partitioner>)],
) -> NodeIdx {
    let mut b = inner.borrow_mut();
    let idx = b.nodes.len();
    let id = format!("{}-{}", kind.kind_name(), idx + 1);
    b.nodes.push(NodeSpec {
        id,
        name: None,
        kind,
        parallelism: None,
        chaining: ChainingStrategy::Default,
        slot_sharing_group: None,
    });
    for &(src, p) in inputs {
        b.edges.push((src, idx, p));
    }
    idx
}

impl DataStream {
    fn then(&self, kind: OperatorKind) -> DataStream {
        let inputs: Vec<_> = self.heads.iter().map(|&h| (h, self.partitioner)).collect();
        let node = add_node(&self.inner, kind, &inputs);
        DataStream {
            inner: self.inner.clone(),
            heads: vec![node],
            partitioner: None,
        }
    }

    fn modify(self, f: impl Fn(&mut NodeSpec)) -> Self {
        {
            let mut b = self.inner.borrow_mut();
            for &h in &self.heads {
                f(&mut b.nodes[h]);
            }
        }
        self
    }

    fn partitioned(mut self, p: Partitioner) -> Self {
        self.partitioner = Some(p);
        self
    }

    /// Names the operator just added.
    pub fn name(self, name: &str) -> Self {
        self.modify(|n| n.name = Some(name.to_string()))
    }

    /// Sets the id of the operator just added (Flink's `uid`).
    pub fn uid(self, id: &str) -> Self {
        self.modify(|n| n.id = id.to_string())
    }

    /// Sets the parallelism of the operator just added.
    pub fn set_parallelism(self, p: u32) -> Self {
        self.modify(|n| n.parallelism = Some(p))
    }

    /// Flink's `startNewChain()`.
    pub fn start_new_chain(self) -> Self {
        self.modify(|n| n.chaining = ChainingStrategy::StartNewChain)
    }

    /// Flink's `disableChaining()`.
    pub fn disable_chaining(self) -> Self {
        self.modify(|n| n.chaining = ChainingStrategy::Disable)
    }

    /// Flink's `slotSharingGroup(name)`.
    pub fn slot_sharing_group(self, group: &str) -> Self {
        self.modify(|n| n.slot_sharing_group = Some(group.to_string()))
    }

    /// Applies a map function.
    pub fn map(&self, f: MapFn) -> DataStream {
        self.then(OperatorKind::Map(f))
    }

    /// Applies a filter.
    pub fn filter(&self, f: FilterFn) -> DataStream {
        self.then(OperatorKind::Filter(f))
    }

    /// Applies a flat-map function.
    pub fn flat_map(&self, f: FlatMapFn) -> DataStream {
        self.then(OperatorKind::FlatMap(f))
    }

    /// Flink's `union`: the next operator reads both streams.
    pub fn union(&self, other: &DataStream) -> DataStream {
        let mut heads = self.heads.clone();
        heads.extend(&other.heads);
        DataStream {
            inner: self.inner.clone(),
            heads,
            partitioner: self.partitioner,
        }
    }

    /// Next operator reads subtask i → subtask i.
    pub fn forward(self) -> Self {
        self.partitioned(Partitioner::Forward)
    }
    /// Next operator reads round robin.
    pub fn rebalance(self) -> Self {
        self.partitioned(Partitioner::Rebalance)
    }
    /// Next operator reads round robin within local groups.
    pub fn rescale(self) -> Self {
        self.partitioned(Partitioner::Rescale)
    }
    /// Next operator reads a random subtask's output.
    pub fn shuffle(self) -> Self {
        self.partitioned(Partitioner::Shuffle)
    }
    /// Next operator gets every record in every subtask.
    pub fn broadcast(self) -> Self {
        self.partitioned(Partitioner::Broadcast)
    }
    /// Next operator gets everything in subtask 0.
    pub fn global(self) -> Self {
        self.partitioned(Partitioner::Global)
    }

    /// Partitions by key (Flink's `keyBy`).
    pub fn key_by(&self, key: KeySelector) -> KeyedStream {
        KeyedStream {
            stream: self.clone().partitioned(Partitioner::Hash(key)),
        }
    }

    /// Sink that discards.
    pub fn discard(&self) -> DataStream {
        self.then(OperatorKind::Discard { rate: 0 })
    }
    /// Sink that prints.
    pub fn print(&self) -> DataStream {
        self.then(OperatorKind::Print { rate: 0 })
    }
    /// Sink whose records the client receives.
    pub fn collect(&self) -> DataStream {
        self.then(OperatorKind::Collect { rate: 0 })
    }
}

impl KeyedStream {
    /// Rolling sum of the pair's count per key.
    pub fn sum(&self) -> DataStream {
        self.stream.then(OperatorKind::Sum)
    }
    /// Rolling count per key.
    pub fn count(&self) -> DataStream {
        self.stream.then(OperatorKind::Count)
    }
    /// Rolling reduce per key.
    pub fn reduce(&self, f: ReduceFn) -> DataStream {
        self.stream.then(OperatorKind::Reduce(f))
    }
    /// Count per key per tumbling window.
    pub fn window_count(&self, size_ms: u64) -> DataStream {
        self.stream.then(OperatorKind::WindowCount { size_ms })
    }
}
