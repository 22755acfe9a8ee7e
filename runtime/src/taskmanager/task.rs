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
use crate::operators::{
    KeySelector, KindClass, OperatorKind, Value, generator_record, key_group,
    operator_index_for_key_group,
};
use crate::rpc::{ChannelKey, ExecutionAttemptId, StreamElement, TaskDeploymentDescriptor};
use crate::state::ExecutionState;

use crate::rng::SeededRng;
use std::collections::BTreeMap;
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
        /// The records.
        records: Vec<Value>,
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
    /// Index of the op per node.
    position: BTreeMap<NodeIdx, usize>,
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
            OperatorKind::Sequence { .. } | OperatorKind::Words { .. } | OperatorKind::Generator { .. } => {
                emitted.push(v)
            }
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
            OperatorKind::Discard { rate } | OperatorKind::Print { rate } | OperatorKind::Collect { rate } => {
                if *rate > 0 {
                    self.sink_debt_us += 1_000_000 / rate;
                }
                self.records_out += 1;
                match &op.kind {
                    OperatorKind::Print { .. } => {
                        if let Some(prefix) = &self.print {
                            println!("{prefix}> {v}");
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
                let idx = operator_index_for_key_group(key_group(&k.key_of(&v)), self.consumer_parallelism);
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
async fn send_buffer(tx: &OutputChannel, buf: Buffer, ctx: &HostCtx, counters: &mut TaskCounters) -> Result<(), String> {
    match tx.try_send(buf) {
        Ok(()) => Ok(()),
        Err(mpsc::error::TrySendError::Full(buf)) => {
            let t0 = ctx.now_ms();
            let r = tx.send(buf).await;
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

/// The input side: all channels of all input edges.
struct InputGate {
    channels: Vec<(ChannelKey, InputChannel, bool)>,
    next: usize,
}

impl InputGate {
    fn all_ended(&self) -> bool {
        self.channels.iter().all(|c| c.2)
    }

    fn try_next(&mut self) -> Result<Option<(usize, Buffer)>, String> {
        let n = self.channels.len();
        for i in 0..n {
            let idx = (self.next + i) % n;
            let (key, ch, ended) = &mut self.channels[idx];
            if *ended {
                continue;
            }
            match ch.try_recv() {
                Ok(b) => {
                    self.next = (idx + 1) % n;
                    return Ok(Some((idx, b)));
                }
                Err(false) => {}
                Err(true) => return Err(format!("input channel from subtask {} closed before its end", key.from)),
            }
        }
        Ok(None)
    }

    async fn next(&mut self) -> Result<(usize, Buffer), String> {
        std::future::poll_fn(|cx| {
            let n = self.channels.len();
            for i in 0..n {
                let idx = (self.next + i) % n;
                let (key, ch, ended) = &mut self.channels[idx];
                if *ended {
                    continue;
                }
                match ch.poll_recv(cx) {
                    std::task::Poll::Ready(Some(b)) => {
                        self.next = (idx + 1) % n;
                        return std::task::Poll::Ready(Ok((idx, b)));
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
}

/// Runs a task to its end, reporting state changes; returns its input
/// channel keys so the TaskExecutor can release them.
pub async fn run_task(tdd: TaskDeploymentDescriptor, tc: TaskContext) {
    let attempt = tdd.attempt;
    let mut counters = TaskCounters::default();
    let report = |state: ExecutionState, cause: Option<String>, counters: &TaskCounters| {
        let _ = tc.reports.send(TaskReport::State {
            attempt,
            state,
            cause,
            counters: counters.clone(),
        });
    };
    report(ExecutionState::Initializing, None, &counters);
    let mut input_keys = Vec::new();
    let outcome = run_chain(&tdd, &tc, &mut counters, &mut input_keys).await;
    tc.net.release(&input_keys);
    match outcome {
        Ok(()) => report(ExecutionState::Finished, None, &counters),
        Err(cause) => report(ExecutionState::Failed, Some(cause), &counters),
    }
}

async fn run_chain(
    tdd: &TaskDeploymentDescriptor,
    tc: &TaskContext,
    counters: &mut TaskCounters,
    input_keys: &mut Vec<ChannelKey>,
) -> Result<(), String> {
    let jg: &JobGraph = &tdd.job_graph;
    let g = &jg.stream_graph;
    let attempt = tdd.attempt;
    let vertex = &jg.vertices[attempt.vertex as usize];
    let ctx = &tc.ctx;
    let buffer_records = tc.cfg.buffer_records.max(1);

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
            let ch = tc
                .net
                .input_channel(key, loc)
                .await
                .map_err(|e| format!("cannot reach the producer on {}: {e}", loc.resource_id))?;
            input_keys.push(key);
            gate.channels.push((key, ch, false));
        }
    }
    // The chain.
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
        position,
        collected: Vec::new(),
        print: tc
            .cfg
            .print_to_stdout
            .then(|| format!("{}", attempt.subtask + 1)),
        sink_debt_us: 0,
        records_out: 0,
        bytes_out: 0,
    };
    let _ = &chain.position;
    let seed = ctx.seed ^ (u64::from(attempt.vertex) << 32) ^ u64::from(attempt.subtask) ^ (u64::from(attempt.attempt) << 48);
    let mut rng = SeededRng::new(seed);
    let _ = tc.reports.send(TaskReport::State {
        attempt,
        state: ExecutionState::Running,
        cause: None,
        counters: counters.clone(),
    });

    let mut metrics = Metrics::new(vertex.name.clone(), ctx.now_ms(), tc.cfg.metrics_interval_ms);
    let head_kind = g.nodes[vertex.operators[0]].kind.clone();
    if head_kind.class() == KindClass::Source {
        let (mut next, end, keys, rate) = source_range(&head_kind, attempt.subtask, tdd.parallelism);
        let words = match &head_kind {
            OperatorKind::Words { lines } => lines.clone(),
            _ => Vec::new(),
        };
        let mut debt_us: u64 = 0;
        while next < end {
            let batch_end = end.min(next + buffer_records as u64);
            for i in next..batch_end {
                let v = match &head_kind {
                    OperatorKind::Sequence { from, .. } => Value::Int(from.wrapping_add(i as i64)),
                    OperatorKind::Words { .. } => Value::Str(words[i as usize].clone()),
                    _ => generator_record(i, keys),
                };
                let now = ctx.now_ms();
                let mut out = Output { writers: &mut writers, rng: &mut rng, buffer_records };
                chain.push(0, v, &mut out, now);
            }
            let produced = batch_end - next;
            next = batch_end;
            counters.records_out = chain.records_out;
            counters.bytes_out = chain.bytes_out;
            after_batch(&mut chain, &mut writers, tc, counters, &mut metrics, &mut rng, attempt, false).await?;
            if rate > 0 {
                debt_us += produced * 1_000_000 / rate;
                // Sleep in steps of at least 10 ms, so a throttled source still
                // ships reasonably full buffers.
                if debt_us >= 10_000 {
                    flush(&mut writers, true, buffer_records, ctx, counters).await?;
                    tokio::time::sleep(std::time::Duration::from_micros(debt_us)).await;
                    debt_us = 0;
                }
            } else {
                tokio::task::yield_now().await;
            }
        }
    } else {
        while !gate.all_ended() {
            let (idx, buf) = match gate.try_next()? {
                Some(x) => x,
                None => {
                    // Nothing to read: ship what is batched before waiting,
                    // so records never sit in a half-full buffer while idle.
                    flush(&mut writers, true, buffer_records, ctx, counters).await?;
                    let t0 = ctx.now_ms();
                    let wake = chain_next_timer(&chain);
                    let r = match wake {
                        Some(at) if at > t0 => {
                            match tokio::time::timeout(std::time::Duration::from_millis(at - t0), gate.next()).await {
                                Ok(r) => Some(r?),
                                Err(_) => None,
                            }
                        }
                        _ => Some(gate.next().await?),
                    };
                    counters.idle_ms += ctx.now_ms() - t0;
                    match r {
                        Some(x) => x,
                        None => {
                            let now = ctx.now_ms();
                            let mut out = Output { writers: &mut writers, rng: &mut rng, buffer_records };
                            chain.fire_windows(Some(now), &mut out);
                            continue;
                        }
                    }
                }
            };
            let remote = gate.channels[idx].1.is_remote();
            let now = ctx.now_ms();
            for el in buf {
                match el {
                    StreamElement::Record(v) => {
                        counters.records_in += 1;
                        if remote {
                            counters.bytes_in += v.encoded_len() as u64;
                        }
                        let mut out = Output { writers: &mut writers, rng: &mut rng, buffer_records };
                        chain.push(0, v, &mut out, now);
                    }
                    StreamElement::EndOfPartition => gate.channels[idx].2 = true,
                }
            }
            {
                let mut out = Output { writers: &mut writers, rng: &mut rng, buffer_records };
                chain.fire_windows(Some(now), &mut out);
            }
            counters.records_out = chain.records_out;
            counters.bytes_out = chain.bytes_out;
            after_batch(&mut chain, &mut writers, tc, counters, &mut metrics, &mut rng, attempt, false).await?;
        }
        let mut out = Output { writers: &mut writers, rng: &mut rng, buffer_records };
        chain.fire_windows(None, &mut out);
    }
    // End of input: flush and tell every consumer this partition ended.
    counters.records_out = chain.records_out;
    counters.bytes_out = chain.bytes_out;
    after_batch(&mut chain, &mut writers, tc, counters, &mut metrics, &mut rng, attempt, true).await?;
    for w in writers.iter_mut() {
        for c in w.channels.iter_mut() {
            c.pending.push(StreamElement::EndOfPartition);
        }
    }
    flush(&mut writers, true, buffer_records, ctx, counters).await?;
    Ok(())
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

/// The offsets a source subtask emits, `[next, end)` of its share (Flink
/// splits a sequence into one contiguous range per subtask), the key space
/// (generator) and the rate.
fn source_range(kind: &OperatorKind, subtask: u32, parallelism: u32) -> (u64, u64, u64, u64) {
    let split = |n: u64| {
        let p = u64::from(parallelism.max(1));
        let s = u64::from(subtask);
        (s * n / p, (s + 1) * n / p)
    };
    match kind {
        OperatorKind::Sequence { from, to } => {
            // Offsets count from `from`; the record at offset i is from + i.
            let n = if to >= from { to.abs_diff(*from) + 1 } else { 0 };
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

#[allow(clippy::too_many_arguments)]
async fn after_batch(
    chain: &mut Chain,
    writers: &mut [RecordWriter],
    tc: &TaskContext,
    counters: &mut TaskCounters,
    metrics: &mut Metrics,
    _rng: &mut SeededRng,
    attempt: ExecutionAttemptId,
    last: bool,
) -> Result<(), String> {
    let ctx = &tc.ctx;
    flush(writers, last, tc.cfg.buffer_records.max(1), ctx, counters).await?;
    if !chain.collected.is_empty() {
        let records = std::mem::take(&mut chain.collected);
        let _ = tc.reports.send(TaskReport::Collected { attempt, records });
    }
    if chain.sink_debt_us >= 1_000 {
        let t = chain.sink_debt_us;
        chain.sink_debt_us = 0;
        tokio::time::sleep(std::time::Duration::from_micros(t)).await;
    }
    let now = ctx.now_ms();
    if now >= metrics.next_report || last {
        let span = (now - metrics.last_report_at).max(1);
        let bp = counters.backpressured_ms - metrics.last_backpressured_ms;
        let permille = ((bp * 1000) / span).min(1000) as u32;
        metrics.last_backpressured_ms = counters.backpressured_ms;
        metrics.last_report_at = now;
        metrics.next_report = now + metrics.interval;
        ctx.emit(EventKind::TaskMetrics {
            job: attempt.job.to_string(),
            vertex: metrics.vertex_name.clone(),
            subtask: attempt.subtask,
            counters: counters.clone(),
            backpressure_permille: permille,
        });
        for w in writers.iter_mut() {
            for c in w.channels.iter_mut() {
                if c.records > 0 {
                    ctx.emit(EventKind::ChannelTraffic {
                        job: attempt.job.to_string(),
                        edge: w.edge as usize,
                        from: attempt.subtask,
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
        let _ = tc.reports.send(TaskReport::Metrics {
            attempt,
            counters: counters.clone(),
        });
    }
    Ok(())
}

