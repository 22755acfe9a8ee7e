//! The interface of one operator in a chain, and where its records go.
//!
//! Flink's `StreamOperator` (with `OneInputStreamOperator.processElement`,
//! `snapshotState`/`initializeState`, and processing-time timers through
//! the `InternalTimerService`) is the runtime face of a user function; it
//! emits through an `Output`, which inside a chain is a `ChainingOutput`:
//! a direct call into the next operator, no buffer, no serialisation. This
//! module holds that interface ([`StreamOperator`]), the [`Output`] it
//! emits through, and what the chain's operators share
//! ([`OperatorContext`]). The operators themselves live in
//! [`super::operators`], [`super::source`] and [`super::sink`]; the
//! [`super::operator_chain`] wires them.
//!
//! - **In**: a record for an operator, with its [`Output`].
//! - **Out**: the record handed to the chained successors' `process` and
//!   written to the record writers the operator feeds.

use crate::jobmanager::checkpoint::snapshot::OperatorSnapshot;
use crate::operators::Value;
use crate::taskmanager::network::record_writer::RecordWriterDelegate;

/// What an operator may touch besides its own state: the processing time
/// and what the chain's sinks share. One per chain, owned by the
/// `OperatorChain`.
#[derive(Debug, Default)]
pub struct OperatorContext {
    /// Processing time of the record at hand (ms): the task's clock when
    /// the record entered the chain (or the timer's time), the same for
    /// every operator of the chain, as Flink's chained operators share one
    /// `ProcessingTimeService`.
    pub now_ms: u64,
    /// Records written out of the chain (to a record writer or into a sink).
    pub records_out: u64,
    /// Microseconds that slow sinks still owe (paid by the task's pacing).
    pub sink_debt_us: u64,
    /// Records that reached a collect sink and were not yet handed on: the
    /// open transaction of the two-phase-commit sink.
    pub collected: Vec<Value>,
}

/// The records of one source batch or one network buffer, handed through
/// a chain together, in order.
///
/// Flink calls `processElement` once per record. A chain here is handed a
/// whole batch: each operator runs over all of it before the next one
/// does, with one call per batch instead of one per record. Each operator
/// still sees its records in the same order, and nothing between two
/// operators of a chain can observe the difference (no await, no timer,
/// no barrier inside a batch), so the results, the state and every
/// counter are the same as record at a time. An operator with more than
/// one place to send its records hands them on one at a time, so that the
/// order across those places is kept too.
pub type Batch = Vec<Value>;

