//! The TaskExecutor: the core of a TaskManager process (Flink's `TaskExecutor`).
//!
//! A TaskManager starts, opens its data port, connects to the JobManager and
//! registers at the ResourceManager with its slots. From then on it answers
//! heartbeats with a slot report, allocates a slot when the ResourceManager
//! asks and offers it to the job's JobMaster, runs the tasks the JobMaster
//! deploys into its slots ([`super::task`]), exchanges data with other
//! TaskManagers directly ([`super::network`]), and frees slots when told. If the JobManager goes
//! silent for longer than the timeout, the TaskManager cancels its tasks,
//! frees its slots and registers again: what Flink does when it loses its
//! ResourceManager leader. When its shutdown future completes (Ctrl-C or
//! SIGTERM in a real process), it cancels its tasks (aborting each and
//! awaiting its end, so none is left detached), frees its slots, tells
//! the ResourceManager it is leaving ([`FromTaskManager::Disconnect`]) and
//! returns.
//!
//! - **In**: gateway messages from the ResourceManager and JobMasters
//!   ([`ToTaskManager`], fenced by the leader's token), [`TaskReport`]s from
//!   its running tasks, accepted data connections, the shutdown future.
//! - **Out**: [`FromTaskManager`] messages (registration, heartbeats with the
//!   slot report, slot offers, task states, checkpoint acknowledgements,
//!   collected records, the disconnection), events, and log lines for
//!   people (a lost JobManager, a refused data connection, the shutdown).

use super::network::NetworkEnvironment;
use super::registration::{NotRegistered, REFUSED_REGISTRATION_DELAY_MS, register};
use super::slot_table::TaskSlotTable;
use super::task::{self, TaskContext, TaskControl, TaskReport};
use crate::config::TaskManagerConfig;
use crate::events::{EventKind, HostCtx};
use crate::ids::FencingToken;
use crate::net::frame::{FrameWriter, WireError};
use crate::rpc::{ExecutionAttemptId, FromTaskManager, SlotOffer, ToTaskManager};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::Instrument as _;

/// The cause a TaskManager gives the ResourceManager when it shuts down.
pub const SHUTDOWN_CAUSE: &str = "the TaskManager shut down";

/// Why a TaskManager process stopped.
#[derive(Debug, thiserror::Error)]
pub enum TaskManagerError {
    /// The data port could not be bound.
    #[error("cannot bind the data port {addr}: {source}")]
    Bind {
        /// Address.
        addr: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The JobManager refused this TaskManager's secret (or it the JobManager's).
    #[error("{0}")]
    Authentication(String),
}

