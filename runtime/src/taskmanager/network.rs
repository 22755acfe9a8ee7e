//! The network stack of a TaskManager: result partitions, input gates and
//! the connections between TaskManagers (Flink's `NettyShuffleEnvironment`).
//!
//! A producer subtask writes each record into the subpartition of the
//! consumer subtask it is routed to ([`super::task`]'s record writers batch
//! records into buffers). Where the buffer goes depends on where the consumer
//! runs:
//!
//! - **Same TaskManager**: an in-memory bounded queue of
//!   `buffers_per_channel` buffers. A full queue blocks the producer: that is
//!   back-pressure, with no network involved.
//! - **Another TaskManager**: like Flink, the consumer's TaskManager opens one
//!   connection to each producer TaskManager it reads from (all channels
//!   between the two share it) and sends a `PartitionRequest` with its
//!   initial *credit*: the number of buffers it has room for. The producer
//!   sends a buffer only against credit; each buffer the consumer takes
//!   returns one credit. With no credit the producer's bounded queue fills
//!   and the producer blocks: credit-based flow control, so a slow consumer
//!   back-pressures its producers all the way to the sources, and the
//!   connection itself is never clogged by one slow channel.
//!
//! Data never passes through the JobManager.

use crate::events::{EventKind, HostCtx};
use crate::net::frame::{FrameReader, FrameWriter, handshake};
use crate::rpc::{ChannelKey, CheckpointBarrier, DataMessage, Location, StreamElement};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, mpsc};

/// A batch of elements: the unit of transfer and of credit (Flink's network buffer).
pub type Buffer = Vec<StreamElement>;

