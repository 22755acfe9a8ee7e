//! A task: one subtask of one operator chain, running on a TaskManager.
//!
//! Flink runs each deployed subtask of a job vertex as a `Task` in its own
//! thread; inside it an `OperatorChain` hands records from operator to
//! operator by plain method calls, and only the chain's ends touch the
//! network stack: an `InputGate` over all input channels and one
//! `RecordWriter` per output edge, which routes each record by the edge's
//! partitioner to a channel and batches records into buffers. Here a task is
//! a tokio task (one per subtask, as Flink's thread), and the chain is
//! [`Chain`], a synchronous walk of the chain's operator tree.
//!
//! Timing words used in metrics, as Flink uses them: *back-pressured* is
//! time spent waiting for room in an output channel; *idle* is time spent
//! waiting for input.

use super::network::{Buffer, InputChannel, NetworkEnvironment, OutputChannel};
use crate::config::TaskManagerConfig;
use crate::events::{EventKind, HostCtx, TaskCounters};
use crate::graph::{JobGraph, NodeIdx, Partitioner};
use crate::job_config::CheckpointMode;
use crate::jobmanager::checkpoint::snapshot::{OperatorSnapshot, TaskSnapshot};
use crate::operators::{
    KeySelector, KindClass, OperatorKind, Value, generator_record, key_group,
    operator_index_for_key_group,
};
use crate::rpc::{
    ChannelKey, CheckpointBarrier, ExecutionAttemptId, StreamElement, TaskDeploymentDescriptor, Txn,
};
use crate::state::ExecutionState;

use crate::rng::SeededRng;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tokio::sync::mpsc;

/// What a task tells its TaskExecutor.
#[derive(Debug)]
pub enum TaskReport {
    /// A state change with the counters so far.
    State {
        /// The attempt.
        attempt: ExecutionAttemptId,
        /// New state.
        state: ExecutionState,
        /// Failure cause.
        cause: Option<String>,
        /// Counters.
        counters: TaskCounters,
    },
    /// Counters of a running task, periodically.
    Metrics {
        /// The attempt.
        attempt: ExecutionAttemptId,
        /// Counters.
        counters: TaskCounters,
    },
    /// Records reached a collect sink.
    Collected {
        /// The attempt.
        attempt: ExecutionAttemptId,
        /// Their transaction.
        txn: Txn,
        /// The records.
        records: Vec<Value>,
    },
    /// The task's snapshot for a checkpoint.
    Ack {
        /// The attempt.
        attempt: ExecutionAttemptId,
        /// Checkpoint id.
        checkpoint: u64,
        /// Encoded [`TaskSnapshot`].
        state: Vec<u8>,
        /// Time spent aligning (ms).
        alignment_ms: u64,
    },
}

/// What the TaskExecutor tells a running task.
#[derive(Debug, Clone, Copy)]
pub enum TaskControl {
    /// (Sources) inject this barrier; with `stop`, end after it.
    Trigger {
        /// The barrier.
        barrier: CheckpointBarrier,
        /// Stop after the barrier (stop-with-savepoint).
        stop: bool,
    },
}

/// One output edge: routes records to channels and batches them.
struct RecordWriter {
    edge: u32,
    partitioner: Partitioner,
    consumer_parallelism: u32,
    /// Consumer subtask, channel, remote?, pending buffer, records and bytes since last report.
    channels: Vec<ChannelOut>,
    round_robin: usize,
}

struct ChannelOut {
    to: u32,
    tx: OutputChannel,
    remote: bool,
    pending: Buffer,
    records: u64,
    bytes: u64,
}

/// The operator chain of the task, with its state.
struct Chain {
    /// Operators (StreamGraph nodes) in chain order.
    ops: Vec<ChainOp>,
    collected: Vec<Value>,
    print: Option<String>,
    /// Microseconds slow sinks still owe.
    sink_debt_us: u64,
    records_out: u64,
    bytes_out: u64,
}

struct ChainOp {
    kind: OperatorKind,
    /// Chained successors (positions in `ops`).
    chained: Vec<usize>,
    /// Record writers fed by this op (indices into the writer list).
    writers: Vec<usize>,
    /// Key selector of a keyed head.
    key: KeySelector,
    /// Keyed state: key → accumulator.
    state: BTreeMap<Value, i64>,
    /// Window state: window start → key → count.
    windows: BTreeMap<u64, BTreeMap<Value, i64>>,
}

struct Output<'a> {
    writers: &'a mut [RecordWriter],
    rng: &'a mut SeededRng,
    buffer_records: usize,
}

