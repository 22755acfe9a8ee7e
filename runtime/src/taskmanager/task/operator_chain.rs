//! The operator chain: the operators of one job vertex, run as plain method
//! calls inside one task.
//!
//! Flink's `OperatorChain` wires the chained operators of a task with
//! `ChainingOutput`s, so a record goes from one operator to the next without
//! serialisation or a buffer; only the chain's ends touch the network. Here
//! [`OperatorChain`] holds one [`StreamOperator`] per chained StreamGraph
//! node, in chain order, each with the positions of its chained successors
//! and the record writers it feeds (a chain is a tree rooted at its head).
//!
//! - **In**: records at the head (from the task's input gate or source),
//!   timers, checkpoint snapshots to restore.
//! - **Out**: records into the [`RecordWriterDelegate`] (each write counted
//!   in records and bytes out), the sinks' shared [`OperatorContext`], the
//!   chain's [`TaskSnapshot`].

use super::operators::{
    Aggregate, StreamFilter, StreamFlatMap, StreamGroupedReduce, StreamMap, WindowOperator,
};
use super::sink::{CollectSink, DiscardingSink, PrintSink};
use super::source::StreamSource;
use super::stream_operator::{
    Batch, ChainedOperator, OperatorContext, StreamOperator, split_output,
};
use crate::graph::{JobGraph, JobVertex, NodeIdx};
use crate::jobmanager::checkpoint::snapshot::TaskSnapshot;
use crate::operators::{KeySelector, OperatorKind, ReduceFn, Value};
use crate::taskmanager::network::record_writer::RecordWriterDelegate;
use std::collections::BTreeMap;

/// The operator chain of a task, with its operators' state.
pub struct OperatorChain {
    /// Operators in chain order; the head first.
    ops: Vec<ChainedOperator>,
    /// What the operators share (sinks' transaction, debt, records out).
    pub ctx: OperatorContext,
    /// Bytes written to record writers.
    pub bytes_out: u64,
}

/// The operator a node of kind `kind` runs as; a keyed one keys by `key`,
/// a print sink prints with `print` as its prefix.
fn stream_operator(
    kind: &OperatorKind,
    key: KeySelector,
    print: &Option<String>,
) -> Box<dyn StreamOperator> {
    match kind {
        OperatorKind::Sequence { .. }
        | OperatorKind::Words { .. }
        | OperatorKind::Generator { .. } => Box::new(StreamSource),
        OperatorKind::Map(f) => Box::new(StreamMap(*f)),
        OperatorKind::Filter(f) => Box::new(StreamFilter(*f)),
        OperatorKind::FlatMap(f) => Box::new(StreamFlatMap(*f)),
        OperatorKind::Sum => Box::new(StreamGroupedReduce::new(
            key,
            Aggregate::Reduce(ReduceFn::Sum),
        )),
        OperatorKind::Reduce(f) => Box::new(StreamGroupedReduce::new(key, Aggregate::Reduce(*f))),
        OperatorKind::Count => Box::new(StreamGroupedReduce::new(key, Aggregate::Count)),
        OperatorKind::WindowCount { size_ms } => Box::new(WindowOperator::new(key, *size_ms)),
        OperatorKind::Discard { rate } => Box::new(DiscardingSink { rate: *rate }),
        OperatorKind::Print { rate } => Box::new(PrintSink {
            rate: *rate,
            prefix: print.clone(),
        }),
        OperatorKind::Collect { rate } => Box::new(CollectSink { rate: *rate }),
    }
}