/// One operator of a chain (Flink's `StreamOperator`).
pub trait StreamOperator: Send {
    /// Processes one record, handing what it emits to `out` (Flink's
    /// `processElement` with its `Output`).
    fn process(&mut self, record: Value, out: &mut Output<'_>);

    /// Processes a [`Batch`] in order and leaves it empty (its capacity is
    /// reused). The default hands each record to [`Self::process`];
    /// operators that emit one record per record transform the batch in
    /// place and hand it on whole with [`Output::collect_batch`].
    fn process_batch(&mut self, batch: &mut Batch, out: &mut Output<'_>) {
        for v in batch.drain(..) {
            self.process(v, out);
        }
    }

    /// The operator's state for a checkpoint (`snapshotState`); stateless
    /// operators have none.
    fn snapshot(&self) -> OperatorSnapshot {
        OperatorSnapshot::default()
    }

    /// Loads the state of a checkpoint (`initializeState`).
    fn restore(&mut self, _snapshot: &OperatorSnapshot) {}

    /// When the earliest timer fires (ms), if any.
    fn next_timer(&self) -> Option<u64> {
        None
    }

    /// Fires the timers due by `now` (all of them with `None`: end of
    /// input), handing what they emit to `out`.
    fn on_timer(&mut self, _now: Option<u64>, _out: &mut Output<'_>) {}
}

/// One operator in the chain, with where its output goes.
pub struct ChainedOperator {
    /// The operator.
    pub operator: Box<dyn StreamOperator>,
    /// Chained successors (positions in the chain, all after this one).
    pub chained: Vec<usize>,
    /// Record writers fed by this operator (indices into the delegate).
    pub writers: Vec<usize>,
}

/// The operator at `ops[0]` (chain position `base - 1`) and the [`Output`]
/// it emits through, over the operators after it.
#[inline(always)]
pub fn split_output<'a>(
    ops: &'a mut [ChainedOperator],
    base: usize,
    writers: &'a mut RecordWriterDelegate,
    ctx: &'a mut OperatorContext,
    bytes_out: &'a mut u64,
) -> (&'a mut dyn StreamOperator, Output<'a>) {
    let (op, rest) = ops
        .split_first_mut()
        .expect("a chain position names one of its operators");
    let ChainedOperator {
        operator,
        chained,
        writers: feeds,
    } = op;
    let out = Output {
        rest,
        base,
        chained,
        feeds,
        writers,
        ctx,
        bytes_out,
    };
    (operator.as_mut(), out)
}

// ANCHOR: output
/// Where one operator's records go (Flink's `ChainingOutput`, with the
/// `RecordWriterOutput`s of the chain's ends): each record is written to
/// the operator's record writers and handed to its chained successors by
/// a direct call, cloned only when it has more than one place to go.
pub struct Output<'a> {
    /// The operators after this one in the chain (positions `base..`).
    pub rest: &'a mut [ChainedOperator],
    /// The chain position of `rest[0]`.
    pub base: usize,
    /// Chained successors (positions in the chain).
    pub chained: &'a [usize],
    /// Record writers fed (indices into the delegate).
    pub feeds: &'a [usize],
    /// The chain's record writers.
    pub writers: &'a mut RecordWriterDelegate,
    /// What the chain's operators share.
    pub ctx: &'a mut OperatorContext,
    /// Bytes written to record writers so far.
    pub bytes_out: &'a mut u64,
}

impl Output<'_> {
    /// What the chain's operators share: the clock, the sinks' state.
    #[inline]
    pub fn ctx(&mut self) -> &mut OperatorContext {
        self.ctx
    }

    /// Emits one record downstream.
    #[inline(always)]
    pub fn collect(&mut self, v: Value) {
        let mut left = self.feeds.len() + self.chained.len();
        for i in 0..self.feeds.len() {
            left -= 1;
            let w = self.feeds[i];
            self.ctx.records_out += 1;
            if left == 0 {
                *self.bytes_out += self.writers.write(w, v);
                return;
            }
            *self.bytes_out += self.writers.write(w, v.clone());
        }
        for i in 0..self.chained.len() {
            left -= 1;
            let c = self.chained[i];
            if left == 0 {
                self.push_to(c, v);
                return;
            }
            self.push_to(c, v.clone());
        }
    }

    /// Emits a batch downstream, in order, and leaves `batch` empty: whole
    /// to a single record writer or chained successor, one record at a time
    /// where there are several (so the order across them is kept).
    #[inline]
    pub fn collect_batch(&mut self, batch: &mut Batch) {
        match (self.feeds, self.chained) {
            ([], []) => batch.clear(),
            (&[w], []) => {
                self.ctx.records_out += batch.len() as u64;
                *self.bytes_out += self.writers.write_batch(w, batch);
            }
            ([], &[c]) => self.push_batch_to(c, batch),
            _ => {
                for v in batch.drain(..) {
                    self.collect(v);
                }
            }
        }
    }

    /// Runs chained operator `c` on a batch.
    #[inline]
    fn push_batch_to(&mut self, c: usize, batch: &mut Batch) {
        let ops = &mut self.rest[c - self.base..];
        let (op, mut out) = split_output(ops, c + 1, self.writers, self.ctx, self.bytes_out);
        op.process_batch(batch, &mut out);
    }

    /// Runs chained operator `c` on `v`, at the chain's processing time.
    #[inline(always)]
    fn push_to(&mut self, c: usize, v: Value) {
        let ops = &mut self.rest[c - self.base..];
        let (op, mut out) = split_output(ops, c + 1, self.writers, self.ctx, self.bytes_out);
        op.process(v, &mut out);
    }
}
// ANCHOR_END: output