impl Chain {
    fn push(&mut self, pos: usize, v: Value, out: &mut Output<'_>, now_ms: u64) {
        let op = &mut self.ops[pos];
        let mut emitted: Vec<Value> = Vec::new();
        match &op.kind {
            OperatorKind::Sequence { .. }
            | OperatorKind::Words { .. }
            | OperatorKind::Generator { .. } => emitted.push(v),
            OperatorKind::Map(f) => emitted.push(f.apply(v)),
            OperatorKind::Filter(f) => {
                if f.test(&v) {
                    emitted.push(v)
                }
            }
            OperatorKind::FlatMap(f) => f.apply(&v, &mut emitted),
            OperatorKind::Sum | OperatorKind::Reduce(_) => {
                let key = op.key.key_of(&v);
                let n = match &v {
                    Value::Pair(_, n) => *n,
                    _ => 1,
                };
                let acc = match (op.state.get(&key), &op.kind) {
                    (Some(a), OperatorKind::Reduce(f)) => f.combine(*a, n),
                    (Some(a), _) => a.wrapping_add(n),
                    (None, _) => n,
                };
                op.state.insert(key.clone(), acc);
                emitted.push(Value::Pair(Box::new(key), acc));
            }
            OperatorKind::Count => {
                let key = op.key.key_of(&v);
                let acc = op.state.get(&key).copied().unwrap_or(0) + 1;
                op.state.insert(key.clone(), acc);
                emitted.push(Value::Pair(Box::new(key), acc));
            }
            OperatorKind::WindowCount { size_ms } => {
                let start = now_ms - now_ms % size_ms;
                let key = op.key.key_of(&v);
                *op.windows.entry(start).or_default().entry(key).or_insert(0) += 1;
            }
            OperatorKind::Discard { rate }
            | OperatorKind::Print { rate }
            | OperatorKind::Collect { rate } => {
                if *rate > 0 {
                    self.sink_debt_us += 1_000_000 / rate;
                }
                self.records_out += 1;
                match &op.kind {
                    OperatorKind::Print { .. } => {
                        if let Some(prefix) = &self.print {
                            // Like Flink's `.out` file; a closed stdout must
                            // not fail the task.
                            use std::io::Write as _;
                            let _ = writeln!(std::io::stdout(), "{prefix}> {v}");
                        }
                    }
                    OperatorKind::Collect { .. } => self.collected.push(v),
                    _ => {}
                }
                return;
            }
        }
        self.forward(pos, emitted, out);
    }

    fn forward(&mut self, pos: usize, emitted: Vec<Value>, out: &mut Output<'_>) {
        let chained = self.ops[pos].chained.clone();
        let writers = self.ops[pos].writers.clone();
        for v in emitted {
            for &w in &writers {
                self.records_out += 1;
                self.bytes_out += out.writers[w].write(v.clone(), out.rng, out.buffer_records);
            }
            for &c in &chained {
                self.push(c, v.clone(), out, 0);
            }
        }
    }

    /// Fires processing-time windows that ended by `now_ms` (all at end of input).
    fn fire_windows(&mut self, now_ms: Option<u64>, out: &mut Output<'_>) {
        for pos in 0..self.ops.len() {
            let OperatorKind::WindowCount { size_ms } = self.ops[pos].kind else {
                continue;
            };
            let due: Vec<u64> = self.ops[pos]
                .windows
                .keys()
                .copied()
                .filter(|s| now_ms.is_none_or(|now| s + size_ms <= now))
                .collect();
            for start in due {
                let counts = self.ops[pos].windows.remove(&start).unwrap_or_default();
                let emitted = counts
                    .into_iter()
                    .map(|(k, n)| Value::Pair(Box::new(k), n))
                    .collect();
                self.forward(pos, emitted, out);
            }
        }
    }
}

impl Chain {
    /// The state of every chained operator (and a source's offset).
    fn snapshot(&self, source_offset: Option<u64>) -> TaskSnapshot {
        TaskSnapshot {
            input_channel_state: Vec::new(),
            output_channel_state: Vec::new(),
            operators: self
                .ops
                .iter()
                .enumerate()
                .map(|(i, op)| OperatorSnapshot {
                    source_offset: if i == 0 { source_offset } else { None },
                    keyed: op.state.iter().map(|(k, v)| (k.clone(), *v)).collect(),
                    windows: op
                        .windows
                        .iter()
                        .map(|(s, m)| (*s, m.iter().map(|(k, v)| (k.clone(), *v)).collect()))
                        .collect(),
                })
                .collect(),
        }
    }

    /// Loads a snapshot; returns a source's offset.
    fn restore(&mut self, snap: &TaskSnapshot) -> Option<u64> {
        for (op, st) in self.ops.iter_mut().zip(&snap.operators) {
            op.state = st.keyed.iter().cloned().collect();
            op.windows = st
                .windows
                .iter()
                .map(|(s, m)| (*s, m.iter().cloned().collect()))
                .collect();
        }
        snap.operators.first().and_then(|o| o.source_offset)
    }
}

impl RecordWriter {
    /// Routes one record; returns its size in bytes.
    fn write(&mut self, v: Value, rng: &mut SeededRng, buffer_records: usize) -> u64 {
        let n = self.channels.len();
        if n == 0 {
            return 0;
        }
        let size = v.encoded_len() as u64;
        let target = match self.partitioner {
            Partitioner::Forward | Partitioner::Global => 0,
            Partitioner::Rebalance | Partitioner::Rescale => {
                self.round_robin = (self.round_robin + 1) % n;
                self.round_robin
            }
            Partitioner::Shuffle => rng.below(n as u64) as usize,
            Partitioner::Hash(k) => {
                let idx = operator_index_for_key_group(
                    key_group(&k.key_of(&v)),
                    self.consumer_parallelism,
                );
                self.channels.iter().position(|c| c.to == idx).unwrap_or(0)
            }
            Partitioner::Broadcast => {
                for c in &mut self.channels {
                    c.pending.push(StreamElement::Record(v.clone()));
                    c.records += 1;
                    c.bytes += size;
                }
                let _ = buffer_records;
                return size * n as u64;
            }
        };
        let c = &mut self.channels[target];
        c.pending.push(StreamElement::Record(v));
        c.records += 1;
        c.bytes += size;
        size
    }
}

/// Sends a buffer, measuring the time blocked on a full channel.
async fn send_buffer(
    tx: &OutputChannel,
    buf: Buffer,
    ctx: &HostCtx,
    counters: &mut TaskCounters,
) -> Result<(), String> {
    match tx.data.try_send(buf) {
        Ok(()) => Ok(()),
        Err(mpsc::error::TrySendError::Full(buf)) => {
            let t0 = ctx.now_ms();
            let r = tx.data.send(buf).await;
            counters.backpressured_ms += ctx.now_ms() - t0;
            r.map_err(|_| "a downstream task is gone".to_string())
        }
        Err(mpsc::error::TrySendError::Closed(_)) => Err("a downstream task is gone".to_string()),
    }
}

