//! The JobManager: the master process, with its three roles.
//!
//! - [`dispatcher`]: accepts jobs from clients, starts one JobMaster per job,
//!   answers list / result / cancel (Flink's `Dispatcher`, REST endpoint).
//! - [`resourcemanager`]: TaskManager registration, heartbeats, the
//!   SlotManager and the resource provider (Flink's `ResourceManager`).
//! - [`jobmaster`]: one per job, from ExecutionGraph to FINISHED (Flink's
//!   `JobMaster`, `SlotPool`, scheduler).
//! - [`application`]: in application mode, the program's `main`, run inside
//!   the JobManager and submitting straight to the Dispatcher (Flink's
//!   `ApplicationDispatcherBootstrap` with its `EmbeddedExecutor`).
//!
//! In Flink each role is an RPC endpoint with its own single-threaded main
//! executor. Here the three live in one event loop ([`run_jobmanager`]):
//! each input (a message from a TaskManager or client, or the heartbeat
//! tick) is handed to the role it is for, which answers through an
//! [`Outbox`]. One loop, one thread of control: the JobManager's behaviour
//! is a deterministic function of the order of its inputs.

pub mod application;
pub mod dispatcher;
pub mod jobmaster;
pub mod resourcemanager;

use crate::config::JobManagerConfig;
use crate::events::{EventKind, HostCtx};
use crate::graph::JobId;
use crate::ha::{CoordRequest, CoordResponse, HaClient};
use crate::net::frame::{FrameReader, WireError, encode, handshake};
use crate::rpc::{ClientRequest, ClientResponse, FromTaskManager, ResourceId, ToTaskManager};
use dispatcher::Dispatcher;
use resourcemanager::{ConnId, ResourceManager};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::mpsc;

/// What a role wants done after handling an input.
#[derive(Debug, Default)]
pub struct Outbox {
    /// Messages to TaskManagers.
    pub to_tm: Vec<(ResourceId, ToTaskManager)>,
    /// Answers to clients.
    pub to_client: Vec<(ConnId, ClientResponse)>,
    /// Connections to close.
    pub close: Vec<ConnId>,
    /// TaskManagers the ResourceManager lost (JobMasters must hear of it).
    pub lost: Vec<(ResourceId, String)>,
    /// Jobs that reached a terminal status.
    pub ended: Vec<JobId>,
    /// Allocations that went away with a lost TaskManager before their
    /// slot reached the JobMaster: (job, allocation).
    pub lost_allocations: Vec<(JobId, crate::rpc::AllocationId)>,
    /// Writes to the HA stores (job graphs, checkpoint pointers, results).
    pub ha: Vec<HaOp>,
    /// This leader's fencing token (0 without high availability).
    pub token: u64,
}

/// A write to the HA service's stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HaOp {
    /// Store a value.
    Put(String, Vec<u8>),
    /// Remove a key.
    Delete(String),
}

impl Outbox {
    /// Queues a message to a TaskManager.
    pub fn to_tm(&mut self, rid: ResourceId, msg: ToTaskManager) {
        self.to_tm.push((rid, msg));
    }
    /// Queues closing a connection.
    pub fn close(&mut self, conn: ConnId) {
        self.close.push(conn);
    }
}

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
}

enum Inbound {
    Opened {
        conn: ConnId,
        role: String,
        peer: String,
        writer: mpsc::UnboundedSender<Vec<u8>>,
    },
    FromTm(ConnId, FromTaskManager),
    FromClient(ConnId, ClientRequest),
    /// A request of the application's `main` running in this JobManager;
    /// the answer goes back on the oneshot.
    FromApplication(ClientRequest, tokio::sync::oneshot::Sender<ClientResponse>),
    Closed(ConnId, String),
    /// The leader lease could not be renewed, or a write was fenced.
    LeadershipLost(String),
}