/// Runs a TaskManager until the ResourceManager tells it to shut down or
/// `shutdown` completes (then it cancels its tasks, deregisters and
/// returns `Ok`).
pub async fn run_taskmanager(
    ctx: HostCtx,
    cfg: TaskManagerConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), TaskManagerError> {
    let mut shutdown = pin!(shutdown);
    ctx.emit(EventKind::HostStarted {
        role: crate::events::Role::TaskManager,
    });
    let (listener, bound) = ctx
        .net
        .bind(cfg.data_bind.clone())
        .await
        .map_err(|source| TaskManagerError::Bind {
            addr: cfg.data_bind.clone(),
            source,
        })?;
    let data_addr = cfg.data_address(bound);
    let net = NetworkEnvironment::new(ctx.clone(), data_addr.clone(), cfg.buffers_per_channel);
    // The data port's acceptor; aborting it (when this function returns)
    // drops the set of handshakes still under way with it.
    let acceptor = {
        let net = net.clone();
        crate::taskmanager::network::connection::accept(listener, &ctx, move |r, w| {
            net.clone().serve(r, w);
        })
    };
    let mut executor = TaskExecutor {
        ctx: ctx.clone(),
        leader_token: FencingToken::NONE,
        cfg: cfg.clone(),
        net,
        slots: TaskSlotTable::new(cfg.slots),
        tasks: BTreeMap::new(),
    };
    loop {
        match executor.session(&data_addr, &mut shutdown).await {
            SessionEnd::Shutdown => {
                tracing::info!("the ResourceManager released this TaskManager");
                break;
            }
            SessionEnd::Stopped => {
                executor.cancel_all().await;
                tracing::info!("the TaskManager shut down");
                break;
            }
            SessionEnd::Refused(cause) => {
                acceptor.abort();
                return Err(TaskManagerError::Authentication(cause));
            }
            SessionEnd::Declined(reason) => {
                tracing::error!(
                    %reason,
                    "the ResourceManager declined this TaskManager's registration; \
                     trying again in {} s",
                    REFUSED_REGISTRATION_DELAY_MS / 1000
                );
                if stopped_while_waiting(&mut shutdown, REFUSED_REGISTRATION_DELAY_MS).await {
                    break;
                }
            }
            SessionEnd::Lost(cause) => {
                tracing::info!(%cause, "lost the JobManager; registering again");
                executor.ctx.emit(EventKind::ConnectionLost {
                    peer: "jobmanager".into(),
                    cause,
                });
                executor.release_all();
                if stopped_while_waiting(&mut shutdown, 500).await {
                    break;
                }
            }
        }
    }
    acceptor.abort();
    let _ = acceptor.await;
    Ok(())
}

/// Waits `ms` before the next registration; true when the shutdown future
/// completed meanwhile (then the TaskManager stops).
async fn stopped_while_waiting<F: Future<Output = ()>>(
    shutdown: &mut Pin<&mut F>,
    ms: u64,
) -> bool {
    tokio::select! {
        biased;
        () = shutdown.as_mut() => {
            tracing::info!("the TaskManager shut down");
            true
        }
        () = tokio::time::sleep(Duration::from_millis(ms)) => false,
    }
}

/// Why a session with a JobManager ended.
enum SessionEnd {
    /// The ResourceManager released this TaskManager.
    Shutdown,
    /// The shutdown future completed; the ResourceManager was told.
    Stopped,
    /// The JobManager was lost (or another one leads): register again.
    Lost(String),
    /// The handshake failed for want of the secret: stop.
    Refused(String),
    /// The ResourceManager declined the registration (a cap): wait, then
    /// register again.
    Declined(String),
}

struct RunningTask {
    handle: JoinHandle<()>,
    allocation: crate::rpc::AllocationId,
    control: mpsc::UnboundedSender<TaskControl>,
}

struct TaskExecutor {
    ctx: HostCtx,
    /// The highest leader token seen: messages with a lower one are refused.
    leader_token: FencingToken,
    cfg: TaskManagerConfig,
    net: Arc<NetworkEnvironment>,
    slots: TaskSlotTable,
    tasks: BTreeMap<ExecutionAttemptId, RunningTask>,
}

enum Input {
    /// The shutdown future completed.
    Shutdown,
    FromJm(Result<crate::rpc::Fenced, WireError>),
    Report(TaskReport),
    Tick,
    /// The coordinator names a newer leader than the one we serve.
    NewLeader(crate::ha::LeaderInfo),
}

impl TaskExecutor {
    /// One registration: find the leader, connect, register, serve until
    /// the JobManager is lost, another one leads, or `shutdown` completes.
    async fn session<F: Future<Output = ()>>(
        &mut self,
        data_addr: &str,
        shutdown: &mut Pin<&mut F>,
    ) -> SessionEnd {
        let connected = tokio::select! {
            biased;
            () = shutdown.as_mut() => return SessionEnd::Stopped,
            r = register(&self.ctx, &self.cfg, data_addr) => r,
        };
        let r = match connected {
            Ok(r) => r,
            Err(NotRegistered::Lost(cause)) => return SessionEnd::Lost(cause),
            Err(NotRegistered::Refused(cause)) => return SessionEnd::Refused(cause),
        };
        self.leader_token = self.leader_token.max(r.leader_token);
        self.serve(r.reader, r.writer, r.leader_token, shutdown)
            .await
    }