/// Sends every buffer that is full (or, with `all`, every non-empty one).
async fn flush(
    writers: &mut [RecordWriter],
    all: bool,
    buffer_records: usize,
    ctx: &HostCtx,
    counters: &mut TaskCounters,
) -> Result<(), String> {
    for w in writers.iter_mut() {
        for c in w.channels.iter_mut() {
            while c.pending.len() >= buffer_records || (all && !c.pending.is_empty()) {
                let take = c.pending.len().min(buffer_records.max(1));
                let buf: Buffer = c.pending.drain(..take).collect();
                send_buffer(&c.tx, buf, ctx, counters).await?;
            }
        }
    }
    Ok(())
}

/// One input channel with its alignment state.
struct GateChannel {
    key: ChannelKey,
    channel: InputChannel,
    /// EndOfPartition was read.
    ended: bool,
    /// Delivered the barrier of the checkpoint being aligned (aligned mode:
    /// not read until the alignment completes).
    blocked: bool,
    /// Elements read ahead (past an aligned barrier, or drained by an
    /// unaligned checkpoint), to be processed next; the flag says whether
    /// the record is already stored as in-flight state.
    held: Vec<(StreamElement, bool)>,
}

/// What the input gate yields.
enum GateEvent {
    /// Elements of channel `idx` (with their already-stored flags).
    Data(usize, Vec<(StreamElement, bool)>),
    /// A priority (unaligned) barrier on channel `idx`.
    Priority(usize, CheckpointBarrier),
}

/// The input side: all channels of all input edges (Flink's `InputGate`).
struct InputGate {
    channels: Vec<GateChannel>,
    next: usize,
}

impl InputGate {
    fn all_ended(&self) -> bool {
        self.channels.iter().all(|c| c.ended)
    }

    fn try_next(&mut self) -> Result<Option<GateEvent>, String> {
        let n = self.channels.len();
        for (idx, c) in self.channels.iter_mut().enumerate() {
            if !c.ended
                && let Some(b) = c.channel.try_priority()
            {
                return Ok(Some(GateEvent::Priority(idx, b)));
            }
        }
        for i in 0..n {
            let idx = (self.next + i) % n;
            let c = &mut self.channels[idx];
            if c.ended || c.blocked {
                continue;
            }
            if !c.held.is_empty() {
                self.next = (idx + 1) % n;
                return Ok(Some(GateEvent::Data(idx, std::mem::take(&mut c.held))));
            }
            let (key, ch) = (&c.key, &mut c.channel);
            match ch.try_recv() {
                Ok(b) => {
                    self.next = (idx + 1) % n;
                    return Ok(Some(GateEvent::Data(
                        idx,
                        b.into_iter().map(|e| (e, false)).collect(),
                    )));
                }
                Err(false) => {}
                Err(true) => {
                    return Err(format!(
                        "input channel from subtask {} closed before its end",
                        key.from
                    ));
                }
            }
        }
        Ok(None)
    }

    fn try_priority(&mut self) -> Option<(usize, CheckpointBarrier)> {
        self.channels
            .iter_mut()
            .enumerate()
            .filter(|(_, c)| !c.ended)
            .find_map(|(i, c)| c.channel.try_priority().map(|b| (i, b)))
    }

    async fn next(&mut self) -> Result<GateEvent, String> {
        std::future::poll_fn(|cx| {
            let n = self.channels.len();
            for (idx, c) in self.channels.iter_mut().enumerate() {
                if !c.ended
                    && let std::task::Poll::Ready(Some(b)) = c.channel.poll_priority(cx)
                {
                    return std::task::Poll::Ready(Ok(GateEvent::Priority(idx, b)));
                }
            }
            for i in 0..n {
                let idx = (self.next + i) % n;
                let c = &mut self.channels[idx];
                if c.ended || c.blocked {
                    continue;
                }
                let (key, ch) = (&c.key, &mut c.channel);
                match ch.poll_recv(cx) {
                    std::task::Poll::Ready(Some(b)) => {
                        self.next = (idx + 1) % n;
                        return std::task::Poll::Ready(Ok(GateEvent::Data(
                            idx,
                            b.into_iter().map(|e| (e, false)).collect(),
                        )));
                    }
                    std::task::Poll::Ready(None) => {
                        return std::task::Poll::Ready(Err(format!(
                            "input channel from subtask {} closed before its end",
                            key.from
                        )));
                    }
                    std::task::Poll::Pending => {}
                }
            }
            std::task::Poll::Pending
        })
        .await
    }
}

/// Everything a task needs from its TaskManager.
pub struct TaskContext {
    /// The host.
    pub ctx: HostCtx,
    /// The network stack.
    pub net: Arc<NetworkEnvironment>,
    /// TaskManager settings.
    pub cfg: TaskManagerConfig,
    /// Reports to the TaskExecutor.
    pub reports: mpsc::UnboundedSender<TaskReport>,
    /// Commands from the TaskExecutor (checkpoint triggers for sources).
    pub control: mpsc::UnboundedReceiver<TaskControl>,
}

