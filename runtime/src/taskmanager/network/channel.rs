//! Channels: the two halves of one producer-subtask → consumer-subtask lane,
//! local or remote, and the credits that pace a remote one.
//!
//! Flink's classes: `LocalInputChannel` and `RemoteInputChannel` on the
//! consumer side ([`InputChannel`]), a subpartition's queue on the producer
//! side ([`OutputChannel`]), and the producer's credit-based sender of a
//! remote subpartition (`CreditBasedSequenceNumberingViewReader` with the
//! `PartitionRequestQueue`, here `Outgoing`).
//!
//! - **In**: buffers from a [`super::result_partition`] (via
//!   [`OutputChannel`]), `PartitionRequest` and `Credit` messages from a
//!   [`super::connection`].
//! - **Out**: buffers to the [`super::input_gate`] (via [`InputChannel`]),
//!   one `Credit` back to the producer per buffer a remote channel hands out.
//!
//! The `Registry` pairs the halves: whichever of producer and consumer
//! comes first leaves its half there for the other.

use super::signal::{ChannelSignal, CloseOnDrop, GateWaker, Lane};
use crate::rpc::{ChannelKey, CheckpointBarrier, DataMessage, StreamElement};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{Semaphore, mpsc};

/// A batch of elements: the unit of transfer and of credit (Flink's network buffer).
pub type Buffer = Vec<StreamElement>;

/// Why a channel stopped carrying data before its end (the task fails with
/// this text as its cause).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// The consumer of an output channel is gone.
    #[error("a downstream task is gone")]
    DownstreamGone,
    /// An input channel's producer went away before `EndOfPartition`.
    #[error("input channel from subtask {from} closed before its end")]
    ClosedBeforeEnd {
        /// The producer subtask.
        from: u32,
    },
}

/// The producer half of a channel: a bounded queue of buffers, and a
/// priority lane for unaligned checkpoint barriers that overtake them.
#[derive(Debug, Clone)]
pub struct OutputChannel {
    /// Buffers, in order, bounded (back-pressure). The producer task sends;
    /// the consumer's [`InputChannel::Local`] or the remote sender receives;
    /// closed when the consumer side is gone. Send through
    /// [`OutputChannel::try_send`] and [`OutputChannel::send`] (or call
    /// [`OutputChannel::sent`] after a reserved permit's send), so the
    /// reading gate hears of it.
    pub data: mpsc::Sender<Buffer>,
    /// Priority barriers: no bound, no credit, ahead of all data.
    pub priority: mpsc::UnboundedSender<CheckpointBarrier>,
    /// Tells the reading gate what arrived.
    pub signal: Arc<ChannelSignal>,
    /// Closes the signal with the last clone.
    pub close: Arc<CloseOnDrop>,
}

impl OutputChannel {
    /// The producer half of a fresh channel with these senders.
    pub fn new(
        data: mpsc::Sender<Buffer>,
        priority: mpsc::UnboundedSender<CheckpointBarrier>,
        signal: Arc<ChannelSignal>,
    ) -> Self {
        OutputChannel {
            data,
            priority,
            close: Arc::new(CloseOnDrop(signal.clone())),
            signal,
        }
    }

    /// Queues a buffer if there is room.
    #[inline]
    pub fn try_send(&self, buf: Buffer) -> Result<(), mpsc::error::TrySendError<Buffer>> {
        self.data.try_send(buf)?;
        self.sent();
        Ok(())
    }

    /// Queues a buffer, waiting for room.
    pub async fn send(&self, buf: Buffer) -> Result<(), mpsc::error::SendError<Buffer>> {
        self.data.send(buf).await?;
        self.sent();
        Ok(())
    }

    /// A buffer was queued through a permit of `data`.
    #[inline]
    pub fn sent(&self) {
        self.signal.pushed(Lane::Data);
    }

    /// Sends a priority barrier ahead of the queued buffers.
    pub fn send_priority(&self, b: CheckpointBarrier) {
        if self.priority.send(b).is_ok() {
            self.signal.pushed(Lane::Priority);
        }
    }
}

/// The consumer half of a channel.
#[derive(Debug)]
pub enum InputChannel {
    /// From a producer on this TaskManager (`LocalInputChannel`).
    Local {
        /// Buffers.
        rx: mpsc::Receiver<Buffer>,
        /// Priority barriers.
        priority: mpsc::UnboundedReceiver<CheckpointBarrier>,
        /// What the producer pushed.
        signal: Arc<ChannelSignal>,
    },
    /// From a producer on another TaskManager (`RemoteInputChannel`):
    /// buffers arrive from the connection; each one taken returns a credit.
    Remote {
        /// Buffers as they arrive (sent by the connection's reader).
        rx: mpsc::UnboundedReceiver<Buffer>,
        /// Priority barriers as they arrive.
        priority: mpsc::UnboundedReceiver<CheckpointBarrier>,
        /// The connection to the producer's TaskManager.
        conn: mpsc::UnboundedSender<DataMessage>,
        /// The channel.
        key: ChannelKey,
        /// What the connection pushed.
        signal: Arc<ChannelSignal>,
    },
}

