//! The result partition: what one producer subtask writes for one output
//! edge, one subpartition per consumer subtask.
//!
//! Flink's `ResultPartition` (a `PipelinedResultPartition` for streaming)
//! holds one `ResultSubpartition` per consumer; records are serialised into
//! the subpartition's current buffer, and a full buffer is handed to the
//! channel. Here a [`ResultSubpartition`] keeps its pending buffer and its
//! traffic counters, and [`ResultPartition::flush`] hands buffers to the
//! [`OutputChannel`]s, waiting (back-pressure) when a channel is full.
//!
//! - **In**: elements from the [`super::record_writer`] (records) and from
//!   the task (barriers, `EndOfPartition`).
//! - **Out**: buffers into each subpartition's [`OutputChannel`]; the time
//!   spent waiting for room, added to the task's back-pressure counter.

use super::channel::{Buffer, ChannelError, OutputChannel};
use crate::events::HostCtx;
use crate::operators::Value;
use crate::rpc::{CheckpointBarrier, StreamElement};
use tokio::sync::mpsc;

/// One consumer subtask's share of a partition.
#[derive(Debug)]
pub struct ResultSubpartition {
    /// The consumer subtask.
    pub to: u32,
    /// The channel to it.
    pub tx: OutputChannel,
    /// Whether the consumer runs on another TaskManager.
    pub remote: bool,
    /// Elements not yet handed to the channel (the buffer being filled).
    pub pending: Buffer,
    /// Records since the last traffic report.
    pub records: u64,
    /// Bytes since the last traffic report.
    pub bytes: u64,
}

impl ResultSubpartition {
    /// A subpartition with nothing pending.
    pub fn new(to: u32, tx: OutputChannel, remote: bool) -> Self {
        ResultSubpartition {
            to,
            tx,
            remote,
            pending: Vec::new(),
            records: 0,
            bytes: 0,
        }
    }

    /// The next buffer to send: the first `buffer_records` pending elements
    /// (all of them if fewer). When exactly one buffer is pending it is
    /// moved out whole, and a fresh one of the same capacity takes its place.
    #[inline]
    fn take_buffer(&mut self, buffer_records: usize) -> Buffer {
        let n = buffer_records.max(1);
        if self.pending.len() <= n {
            std::mem::replace(&mut self.pending, Vec::with_capacity(n))
        } else {
            self.pending.drain(..n).collect()
        }
    }

    /// Appends one record of `size` bytes.
    #[inline]
    pub fn add(&mut self, v: Value, size: u64) {
        self.pending.push(StreamElement::Record(v));
        self.records += 1;
        self.bytes += size;
    }
}

/// The subpartitions of one output edge of one producer subtask.
#[derive(Debug)]
pub struct ResultPartition {
    /// The job edge.
    pub edge: u32,
    /// One per consumer subtask, in the order the deployment listed them.
    pub subpartitions: Vec<ResultSubpartition>,
}

impl ResultPartition {
    /// Appends an element (a barrier or the end) to every subpartition.
    pub fn broadcast(&mut self, el: StreamElement) {
        for c in &mut self.subpartitions {
            c.pending.push(el.clone());
        }
    }

    /// An unaligned barrier: a priority copy goes ahead of everything queued
    /// in the channels, and the in-lane copy goes ahead of the records still
    /// pending here. Returns the overtaken records per consumer subtask,
    /// which the checkpoint stores as output in-flight data.
    pub fn overtake(&mut self, b: CheckpointBarrier) -> Vec<(u32, Vec<Value>)> {
        let mut stored = Vec::new();
        for c in &mut self.subpartitions {
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
                stored.push((c.to, overtaken));
            }
        }
        stored
    }

    /// Sends every buffer that is full (or, with `all`, every non-empty
    /// one), adding the time blocked on full channels to `backpressured_ms`.
    pub async fn flush(
        &mut self,
        all: bool,
        buffer_records: usize,
        ctx: &HostCtx,
        backpressured_ms: &mut u64,
    ) -> Result<(), ChannelError> {
        for c in self.subpartitions.iter_mut() {
            while c.pending.len() >= buffer_records || (all && !c.pending.is_empty()) {
                let buf = c.take_buffer(buffer_records);
                send_buffer(&c.tx, buf, ctx, backpressured_ms).await?;
            }
        }
        Ok(())
    }

    /// Like [`ResultPartition::flush`], but a message on `interrupt` while a
    /// channel is full ends the wait: the buffer in hand goes back in front
    /// of the pending ones and the wait ends with
    /// [`Flushed::Interrupted`] (carrying `None` if `interrupt` closed).
    pub async fn flush_interruptible<T>(
        &mut self,
        all: bool,
        buffer_records: usize,
        ctx: &HostCtx,
        backpressured_ms: &mut u64,
        interrupt: &mut mpsc::UnboundedReceiver<T>,
    ) -> Result<Flushed<T>, ChannelError> {
        let n = buffer_records;
        for c in self.subpartitions.iter_mut() {
            while c.pending.len() >= n || (all && !c.pending.is_empty()) {
                let buf = c.take_buffer(n);
                let buf = match c.tx.data.try_send(buf) {
                    Ok(()) => continue,
                    Err(mpsc::error::TrySendError::Closed(_)) => {
                        return Err(ChannelError::DownstreamGone);
                    }
                    Err(mpsc::error::TrySendError::Full(buf)) => buf,
                };
                let t0 = ctx.now_ms();
                let waited = tokio::select! {
                    biased;
                    msg = interrupt.recv() => Err(msg),
                    permit = c.tx.data.reserve() => Ok(permit),
                };
                *backpressured_ms += ctx.now_ms() - t0;
                match waited {
                    Ok(Ok(permit)) => permit.send(buf),
                    Ok(Err(_)) => return Err(ChannelError::DownstreamGone),
                    Err(msg) => {
                        let mut back = buf;
                        back.append(&mut c.pending);
                        c.pending = back;
                        return Ok(Flushed::Interrupted(msg));
                    }
                }
            }
        }
        Ok(Flushed::Done)
    }
}

/// How an interruptible flush ended.
#[derive(Debug)]
pub enum Flushed<T> {
    /// Everything due was sent.
    Done,
    /// A message arrived while waiting for room (`None`: the sender closed).
    Interrupted(Option<T>),
}

/// Sends a buffer, measuring the time blocked on a full channel.
async fn send_buffer(
    tx: &OutputChannel,
    buf: Buffer,
    ctx: &HostCtx,
    backpressured_ms: &mut u64,
) -> Result<(), ChannelError> {
    match tx.data.try_send(buf) {
        Ok(()) => Ok(()),
        Err(mpsc::error::TrySendError::Full(buf)) => {
            let t0 = ctx.now_ms();
            let r = tx.data.send(buf).await;
            *backpressured_ms += ctx.now_ms() - t0;
            r.map_err(|_| ChannelError::DownstreamGone)
        }
        Err(mpsc::error::TrySendError::Closed(_)) => Err(ChannelError::DownstreamGone),
    }
}