/// Runs a task to its end, reporting state changes to the TaskExecutor.
pub async fn run_task(tdd: TaskDeploymentDescriptor, mut tc: TaskContext) {
    let attempt = tdd.attempt;
    let _ = tc.reports.send(TaskReport::State {
        attempt,
        state: ExecutionState::Initializing,
        cause: None,
        counters: TaskCounters::default(),
    });
    // Released however the task ends, also when it is cancelled (aborted).
    let mut inputs = ReleaseOnDrop {
        net: tc.net.clone(),
        keys: Vec::new(),
    };
    let (outcome, counters) = match TaskRunner::setup(&tdd, &tc, &mut inputs.keys).await {
        Ok(mut runner) => {
            let r = runner.run(&tdd, &mut tc).await;
            (r, runner.counters)
        }
        Err(e) => (Err(e), TaskCounters::default()),
    };
    drop(inputs);
    let (state, cause) = match outcome {
        Ok(()) => (ExecutionState::Finished, None),
        Err(cause) => (ExecutionState::Failed, Some(cause)),
    };
    let _ = tc.reports.send(TaskReport::State {
        attempt,
        state,
        cause,
        counters,
    });
}

/// Forgets a task's input channels when dropped, so buffers still on their
/// way for a cancelled task are dropped rather than kept.
struct ReleaseOnDrop {
    net: Arc<NetworkEnvironment>,
    keys: Vec<ChannelKey>,
}

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        self.net.release(&self.keys);
    }
}

/// A running task: its chain, its record writers and its input gate.
struct TaskRunner {
    ctx: HostCtx,
    attempt: ExecutionAttemptId,
    reports: mpsc::UnboundedSender<TaskReport>,
    buffer_records: usize,
    writers: Vec<RecordWriter>,
    gate: InputGate,
    chain: Chain,
    rng: SeededRng,
    counters: TaskCounters,
    metrics: Metrics,
    checkpointing: bool,
    mode: CheckpointMode,
    /// A source's next offset.
    source_offset: Option<u64>,
    /// The checkpoint being aligned: its barrier and when alignment began.
    aligning: Option<(CheckpointBarrier, u64)>,
    /// The unaligned checkpoint in progress.
    unaligned: Option<UnalignedCheckpoint>,
    /// The last unaligned checkpoint acknowledged.
    unaligned_done: u64,
}

/// An unaligned checkpoint between the first barrier and the last.
struct UnalignedCheckpoint {
    barrier: CheckpointBarrier,
    /// The snapshot taken at the first barrier (with the overtaken output).
    snapshot: TaskSnapshot,
    /// Input channels whose barrier has not arrived yet.
    waiting: BTreeSet<usize>,
}

