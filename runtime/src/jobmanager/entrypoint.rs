//! The JobManager process: its leader campaign and its one event loop
//! (Flink's `ClusterEntrypoint` with the `DispatcherResourceManagerComponent`
//! it starts, and the leader election that gates it).
//!
//! In Flink each role is an RPC endpoint with its own single-threaded main
//! executor. Here the Dispatcher, the ResourceManager and the JobMasters
//! live in one event loop ([`run_jobmanager`]): each input (a message from
//! a TaskManager or client, or a timer tick) is handed to the role it is
//! for, which answers through an [`Outbox`]; the loop then delivers what
//! the outbox holds, messages between the roles first (in order, as
//! synchronous calls would have happened), then to the network. One loop,
//! one thread of control: the JobManager's behaviour is a deterministic
//! function of the order of its inputs.
//!
//! With high availability the process first campaigns for leadership at
//! the coordinator, recovers the jobs of its predecessor, serves while it
//! holds the lease, and campaigns again when it loses it.
//!
//! In: connections of TaskManagers and clients, the leader lease, and a
//! shutdown future (mini-redis style: Ctrl-C or SIGTERM in a real process,
//! `std::future::pending()` in the simulator). Out: messages to the
//! TaskManagers and clients, events, and log lines (`tracing`) for the
//! things an operator looks for: refused (`warn`) or broken connections,
//! leadership gained and lost, the shutdown (`info`, as Flink logs them).

use super::dispatcher::Dispatcher;
use super::inbox::Inbound;
use super::outbox::{ConnId, HaOp, Outbox};
use super::resourcemanager::ResourceManager;
use super::resourcemanager::driver::ResourceManagerDriver;
use super::rest::endpoint::RestEndpoint;
use super::rest::roles::{RestStore, Roles};
use super::rest::server::Leadership;
use super::rest::{Answer, RestConfig, RestReply};
use crate::config::JobManagerConfig;
use crate::events::{EventKind, HostCtx};
use crate::graph::ApplicationId;
use crate::ha::HaClient;
use crate::ids::FencingToken;
use crate::net::frame::encode;
use crate::rpc::{ClientRequest, ClientResponse, FromTaskManager, ToTaskManager};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::{Pin, pin};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument as _;

/// Why the JobManager stopped.
#[derive(Debug, thiserror::Error)]
pub enum JobManagerError {
    /// The RPC port could not be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// Address.
        addr: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The REST port could not be bound.
    #[error(transparent)]
    RestBind(#[from] super::rest::server::RestBindError),
}

/// Where a JobManager listens, once it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    /// The RPC port (TaskManagers and clients).
    pub rpc: String,
    /// The REST API and web UI, if served.
    pub rest: Option<String>,
}