impl OperatorChain {
    /// The chain of `vertex`: `writer_source[i]` is the node that feeds
    /// record writer `i`; keyed operators key by `key` (the head's input
    /// edge's key selector); print sinks print with `print` as prefix.
    pub fn new(
        jg: &JobGraph,
        vertex: &JobVertex,
        writer_source: &[NodeIdx],
        key: KeySelector,
        print: Option<String>,
    ) -> Self {
        let g = &jg.stream_graph;
        let position: BTreeMap<NodeIdx, usize> = vertex
            .operators
            .iter()
            .enumerate()
            .map(|(i, &n)| (n, i))
            .collect();
        let ops = vertex
            .operators
            .iter()
            .map(|&n| ChainedOperator {
                operator: stream_operator(&g.node(n).kind, key, &print),
                chained: vertex
                    .chained_edges
                    .iter()
                    .filter(|&&e| g.edge(e).source == n)
                    .map(|&e| position[&g.edge(e).target])
                    .collect(),
                writers: writer_source
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| **s == n)
                    .map(|(i, _)| i)
                    .collect(),
            })
            .collect();
        OperatorChain {
            ops,
            ctx: OperatorContext::default(),
            bytes_out: 0,
        }
    }

    /// Hands a record to the head, at processing time `now_ms`.
    #[inline]
    pub fn push_head(&mut self, v: Value, writers: &mut RecordWriterDelegate, now_ms: u64) {
        self.ctx.now_ms = now_ms;
        let (ctx, bytes_out) = (&mut self.ctx, &mut self.bytes_out);
        let (head, mut out) = split_output(&mut self.ops, 1, writers, ctx, bytes_out);
        head.process(v, &mut out);
    }

    /// Hands a batch of records to the head, at processing time `now_ms`,
    /// and leaves it empty (see [`Batch`]).
    #[inline]
    pub fn push_head_batch(
        &mut self,
        batch: &mut Batch,
        writers: &mut RecordWriterDelegate,
        now_ms: u64,
    ) {
        self.ctx.now_ms = now_ms;
        let (ctx, bytes_out) = (&mut self.ctx, &mut self.bytes_out);
        let (head, mut out) = split_output(&mut self.ops, 1, writers, ctx, bytes_out);
        head.process_batch(batch, &mut out);
    }

    /// Hands a source's batch on from the chain's head, at processing time
    /// `now_ms`, and leaves it empty: the head of a source chain is a
    /// [`StreamSource`], which passes records on unchanged, so they go
    /// straight to its output.
    #[inline]
    pub fn push_from_source_batch(
        &mut self,
        batch: &mut Batch,
        writers: &mut RecordWriterDelegate,
        now_ms: u64,
    ) {
        self.ctx.now_ms = now_ms;
        let (ctx, bytes_out) = (&mut self.ctx, &mut self.bytes_out);
        let (_, mut out) = split_output(&mut self.ops, 1, writers, ctx, bytes_out);
        out.collect_batch(batch);
    }

    /// Fires the timers due by `now_ms` (all of them at end of input).
    pub fn fire_timers(&mut self, now_ms: Option<u64>, writers: &mut RecordWriterDelegate) {
        if let Some(now) = now_ms {
            self.ctx.now_ms = now;
        }
        for pos in 0..self.ops.len() {
            let (ctx, bytes_out) = (&mut self.ctx, &mut self.bytes_out);
            let ops = &mut self.ops[pos..];
            let (op, mut out) = split_output(ops, pos + 1, writers, ctx, bytes_out);
            op.on_timer(now_ms, &mut out);
        }
    }

    /// When the earliest timer of any operator fires.
    pub fn next_timer(&self) -> Option<u64> {
        self.ops
            .iter()
            .filter_map(|op| op.operator.next_timer())
            .min()
    }

    /// The state of every chained operator (and a source's offset).
    pub fn snapshot(&self, source_offset: Option<u64>) -> TaskSnapshot {
        TaskSnapshot {
            input_channel_state: Vec::new(),
            output_channel_state: Vec::new(),
            operators: self
                .ops
                .iter()
                .enumerate()
                .map(|(i, op)| {
                    let mut s = op.operator.snapshot();
                    s.source_offset = if i == 0 { source_offset } else { None };
                    s
                })
                .collect(),
        }
    }

    /// Loads a snapshot; returns a source's offset.
    pub fn restore(&mut self, snap: &TaskSnapshot) -> Option<u64> {
        for (op, st) in self.ops.iter_mut().zip(&snap.operators) {
            op.operator.restore(st);
        }
        snap.operators.first().and_then(|o| o.source_offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{HostCtx, NoEvents, TokioClock};
    use crate::graph::JobId;
    use crate::net::TcpNetwork;
    use crate::operators::MapFn;
    use crate::rng::SeededRng;
    use crate::rpc::ExecutionAttemptId;
    use crate::taskmanager::network::NetworkEnvironment;
    use crate::taskmanager::network::result_partition::BufferLimits;
    use std::sync::Arc;

    /// A chain of the given operators, each feeding the next, with no
    /// record writers (what the last emits is dropped).
    fn chain(operators: Vec<Box<dyn StreamOperator>>) -> OperatorChain {
        let n = operators.len();
        let ops = operators
            .into_iter()
            .enumerate()
            .map(|(i, operator)| ChainedOperator {
                operator,
                chained: if i + 1 < n { vec![i + 1] } else { vec![] },
                writers: vec![],
            })
            .collect();
        OperatorChain {
            ops,
            ctx: OperatorContext::default(),
            bytes_out: 0,
        }
    }

    fn no_writers() -> RecordWriterDelegate {
        let ctx = HostCtx {
            host: "tm-a".into(),
            net: Arc::new(TcpNetwork::insecure()),
            events: Arc::new(NoEvents),
            clock: Arc::new(TokioClock::start()),
            seed: 7,
        };
        let net = NetworkEnvironment::new(ctx, "tm-a:6121".into(), 2);
        let attempt = ExecutionAttemptId {
            job: JobId(1),
            vertex: 0,
            subtask: 0,
            attempt: 0,
        };
        let limits = BufferLimits {
            records: 64,
            bytes: 32 * 1024,
        };
        RecordWriterDelegate::new(attempt, &[], &net, SeededRng::new(1), limits, 100)
    }

    /// A window chained after the head sees the task's processing time,
    /// not 0 (the last helper's suspicion, confirmed: records at 5 s went
    /// into the window of 0 s, due at once).
    #[test]
    fn a_chained_window_sees_the_task_clock() {
        let mut c = chain(vec![
            Box::new(StreamMap(MapFn::Identity)),
            Box::new(WindowOperator::new(KeySelector::Value, 1_000)),
        ]);
        let mut w = no_writers();
        c.push_head(Value::Int(1), &mut w, 5_200);
        c.push_head(Value::Int(2), &mut w, 5_900);
        assert_eq!(c.next_timer(), Some(6_000), "the window of 5 s ends at 6 s");
        c.fire_timers(Some(6_000), &mut w);
        assert_eq!(c.next_timer(), None, "fired at its end");
    }
}
