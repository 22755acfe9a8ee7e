//! The network stack of a TaskManager (Flink's `NettyShuffleEnvironment`):
//! result partitions, input gates and the connections between TaskManagers.
//!
//! A producer subtask writes each record through a [`record_writer`] into
//! the subpartition of the consumer subtask it is routed to (its
//! [`result_partition`], which batches records into buffers). Where the
//! buffer goes depends on where the consumer runs ([`channel`]):
//!
//! - **Same TaskManager**: an in-memory bounded queue of
//!   `buffers_per_channel` buffers. A full queue blocks the producer: that is
//!   back-pressure, with no network involved.
//! - **Another TaskManager**: like Flink, the consumer's TaskManager opens one
//!   [`connection`] to each producer TaskManager it reads from (all channels
//!   between the two share it) and sends a `PartitionRequest` with its
//!   initial *credit*: the number of buffers it has room for. The producer
//!   sends a buffer only against credit; each buffer the consumer takes
//!   returns one credit. With no credit the producer's bounded queue fills
//!   and the producer blocks: credit-based flow control, so a slow consumer
//!   back-pressures its producers all the way to the sources, and the
//!   connection itself is never clogged by one slow channel.
//!
//! The consumer reads all its channels through one [`input_gate`]. Data
//! never passes through the JobManager.
//!
//! | module | Flink class |
//! |---|---|
//! | [`NetworkEnvironment`] (here) | `NettyShuffleEnvironment`: creates both halves of every channel |
//! | [`result_partition`] | `ResultPartition` / `ResultSubpartition`: a producer's buffers per consumer |
//! | [`record_writer`] | `RecordWriter` (and `RecordWriterDelegate`): routes records by the partitioner |
//! | [`input_gate`] | `SingleInputGate`: all input channels of a task, barriers first |
//! | [`signal`] | `SingleInputGate`'s `inputChannelsWithData`: a channel tells its gate it has data |
//! | [`channel`] | `LocalInputChannel`, `RemoteInputChannel`, credit-based sending |
//! | [`connection`] | `ConnectionManager`: one data connection per TaskManager pair |
//!
//! - **In**: channel requests from tasks being set up ([`NetworkEnvironment::output_channel`],
//!   [`NetworkEnvironment::input_channel`]), accepted data connections ([`NetworkEnvironment::serve`]).
//! - **Out**: the channel halves, and frames on the data connections.

pub mod channel;
pub mod connection;
pub mod input_gate;
pub mod record_writer;
pub mod result_partition;
pub mod signal;
#[cfg(test)]
mod tests;

pub use channel::{Buffer, ChannelError, InputChannel, OutputChannel};

use crate::events::HostCtx;
use crate::net::frame::{FrameReader, FrameWriter};
use crate::rpc::{ChannelKey, DataMessage, Location};
use channel::{Incoming, LocalHalf, SharedRegistry};
use connection::ConnectionManager;
use signal::ChannelSignal;
use std::sync::Arc;
use tokio::sync::mpsc;

/// A TaskManager's shuffle environment: channels and data connections.
pub struct NetworkEnvironment {
    ctx: HostCtx,
    /// This TaskManager's data address.
    pub data_addr: String,
    credit: u32,
    registry: Arc<SharedRegistry>,
    connections: ConnectionManager,
}

impl std::fmt::Debug for NetworkEnvironment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetworkEnvironment")
            .field("data_addr", &self.data_addr)
            .finish()
    }
}

impl NetworkEnvironment {
    /// A fresh environment; `credit` is the buffers per channel.
    pub fn new(ctx: HostCtx, data_addr: String, credit: u32) -> Arc<Self> {
        Arc::new(NetworkEnvironment {
            ctx,
            data_addr,
            credit: credit.max(1),
            registry: Arc::new(SharedRegistry::default()),
            connections: ConnectionManager::default(),
        })
    }

    fn is_local(&self, loc: &Location) -> bool {
        loc.data_addr == self.data_addr
    }

    /// The producer half of channel `key` to a consumer at `consumer`, and
    /// whether it crosses TaskManagers.
    pub fn output_channel(&self, key: ChannelKey, consumer: &Location) -> (OutputChannel, bool) {
        let cap = self.credit as usize;
        let (data, rx) = mpsc::channel(cap);
        let (priority, prx) = mpsc::unbounded_channel();
        let signal = ChannelSignal::new();
        let out = OutputChannel::new(data, priority, signal.clone());
        let mut reg = self.registry.lock();
        if self.is_local(consumer) {
            if let Some(LocalHalf::Sender(tx)) = reg.local.remove(&key) {
                return (tx, false);
            }
            reg.local.insert(key, LocalHalf::Receiver(rx, prx, signal));
            return (out, false);
        }
        let entry = reg.outgoing.entry(key).or_default();
        entry.queue = Some((rx, prx));
        entry.maybe_start_sender(key);
        (out, true)
    }

    /// The consumer half of channel `key` from a producer at `producer`.
    pub async fn input_channel(
        &self,
        key: ChannelKey,
        producer: &Location,
    ) -> std::io::Result<InputChannel> {
        if self.is_local(producer) {
            let mut reg = self.registry.lock();
            if let Some(LocalHalf::Receiver(rx, priority, signal)) = reg.local.remove(&key) {
                return Ok(InputChannel::Local {
                    rx,
                    priority,
                    signal,
                });
            }
            let (data, rx) = mpsc::channel(self.credit as usize);
            let (ptx, priority) = mpsc::unbounded_channel();
            let signal = ChannelSignal::new();
            reg.local.insert(
                key,
                LocalHalf::Sender(OutputChannel::new(data, ptx, signal.clone())),
            );
            return Ok(InputChannel::Local {
                rx,
                priority,
                signal,
            });
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let (ptx, priority) = mpsc::unbounded_channel();
        let signal = ChannelSignal::new();
        self.registry
            .lock()
            .incoming
            .insert(key, Incoming::new(tx, ptx, signal.clone()));
        let conn = self
            .connections
            .connect(
                &self.ctx,
                &self.registry,
                &producer.data_addr,
                &producer.resource_id,
            )
            .await?;
        let _ = conn.send(DataMessage::PartitionRequest {
            key,
            credit: self.credit,
        });
        Ok(InputChannel::Remote {
            rx,
            priority,
            conn,
            key,
            signal,
        })
    }

    /// Forgets a task's channels after it ended, so late buffers for them
    /// are dropped.
    pub fn release(&self, keys: &[ChannelKey]) {
        let mut reg = self.registry.lock();
        for k in keys {
            reg.outgoing.remove(k);
            reg.incoming.remove(k);
            reg.local.remove(k);
        }
    }

    /// Serves one accepted data connection; returns the sender that writes
    /// to it.
    pub fn serve(
        self: Arc<Self>,
        reader: FrameReader,
        writer: FrameWriter,
    ) -> mpsc::UnboundedSender<DataMessage> {
        connection::serve(self.registry.clone(), reader, writer)
    }
}