/// Runs a JobManager: binds, accepts TaskManagers and clients, and serves
/// until `shutdown` completes; then it stops accepting, closes its
/// connections and returns `Ok`. `ready` receives the bound addresses. With
/// high availability it first campaigns for leadership, serves while it
/// leads, and campaigns again when it loses the lease.
pub async fn run_jobmanager(
    ctx: HostCtx,
    cfg: JobManagerConfig,
    mut ready: Option<tokio::sync::oneshot::Sender<Bound>>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), JobManagerError> {
    let mut shutdown = pin!(shutdown);
    ctx.emit(EventKind::HostStarted {
        role: crate::events::Role::JobManager,
    });
    // The REST endpoint runs for the whole process, leader or standby;
    // from here on the JobManager's events also reach `GET /events`.
    let (rest, ctx) = match &cfg.rest {
        Some(rest_cfg) => match super::rest::endpoint::start(&ctx, rest_cfg).await {
            Ok((endpoint, tee)) => (Some(endpoint), tee),
            Err(error) if rest_cfg.optional => {
                tracing::warn!(%error, "serving without the REST API and web UI");
                (None, ctx)
            }
            Err(error) => return Err(error.into()),
        },
        None => (None, ctx),
    };
    let rest = rest.as_ref();
    let Some(ha) = cfg.ha.clone() else {
        serve(&ctx, &cfg, ready, None, rest, &mut shutdown).await?;
        tracing::info!("the JobManager shut down");
        return Ok(());
    };
    let mut client = HaClient::new(ctx.clone(), ha.coordinator.clone());
    let advertise = cfg.advertise.clone().unwrap_or_else(|| cfg.bind.clone());
    let pause = Duration::from_millis((ha.lease_ms / 3).max(1));
    let rest_addr = rest.map(|r| r.advertised(&advertise));
    loop {
        // Standby: campaign until elected (or told to stop).
        if let Some(r) = rest {
            r.leadership
                .send_replace(Leadership::Standby { leader: None });
        }
        let token = tokio::select! {
            biased;
            () = shutdown.as_mut() => break,
            token = super::leader_election::campaign(
                &ctx, &mut client, &ha, &advertise, rest_addr.as_deref(),
                |leader| if let Some(r) = rest {
                    r.leadership.send_replace(Leadership::Standby { leader: leader.rest.clone() });
                },
            ) => token,
        };
        tracing::info!(%token, "gained leadership");
        let served = serve(
            &ctx,
            &cfg,
            ready.take(),
            Some((&mut client, token)),
            rest,
            &mut shutdown,
        )
        .await?;
        let Served::LeadershipLost(cause) = served else {
            break;
        };
        tracing::info!(%token, %cause, "lost leadership");
        ctx.emit(EventKind::LeaderLost {
            leader: ctx.host.clone(),
            token,
            cause,
        });
        tokio::select! {
            biased;
            () = shutdown.as_mut() => break,
            () = tokio::time::sleep(pause) => {}
        }
    }
    tracing::info!("the JobManager shut down");
    Ok(())
}

/// Why [`serve`] returned.
enum Served {
    /// Leadership was lost, for this reason: campaign again.
    LeadershipLost(String),
    /// The shutdown future completed: stop.
    Shutdown,
}