/// The producer half of a channel: a bounded queue of buffers, and a
/// priority lane for unaligned checkpoint barriers that overtake them.
#[derive(Debug, Clone)]
pub struct OutputChannel {
    /// Buffers, in order, bounded (back-pressure).
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
        /// Buffers as they arrive.
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
struct Outgoing {
    credits: Arc<Semaphore>,
    queue: Option<(
        mpsc::Receiver<Buffer>,
        mpsc::UnboundedReceiver<CheckpointBarrier>,
    )>,
    conn: Option<mpsc::UnboundedSender<DataMessage>>,
}

enum LocalHalf {
    Sender(OutputChannel),
    Receiver(
        mpsc::Receiver<Buffer>,
        mpsc::UnboundedReceiver<CheckpointBarrier>,
    ),
}

/// Consumer-side ends of a remote channel: data and priority.
type Incoming = (
    mpsc::UnboundedSender<Buffer>,
    mpsc::UnboundedSender<CheckpointBarrier>,
);

#[derive(Default)]
struct Registry {
    outgoing: BTreeMap<ChannelKey, Outgoing>,
    incoming: BTreeMap<ChannelKey, Incoming>,
    local: BTreeMap<ChannelKey, LocalHalf>,
}

/// A TaskManager's shuffle environment: channels and data connections.
pub struct NetworkEnvironment {
    ctx: HostCtx,
    /// This TaskManager's data address.
    pub data_addr: String,
    credit: u32,
    registry: Mutex<Registry>,
    /// Connections this TaskManager dialled, by the producer's data address.
    peers: tokio::sync::Mutex<BTreeMap<String, mpsc::UnboundedSender<DataMessage>>>,
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
            registry: Mutex::new(Registry::default()),
            peers: tokio::sync::Mutex::new(BTreeMap::new()),
        })
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        // A poisoned lock means a task panicked mid-update; the registry
        // holds only channel handles, so carrying on is safe.
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_local(&self, loc: &Location) -> bool {
        loc.data_addr == self.data_addr
    }

    /// The producer half of channel `key` to a consumer at `consumer`.
    pub fn output_channel(
        self: &Arc<Self>,
        key: ChannelKey,
        consumer: &Location,
    ) -> (OutputChannel, bool) {
        let cap = self.credit as usize;
        let (data, rx) = mpsc::channel(cap);
        let (priority, prx) = mpsc::unbounded_channel();
        let out = OutputChannel { data, priority };
        if self.is_local(consumer) {
            let mut reg = self.registry();
            if let Some(LocalHalf::Sender(tx)) = reg.local.remove(&key) {
                return (tx, false);
            }
            reg.local.insert(key, LocalHalf::Receiver(rx, prx));
            return (out, false);
        }
        let mut reg = self.registry();
        let entry = reg.outgoing.entry(key).or_insert_with(|| Outgoing {
            credits: Arc::new(Semaphore::new(0)),
            queue: None,
            conn: None,
        });
        entry.queue = Some((rx, prx));
        self.maybe_start_sender(key, entry);
        (out, true)
    }

    /// The consumer half of channel `key` from a producer at `producer`.
    pub async fn input_channel(
        self: &Arc<Self>,
        key: ChannelKey,
        producer: &Location,
    ) -> std::io::Result<InputChannel> {
        if self.is_local(producer) {
            let mut reg = self.registry();
            if let Some(LocalHalf::Receiver(rx, priority)) = reg.local.remove(&key) {
                return Ok(InputChannel::Local { rx, priority });
            }
            let (data, rx) = mpsc::channel(self.credit as usize);
            let (ptx, priority) = mpsc::unbounded_channel();
            reg.local.insert(
                key,
                LocalHalf::Sender(OutputChannel {
                    data,
                    priority: ptx,
                }),
            );
            return Ok(InputChannel::Local { rx, priority });
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let (ptx, priority) = mpsc::unbounded_channel();
        self.registry().incoming.insert(key, (tx, ptx));
        let conn = self
            .peer(&producer.data_addr, &producer.resource_id)
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
        })
    }

    /// Forgets a task's channels after it ended, so late buffers for them
    /// are dropped.
    pub fn release(&self, keys: &[ChannelKey]) {
        let mut reg = self.registry();
        for k in keys {
            reg.outgoing.remove(k);
            reg.incoming.remove(k);
            reg.local.remove(k);
        }
    }

    /// The connection to a producer TaskManager, dialled on first use.
    async fn peer(
        self: &Arc<Self>,
        addr: &str,
        resource_id: &str,
    ) -> std::io::Result<mpsc::UnboundedSender<DataMessage>> {
        let mut peers = self.peers.lock().await;
        if let Some(c) = peers.get(addr)
            && !c.is_closed()
        {
            return Ok(c.clone());
        }
        let stream = self.ctx.net.connect(addr.to_string()).await?;
        let (reader, writer, _) = handshake(stream, "data", &self.ctx.host)
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        self.ctx.emit(EventKind::DataConnectionOpened {
            from: self.ctx.host.as_str().into(),
            to: resource_id.into(),
        });
        let tx = self.clone().serve(reader, writer);
        peers.insert(addr.to_string(), tx.clone());
        Ok(tx)
    }

    /// Serves one data connection (dialled or accepted): a writer task fed
    /// by the returned sender, and a reader task dispatching what arrives.
    pub fn serve(
        self: Arc<Self>,
        mut reader: FrameReader,
        mut writer: FrameWriter,
    ) -> mpsc::UnboundedSender<DataMessage> {
        let (tx, mut rx) = mpsc::unbounded_channel::<DataMessage>();
        tokio::spawn(async move {
            while let Some(msg) = rx.recv().await {
                if writer.send(&msg).await.is_err() {
                    break;
                }
            }
        });
        let conn = tx.clone();
        tokio::spawn(async move {
            while let Ok(msg) = reader.recv::<DataMessage>().await {
                self.on_message(msg, &conn);
            }
        });
        tx
    }

    fn on_message(&self, msg: DataMessage, conn: &mpsc::UnboundedSender<DataMessage>) {
        let mut reg = self.registry();
        match msg {
            DataMessage::PartitionRequest { key, credit } => {
                let entry = reg.outgoing.entry(key).or_insert_with(|| Outgoing {
                    credits: Arc::new(Semaphore::new(0)),
                    queue: None,
                    conn: None,
                });
                entry.credits.add_permits(credit as usize);
                entry.conn = Some(conn.clone());
                self.maybe_start_sender(key, entry);
            }
            DataMessage::Credit { key, n } => {
                if let Some(e) = reg.outgoing.get(&key) {
                    e.credits.add_permits(n as usize);
                }
            }
            DataMessage::Buffer { key, elements } => {
                // A buffer for a channel nobody reads (an attempt that was
                // replaced) is dropped: stale data must not reach new tasks.
                if let Some((tx, _)) = reg.incoming.get(&key) {
                    let _ = tx.send(elements);
                }
            }
            DataMessage::PriorityBarrier { key, barrier } => {
                if let Some((_, ptx)) = reg.incoming.get(&key) {
                    let _ = ptx.send(barrier);
                }
            }
        }
    }

    fn maybe_start_sender(&self, key: ChannelKey, entry: &mut Outgoing) {
        let (Some(_), Some(_)) = (&entry.queue, &entry.conn) else {
            return;
        };
        let (Some((mut queue, mut priority)), Some(conn)) =
            (entry.queue.take(), entry.conn.clone())
        else {
            return;
        };
        let credits = entry.credits.clone();
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
