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

use crate::rpc::{ChannelKey, CheckpointBarrier, DataMessage, StreamElement};
use std::collections::BTreeMap;
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
    /// closed when the consumer side is gone.
    pub data: mpsc::Sender<Buffer>,
    /// Priority barriers: no bound, no credit, ahead of all data.
    pub priority: mpsc::UnboundedSender<CheckpointBarrier>,
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
    },
}

impl InputChannel {
    /// A priority barrier, if one arrived.
    pub fn try_priority(&mut self) -> Option<CheckpointBarrier> {
        match self {
            InputChannel::Local { priority, .. } | InputChannel::Remote { priority, .. } => {
                priority.try_recv().ok()
            }
        }
    }

    /// Polls the priority lane.
    pub fn poll_priority(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<CheckpointBarrier>> {
        match self {
            InputChannel::Local { priority, .. } | InputChannel::Remote { priority, .. } => {
                priority.poll_recv(cx)
            }
        }
    }

    /// Whether the channel crosses TaskManagers.
    pub fn is_remote(&self) -> bool {
        matches!(self, InputChannel::Remote { .. })
    }

    /// Takes a buffer if one is there; `Err(true)` if the producer side is gone.
    pub fn try_recv(&mut self) -> Result<Buffer, bool> {
        let r = match self {
            InputChannel::Local { rx, .. } => rx.try_recv(),
            InputChannel::Remote { rx, .. } => rx.try_recv(),
        };
        match r {
            Ok(b) => {
                self.returned_credit();
                Ok(b)
            }
            Err(mpsc::error::TryRecvError::Empty) => Err(false),
            Err(mpsc::error::TryRecvError::Disconnected) => Err(true),
        }
    }

    /// Polls for a buffer.
    pub fn poll_recv(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Buffer>> {
        let r = match self {
            InputChannel::Local { rx, .. } => rx.poll_recv(cx),
            InputChannel::Remote { rx, .. } => rx.poll_recv(cx),
        };
        if let std::task::Poll::Ready(Some(_)) = &r {
            self.returned_credit();
        }
        r
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
    ),
}

/// Consumer-side ends of a remote channel: data and priority, fed by the
/// connection's reader.
pub(super) type Incoming = (
    mpsc::UnboundedSender<Buffer>,
    mpsc::UnboundedSender<CheckpointBarrier>,
);

/// Every channel of this TaskManager that is set up or half set up.
#[derive(Default)]
pub(super) struct Registry {
    /// Producer sides of remote channels.
    pub(super) outgoing: BTreeMap<ChannelKey, Outgoing>,
    /// Consumer sides of remote channels.
    pub(super) incoming: BTreeMap<ChannelKey, Incoming>,
    /// Local channels waiting for their other half.
    pub(super) local: BTreeMap<ChannelKey, LocalHalf>,
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
