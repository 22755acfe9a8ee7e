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
//! ResourceManager leader.
//!
//! - **In**: gateway messages from the ResourceManager and JobMasters
//!   ([`ToTaskManager`], fenced by the leader's token), [`TaskReport`]s from
//!   its running tasks, accepted data connections.
//! - **Out**: [`FromTaskManager`] messages (registration, heartbeats with the
//!   slot report, slot offers, task states, checkpoint acknowledgements,
//!   collected records), and events.

use super::network::NetworkEnvironment;
use super::slot_table::TaskSlotTable;
use super::task::{self, TaskContext, TaskControl, TaskReport};
use crate::config::TaskManagerConfig;
use crate::events::{EventKind, HostCtx};
use crate::ids::FencingToken;
use crate::net::frame::{FrameWriter, WireError, handshake};
use crate::rpc::{ExecutionAttemptId, FromTaskManager, SlotOffer, ToTaskManager};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

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
}

/// Runs a TaskManager until the ResourceManager tells it to shut down.
pub async fn run_taskmanager(ctx: HostCtx, cfg: TaskManagerConfig) -> Result<(), TaskManagerError> {
    ctx.emit(EventKind::HostStarted {
        role: crate::events::Role::TaskManager,
    });
    let (mut listener, bound) = ctx
        .net
        .bind(cfg.data_bind.clone())
        .await
        .map_err(|source| TaskManagerError::Bind {
            addr: cfg.data_bind.clone(),
            source,
        })?;
    let data_addr = cfg.data_advertise.clone().unwrap_or(bound);
    let net = NetworkEnvironment::new(ctx.clone(), data_addr.clone(), cfg.buffers_per_channel);
    {
        let net = net.clone();
        let host = ctx.host.clone();
        tokio::spawn(async move {
            while let Ok((stream, _peer)) = listener.accept().await {
                let net = net.clone();
                let host = host.clone();
                tokio::spawn(async move {
                    if let Ok((r, w, _hello)) = handshake(stream, "data", &host).await {
                        net.serve(r, w);
                    }
                });
            }
        });
    }
    let mut executor = TaskExecutor {
        ctx: ctx.clone(),
        leader_token: FencingToken::NONE,
        cfg: cfg.clone(),
        net,
        slots: TaskSlotTable::new(cfg.slots),
        tasks: BTreeMap::new(),
    };
    loop {
        match executor.session(&data_addr).await {
            SessionEnd::Shutdown => return Ok(()),
            SessionEnd::Lost(cause) => {
                executor.ctx.emit(EventKind::ConnectionLost {
                    peer: "jobmanager".into(),
                    cause: cause.clone(),
                });
                executor.release_all();
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

enum SessionEnd {
    Shutdown,
    Lost(String),
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
    FromJm(Result<crate::rpc::Fenced, WireError>),
    Report(TaskReport),
    Tick,
    /// The coordinator names a newer leader than the one we serve.
    NewLeader(crate::ha::LeaderInfo),
}

impl TaskExecutor {
    /// One registration: find the leader, connect, register, serve until
    /// the JobManager is lost or another one leads.
    async fn session(&mut self, data_addr: &str) -> SessionEnd {
        let (jobmanager, leader_token) = match &self.cfg.ha {
            None => (self.cfg.jobmanager.clone(), FencingToken::NONE),
            Some(ha) => {
                let mut client = crate::ha::HaClient::new(self.ctx.clone(), ha.coordinator.clone());
                let l = client.wait_for_leader().await;
                (l.addr, l.token)
            }
        };
        self.leader_token = self.leader_token.max(leader_token);
        let stream = loop {
            // A crashed host may never answer: give up after a second.
            let attempt = tokio::time::timeout(
                Duration::from_millis(1_000),
                self.ctx.net.connect(jobmanager.clone()),
            )
            .await
            .unwrap_or_else(|_| {
                Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "connect timed out",
                ))
            });
            match attempt {
                Ok(s) => break s,
                // With HA the leader we were told of may be gone: ask again.
                Err(e) if self.cfg.ha.is_some() => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    return SessionEnd::Lost(format!(
                        "cannot reach the leader at {jobmanager}: {e}"
                    ));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        };
        let (mut reader, mut writer, _hello) =
            match handshake(stream, "taskmanager", &self.ctx.host).await {
                Ok(x) => x,
                Err(e) => return SessionEnd::Lost(e.to_string()),
            };
        let register = FromTaskManager::Register {
            resource_id: self.ctx.host.as_str().into(),
            data_addr: data_addr.to_string(),
            slots: self.cfg.slots,
        };
        if let Err(e) = writer.send(&register).await {
            return SessionEnd::Lost(e.to_string());
        }
        // The reader runs as its own task so that waiting for a frame is
        // never cancelled halfway by the select below.
        let (jm_tx, mut jm_rx) = mpsc::unbounded_channel();
        let reader_task = tokio::spawn(async move {
            loop {
                let r = reader.recv::<crate::rpc::Fenced>().await;
                let stop = r.is_err();
                if jm_tx.send(r).is_err() || stop {
                    break;
                }
            }
        });
        // With high availability, watch the leader: when the coordinator
        // names a newer one, this session is over (Flink's leader retrieval).
        let (leader_tx, mut leader_rx) = mpsc::unbounded_channel();
        let watcher = self.cfg.ha.clone().map(|ha| {
            let ctx = self.ctx.clone();
            let current = leader_token;
            tokio::spawn(async move {
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
            })
        });
        let (report_tx, mut report_rx) = mpsc::unbounded_channel();
        let mut tick = tokio::time::interval(Duration::from_millis(
            (self.cfg.jobmanager_timeout_ms / 5).max(10),
        ));
        let mut last_heard = self.ctx.now_ms();
        let end = loop {
            let input = tokio::select! {
                biased;
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
            ToTaskManager::Registered { .. } => Ok(()),
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
                let (control, control_rx) = mpsc::unbounded_channel();
                let tc = TaskContext {
                    ctx: self.ctx.clone(),
                    net: self.net.clone(),
                    cfg: self.cfg.clone(),
                    reports: reports.clone(),
                    control: control_rx,
                };
                let allocation = tdd.allocation;
                let handle = tokio::spawn(task::run_task(*tdd, tc));
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
    }
}