impl TaskRunner {
    async fn setup(
        tdd: &TaskDeploymentDescriptor,
        tc: &TaskContext,
        input_keys: &mut Vec<ChannelKey>,
    ) -> Result<TaskRunner, String> {
        let jg: &JobGraph = &tdd.job_graph;
        let g = &jg.stream_graph;
        let attempt = tdd.attempt;
        let vertex = jg
            .vertices
            .get(attempt.vertex as usize)
            .ok_or_else(|| format!("no vertex {} in the job graph", attempt.vertex))?;
        // Outputs: one record writer per job edge leaving the vertex.
        let mut writers = Vec::new();
        let mut writer_source = Vec::new();
        for out in &tdd.outputs {
            let edge = &jg.edges[out.edge as usize];
            let mut channels = Vec::new();
            for (to, loc) in &out.channels {
                let key = ChannelKey {
                    job: attempt.job,
                    attempt: attempt.attempt,
                    edge: out.edge,
                    from: attempt.subtask,
                    to: *to,
                };
                let (tx, remote) = tc.net.output_channel(key, loc);
                channels.push(ChannelOut {
                    to: *to,
                    tx,
                    remote,
                    pending: Vec::new(),
                    records: 0,
                    bytes: 0,
                });
            }
            writers.push(RecordWriter {
                edge: out.edge,
                partitioner: out.partitioner,
                consumer_parallelism: out.consumer_parallelism,
                channels,
                round_robin: attempt.subtask as usize,
            });
            writer_source.push(edge.source_operator);
        }
        // Inputs: one gate over every channel of every input edge.
        let mut gate = InputGate {
            channels: Vec::new(),
            next: 0,
        };
        for input in &tdd.inputs {
            for (from, loc) in &input.channels {
                let key = ChannelKey {
                    job: attempt.job,
                    attempt: attempt.attempt,
                    edge: input.edge,
                    from: *from,
                    to: attempt.subtask,
                };
                let channel = tc.net.input_channel(key, loc).await.map_err(|e| {
                    format!("cannot reach the producer on {}: {e}", loc.resource_id)
                })?;
                input_keys.push(key);
                gate.channels.push(GateChannel {
                    key,
                    channel,
                    ended: false,
                    blocked: false,
                    held: Vec::new(),
                });
            }
        }
        // The chain: a keyed head keys by its input edge's key selector.
        let key = tdd
            .inputs
            .first()
            .and_then(|i| match jg.edges[i.edge as usize].partitioner {
                Partitioner::Hash(k) => Some(k),
                _ => None,
            })
            .unwrap_or(KeySelector::Value);
        let position: BTreeMap<NodeIdx, usize> = vertex
            .operators
            .iter()
            .enumerate()
            .map(|(i, &n)| (n, i))
            .collect();
        let ops = vertex
            .operators
            .iter()
            .map(|&n| ChainOp {
                kind: g.nodes[n].kind.clone(),
                chained: vertex
                    .chained_edges
                    .iter()
                    .filter(|&&e| g.edges[e].source == n)
                    .map(|&e| position[&g.edges[e].target])
                    .collect(),
                writers: writer_source
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| **s == n)
                    .map(|(i, _)| i)
                    .collect(),
                key,
                state: BTreeMap::new(),
                windows: BTreeMap::new(),
            })
            .collect();
        let mut chain = Chain {
            ops,
            collected: Vec::new(),
            print: tc
                .cfg
                .print_to_stdout
                .then(|| format!("{}", attempt.subtask + 1)),
            sink_debt_us: 0,
            records_out: 0,
            bytes_out: 0,
        };
        let mut source_offset = None;
        let mut in_flight = (Vec::new(), Vec::new());
        if let Some(bytes) = &tdd.restore {
            let snap = TaskSnapshot::decode(bytes).ok_or("the checkpointed state is corrupt")?;
            source_offset = chain.restore(&snap);
            in_flight = (snap.input_channel_state, snap.output_channel_state);
        }
        // Unaligned checkpoints: first what the barrier overtook on the way
        // out, to the same channels, then what was in flight on the way in.
        for (edge, to, records) in in_flight.1 {
            if let Some(c) = writers
                .iter_mut()
                .filter(|w| w.edge == edge)
                .flat_map(|w| w.channels.iter_mut())
                .find(|c| c.to == to)
            {
                c.pending
                    .extend(records.into_iter().map(StreamElement::Record));
            }
        }
        let ctx = tc.ctx.clone();
        let seed = ctx.seed
            ^ (u64::from(attempt.vertex) << 32)
            ^ u64::from(attempt.subtask)
            ^ (u64::from(attempt.attempt) << 48);
        let now = ctx.now_ms();
        let replay_input = in_flight.0;
        let mut runner = TaskRunner {
            metrics: Metrics::new(vertex.name.clone(), now, tc.cfg.metrics_interval_ms),
            ctx,
            attempt,
            reports: tc.reports.clone(),
            buffer_records: tc.cfg.buffer_records.max(1),
            writers,
            gate,
            chain,
            rng: SeededRng::new(seed),
            counters: TaskCounters::default(),
            checkpointing: g.checkpoint_interval_ms.is_some(),
            mode: g.checkpoint_mode,
            source_offset,
            aligning: None,
            unaligned: None,
            unaligned_done: 0,
        };
        let now = runner.ctx.now_ms();
        for v in replay_input {
            runner.push(v, now);
        }
        Ok(runner)
    }

    fn push(&mut self, v: Value, now: u64) {
        let mut out = Output {
            writers: &mut self.writers,
            rng: &mut self.rng,
            buffer_records: self.buffer_records,
        };
        self.chain.push(0, v, &mut out, now);
    }

    async fn run(
        &mut self,
        tdd: &TaskDeploymentDescriptor,
        tc: &mut TaskContext,
    ) -> Result<(), String> {
        let _ = self.reports.send(TaskReport::State {
            attempt: self.attempt,
            state: ExecutionState::Running,
            cause: None,
            counters: self.counters.clone(),
        });
        let jg = &tdd.job_graph;
        let vertex = &jg.vertices[self.attempt.vertex as usize];
        let head_kind = jg.stream_graph.nodes[vertex.operators[0]].kind.clone();
        if head_kind.class() == KindClass::Source {
            self.run_source(&head_kind, tdd.parallelism, &mut tc.control)
                .await?;
        } else {
            self.run_inputs().await?;
        }
        // End of input: flush, commit what is staged, tell every consumer.
        self.after_batch(true).await?;
        if self.checkpointing {
            self.send_collected(Txn::Final);
        }
        for w in self.writers.iter_mut() {
            for c in w.channels.iter_mut() {
                c.pending.push(StreamElement::EndOfPartition);
            }
        }
        self.flush_all().await?;
        Ok(())
    }

    async fn run_source(
        &mut self,
        head_kind: &OperatorKind,
        parallelism: u32,
        control: &mut mpsc::UnboundedReceiver<TaskControl>,
    ) -> Result<(), String> {
        let (start, end, keys, rate) = source_range(head_kind, self.attempt.subtask, parallelism);
        let mut next = self.source_offset.unwrap_or(start).max(start);
        let words = match head_kind {
            OperatorKind::Words { lines } => lines.clone(),
            _ => Vec::new(),
        };
        let mut debt_us: u64 = 0;
        loop {
            // Checkpoint triggers arrive between batches, as in Flink's
            // source tasks (the mailbox model)...
            while let Ok(TaskControl::Trigger { barrier, stop }) = control.try_recv() {
                self.source_offset = Some(next);
                self.checkpoint(barrier, 0).await?;
                if stop {
                    return Ok(());
                }
            }
            if next >= end {
                return Ok(());
            }
            let batch_end = end.min(next + self.buffer_records as u64);
            let now = self.ctx.now_ms();
            for i in next..batch_end {
                let v = match head_kind {
                    OperatorKind::Sequence { from, .. } => Value::Int(from.wrapping_add(i as i64)),
                    OperatorKind::Words { .. } => Value::Str(words[i as usize].clone()),
                    _ => generator_record(i, keys),
                };
                self.push(v, now);
            }
            let produced = batch_end - next;
            next = batch_end;
            // ...and also while the source waits for room downstream
            // (back-pressure), so a checkpoint is never stuck behind it.
            let throttled = rate > 0 && debt_us + produced * 1_000_000 / rate.max(1) >= 10_000;
            while let Some(TaskControl::Trigger { barrier, stop }) =
                self.flush_source(throttled, control).await?
            {
                self.source_offset = Some(next);
                self.checkpoint(barrier, 0).await?;
                if stop {
                    return Ok(());
                }
            }
            self.after_batch(false).await?;
            if let Some(us) = (produced * 1_000_000).checked_div(rate) {
                debt_us += us;
                // Sleep in steps of at least 10 ms, so a throttled source
                // still ships reasonably full buffers.
                if debt_us >= 10_000 {
                    tokio::time::sleep(std::time::Duration::from_micros(debt_us)).await;
                    debt_us = 0;
                }
            } else {
                tokio::task::yield_now().await;
            }
        }
    }

    /// Sends full buffers (or all, with `all`) while watching for checkpoint
    /// triggers: a trigger arriving while a channel is full interrupts the
    /// wait (the buffer in hand goes back in front of the pending ones).
    async fn flush_source(
        &mut self,
        all: bool,
        control: &mut mpsc::UnboundedReceiver<TaskControl>,
    ) -> Result<Option<TaskControl>, String> {
        let n = self.buffer_records;
        for w in self.writers.iter_mut() {
            for c in w.channels.iter_mut() {
                while c.pending.len() >= n || (all && !c.pending.is_empty()) {
                    let take = c.pending.len().min(n);
                    let buf: Buffer = c.pending.drain(..take).collect();
                    let buf = match c.tx.data.try_send(buf) {
                        Ok(()) => continue,
                        Err(mpsc::error::TrySendError::Closed(_)) => {
                            return Err("a downstream task is gone".into());
                        }
                        Err(mpsc::error::TrySendError::Full(buf)) => buf,
                    };
                    let t0 = self.ctx.now_ms();
                    let waited = tokio::select! {
                        biased;
                        ctrl = control.recv() => Err(ctrl),
                        permit = c.tx.data.reserve() => Ok(permit),
                    };
                    self.counters.backpressured_ms += self.ctx.now_ms() - t0;
                    match waited {
                        Ok(Ok(permit)) => permit.send(buf),
                        Ok(Err(_)) => return Err("a downstream task is gone".into()),
                        Err(ctrl) => {
                            let mut back = buf;
                            back.append(&mut c.pending);
                            c.pending = back;
                            return Ok(ctrl);
                        }
                    }
                }
            }
        }
        Ok(None)
    }

    async fn run_inputs(&mut self) -> Result<(), String> {
        while !self.gate.all_ended() {
            let event = match self.gate.try_next()? {
                Some(x) => x,
                None => {
                    // Nothing to read: ship what is batched before waiting,
                    // so records never sit in a half-full buffer while idle.
                    self.flush_all().await?;
                    let t0 = self.ctx.now_ms();
                    let r = match chain_next_timer(&self.chain) {
                        Some(at) if at > t0 => {
                            let wait = std::time::Duration::from_millis(at - t0);
                            match tokio::time::timeout(wait, self.gate.next()).await {
                                Ok(r) => Some(r?),
                                Err(_) => None,
                            }
                        }
                        _ => Some(self.gate.next().await?),
                    };
                    self.counters.idle_ms += self.ctx.now_ms() - t0;
                    match r {
                        Some(x) => x,
                        None => {
                            self.fire_windows(Some(self.ctx.now_ms()));
                            continue;
                        }
                    }
                }
            };
            match event {
                GateEvent::Data(idx, elements) => self.process(idx, elements).await?,
                GateEvent::Priority(idx, b) => self.unaligned_barrier(idx, b, true).await?,
            }
            if self.unaligned.is_some() {
                self.drain_in_flight();
                self.try_complete_unaligned();
            }
            self.fire_windows(Some(self.ctx.now_ms()));
            self.after_batch(false).await?;
        }
        self.fire_windows(None);
        Ok(())
    }

    /// Sends every buffered record now.
    async fn flush_all(&mut self) -> Result<(), String> {
        flush(
            &mut self.writers,
            true,
            self.buffer_records,
            &self.ctx,
            &mut self.counters,
        )
        .await
    }

    fn fire_windows(&mut self, now: Option<u64>) {
        let mut out = Output {
            writers: &mut self.writers,
            rng: &mut self.rng,
            buffer_records: self.buffer_records,
        };
        self.chain.fire_windows(now, &mut out);
    }

    /// Processes one buffer from channel `idx`, handling barriers and ends.
    async fn process(&mut self, idx: usize, buf: Vec<(StreamElement, bool)>) -> Result<(), String> {
        let remote = self.gate.channels[idx].channel.is_remote();
        let now = self.ctx.now_ms();
        let mut elements = buf.into_iter();
        while let Some((el, stored)) = elements.next() {
            match el {
                StreamElement::Record(v) => {
                    self.counters.records_in += 1;
                    if remote {
                        self.counters.bytes_in += v.encoded_len() as u64;
                    }
                    if !stored
                        && let Some(u) = &mut self.unaligned
                        && u.waiting.contains(&idx)
                    {
                        // In flight when we snapshotted: part of the checkpoint.
                        u.snapshot.input_channel_state.push(v.clone());
                    }
                    self.push(v, now);
                }
                StreamElement::Barrier(b)
                    if self.mode == CheckpointMode::Unaligned && !b.savepoint =>
                {
                    self.unaligned_barrier(idx, b, false).await?;
                }
                StreamElement::Barrier(b) => {
                    let start = match self.aligning {
                        Some((a, t)) if a.id == b.id => t,
                        Some((a, _)) if a.id > b.id => continue,
                        _ => now,
                    };
                    self.aligning = Some((b, start));
                    let c = &mut self.gate.channels[idx];
                    c.blocked = true;
                    // Records behind the barrier wait for the alignment.
                    c.held = elements.by_ref().collect();
                    self.try_complete_alignment().await?;
                    break;
                }
                StreamElement::EndOfPartition => {
                    self.gate.channels[idx].ended = true;
                    self.try_complete_alignment().await?;
                    if let Some(u) = &mut self.unaligned {
                        u.waiting.remove(&idx);
                    }
                    self.try_complete_unaligned();
                }
            }
        }
        Ok(())
    }

    /// Unaligned checkpoints: at the first barrier, snapshot at once and let
    /// the barrier overtake the buffered output (which goes into the
    /// snapshot); keep reading every channel, recording what arrives on the
    /// others until their barriers come; then acknowledge.
    async fn unaligned_barrier(
        &mut self,
        idx: usize,
        b: CheckpointBarrier,
        priority: bool,
    ) -> Result<(), String> {
        if b.id <= self.unaligned_done {
            // The other copy of a barrier already handled.
            return Ok(());
        }
        match &mut self.unaligned {
            Some(u) if u.barrier.id == b.id => {
                // The in-lane copy marks where the channel's in-flight data ends.
                if !priority {
                    u.waiting.remove(&idx);
                }
            }
            Some(u) if u.barrier.id > b.id => {}
            _ => {
                let mut snapshot = self.chain.snapshot(self.source_offset);
                if self.checkpointing {
                    self.send_collected(Txn::Checkpoint(b.id));
                }
                self.emit_barrier(b, Some(&mut snapshot));
                let waiting = (0..self.gate.channels.len())
                    .filter(|&i| (priority || i != idx) && !self.gate.channels[i].ended)
                    .collect();
                self.unaligned = Some(UnalignedCheckpoint {
                    barrier: b,
                    snapshot,
                    waiting,
                });
                self.drain_in_flight();
                self.flush_all().await?;
            }
        }
        self.try_complete_unaligned();
        Ok(())
    }

    /// Puts a barrier on every output channel. With `overtake` (unaligned),
    /// a priority copy goes ahead of everything queued, and the in-lane copy
    /// goes ahead of the records still buffered here, which are stored in
    /// the snapshot as output in-flight data.
    fn emit_barrier(&mut self, b: CheckpointBarrier, overtake: Option<&mut TaskSnapshot>) {
        let Some(snapshot) = overtake else {
            for w in self.writers.iter_mut() {
                for c in w.channels.iter_mut() {
                    c.pending.push(StreamElement::Barrier(b));
                }
            }
            return;
        };
        for w in self.writers.iter_mut() {
            for c in w.channels.iter_mut() {
                let overtaken: Vec<Value> = c
                    .pending
                    .drain(..)
                    .filter_map(|e| match e {
                        StreamElement::Record(v) => Some(v),
                        _ => None,
                    })
                    .collect();
                let _ = c.tx.priority.send(b);
                c.pending.push(StreamElement::Barrier(b));
                c.pending
                    .extend(overtaken.iter().cloned().map(StreamElement::Record));
                if !overtaken.is_empty() {
                    snapshot
                        .output_channel_state
                        .push((w.edge, c.to, overtaken));
                }
            }
        }
    }

    /// Moves what is queued on the channels still waiting for their in-lane
    /// barrier into memory, storing the records as in-flight state, so the
    /// checkpoint does not wait for them to be processed.
    fn drain_in_flight(&mut self) {
        let Some(u) = &mut self.unaligned else {
            return;
        };
        let id = u.barrier.id;
        for (i, c) in self.gate.channels.iter_mut().enumerate() {
            if !u.waiting.contains(&i) {
                continue;
            }
            // What was read ahead earlier comes first.
            for (el, stored) in c.held.iter_mut() {
                if !u.waiting.contains(&i) {
                    break;
                }
                match el {
                    StreamElement::Record(v) if !*stored => {
                        u.snapshot.input_channel_state.push(v.clone());
                        *stored = true;
                    }
                    StreamElement::Barrier(b) if b.id == id => {
                        u.waiting.remove(&i);
                    }
                    StreamElement::EndOfPartition => {
                        u.waiting.remove(&i);
                    }
                    _ => {}
                }
            }
            while u.waiting.contains(&i) {
                let Ok(buf) = c.channel.try_recv() else {
                    break;
                };
                for el in buf {
                    let stored = if u.waiting.contains(&i) {
                        match &el {
                            StreamElement::Record(v) => {
                                u.snapshot.input_channel_state.push(v.clone());
                                true
                            }
                            StreamElement::Barrier(b) if b.id == id => {
                                u.waiting.remove(&i);
                                false
                            }
                            StreamElement::EndOfPartition => {
                                u.waiting.remove(&i);
                                false
                            }
                            StreamElement::Barrier(_) => false,
                        }
                    } else {
                        false
                    };
                    c.held.push((el, stored));
                }
            }
        }
    }

    fn try_complete_unaligned(&mut self) {
        if self
            .unaligned
            .as_ref()
            .is_some_and(|u| u.waiting.is_empty())
            && let Some(u) = self.unaligned.take()
        {
            self.unaligned_done = u.barrier.id;
            let _ = self.reports.send(TaskReport::Ack {
                attempt: self.attempt,
                checkpoint: u.barrier.id,
                state: u.snapshot.encode(),
                alignment_ms: 0,
            });
        }
    }

    /// When every open channel delivered the barrier: snapshot, forward, unblock.
    async fn try_complete_alignment(&mut self) -> Result<(), String> {
        let Some((barrier, started)) = self.aligning else {
            return Ok(());
        };
        if !self.gate.channels.iter().all(|c| c.blocked || c.ended) {
            return Ok(());
        }
        self.aligning = None;
        let alignment_ms = self.ctx.now_ms() - started;
        self.checkpoint(barrier, alignment_ms).await?;
        for c in self.gate.channels.iter_mut() {
            c.blocked = false;
        }
        Ok(())
    }

    /// Takes the snapshot, pre-commits the sink's transaction, acknowledges,
    /// and forwards the barrier behind the records produced before it.
    async fn checkpoint(
        &mut self,
        barrier: CheckpointBarrier,
        alignment_ms: u64,
    ) -> Result<(), String> {
        let mut snap = self.chain.snapshot(self.source_offset);
        if self.checkpointing {
            self.send_collected(Txn::Checkpoint(barrier.id));
        }
        // A source in unaligned mode lets its barrier overtake its buffers
        // too (savepoints are always aligned).
        let overtake = self.mode == CheckpointMode::Unaligned && !barrier.savepoint;
        self.emit_barrier(barrier, overtake.then_some(&mut snap));
        let _ = self.reports.send(TaskReport::Ack {
            attempt: self.attempt,
            checkpoint: barrier.id,
            state: snap.encode(),
            alignment_ms,
        });
        self.flush_all().await
    }

    /// A slow sink takes its time in steps of at most 5 ms and, between
    /// steps, still notices priority barriers and moves in-flight data of
    /// an unaligned checkpoint into memory, as Flink's task mailbox lets a
    /// busy task handle checkpoint events between records.
    async fn pace(&mut self) -> Result<(), String> {
        while self.chain.sink_debt_us >= 1_000 {
            let step = self.chain.sink_debt_us.min(5_000);
            self.chain.sink_debt_us -= step;
            tokio::time::sleep(std::time::Duration::from_micros(step)).await;
            while let Some((idx, b)) = self.gate.try_priority() {
                self.unaligned_barrier(idx, b, true).await?;
            }
            if self.unaligned.is_some() {
                self.drain_in_flight();
                self.try_complete_unaligned();
            }
        }
        Ok(())
    }

    fn send_collected(&mut self, txn: Txn) {
        let records = std::mem::take(&mut self.chain.collected);
        if !records.is_empty() || txn != Txn::Immediate {
            let _ = self.reports.send(TaskReport::Collected {
                attempt: self.attempt,
                txn,
                records,
            });
        }
    }

    async fn after_batch(&mut self, last: bool) -> Result<(), String> {
        self.counters.records_out = self.chain.records_out;
        self.counters.bytes_out = self.chain.bytes_out;
        flush(
            &mut self.writers,
            last,
            self.buffer_records,
            &self.ctx,
            &mut self.counters,
        )
        .await?;
        if !self.checkpointing && !self.chain.collected.is_empty() {
            self.send_collected(Txn::Immediate);
        }
        self.pace().await?;
        let now = self.ctx.now_ms();
        let m = &mut self.metrics;
        if now >= m.next_report || last {
            let span = (now - m.last_report_at).max(1);
            let bp = self.counters.backpressured_ms - m.last_backpressured_ms;
            let permille = ((bp * 1000) / span).min(1000) as u32;
            m.last_backpressured_ms = self.counters.backpressured_ms;
            m.last_report_at = now;
            m.next_report = now + m.interval;
            let job = self.attempt.job;
            self.ctx.emit(EventKind::TaskMetrics {
                job,
                vertex: m.vertex_name.clone(),
                vertex_index: self.attempt.vertex,
                subtask: self.attempt.subtask,
                counters: self.counters.clone(),
                backpressure_permille: permille,
            });
            for w in self.writers.iter_mut() {
                for c in w.channels.iter_mut() {
                    if c.records > 0 {
                        self.ctx.emit(EventKind::ChannelTraffic {
                            job,
                            edge: w.edge as usize,
                            from: self.attempt.subtask,
                            to: c.to,
                            records: c.records,
                            bytes: c.bytes,
                            remote: c.remote,
                        });
                        c.records = 0;
                        c.bytes = 0;
                    }
                }
            }
            let _ = self.reports.send(TaskReport::Metrics {
                attempt: self.attempt,
                counters: self.counters.clone(),
            });
        }
        Ok(())
    }
}