impl InputChannel {
    pub(super) fn signal(&self) -> &ChannelSignal {
        match self {
            InputChannel::Local { signal, .. } | InputChannel::Remote { signal, .. } => signal,
        }
    }

    /// A priority barrier, if one arrived.
    pub fn try_priority(&mut self) -> Option<CheckpointBarrier> {
        self.take_priority().flatten()
    }

    /// A priority barrier (`Some(Some)`), the lane's end (`Some(None)`),
    /// or nothing yet (`None`), looking at the queue only when the signal
    /// says it may hold something.
    fn take_priority(&mut self) -> Option<Option<CheckpointBarrier>> {
        if !self.signal().may_have(Lane::Priority) {
            return None;
        }
        let (InputChannel::Local {
            priority, signal, ..
        }
        | InputChannel::Remote {
            priority, signal, ..
        }) = self;
        match priority.try_recv() {
            Ok(b) => {
                signal.popped(Lane::Priority);
                Some(Some(b))
            }
            Err(mpsc::error::TryRecvError::Disconnected) => Some(None),
            Err(mpsc::error::TryRecvError::Empty) => None,
        }
    }

    /// Looks at the priority lane and, if it is empty, arms it so that the
    /// next barrier wakes `gate` (as tokio's `poll_recv` would wake a waker
    /// registered on this lane alone); then looks again. What
    /// `take_priority` answers; the task budget is the gate's business
    /// (see [`super::input_gate::InputGate::next`]).
    ///
    /// `none_queued` says that the gate knows no barrier is queued on any
    /// of its lanes: then an open lane is only armed, without the looks
    /// that would find it empty.
    pub(super) fn poll_priority(
        &mut self,
        gate: &Arc<GateWaker>,
        none_queued: bool,
    ) -> Option<Option<CheckpointBarrier>> {
        if none_queued && !self.signal().is_closed() {
            self.signal().arm(Lane::Priority, gate);
            return None;
        }
        if let Some(r) = self.take_priority() {
            return Some(r);
        }
        self.signal().arm(Lane::Priority, gate);
        self.take_priority()
    }

    /// Whether the channel crosses TaskManagers.
    pub fn is_remote(&self) -> bool {
        matches!(self, InputChannel::Remote { .. })
    }

    /// Takes a buffer if one is there; `Err(true)` if the producer side is gone.
    pub fn try_recv(&mut self) -> Result<Buffer, bool> {
        match self.take_data() {
            Some(Some(b)) => Ok(b),
            Some(None) => Err(true),
            None => Err(false),
        }
    }

    /// Like [`InputChannel::take_priority`], for buffers; each buffer
    /// taken returns a credit.
    fn take_data(&mut self) -> Option<Option<Buffer>> {
        if !self.signal().may_have(Lane::Data) {
            return None;
        }
        let r = match self {
            InputChannel::Local { rx, .. } => rx.try_recv(),
            InputChannel::Remote { rx, .. } => rx.try_recv(),
        };
        match r {
            Ok(b) => {
                self.signal().popped(Lane::Data);
                self.returned_credit();
                Some(Some(b))
            }
            Err(mpsc::error::TryRecvError::Disconnected) => Some(None),
            Err(mpsc::error::TryRecvError::Empty) => None,
        }
    }

    /// Like [`InputChannel::poll_priority`], for buffers; `quiet` says
    /// that the gate knows no data lane holds a buffer or a closed end.
    pub(super) fn poll_recv(
        &mut self,
        gate: &Arc<GateWaker>,
        quiet: bool,
    ) -> Option<Option<Buffer>> {
        if quiet {
            self.signal().arm(Lane::Data, gate);
            return None;
        }
        if let Some(r) = self.take_data() {
            return Some(r);
        }
        self.signal().arm(Lane::Data, gate);
        self.take_data()
    }

    fn returned_credit(&self) {
        if let InputChannel::Remote { conn, key, .. } = self {
            let _ = conn.send(DataMessage::Credit { key: *key, n: 1 });
        }
    }
}