/// Runs a JobManager: binds, accepts TaskManagers and clients, and serves
/// until the process is stopped. `ready` receives the bound address. With
/// high availability it first campaigns for leadership, serves while it
/// leads, and campaigns again when it loses the lease.
pub async fn run_jobmanager(
    ctx: HostCtx,
    cfg: JobManagerConfig,
    mut ready: Option<tokio::sync::oneshot::Sender<String>>,
) -> Result<(), JobManagerError> {
    ctx.emit(EventKind::HostStarted {
        role: "jobmanager".into(),
    });
    let Some(ha) = cfg.ha.clone() else {
        return serve(&ctx, &cfg, ready, None).await.map(|_| ());
    };
    let mut client = HaClient::new(ctx.clone(), ha.coordinator.clone());
    let advertise = cfg.advertise.clone().unwrap_or_else(|| cfg.bind.clone());
    loop {
        // Standby: campaign until elected.
        let token = loop {
            let req = CoordRequest::Campaign {
                candidate: ctx.host.clone(),
                addr: advertise.clone(),
                lease_ms: ha.lease_ms,
            };
            if let Ok(CoordResponse::Leader(Some(l))) = client.call(req, ha.lease_ms / 3).await
                && l.leader == ctx.host
            {
                break l.token;
            }
            tokio::time::sleep(Duration::from_millis((ha.lease_ms / 3).max(1))).await;
        };
        let cause = serve(&ctx, &cfg, ready.take(), Some((&mut client, token))).await?;
        ctx.emit(EventKind::LeaderLost {
            leader: ctx.host.clone(),
            token,
            cause,
        });
        tokio::time::sleep(Duration::from_millis((ha.lease_ms / 3).max(1))).await;
    }
}

/// Serves as the (or the only) JobManager; returns why, when leadership is lost.
async fn serve(
    ctx: &HostCtx,
    cfg: &JobManagerConfig,
    ready: Option<tokio::sync::oneshot::Sender<String>>,
    leader: Option<(&mut HaClient, u64)>,
) -> Result<String, JobManagerError> {
    let (mut listener, bound) =
        ctx.net
            .bind(cfg.bind.clone())
            .await
            .map_err(|source| JobManagerError::Bind {
                addr: cfg.bind.clone(),
                source,
            })?;
    if let Some(r) = ready {
        let _ = r.send(bound);
    }
    let token = leader.as_ref().map_or(0, |(_, t)| *t);
    let (tx, mut inbox) = mpsc::unbounded_channel::<Inbound>();
    let mut background = Vec::new();
    {
        let host = ctx.host.clone();
        let tx = tx.clone();
        background.push(tokio::spawn(async move {
            let mut next_conn: ConnId = 1;
            // Dropping the set (when this task is aborted) aborts every
            // connection with it.
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((stream, peer)) = listener.accept().await {
                let conn = next_conn;
                next_conn += 1;
                conns.spawn(serve_connection(
                    conn,
                    stream,
                    peer,
                    host.clone(),
                    tx.clone(),
                ));
            }
        }));
    }
    let mut jm = JobManager {
        ctx: ctx.clone(),
        rm: ResourceManager::new(ctx.clone(), cfg.clone()),
        dispatcher: Dispatcher::new(ctx.clone(), cfg.storage.clone(), token),
        writers: BTreeMap::new(),
        token,
        ha_ops: None,
    };
    if let Some((client, token)) = leader {
        let ha = cfg.ha.clone().expect("leader implies HA");
        jm.dispatcher
            .recover(client, &cfg.storage, &mut jm.rm)
            .await;
        // The lease keeper renews in the background; the HA writer applies
        // the stores' writes in order, fenced by our token.
        let (ops_tx, ops_rx) = mpsc::unbounded_channel::<HaOp>();
        jm.ha_ops = Some(ops_tx);
        background.push(tokio::spawn(keep_lease(
            ctx.clone(),
            ha.clone(),
            token,
            ops_rx,
            tx.clone(),
        )));
    }
    if let Some(app) = &cfg.application {
        // Application mode: `main` runs here, next to the Dispatcher it
        // submits to (stopped with the JobManager, like everything else).
        background.push(tokio::spawn(application::run_main(
            ctx.clone(),
            app.clone(),
            tx.clone(),
            cfg.provider.clone(),
        )));
    }
    let mut heartbeat =
        tokio::time::interval(Duration::from_millis(cfg.heartbeat_interval_ms.max(1)));
    // The JobMasters' timers (checkpoint triggers, restart delays) run on a
    // finer tick than heartbeats.
    let mut timers = tokio::time::interval(Duration::from_millis(10));
    let result = loop {
        let mut out = Outbox {
            token,
            ..Outbox::default()
        };
        tokio::select! {
            biased;
            msg = inbox.recv() => match msg {
                Some(Inbound::LeadershipLost(cause)) => break Ok(cause),
                Some(m) => jm.on_inbound(m, &mut out),
                None => break Ok("the JobManager stopped".to_string()),
            },
            _ = heartbeat.tick() => jm.rm.tick(&mut out),
            _ = timers.tick() => jm.dispatcher.tick(&mut jm.rm, &mut out),
        }
        jm.drain(out);
    };
    // Stepping down: stop accepting, drop every connection.
    for b in background {
        b.abort();
    }
    result
}