/// Serves as the (or the only) JobManager, until leadership is lost or the
/// shutdown future completes.
async fn serve<F: Future<Output = ()>>(
    ctx: &HostCtx,
    cfg: &JobManagerConfig,
    ready: Option<tokio::sync::oneshot::Sender<Bound>>,
    leader: Option<(&mut HaClient, FencingToken)>,
    rest: Option<&RestEndpoint>,
    shutdown: &mut Pin<&mut F>,
) -> Result<Served, JobManagerError> {
    let (mut listener, bound) =
        ctx.net
            .bind(cfg.bind.clone())
            .await
            .map_err(|source| JobManagerError::Bind {
                addr: cfg.bind.clone(),
                source,
            })?;
    if let Some(r) = ready {
        let _ = r.send(Bound {
            rpc: bound,
            rest: rest.map(|e| e.addr.clone()),
        });
    }
    let token = leader.as_ref().map_or(FencingToken::NONE, |(_, t)| *t);
    let (tx, mut inbox) = mpsc::unbounded_channel::<Inbound>();
    let mut background = Vec::new();
    {
        let host = ctx.host.clone();
        let auth = ctx.net.auth().clone();
        let tx = tx.clone();
        background.push(tokio::spawn(
            async move {
                let mut next_conn: ConnId = 1;
                // Dropping the set (when this task is aborted) aborts every
                // connection with it.
                let mut conns = tokio::task::JoinSet::new();
                let limiter = crate::net::limits::PeerLimiter::default();
                while let Ok((stream, peer)) = listener.accept().await {
                    // Reap finished connections so the set does not grow.
                    while conns.try_join_next().is_some() {}
                    let Some(guard) = limiter.admit(&peer) else {
                        tracing::warn!(%peer, cap = limiter.cap(), "refused a connection: too many from this peer");
                        continue;
                    };
                    let conn = next_conn;
                    next_conn += 1;
                    let serve = super::connection::serve_connection(
                        conn,
                        stream,
                        peer,
                        host.clone(),
                        auth.clone(),
                        tx.clone(),
                    );
                    conns.spawn(
                        async move {
                            serve.await;
                            drop(guard);
                        }
                        .in_current_span(),
                    );
                }
            }
            .in_current_span(),
        ));
    }
    let mut jm = JobManager {
        ctx: ctx.clone(),
        rm: ResourceManager::new(ctx.clone(), cfg.clone()),
        dispatcher: Dispatcher::new(ctx.clone(), cfg.storage.clone(), token),
        writers: BTreeMap::new(),
        token,
        ha_ops: None,
        // `GET /jars` names the address actually bound.
        rest_cfg: RestConfig {
            bind: rest.map_or_else(String::new, |e| e.addr.clone()),
            ..cfg.rest.clone().unwrap_or_default()
        },
        rest_store: RestStore::default(),
        inbox: tx.clone(),
        provider: cfg.provider.clone(),
        mains: tokio::task::JoinSet::new(),
        pending_runs: Vec::new(),
    };
    if let Some((client, token)) = leader {
        let ha = cfg.ha.clone().expect("leader implies HA");
        let mut out = Outbox::new(token);
        for job in jm.dispatcher.read_recoverable(client, &cfg.storage).await {
            jm.dispatcher.recover_job(job, &mut out);
            jm.route(&mut out);
        }
        jm.drain(out);
        // The lease keeper renews in the background; the HA writer applies
        // the stores' writes in order, fenced by our token.
        let (ops_tx, ops_rx) = mpsc::unbounded_channel::<HaOp>();
        jm.ha_ops = Some(ops_tx);
        background.push(tokio::spawn(
            super::leader_election::keep_lease(ctx.clone(), ha.clone(), token, ops_rx, tx.clone())
                .in_current_span(),
        ));
    }
    if let Some(app) = &cfg.application {
        // Application mode: `main` runs here, next to the Dispatcher it
        // submits to (stopped with the JobManager, like everything else),
        // and the cluster goes when it is done.
        jm.dispatcher.submit_application(app.clone(), true);
        jm.start_mains();
    }
    if let Some(r) = rest {
        r.leadership.send_replace(Leadership::Leader(tx.clone()));
    }
    let mut heartbeat =
        tokio::time::interval(Duration::from_millis(cfg.heartbeat_interval_ms.max(1)));
    // The JobMasters' timers (checkpoint triggers, restart delays) run on a
    // finer tick than heartbeats.
    let mut timers = tokio::time::interval(Duration::from_millis(10));
    let result = loop {
        let mut out = Outbox::new(token);
        tokio::select! {
            biased;
            () = shutdown.as_mut() => break Ok(Served::Shutdown),
            msg = inbox.recv() => match msg {
                Some(Inbound::LeadershipLost(cause)) => break Ok(Served::LeadershipLost(cause)),
                Some(m) => jm.on_inbound(m, &mut out),
                None => break Ok(Served::LeadershipLost("the JobManager stopped".to_string())),
            },
            _ = heartbeat.tick() => jm.rm.tick(&mut out),
            _ = timers.tick() => jm.on_timers(&mut out),
        }
        jm.drain(out);
    };
    // Stepping down (or shutting down): stop accepting, drop every
    // connection. Aborting the acceptor drops its set of connection tasks;
    // dropping the JobManager drops the writers' channels, which ends each
    // connection's writer task and closes its socket.
    if let Some(r) = rest {
        r.leadership.send_replace(Leadership::None);
    }
    for b in background {
        b.abort();
    }
    drop(jm);
    result
}

struct JobManager {
    ctx: HostCtx,
    rm: ResourceManager,
    dispatcher: Dispatcher,
    writers: BTreeMap<ConnId, (String, mpsc::UnboundedSender<Vec<u8>>)>,
    /// Fencing token stamped on every message to TaskManagers.
    token: FencingToken,
    /// Writes to the HA stores, when leading with high availability.
    ha_ops: Option<mpsc::UnboundedSender<HaOp>>,
    /// The REST endpoint's settings (defaults without one).
    rest_cfg: RestConfig,
    /// The REST endpoint's own state: uploads, savepoint triggers.
    rest_store: RestStore,
    /// The loop's own inbox, for the applications' `main`s it starts.
    inbox: mpsc::UnboundedSender<Inbound>,
    /// The resource provider an application-mode `main` deregisters at.
    provider: std::sync::Arc<dyn ResourceManagerDriver>,
    /// The running `main`s; dropped (aborted) with the JobManager.
    mains: tokio::task::JoinSet<()>,
    /// `POST /jars/:id/run` calls waiting for their application's first
    /// jobs, oldest first.
    pending_runs: Vec<(ApplicationId, oneshot::Sender<RestReply>)>,
}

