//! HTTP over the transport seam (Flink's `RestServerEndpoint`, which runs
//! Netty; here hyper serves each accepted stream).
//!
//! The REST endpoint binds its own port through the same [`Network`]
//! seam as the RPC port, so on a turmoil host a simulated client `GET`s
//! `/overview` exactly as `curl` does on a real machine. Each accepted
//! stream gets one hyper HTTP/1.1 connection that serves the axum
//! router of [`routes`](super::routes). Connection tasks live in a `JoinSet`: when
//! the JobManager stops, dropping the endpoint's task drops every
//! connection with it.
//!
//! The endpoint outlives leadership: it runs for the whole JobManager
//! process, and a [`Leadership`] watch says where requests go: to the
//! event loop of the leader it is, or nowhere (a standby answers with the
//! leader's address).
//!
//! In: streams from the seam's listener; the [`Leadership`] watch; the
//! JobManager's events (for `GET /events`). Out: HTTP answers.
//!
//! [`Network`]: crate::net::Network

use super::RestConfig;
use crate::events::Event;
use crate::jobmanager::inbox::Inbound;
use crate::net::Listener;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::{broadcast, mpsc, watch};
use tracing::Instrument as _;

/// Where REST requests go right now.
#[derive(Debug, Clone, Default)]
pub enum Leadership {
    /// Not serving yet (starting, or between two terms).
    #[default]
    None,
    /// This JobManager leads: its event loop's inbox.
    Leader(mpsc::UnboundedSender<Inbound>),
    /// This JobManager is a standby; the leader's REST address, if known.
    Standby {
        /// The leader's REST address (host:port), as it published it.
        leader: Option<String>,
    },
}

/// What every route handler is given.
#[derive(Clone)]
pub struct RestState {
    /// Where requests go.
    pub leadership: watch::Receiver<Leadership>,
    /// The JobManager's events, for `GET /events`.
    pub events: broadcast::Sender<Event>,
    /// The endpoint's settings.
    pub cfg: RestConfig,
    /// This JobManager's host name.
    pub host: String,
    /// The bearer token every request must carry (`None`: `--insecure`).
    pub token: Option<String>,
}

/// Why the REST endpoint could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot bind the REST port {addr}: {source}")]
pub struct RestBindError {
    /// The address.
    pub addr: String,
    /// Why.
    pub source: std::io::Error,
}

/// Serves the `router` on an already bound listener until the task is dropped.
pub async fn serve(mut listener: Box<dyn Listener>, router: axum::Router) {
    let mut conns = tokio::task::JoinSet::new();
    let limiter = crate::net::limits::PeerLimiter::default();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(error) => {
                tracing::warn!(%error, "the REST endpoint stopped accepting");
                return;
            }
        };
        // Reap finished connections so the set does not grow.
        while conns.try_join_next().is_some() {}
        let Some(guard) = limiter.admit(&peer) else {
            tracing::warn!(%peer, cap = limiter.cap(), "refused a REST connection: too many from this peer");
            continue;
        };
        let service = TowerToHyperService::new(router.clone());
        conns.spawn(
            async move {
                let _guard = guard;
                let served = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
                if let Err(error) = served {
                    tracing::debug!(%peer, %error, "REST connection ended");
                }
            }
            .in_current_span(),
        );
    }
}