/// Renews the leader lease and applies HA writes; reports a lost lease.
async fn keep_lease(
    ctx: HostCtx,
    ha: crate::config::HaConfig,
    token: u64,
    mut ops: mpsc::UnboundedReceiver<HaOp>,
    inbox: mpsc::UnboundedSender<Inbound>,
) {
    let mut client = HaClient::new(ctx.clone(), ha.coordinator.clone());
    let period = (ha.lease_ms / 3).max(1);
    let mut last_ok = ctx.now_ms();
    let mut renew = tokio::time::interval(Duration::from_millis(period));
    loop {
        tokio::select! {
            biased;
            op = ops.recv() => {
                let Some(op) = op else { return };
                let req = match op {
                    HaOp::Put(key, value) => CoordRequest::Put { key, value, token },
                    HaOp::Delete(key) => CoordRequest::Delete { key, token },
                };
                if let Ok(CoordResponse::Fenced { current }) = client.call(req, period).await {
                    let _ = inbox.send(Inbound::LeadershipLost(format!("fenced by token {current}")));
                    return;
                }
            }
            _ = renew.tick() => {
                let started = ctx.now_ms();
                match client.call(CoordRequest::Renew { candidate: ctx.host.clone(), token }, period).await {
                    Ok(CoordResponse::Ok) => last_ok = started,
                    Ok(_) => {
                        let _ = inbox.send(Inbound::LeadershipLost("the lease was taken over".into()));
                        return;
                    }
                    Err(_) => {}
                }
                // Step down before the coordinator can hand the lease to
                // someone else: our lease started no later than `last_ok`.
                if ctx.now_ms() + period >= last_ok + ha.lease_ms {
                    let _ = inbox.send(Inbound::LeadershipLost("the lease could not be renewed".into()));
                    return;
                }
            }
        }
    }
}

async fn serve_connection(
    conn: ConnId,
    stream: crate::net::BoxStream,
    peer: String,
    host: String,
    tx: mpsc::UnboundedSender<Inbound>,
) {
    let Ok((mut reader, mut writer, hello)) = handshake(stream, "jobmanager", &host).await else {
        return;
    };
    let (wtx, mut wrx) = mpsc::unbounded_channel::<Vec<u8>>();
    tokio::spawn(async move {
        while let Some(body) = wrx.recv().await {
            if writer.send_raw(body).await.is_err() {
                break;
            }
        }
    });
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
            Err(WireError::Closed) => return "connection closed".into(),
            Err(e) => return e.to_string(),
        }
    }
}

struct JobManager {
    ctx: HostCtx,
    rm: ResourceManager,
    dispatcher: Dispatcher,
    writers: BTreeMap<ConnId, (String, mpsc::UnboundedSender<Vec<u8>>)>,
    /// Fencing token stamped on every message to TaskManagers.
    token: u64,
    /// Writes to the HA stores, when leading with high availability.
    ha_ops: Option<mpsc::UnboundedSender<HaOp>>,
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
                    self.ctx
                        .emit(EventKind::ConnectionLost { peer: rid, cause });
                }
                self.rm.disconnected(conn);
                self.writers.remove(&conn);
            }
            Inbound::FromClient(conn, req) => {
                let resp = self.dispatcher.handle(req, &mut self.rm, out);
                out.to_client.push((conn, resp));
            }
            Inbound::FromApplication(req, reply) => {
                let resp = self.dispatcher.handle(req, &mut self.rm, out);
                let _ = reply.send(resp);
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
            FromTaskManager::Heartbeat { slots } => self.rm.heartbeat(&rid, &slots),
            FromTaskManager::SlotFreed { slot, .. } => self.rm.slot_freed(&rid, slot, out),
            FromTaskManager::OfferSlots { job, offers } => {
                let data_addr = self
                    .rm
                    .task_managers
                    .get(&rid)
                    .map(|t| t.data_addr.clone())
                    .unwrap_or_default();
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
                    m.task_state(attempt, state, cause, counters, &mut self.rm, out);
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

    /// Carries out what the roles asked for, until nothing is left.
    fn drain(&mut self, mut out: Outbox) {
        loop {
            let lost = std::mem::take(&mut out.lost);
            let ended = std::mem::take(&mut out.ended);
            let lost_allocations = std::mem::take(&mut out.lost_allocations);
            if lost.is_empty() && ended.is_empty() && lost_allocations.is_empty() {
                break;
            }
            for (job, allocation) in lost_allocations {
                if let Some(m) = self.dispatcher.master(job) {
                    m.allocation_lost(allocation, &mut self.rm, &mut out);
                }
            }
            for (rid, cause) in lost {
                self.dispatcher
                    .task_manager_lost(&rid, &cause, &mut self.rm, &mut out);
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
        for (rid, msg) in out.to_tm {
            if let Some(conn) = self.rm.conn_of(&rid)
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
