//! The REST endpoint as the JobManager starts it (Flink's
//! `WebMonitorEndpoint.start`): bind the REST port through the seam, serve
//! the routes, and tee the JobManager's events to `GET /events`.
//!
//! In: the JobManager's host context and [`RestConfig`]. Out: a running
//! [`RestEndpoint`] (dropping it stops serving) and the host context the
//! JobManager emits through from then on.

use super::RestConfig;
use super::server::{Leadership, RestBindError, RestState, serve};
use crate::events::Event;
use tokio::sync::{broadcast, watch};
use tracing::Instrument as _;

/// A running REST endpoint: its task, and the levers the JobManager holds.
pub struct RestEndpoint {
    /// Where requests go; the JobManager sets it as it leads or stands by.
    pub leadership: watch::Sender<Leadership>,
    /// The address it is bound to.
    pub addr: String,
    task: tokio::task::JoinHandle<()>,
}

impl RestEndpoint {
    /// The address other hosts reach: the bound one, with the host of the
    /// advertised RPC address (`advertise`) when bound to every interface
    /// (`0.0.0.0:8081`). A leader publishes it for its standbys.
    pub fn advertised(&self, advertise: &str) -> String {
        match (self.addr.rsplit_once(':'), advertise.rsplit_once(':')) {
            (Some((ip, port)), Some((host, _))) if ip == "0.0.0.0" || ip == "[::]" => {
                format!("{host}:{port}")
            }
            _ => self.addr.clone(),
        }
    }
}

impl Drop for RestEndpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An event sink that also hands each event to the REST endpoint's
/// subscribers (`GET /events`); with nobody subscribed it costs a check.
struct Tee {
    inner: std::sync::Arc<dyn crate::events::EventSink>,
    tx: broadcast::Sender<Event>,
}

impl crate::events::EventSink for Tee {
    fn emit(&self, event: Event) {
        if self.tx.receiver_count() > 0 {
            let _ = self.tx.send(event.clone());
        }
        self.inner.emit(event);
    }
}

/// Binds the REST port and starts serving. Returns the endpoint and the
/// host context whose events also reach `GET /events` (the JobManager
/// emits through it from then on).
pub async fn start(
    ctx: &crate::events::HostCtx,
    cfg: &RestConfig,
) -> Result<(RestEndpoint, crate::events::HostCtx), RestBindError> {
    let (listener, addr) =
        ctx.net
            .bind(cfg.bind.clone())
            .await
            .map_err(|source| RestBindError {
                addr: cfg.bind.clone(),
                source,
            })?;
    let (events, _) = broadcast::channel(4_096);
    let mut tee_ctx = ctx.clone();
    tee_ctx.events = std::sync::Arc::new(Tee {
        inner: ctx.events.clone(),
        tx: events.clone(),
    });
    let (leadership, rx) = watch::channel(Leadership::None);
    let state = RestState {
        leadership: rx,
        events,
        cfg: cfg.clone(),
        host: ctx.host.clone(),
        token: ctx.net.auth().secret().map(|s| s.rest_token()),
    };
    let router = super::routes::router(state);
    tracing::info!(%addr, "REST endpoint and web UI listening");
    let task = tokio::spawn(serve(listener, router).in_current_span());
    Ok((
        RestEndpoint {
            leadership,
            addr,
            task,
        },
        tee_ctx,
    ))
}
