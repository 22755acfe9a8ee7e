//! The JobManager's connections (the RPC side of Flink's endpoints): each
//! accepted stream passes the handshake, then its frames become inputs of
//! the one event loop in [`entrypoint`](super::entrypoint).
//!
//! A leaf: it sends [`Inbound`]s, it holds no role. In: an accepted byte
//! stream. Out: [`Inbound::Opened`], one input per frame (a TaskManager's
//! message or a client's request), [`Inbound::Closed`] with the cause; a
//! writer task that sends the loop's frames back.

use super::inbox::Inbound;
use super::outbox::ConnId;
use crate::net::auth::Auth;
use crate::net::frame::{FrameReader, WireError, accept_handshake};
use crate::rpc::{ClientRequest, FromTaskManager};
use tokio::sync::mpsc;
use tracing::Instrument as _;

/// Serves one accepted connection: its handshake, then every frame it
/// sends, as inputs of the loop; [`Inbound::Closed`] when it ends.
pub(super) async fn serve_connection(
    conn: ConnId,
    stream: crate::net::BoxStream,
    peer: String,
    host: String,
    auth: Auth,
    tx: mpsc::UnboundedSender<Inbound>,
) {
    let (mut reader, mut writer, hello) =
        match accept_handshake(stream, &auth, "jobmanager", &host).await {
            Ok(x) => x,
            Err(error) => {
                tracing::warn!(%peer, %error, "refused a connection: its handshake failed");
                return;
            }
        };
    let (wtx, mut wrx) = mpsc::unbounded_channel::<Vec<u8>>();
    tokio::spawn(
        async move {
            while let Some(body) = wrx.recv().await {
                if writer.send_raw(body).await.is_err() {
                    break;
                }
            }
        }
        .in_current_span(),
    );
    let role = hello.role.clone();
    let _ = tx.send(Inbound::Opened {
        conn,
        role: role.clone(),
        peer: if hello.from.is_empty() {
            peer
        } else {
            hello.from
        },
        writer: wtx,
    });
    let cause = read_loop(conn, &role, &mut reader, &tx).await;
    let _ = tx.send(Inbound::Closed(conn, cause));
}

async fn read_loop(
    conn: ConnId,
    role: &str,
    reader: &mut FrameReader,
    tx: &mpsc::UnboundedSender<Inbound>,
) -> String {
    loop {
        let msg = if role == "taskmanager" {
            reader
                .recv::<FromTaskManager>()
                .await
                .map(|m| Inbound::FromTm(conn, m))
        } else {
            reader
                .recv::<ClientRequest>()
                .await
                .map(|m| Inbound::FromClient(conn, m))
        };
        match msg {
            Ok(m) => {
                if tx.send(m).is_err() {
                    return "JobManager stopped".into();
                }
            }
            Err(WireError::Closed) => {
                tracing::debug!(conn, %role, "connection closed");
                return "connection closed".into();
            }
            Err(error) => {
                tracing::info!(conn, %role, %error, "connection broke");
                return error.to_string();
            }
        }
    }
}