/// Producer-side state of a remote channel, created by whichever of the
/// producer (its queue) and the consumer (its request) arrives first.
pub(super) struct Outgoing {
    /// Buffers the consumer has room for.
    pub(super) credits: Arc<Semaphore>,
    /// The producer's queue and priority lane, until the sender takes them.
    pub(super) queue: Option<(
        mpsc::Receiver<Buffer>,
        mpsc::UnboundedReceiver<CheckpointBarrier>,
    )>,
    /// The connection the consumer's request came over.
    pub(super) conn: Option<mpsc::UnboundedSender<DataMessage>>,
}

impl Default for Outgoing {
    fn default() -> Self {
        Outgoing {
            credits: Arc::new(Semaphore::new(0)),
            queue: None,
            conn: None,
        }
    }
}

impl Outgoing {
    /// Once both the producer's queue and the consumer's connection are
    /// known, starts the sender: it forwards priority barriers at once and
    /// each buffer only against a credit.
    pub(super) fn maybe_start_sender(&mut self, key: ChannelKey) {
        let (Some(_), Some(_)) = (&self.queue, &self.conn) else {
            return;
        };
        let (Some((mut queue, mut priority)), Some(conn)) = (self.queue.take(), self.conn.clone())
        else {
            return;
        };
        let credits = self.credits.clone();
        tokio::spawn(async move {
            let prio = |barrier| DataMessage::PriorityBarrier { key, barrier };
            loop {
                let elements = tokio::select! {
                    biased;
                    Some(b) = priority.recv() => {
                        if conn.send(prio(b)).is_err() { return; }
                        continue;
                    }
                    e = queue.recv() => match e {
                        Some(e) => e,
                        None => return,
                    },
                };
                // Wait for credit; priority barriers still pass meanwhile.
                loop {
                    tokio::select! {
                        biased;
                        Some(b) = priority.recv() => {
                            if conn.send(prio(b)).is_err() { return; }
                        }
                        permit = credits.acquire() => match permit {
                            Ok(p) => { p.forget(); break; }
                            Err(_) => return,
                        },
                    }
                }
                if conn.send(DataMessage::Buffer { key, elements }).is_err() {
                    return;
                }
            }
        });
    }
}

/// One half of a local channel, left by whichever side came first.
pub(super) enum LocalHalf {
    /// The consumer came first: the producer takes this sender.
    Sender(OutputChannel),
    /// The producer came first: the consumer takes these receivers.
    Receiver(
        mpsc::Receiver<Buffer>,
        mpsc::UnboundedReceiver<CheckpointBarrier>,
        Arc<ChannelSignal>,
    ),
}

/// Consumer-side ends of a remote channel: data and priority, fed by the
/// connection's reader.
pub(super) struct Incoming {
    data: mpsc::UnboundedSender<Buffer>,
    priority: mpsc::UnboundedSender<CheckpointBarrier>,
    signal: Arc<ChannelSignal>,
    _close: CloseOnDrop,
}

impl Incoming {
    /// The senders of a fresh remote channel, with its signal.
    pub(super) fn new(
        data: mpsc::UnboundedSender<Buffer>,
        priority: mpsc::UnboundedSender<CheckpointBarrier>,
        signal: Arc<ChannelSignal>,
    ) -> Self {
        Incoming {
            data,
            priority,
            _close: CloseOnDrop(signal.clone()),
            signal,
        }
    }

    /// Hands a buffer that arrived to the consumer.
    pub(super) fn buffer(&self, elements: Buffer) {
        if self.data.send(elements).is_ok() {
            self.signal.pushed(Lane::Data);
        }
    }

    /// Hands a priority barrier that arrived to the consumer.
    pub(super) fn priority(&self, barrier: CheckpointBarrier) {
        if self.priority.send(barrier).is_ok() {
            self.signal.pushed(Lane::Priority);
        }
    }
}

/// A map looked up by channel key for every buffer and credit, never
/// iterated: hashed with a fixed seed (no per-process randomness), so its
/// order could not leak into anything even if it were.
pub(super) type KeyMap<V> = HashMap<ChannelKey, V, foldhash::fast::FixedState>;

/// Every channel of this TaskManager that is set up or half set up.
#[derive(Default)]
pub(super) struct Registry {
    /// Producer sides of remote channels.
    pub(super) outgoing: KeyMap<Outgoing>,
    /// Consumer sides of remote channels.
    pub(super) incoming: KeyMap<Incoming>,
    /// Local channels waiting for their other half.
    pub(super) local: KeyMap<LocalHalf>,
}

/// The [`Registry`] behind a lock, shared by the environment and every
/// connection's reader.
#[derive(Default)]
pub(super) struct SharedRegistry(Mutex<Registry>);

impl SharedRegistry {
    /// The registry, locked.
    pub(super) fn lock(&self) -> MutexGuard<'_, Registry> {
        // A poisoned lock means a task panicked mid-update; the registry
        // holds only channel handles, so carrying on is safe.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