    /// Serves a registered connection until it ends.
    async fn serve<F: Future<Output = ()>>(
        &mut self,
        mut reader: crate::net::frame::FrameReader,
        mut writer: FrameWriter,
        leader_token: FencingToken,
        shutdown: &mut Pin<&mut F>,
    ) -> SessionEnd {
        // The reader runs as its own task so that waiting for a frame is
        // never cancelled halfway by the select below.
        let (jm_tx, mut jm_rx) = mpsc::unbounded_channel();
        let reader_task = tokio::spawn(
            async move {
                loop {
                    let r = reader.recv::<crate::rpc::Fenced>().await;
                    let stop = r.is_err();
                    if jm_tx.send(r).is_err() || stop {
                        break;
                    }
                }
            }
            .in_current_span(),
        );
        // With high availability, watch the leader: when the coordinator
        // names a newer one, this session is over (Flink's leader retrieval).
        let (leader_tx, mut leader_rx) = mpsc::unbounded_channel();
        let watcher = self.cfg.ha.clone().map(|ha| {
            let ctx = self.ctx.clone();
            let current = leader_token;
            tokio::spawn(
                async move {
                    let mut client = crate::ha::HaClient::new(ctx, ha.coordinator.clone());
                    loop {
                        tokio::time::sleep(Duration::from_millis((ha.lease_ms / 3).max(1))).await;
                        if let Some(l) = client.leader().await
                            && l.token > current
                        {
                            let _ = leader_tx.send(l);
                            return;
                        }
                    }
                }
                .in_current_span(),
            )
        });
        let (report_tx, mut report_rx) = mpsc::unbounded_channel();
        let mut tick = tokio::time::interval(Duration::from_millis(
            (self.cfg.jobmanager_timeout_ms / 5).max(10),
        ));
        let mut last_heard = self.ctx.now_ms();
        let end = loop {
            let input = tokio::select! {
                biased;
                () = shutdown.as_mut() => Input::Shutdown,
                m = jm_rx.recv() => Input::FromJm(m.unwrap_or(Err(WireError::Closed))),
                r = report_rx.recv() => match r {
                    Some(r) => Input::Report(r),
                    None => continue,
                },
                l = leader_rx.recv(), if watcher.is_some() => match l {
                    Some(l) => Input::NewLeader(l),
                    None => continue,
                },
                _ = tick.tick() => Input::Tick,
            };
            let result = match input {
                Input::Shutdown => {
                    // Cancel every task, then say goodbye: the
                    // ResourceManager releases the slots at once.
                    self.cancel_all().await;
                    let cause = SHUTDOWN_CAUSE.to_string();
                    let _ = Self::send(&mut writer, &FromTaskManager::Disconnect { cause }).await;
                    Err(SessionEnd::Stopped)
                }
                Input::FromJm(Ok(fenced)) if fenced.token < self.leader_token => {
                    // A deposed leader's late message: refused.
                    self.ctx.emit(EventKind::FencedMessageRejected {
                        at: self.ctx.host.clone(),
                        token: fenced.token,
                        current: self.leader_token,
                        what: message_name(&fenced.msg).to_string(),
                    });
                    Ok(())
                }
                Input::FromJm(Ok(fenced)) => {
                    last_heard = self.ctx.now_ms();
                    self.on_message(fenced.msg, &mut writer, &report_tx).await
                }
                Input::NewLeader(l) => {
                    self.leader_token = self.leader_token.max(l.token);
                    Err(SessionEnd::Lost(format!(
                        "{} is the new leader (token {})",
                        l.leader, l.token
                    )))
                }
                Input::FromJm(Err(e)) if e.is_auth() => Err(SessionEnd::Refused(e.to_string())),
                Input::FromJm(Err(e)) => Err(SessionEnd::Lost(e.to_string())),
                Input::Report(r) => self.on_report(r, &mut writer).await,
                Input::Tick => {
                    let silent = self.ctx.now_ms() - last_heard;
                    if silent > self.cfg.jobmanager_timeout_ms {
                        self.ctx.emit(EventKind::HeartbeatTimeout {
                            peer: "jobmanager".into(),
                            timeout_ms: self.cfg.jobmanager_timeout_ms,
                        });
                        Err(SessionEnd::Lost(format!(
                            "no heartbeat from the JobManager for {silent} ms"
                        )))
                    } else {
                        Ok(())
                    }
                }
            };
            if let Err(end) = result {
                break end;
            }
        };
        reader_task.abort();
        if let Some(w) = watcher {
            w.abort();
        }
        end
    }

