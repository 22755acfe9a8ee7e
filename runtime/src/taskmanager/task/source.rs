//! Sources: where a source task's records come from, and how fast.
//!
//! Flink's `SourceStreamTask` runs a `SourceFunction` (or a `SourceReader`
//! over its splits) and emits into the chain; the source's position (an
//! offset) is part of every checkpoint, so a restore replays from it. Here
//! a [`SourceSplit`] is one subtask's contiguous share of a `sequence`,
//! `words` or `generator` source with its read position and rate, and
//! [`StreamSource`] is the chain head that passes the records on.
//!
//! - **In**: the source's [`OperatorKind`], the subtask and parallelism, a
//!   restored offset.
//! - **Out**: records in batches, the offset to checkpoint, and how long to
//!   sleep to keep a throttled source at its rate.

use super::stream_operator::{Output, StreamOperator};
use crate::operators::{OperatorKind, Value, generator_record};
use std::sync::Arc;

/// The head operator of a source chain (Flink's `StreamSource`): the source
/// task produces the records, this passes them down the chain.
#[derive(Debug)]
pub struct StreamSource;

impl StreamOperator for StreamSource {
    #[inline]
    fn process(&mut self, record: Value, out: &mut Output<'_>) {
        out.collect(record);
    }
}

/// One subtask's share of a source: offsets `[next, end)` still to emit.
#[derive(Debug)]
pub struct SourceSplit {
    kind: OperatorKind,
    /// A `words` source's lines, shared with the records made from them.
    lines: Vec<Arc<str>>,
    /// The offset of the next record (what a checkpoint stores).
    pub next: u64,
    end: u64,
    keys: u64,
    rate: u64,
    /// Microseconds the source is ahead of its rate.
    debt_us: u64,
}

impl SourceSplit {
    /// The split of `subtask` of a source with `parallelism` subtasks,
    /// resuming at `restored` (a checkpointed offset) if given. Flink splits
    /// a sequence into one contiguous range per subtask.
    pub fn new(kind: &OperatorKind, subtask: u32, parallelism: u32, restored: Option<u64>) -> Self {
        let split = |n: u64| {
            let p = u64::from(parallelism.max(1));
            let s = u64::from(subtask);
            (s * n / p, (s + 1) * n / p)
        };
        let (start, end, keys, rate) = match kind {
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
        };
        let lines = match kind {
            OperatorKind::Words { lines } => lines.iter().map(|l| Arc::from(l.as_str())).collect(),
            _ => Vec::new(),
        };
        SourceSplit {
            kind: kind.clone(),
            lines,
            next: restored.unwrap_or(start).max(start),
            end,
            keys,
            rate,
            debt_us: 0,
        }
    }

    /// Records per batch, for buffers of `buffer_records`: a throttled
    /// source emits at most 256 at a time, so that it sleeps (and notices
    /// checkpoint triggers) in steps no longer than 256 records' worth of
    /// its rate however large the buffers are; an unthrottled one fills a
    /// buffer per batch.
    pub fn batch_size(&self, buffer_records: usize) -> usize {
        if self.rate > 0 {
            buffer_records.min(256)
        } else {
            buffer_records
        }
    }

    /// Whether every record of the split was emitted.
    pub fn is_done(&self) -> bool {
        self.next >= self.end
    }

    /// Appends the next at most `max` records to `batch` and moves the
    /// offset past them; returns how many.
    pub fn fill_batch(&mut self, max: usize, batch: &mut Vec<Value>) -> u64 {
        let batch_end = self.end.min(self.next + max as u64);
        batch.reserve(batch_end.saturating_sub(self.next) as usize);
        match &self.kind {
            OperatorKind::Sequence { from, .. } => {
                let from = *from;
                batch.extend(
                    (self.next..batch_end).map(|i| Value::Int(from.wrapping_add(i as i64))),
                );
            }
            OperatorKind::Words { .. } => {
                let lines = &self.lines;
                batch.extend((self.next..batch_end).map(|i| Value::Str(lines[i as usize].clone())));
            }
            _ => {
                let keys = self.keys;
                batch.extend((self.next..batch_end).map(|i| generator_record(i, keys)));
            }
        }
        let produced = batch_end - self.next;
        self.next = batch_end;
        produced
    }

    /// Whether a throttled source, having just produced `produced` records,
    /// is due to sleep (and should then ship every buffer first).
    pub fn is_throttled(&self, produced: u64) -> bool {
        self.rate > 0 && self.debt_us + produced * 1_000_000 / self.rate.max(1) >= 10_000
    }

    /// Keeps the source at its rate: after `produced` records, sleeps in
    /// steps of at least 10 ms (so a throttled source still ships reasonably
    /// full buffers); an unthrottled source only yields.
    pub async fn pace(&mut self, produced: u64) {
        if let Some(us) = (produced * 1_000_000).checked_div(self.rate) {
            self.debt_us += us;
            if self.debt_us >= 10_000 {
                tokio::time::sleep(std::time::Duration::from_micros(self.debt_us)).await;
                self.debt_us = 0;
            }
        } else {
            tokio::task::yield_now().await;
        }
    }
}