impl JobManager {
    fn on_inbound(&mut self, msg: Inbound, out: &mut Outbox) {
        match msg {
            Inbound::Opened {
                conn,
                role,
                peer,
                writer,
            } => {
                self.writers
                    .insert(conn, (format!("{role} {peer}"), writer));
            }
            Inbound::Closed(conn, cause) => {
                if let Some(rid) = self.rm.rid_of(conn) {
                    self.ctx.emit(EventKind::ConnectionLost {
                        peer: rid.to_string(),
                        cause,
                    });
                }
                self.rm.disconnected(conn);
                self.writers.remove(&conn);
            }
            Inbound::FromClient(conn, req) => {
                let resp = self.on_request(None, req, out);
                out.to_client.push((conn, resp));
            }
            Inbound::FromApplication(app, req, reply) => {
                let resp = self.on_request(Some(app), req, out);
                let _ = reply.send(resp);
                self.answer_pending_runs();
            }
            Inbound::ApplicationEnded(app, end, cause) => {
                self.dispatcher.application_ended(app, end, cause);
                self.answer_pending_runs();
            }
            Inbound::Rest(req, reply) => {
                let roles = Roles {
                    dispatcher: &mut self.dispatcher,
                    rm: &self.rm,
                    store: &mut self.rest_store,
                    cfg: &self.rest_cfg,
                    now_ms: self.ctx.now_ms(),
                };
                let resp = super::rest::answer::answer(req, roles, out);
                // A control call (a submission, a cancel) may have left
                // requests for the roles, as a client's would, or an
                // application whose `main` is to start.
                self.route(out);
                self.rm.try_allocate(out);
                self.start_mains();
                match resp {
                    Answer::Now(resp) => {
                        let _ = reply.send(resp);
                    }
                    Answer::AfterFirstJobs(app) => {
                        self.pending_runs.push((app, reply));
                        self.answer_pending_runs();
                    }
                }
            }
            Inbound::FromTm(conn, msg) => self.on_task_manager(conn, msg, out),
            Inbound::LeadershipLost(_) => {}
        }
    }

    fn on_task_manager(&mut self, conn: ConnId, msg: FromTaskManager, out: &mut Outbox) {
        if let FromTaskManager::Register {
            resource_id,
            data_addr,
            slots,
        } = msg
        {
            self.rm.register(conn, resource_id, data_addr, slots, out);
            return;
        }
        // Everything else must come from a registered TaskManager.
        let Some(rid) = self.rm.rid_of(conn) else {
            return;
        };
        match msg {
            FromTaskManager::Register { .. } => {}
            FromTaskManager::Disconnect { cause } => self.rm.disconnect(&rid, cause, out),
            FromTaskManager::Heartbeat { slots } => self.rm.heartbeat(&rid, &slots),
            FromTaskManager::SlotFreed { slot, .. } => self.rm.slot_freed(&rid, slot, out),
            FromTaskManager::OfferSlots { job, offers } => {
                let data_addr = self.rm.data_addr(&rid).unwrap_or_default().to_string();
                match self.dispatcher.master(job) {
                    Some(m) => m.offer_slots(&rid, &data_addr, &offers, out),
                    None => {
                        for o in offers {
                            out.to_tm(
                                rid.clone(),
                                ToTaskManager::FreeSlot {
                                    allocation: o.allocation,
                                },
                            );
                        }
                    }
                }
            }
            FromTaskManager::TaskState {
                attempt,
                state,
                cause,
                counters,
            } => {
                if let Some(m) = self.dispatcher.master(attempt.job) {
                    m.task_state(attempt, state, cause, counters, out);
                }
            }
            FromTaskManager::AcknowledgeCheckpoint {
                attempt,
                checkpoint,
                state,
                alignment_ms,
            } => {
                if let Some(m) = self.dispatcher.master(attempt.job) {
                    m.acknowledge(attempt, checkpoint, state, alignment_ms, out);
                }
            }
            FromTaskManager::TaskMetrics { attempt, counters } => {
                if let Some(m) = self.dispatcher.master(attempt.job) {
                    m.task_metrics(attempt, counters);
                }
            }
            FromTaskManager::Collected {
                attempt,
                txn,
                records,
            } => {
                if let Some(m) = self.dispatcher.master(attempt.job) {
                    m.collected(attempt, txn, records);
                }
            }
        }
    }