    async fn send(writer: &mut FrameWriter, msg: &FromTaskManager) -> Result<(), SessionEnd> {
        writer
            .send(msg)
            .await
            .map_err(|e| SessionEnd::Lost(e.to_string()))
    }

    async fn on_message(
        &mut self,
        msg: ToTaskManager,
        writer: &mut FrameWriter,
        reports: &mpsc::UnboundedSender<TaskReport>,
    ) -> Result<(), SessionEnd> {
        match msg {
            ToTaskManager::Registered { token } => {
                tracing::info!(%token, "registered at the ResourceManager");
                Ok(())
            }
            ToTaskManager::HeartbeatRequest => {
                let slots = self.slots.report();
                Self::send(writer, &FromTaskManager::Heartbeat { slots }).await
            }
            ToTaskManager::RequestSlot {
                slot,
                allocation,
                job,
            } => {
                if self.slots.allocate(slot, allocation, job) {
                    self.ctx.emit(EventKind::SlotOffered {
                        job,
                        allocation,
                        resource_id: self.ctx.host.as_str().into(),
                        slot,
                    });
                    let offers = vec![SlotOffer { allocation, slot }];
                    Self::send(writer, &FromTaskManager::OfferSlots { job, offers }).await
                } else {
                    Ok(())
                }
            }
            ToTaskManager::SlotsAccepted { job, allocations } => {
                for allocation in allocations {
                    self.slots.try_mark_active(allocation, job);
                }
                Ok(())
            }
            ToTaskManager::SubmitTask(tdd) => {
                let attempt = tdd.attempt;
                // Deploying into a slot activates it (Flink's `tryMarkSlotActive`).
                if !self.slots.try_mark_active(tdd.allocation, attempt.job) {
                    let cause =
                        format!("slot {} is not allocated to this job here", tdd.allocation);
                    return Self::send(
                        writer,
                        &FromTaskManager::TaskState {
                            attempt,
                            state: crate::state::ExecutionState::Failed,
                            cause: Some(cause),
                            counters: Default::default(),
                        },
                    )
                    .await;
                }
                // ANCHOR: spawn_task
                let (control, control_rx) = mpsc::unbounded_channel();
                let tc = TaskContext {
                    ctx: self.ctx.clone(),
                    net: self.net.clone(),
                    cfg: self.cfg.clone(),
                    reports: reports.clone(),
                    control: control_rx,
                };
                let allocation = tdd.allocation;
                let handle = tokio::spawn(task::run_task(*tdd, tc).in_current_span());
                // ANCHOR_END: spawn_task
                self.tasks.insert(
                    attempt,
                    RunningTask {
                        handle,
                        allocation,
                        control,
                    },
                );
                Ok(())
            }
            ToTaskManager::TriggerCheckpoint {
                attempt,
                barrier,
                stop,
            } => {
                if let Some(t) = self.tasks.get(&attempt) {
                    let _ = t.control.send(TaskControl::Trigger { barrier, stop });
                }
                Ok(())
            }
            ToTaskManager::CancelTask { attempt } => {
                if let Some(t) = self.tasks.remove(&attempt) {
                    t.handle.abort();
                    Self::send(
                        writer,
                        &FromTaskManager::TaskState {
                            attempt,
                            state: crate::state::ExecutionState::Canceled,
                            cause: None,
                            counters: Default::default(),
                        },
                    )
                    .await?;
                }
                Ok(())
            }
            ToTaskManager::FreeSlot { allocation } => {
                let doomed: Vec<ExecutionAttemptId> = self
                    .tasks
                    .iter()
                    .filter(|(_, t)| t.allocation == allocation)
                    .map(|(a, _)| *a)
                    .collect();
                for a in doomed {
                    if let Some(t) = self.tasks.remove(&a) {
                        t.handle.abort();
                    }
                }
                if let Some(slot) = self.slots.free(allocation) {
                    self.ctx.emit(EventKind::SlotFreed {
                        allocation,
                        resource_id: self.ctx.host.as_str().into(),
                        slot,
                    });
                    Self::send(writer, &FromTaskManager::SlotFreed { allocation, slot }).await?;
                }
                Ok(())
            }
            ToTaskManager::Shutdown => {
                self.release_all();
                Err(SessionEnd::Shutdown)
            }
            ToTaskManager::Declined { reason } => Err(SessionEnd::Declined(reason)),
        }
    }

