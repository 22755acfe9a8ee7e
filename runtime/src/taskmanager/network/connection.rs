//! The data connection between two TaskManagers: one per pair, shared by
//! every channel between them.
//!
//! Flink's `ConnectionManager` (with its `PartitionRequestClientFactory`)
//! keeps one Netty connection per remote TaskManager; the consumer side
//! dials, the producer side accepts, and both ends run the same protocol.
//! Here `ConnectionManager` dials and remembers connections by the
//! producer's data address, and `serve` runs one connection (dialled or
//! accepted).
//!
//! - **In**: frames from the peer ([`DataMessage`]), and messages to send
//!   from this TaskManager's channels (the returned sender).
//! - **Out**: `PartitionRequest`/`Credit` into the producer-side channel
//!   state, `Buffer`/`PriorityBarrier` into the consumer-side channels, all
//!   through the `SharedRegistry`.

use super::channel::SharedRegistry;
use crate::events::{EventKind, HostCtx};
use crate::net::frame::{FrameReader, FrameWriter, accept_handshake, connect_handshake};
use crate::rpc::DataMessage;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::mpsc;

/// The data port's accept loop (Flink's `NettyServer`): each accepted
/// stream must pass the handshake (the cluster's secret, within the
/// handshake timeout) before `serve` (the `NetworkEnvironment`'s) gets it
/// and reads a frame of it; at most [`crate::net::limits::MAX_CONNECTIONS_PER_PEER`]
/// handshakes per peer address are under way at once (a connection that
/// passed is the cluster's own). Aborting the returned task drops the
/// handshakes under way with it.
pub fn accept(
    mut listener: Box<dyn crate::net::Listener>,
    ctx: &HostCtx,
    serve: impl Fn(FrameReader, FrameWriter) + Clone + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    use tracing::Instrument as _;
    let host = ctx.host.clone();
    let auth = ctx.net.auth().clone();
    tokio::spawn(
        async move {
            let mut handshakes = tokio::task::JoinSet::new();
            let limiter = crate::net::limits::PeerLimiter::default();
            while let Ok((stream, peer)) = listener.accept().await {
                while handshakes.try_join_next().is_some() {}
                let Some(guard) = limiter.admit(&peer) else {
                    tracing::warn!(%peer, cap = limiter.cap(), "refused a data connection: too many from this peer");
                    continue;
                };
                let (serve, host, auth) = (serve.clone(), host.clone(), auth.clone());
                handshakes.spawn(
                    async move {
                        let _guard = guard;
                        match accept_handshake(stream, &auth, "data", &host).await {
                            Ok((r, w, _hello)) => serve(r, w),
                            Err(error) => tracing::warn!(
                                %peer, %error,
                                "refused a data connection: its handshake failed"
                            ),
                        }
                    }
                    .in_current_span(),
                );
            }
        }
        .in_current_span(),
    )
}

/// Serves one data connection (dialled or accepted): a writer task fed by
/// the returned sender, and a reader task dispatching what arrives. Dropping
/// every clone of the sender closes the writer.
pub(super) fn serve(
    registry: Arc<SharedRegistry>,
    mut reader: FrameReader,
    mut writer: FrameWriter,
) -> mpsc::UnboundedSender<DataMessage> {
    let (tx, mut rx) = mpsc::unbounded_channel::<DataMessage>();
    tokio::spawn(async move {
        // Every message already waiting goes out in one write (one segment
        // on the wire), as Netty's channel flushes what was written since
        // its last flush.
        'conn: while let Some(msg) = rx.recv().await {
            if writer.feed(&msg).await.is_err() {
                break;
            }
            while let Ok(msg) = rx.try_recv() {
                if writer.feed(&msg).await.is_err() {
                    break 'conn;
                }
            }
            if writer.flush().await.is_err() {
                break;
            }
        }
    });
    let conn = tx.clone();
    tokio::spawn(async move {
        while let Ok(msg) = reader.recv::<DataMessage>().await {
            dispatch(&registry, msg, &conn);
        }
    });
    tx
}

/// Hands one message from the peer to the channel it is for.
fn dispatch(
    registry: &SharedRegistry,
    msg: DataMessage,
    conn: &mpsc::UnboundedSender<DataMessage>,
) {
    let mut reg = registry.lock();
    match msg {
        DataMessage::PartitionRequest { key, credit } => {
            let entry = reg.outgoing.entry(key).or_default();
            entry.credits.add_permits(credit as usize);
            entry.conn = Some(conn.clone());
            entry.maybe_start_sender(key);
        }
        DataMessage::Credit { key, n } => {
            if let Some(e) = reg.outgoing.get(&key) {
                e.credits.add_permits(n as usize);
            }
        }
        DataMessage::Buffer { key, elements } => {
            // A buffer for a channel nobody reads (an attempt that was
            // replaced) is dropped: stale data must not reach new tasks.
            if let Some(incoming) = reg.incoming.get(&key) {
                incoming.buffer(elements);
            }
        }
        DataMessage::PriorityBarrier { key, barrier } => {
            if let Some(incoming) = reg.incoming.get(&key) {
                incoming.priority(barrier);
            }
        }
    }
}

/// The connections this TaskManager dialled, by the producer's data address.
#[derive(Default)]
pub(super) struct ConnectionManager {
    peers: tokio::sync::Mutex<BTreeMap<String, mpsc::UnboundedSender<DataMessage>>>,
}

impl ConnectionManager {
    /// The connection to a producer TaskManager, dialled on first use.
    pub(super) async fn connect(
        &self,
        ctx: &HostCtx,
        registry: &Arc<SharedRegistry>,
        addr: &str,
        resource_id: &str,
    ) -> std::io::Result<mpsc::UnboundedSender<DataMessage>> {
        let mut peers = self.peers.lock().await;
        if let Some(c) = peers.get(addr)
            && !c.is_closed()
        {
            return Ok(c.clone());
        }
        let stream = ctx.net.connect(addr.to_string()).await?;
        let (reader, writer, _) = connect_handshake(stream, ctx.net.auth(), "data", &ctx.host)
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        ctx.emit(EventKind::DataConnectionOpened {
            from: ctx.host.as_str().into(),
            to: resource_id.into(),
        });
        let tx = serve(registry.clone(), reader, writer);
        peers.insert(addr.to_string(), tx.clone());
        Ok(tx)
    }
}