    /// Starts the `main` of each application the Dispatcher accepted, as
    /// a task next to the loop that submits through its inbox.
    fn start_mains(&mut self) {
        for (id, app, shut_down) in self.dispatcher.take_starting() {
            let provider = shut_down.then(|| self.provider.clone());
            self.mains.spawn(
                super::application::run_main(
                    self.ctx.clone(),
                    id,
                    app,
                    self.inbox.clone(),
                    provider,
                )
                .in_current_span(),
            );
        }
    }

    /// Answers the `POST /jars/:id/run` calls whose application's `main`
    /// has submitted its first jobs (or ended).
    fn answer_pending_runs(&mut self) {
        let mut waiting = Vec::new();
        for (app, reply) in std::mem::take(&mut self.pending_runs) {
            match self.dispatcher.applications.get(&app) {
                Some(record) if !record.submitted_first_jobs() => waiting.push((app, reply)),
                record => {
                    let _ = reply.send(super::rest::jars::application_run(app, record));
                }
            }
        }
        self.pending_runs = waiting;
    }

    /// A client's request to the Dispatcher, or one of application
    /// `app`'s `main`. A submitted job's slot requests are matched at once.
    fn on_request(
        &mut self,
        app: Option<ApplicationId>,
        req: ClientRequest,
        out: &mut Outbox,
    ) -> ClientResponse {
        let resp = match app {
            Some(app) => self.dispatcher.handle_for(app, req, out),
            None => self.dispatcher.handle(req, out),
        };
        if matches!(resp, ClientResponse::Submitted(_)) {
            self.route(out);
            self.rm.try_allocate(out);
        }
        resp
    }

    /// The JobMasters' timers (restarts, checkpoint triggers), one job
    /// after the other, then slot matching.
    fn on_timers(&mut self, out: &mut Outbox) {
        for job in self.dispatcher.running_jobs() {
            if let Some(m) = self.dispatcher.master(job) {
                m.tick(out);
            }
            self.route(out);
        }
        self.rm.try_allocate(out);
    }

    /// Delivers the messages between the roles, oldest first: a JobMaster's
    /// requests to the ResourceManager before anything else, so that each
    /// is answered as a synchronous call would be.
    fn route(&mut self, out: &mut Outbox) {
        loop {
            if let Some(msg) = out.to_rm.pop_front() {
                self.rm.handle(msg, out);
            } else if let Some((job, msg)) = out.to_jobmasters.pop_front() {
                if let Some(m) = self.dispatcher.master(job) {
                    m.on_resource_manager(msg, out);
                }
            } else {
                break;
            }
        }
    }

    /// Carries out what the roles asked for, until nothing is left.
    fn drain(&mut self, mut out: Outbox) {
        loop {
            self.route(&mut out);
            let lost = std::mem::take(&mut out.lost);
            let ended = std::mem::take(&mut out.ended);
            if lost.is_empty() && ended.is_empty() {
                break;
            }
            for (rid, cause) in lost {
                // Every JobMaster hears of it, in submission order.
                for job in self.dispatcher.order.clone() {
                    if let Some(m) = self.dispatcher.master(job) {
                        m.task_manager_lost(&rid, &cause, &mut out);
                    }
                    self.route(&mut out);
                }
            }
            for job in ended {
                self.rm.cancel_requests(job);
                self.dispatcher.job_ended(job, &mut out);
            }
        }
        if let Some(ops) = &self.ha_ops {
            for op in out.ha.drain(..) {
                let _ = ops.send(op);
            }
        }
        for (conn, msg) in out.tm_messages(|rid| self.rm.conn_of(rid)) {
            if let Some(conn) = conn
                && let Some((_, w)) = self.writers.get(&conn)
            {
                let _ = w.send(encode(&crate::rpc::Fenced {
                    token: self.token,
                    msg,
                }));
            }
        }
        for (conn, resp) in out.to_client {
            if let Some((_, w)) = self.writers.get(&conn) {
                let _ = w.send(encode(&resp));
            }
        }
        for conn in out.close {
            self.writers.remove(&conn);
        }
    }
}