    /// Forwards a task's report to the JobMaster, unless the task was
    /// cancelled meanwhile (its reports are stale); a terminal state ends
    /// the task here.
    async fn on_report(
        &mut self,
        r: TaskReport,
        writer: &mut FrameWriter,
    ) -> Result<(), SessionEnd> {
        if !self.tasks.contains_key(&r.attempt) {
            return Ok(());
        }
        if let FromTaskManager::TaskState { state, .. } = &r.message
            && state.is_terminal()
        {
            self.tasks.remove(&r.attempt);
        }
        Self::send(writer, &r.message).await
    }

    /// Cancels every task and frees every slot (the JobManager is gone).
    fn release_all(&mut self) {
        for (_, t) in std::mem::take(&mut self.tasks) {
            t.handle.abort();
        }
        self.free_all_slots();
    }

    /// Cancels every task and waits until each has ended, then frees every
    /// slot (the TaskManager shuts down: no task is left running detached).
    async fn cancel_all(&mut self) {
        let tasks = std::mem::take(&mut self.tasks);
        for t in tasks.values() {
            t.handle.abort();
        }
        for (attempt, t) in tasks {
            if let Err(e) = t.handle.await
                && e.is_panic()
            {
                tracing::error!(%attempt, "a task panicked while it was cancelled");
            }
        }
        self.free_all_slots();
    }

    /// Frees every slot, with an event for each that was allocated.
    fn free_all_slots(&mut self) {
        for (slot, allocation) in self.slots.free_all() {
            self.ctx.emit(EventKind::SlotFreed {
                allocation,
                resource_id: self.ctx.host.as_str().into(),
                slot,
            });
        }
    }
}

/// A message's name, for events.
fn message_name(m: &ToTaskManager) -> &'static str {
    match m {
        ToTaskManager::Registered { .. } => "Registered",
        ToTaskManager::HeartbeatRequest => "HeartbeatRequest",
        ToTaskManager::RequestSlot { .. } => "RequestSlot",
        ToTaskManager::SlotsAccepted { .. } => "SlotsAccepted",
        ToTaskManager::SubmitTask(_) => "SubmitTask",
        ToTaskManager::TriggerCheckpoint { .. } => "TriggerCheckpoint",
        ToTaskManager::CancelTask { .. } => "CancelTask",
        ToTaskManager::FreeSlot { .. } => "FreeSlot",
        ToTaskManager::Shutdown => "Shutdown",
        ToTaskManager::Declined { .. } => "Declined",
    }
}
