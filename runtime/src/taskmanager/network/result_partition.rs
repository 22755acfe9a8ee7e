//! The result partition: what one producer subtask writes for one output
//! edge, one subpartition per consumer subtask.
//!
//! Flink's `ResultPartition` (a `PipelinedResultPartition` for streaming)
//! holds one `ResultSubpartition` per consumer; records are written into
//! the subpartition's current buffer (a 32 KiB memory segment), and a full
//! buffer is queued for the channel. Here a [`ResultSubpartition`] fills its
//! current buffer until it holds `buffer_records` elements or
//! [`BufferLimits::bytes`] bytes of records (their size on the wire), then
//! queues it whole and starts a new one; [`ResultPartition::flush`] hands
//! the queued buffers (and, when asked, the partly filled one) to the
//! [`OutputChannel`]s, waiting (back-pressure) when a channel is full. A
//! buffer is moved into the channel, never copied or serialised on the way;
//! only a remote channel's connection encodes it.
//!
//! - **In**: elements from the [`super::record_writer`] (records) and from
//!   the task (barriers, `EndOfPartition`).
//! - **Out**: buffers into each subpartition's [`OutputChannel`]; the time
//!   spent waiting for room, added to the task's back-pressure counter.

use super::channel::{Buffer, ChannelError, OutputChannel};
use crate::events::HostCtx;
use crate::operators::Value;
use crate::rpc::{CheckpointBarrier, StreamElement};
use std::collections::VecDeque;
use tokio::sync::mpsc;

/// When a buffer is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferLimits {
    /// Elements per buffer (`buffer_records`).
    pub records: usize,
    /// Bytes of records per buffer (Flink's 32 KiB memory segment).
    pub bytes: u64,
}

/// Flink's network buffer size (`taskmanager.memory.segment-size`).
pub const SEGMENT_SIZE: u64 = 32 * 1024;

/// One consumer subtask's share of a partition.
#[derive(Debug)]
pub struct ResultSubpartition {
    /// The consumer subtask.
    pub to: u32,
    /// The channel to it.
    pub tx: OutputChannel,
    /// Whether the consumer runs on another TaskManager.
    pub remote: bool,
    limits: BufferLimits,
    /// Full buffers waiting to be handed to the channel, oldest first.
    full: VecDeque<Buffer>,
    /// The buffer being filled.
    current: Buffer,
    /// Bytes of records in `current`.
    current_bytes: u64,
    /// Records since the last traffic report.
    pub records: u64,
    /// Bytes since the last traffic report.
    pub bytes: u64,
}

impl ResultSubpartition {
    /// A subpartition with nothing pending, cutting buffers at `limits`.
    pub fn new(to: u32, tx: OutputChannel, remote: bool, limits: BufferLimits) -> Self {
        ResultSubpartition {
            to,
            tx,
            remote,
            limits: BufferLimits {
                records: limits.records.max(1),
                bytes: limits.bytes.max(1),
            },
            full: VecDeque::new(),
            current: Vec::new(),
            current_bytes: 0,
            records: 0,
            bytes: 0,
        }
    }

    /// Appends one record of `size` bytes.
    #[inline]
    pub fn add(&mut self, v: Value, size: u64) {
        self.records += 1;
        self.bytes += size;
        self.current_bytes += size;
        self.push(StreamElement::Record(v));
    }

    /// Appends an element (a barrier, the end, a restored record) that is
    /// not counted as traffic.
    #[inline]
    pub fn push(&mut self, el: StreamElement) {
        if self.current.capacity() == 0 {
            self.current.reserve_exact(self.limits.records.min(1024));
        }
        self.current.push(el);
        if self.current.len() >= self.limits.records || self.current_bytes >= self.limits.bytes {
            self.cut();
        }
    }

    /// Queues the current buffer as full and starts a new one.
    fn cut(&mut self) {
        let n = self.current.len();
        self.full
            .push_back(std::mem::replace(&mut self.current, Vec::with_capacity(n)));
        self.current_bytes = 0;
    }

    /// Whether anything waits to be sent.
    pub fn has_pending(&self) -> bool {
        !self.full.is_empty() || !self.current.is_empty()
    }

    /// Every element not yet sent, in order.
    pub fn pending(&self) -> impl Iterator<Item = &StreamElement> {
        self.full.iter().flatten().chain(&self.current)
    }

    /// The next buffer to send: the oldest full one, or with `all` the
    /// partly filled one; and whether it was full.
    fn next_buffer(&mut self, all: bool) -> Option<(Buffer, bool)> {
        if let Some(b) = self.full.pop_front() {
            return Some((b, true));
        }
        if all && !self.current.is_empty() {
            self.current_bytes = 0;
            return Some((std::mem::take(&mut self.current), false));
        }
        None
    }

    /// Takes out every element not yet sent, in order.
    fn drain_pending(&mut self) -> Vec<StreamElement> {
        let mut all: Vec<StreamElement> = self.full.drain(..).flatten().collect();
        all.append(&mut self.current);
        self.current_bytes = 0;
        all
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
            c.push(el.clone());
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
                .drain_pending()
                .into_iter()
                .filter_map(|e| match e {
                    StreamElement::Record(v) => Some(v),
                    _ => None,
                })
                .collect();
            c.tx.send_priority(b);
            c.push(StreamElement::Barrier(b));
            for v in &overtaken {
                c.current_bytes += v.encoded_len() as u64;
                c.push(StreamElement::Record(v.clone()));
            }
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
        ctx: &HostCtx,
        backpressured_ms: &mut u64,
    ) -> Result<(), ChannelError> {
        for c in self.subpartitions.iter_mut() {
            while let Some((buf, _)) = c.next_buffer(all) {
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
        ctx: &HostCtx,
        backpressured_ms: &mut u64,
        interrupt: &mut mpsc::UnboundedReceiver<T>,
    ) -> Result<Flushed<T>, ChannelError> {
        for c in self.subpartitions.iter_mut() {
            while let Some((buf, was_full)) = c.next_buffer(all) {
                let buf = match c.tx.try_send(buf) {
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
                    Ok(Ok(permit)) => {
                        permit.send(buf);
                        c.tx.sent();
                    }
                    Ok(Err(_)) => return Err(ChannelError::DownstreamGone),
                    Err(msg) => {
                        // The buffer goes back where it came from (fields,
                        // not a method: `c.tx` is still borrowed here).
                        if was_full {
                            c.full.push_front(buf);
                        } else {
                            c.current = buf;
                        }
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
    match tx.try_send(buf) {
        Ok(()) => Ok(()),
        Err(mpsc::error::TrySendError::Full(buf)) => {
            let t0 = ctx.now_ms();
            let r = tx.send(buf).await;
            *backpressured_ms += ctx.now_ms() - t0;
            r.map_err(|_| ChannelError::DownstreamGone)
        }
        Err(mpsc::error::TrySendError::Closed(_)) => Err(ChannelError::DownstreamGone),
    }
}