fn chain_next_timer(chain: &Chain) -> Option<u64> {
    chain
        .ops
        .iter()
        .filter_map(|op| match op.kind {
            OperatorKind::WindowCount { size_ms } => op.windows.keys().next().map(|s| s + size_ms),
            _ => None,
        })
        .min()
}

/// The offsets a source subtask emits, `[start, end)` of its share (Flink
/// splits a sequence into one contiguous range per subtask), the key space
/// (generator) and the rate.
fn source_range(kind: &OperatorKind, subtask: u32, parallelism: u32) -> (u64, u64, u64, u64) {
    let split = |n: u64| {
        let p = u64::from(parallelism.max(1));
        let s = u64::from(subtask);
        (s * n / p, (s + 1) * n / p)
    };
    match kind {
        // Offsets count from `from`; the record at offset i is from + i.
        OperatorKind::Sequence { from, to } => {
            let n = if to >= from {
                to.abs_diff(*from) + 1
            } else {
                0
            };
            let (a, b) = split(n);
            (a, b, 0, 0)
        }
        OperatorKind::Words { lines } => {
            let (a, b) = split(lines.len() as u64);
            (a, b, 0, 0)
        }
        OperatorKind::Generator { keys, count, rate } => {
            let (a, b) = split(*count);
            (a, b, *keys, *rate)
        }
        _ => (0, 0, 0, 0),
    }
}

/// Periodic metric reports.
struct Metrics {
    vertex_name: String,
    next_report: u64,
    interval: u64,
    last_backpressured_ms: u64,
    last_report_at: u64,
}

impl Metrics {
    fn new(vertex_name: String, now: u64, interval: u64) -> Self {
        Metrics {
            vertex_name,
            next_report: now + interval.max(1),
            interval: interval.max(1),
            last_backpressured_ms: 0,
            last_report_at: now,
        }
    }
}
