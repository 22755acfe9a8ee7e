//! Sinks: the ends of a dataflow, and the two-phase commit that makes a
//! `collect` sink exactly-once.
//!
//! Flink's `DiscardingSink`, `PrintSinkFunction` and a collect sink built on
//! `TwoPhaseCommitSinkFunction`: records go into an open transaction; on a
//! checkpoint barrier the transaction is *pre-committed* (handed on, tagged
//! with the checkpoint) and a new one begins; it is *committed* (made
//! visible) when the checkpoint completes, which the JobMaster decides.
//! Without checkpointing, records are handed on at once.
//!
//! Every sink may be slow on purpose (`rate`, records per second per
//! subtask), to show back-pressure: it runs up a debt that the task pays by
//! sleeping between batches.
//!
//! - **In**: records from the chain, a checkpoint barrier or the end of
//!   input (as a [`Txn`]).
//! - **Out**: stdout lines (print), records per transaction (collect) for
//!   the TaskExecutor to send to the JobMaster.

use super::stream_operator::{Batch, OperatorContext, Output, StreamOperator};
use crate::operators::Value;
use crate::rpc::Txn;

/// Counts one record into a sink: one record out, and its share of a slow
/// sink's time.
#[inline]
fn account(rate: u64, ctx: &mut OperatorContext) {
    account_many(rate, 1, ctx);
}

/// Counts `n` records into a sink, as `n` calls of [`account`] would.
#[inline]
fn account_many(rate: u64, n: u64, ctx: &mut OperatorContext) {
    if let Some(us) = 1_000_000u64.checked_div(rate) {
        ctx.sink_debt_us += n * us;
    }
    ctx.records_out += n;
}

/// `discard`: drops everything (Flink's `DiscardingSink`).
#[derive(Debug)]
pub struct DiscardingSink {
    /// Most records per second (0: as fast as possible).
    pub rate: u64,
}

impl StreamOperator for DiscardingSink {
    #[inline]
    fn process(&mut self, _record: Value, out: &mut Output<'_>) {
        account(self.rate, out.ctx());
    }

    fn process_batch(&mut self, batch: &mut Batch, out: &mut Output<'_>) {
        account_many(self.rate, batch.len() as u64, out.ctx());
        batch.clear();
    }
}

/// `print`: one line per record on stdout, prefixed with the subtask
/// number as Flink's `.out` file is (Flink's `PrintSinkFunction`).
#[derive(Debug)]
pub struct PrintSink {
    /// Most records per second (0: as fast as possible).
    pub rate: u64,
    /// The line prefix; `None` when the TaskManager does not print.
    pub prefix: Option<String>,
}

impl StreamOperator for PrintSink {
    fn process(&mut self, record: Value, out: &mut Output<'_>) {
        account(self.rate, out.ctx());
        if let Some(prefix) = &self.prefix {
            // A closed stdout must not fail the task.
            use std::io::Write as _;
            let _ = writeln!(std::io::stdout(), "{prefix}> {record}");
        }
    }
}

/// `collect`: records go back to the client, through the open transaction
/// in [`OperatorContext::collected`] (shared by the chain's collect sinks,
/// so records keep the order they arrived in).
#[derive(Debug)]
pub struct CollectSink {
    /// Most records per second (0: as fast as possible).
    pub rate: u64,
}

impl StreamOperator for CollectSink {
    fn process(&mut self, record: Value, out: &mut Output<'_>) {
        let ctx = out.ctx();
        account(self.rate, ctx);
        ctx.collected.push(record);
    }

    fn process_batch(&mut self, batch: &mut Batch, out: &mut Output<'_>) {
        let ctx = out.ctx();
        account_many(self.rate, batch.len() as u64, ctx);
        ctx.collected.append(batch);
    }
}

/// Closes the open transaction as `txn` (Flink's `preCommit`) and begins a
/// new one. Returns the records to hand on, or `None` when there is nothing
/// to say: an immediate transaction with no records. A checkpoint's or the
/// final transaction is handed on even when empty, so the JobMaster knows
/// the sink took part.
pub fn pre_commit(ctx: &mut OperatorContext, txn: Txn) -> Option<Vec<Value>> {
    let records = std::mem::take(&mut ctx.collected);
    (!records.is_empty() || txn != Txn::Immediate).then_some(records)
}
