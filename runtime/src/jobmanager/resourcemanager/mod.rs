//! The ResourceManager: who has slots, who needs them (Flink's
//! `ResourceManager`, and with an active driver its `ActiveResourceManager`).
//!
//! It registers TaskManagers (`registerTaskExecutor`) and watches them with
//! heartbeats; a TaskManager whose heartbeats stop is lost, with its slots.
//! Its [`slot_manager`] matches JobMasters' slot requests with free slots.
//! When no slot is free a request waits: a *standalone* ResourceManager can
//! only wait for a TaskManager to be started by hand, an *active* one (YARN,
//! Kubernetes) asks its environment, through its driver
//! (`ResourceManagerDriver`), to start one, and here also releases TaskManagers
//! it started that stay idle.
//!
//! In: registrations, heartbeats, freed slots, disconnections and closed
//! connections of TaskManagers; slot requests of JobMasters ([`ToResourceManager`]); the
//! heartbeat tick. Out: messages to TaskManagers, answers to JobMasters
//! ([`ToJobMaster`]), lost TaskManagers, worker requests to the driver.

pub mod driver;
pub mod local_process;
pub mod slot_manager;

use crate::config::JobManagerConfig;
use crate::events::{EventKind, HostCtx};
use crate::graph::JobId;
use crate::jobmanager::outbox::{ConnId, Outbox, ToJobMaster, ToResourceManager};
use crate::rpc::{ResourceId, SlotStatus, ToTaskManager};
use slot_manager::SlotManager;
use std::collections::{BTreeMap, BTreeSet};

/// A registered TaskManager.
#[derive(Debug, Clone)]
pub struct TaskManagerRecord {
    /// Control connection, if open.
    pub conn: Option<ConnId>,
    /// Its data address.
    pub data_addr: String,
    /// Last heartbeat (ms).
    pub last_heartbeat: u64,
}

/// The ResourceManager.
pub struct ResourceManager {
    ctx: HostCtx,
    cfg: JobManagerConfig,
    /// Registered TaskManagers.
    pub task_managers: BTreeMap<ResourceId, TaskManagerRecord>,
    /// Their slots, and the requests waiting for one.
    pub slot_manager: SlotManager,
    /// TaskManagers requested from the active provider, not yet registered.
    pub pending_workers: BTreeSet<ResourceId>,
    /// Every TaskManager the active provider started.
    pub started_workers: BTreeSet<ResourceId>,
}

impl ResourceManager {
    /// A ResourceManager with no TaskManagers.
    pub fn new(ctx: HostCtx, cfg: JobManagerConfig) -> Self {
        ResourceManager {
            slot_manager: SlotManager::new(ctx.clone(), cfg.placement),
            ctx,
            cfg,
            task_managers: BTreeMap::new(),
            pending_workers: BTreeSet::new(),
            started_workers: BTreeSet::new(),
        }
    }

    /// A request of a JobMaster.
    pub fn handle(&mut self, msg: ToResourceManager, out: &mut Outbox) {
        match msg {
            ToResourceManager::RequestSlot { job, sharing } => {
                let allocation = self.slot_manager.request_slot(job, &sharing.group);
                out.to_jobmaster(
                    job,
                    ToJobMaster::SlotRequestRegistered {
                        allocation,
                        sharing,
                    },
                );
            }
        }
    }

    /// A TaskManager registered (`registerTaskExecutor`). A known id means
    /// the old process is gone (it restarted): that one is lost first.
    pub fn register(
        &mut self,
        conn: ConnId,
        resource_id: ResourceId,
        data_addr: String,
        slots: u32,
        out: &mut Outbox,
    ) {
        use crate::net::limits::{MAX_SLOTS_PER_TASKMANAGER, MAX_TASKMANAGERS, check_cap};
        let known = self.task_managers.contains_key(&resource_id);
        let over = check_cap(
            "its number of slots",
            slots.into(),
            MAX_SLOTS_PER_TASKMANAGER.into(),
        )
        .and_then(|()| {
            let n = self.task_managers.len() as u64 + u64::from(!known);
            check_cap("the number of TaskManagers", n, MAX_TASKMANAGERS.into())
        });
        if let Err(cap) = over {
            // Not registered, no slot counted: it is told why.
            tracing::warn!(%resource_id, %cap, "declined a TaskManager's registration");
            self.ctx.emit(EventKind::TaskManagerDeclined {
                resource_id,
                reason: cap.to_string(),
            });
            out.declined.push((conn, cap.to_string()));
            return;
        }
        if known {
            self.lose(
                &resource_id,
                "it registered again (the old process is gone)".into(),
                out,
            );
        }
        let now = self.ctx.now_ms();
        self.pending_workers.remove(&resource_id);
        self.task_managers.insert(
            resource_id.clone(),
            TaskManagerRecord {
                conn: Some(conn),
                data_addr: data_addr.clone(),
                last_heartbeat: now,
            },
        );
        self.slot_manager.register_task_manager(&resource_id, slots);
        tracing::info!(%resource_id, slots, %data_addr, "TaskManager registered");
        self.ctx.emit(EventKind::TaskManagerRegistered {
            resource_id: resource_id.clone(),
            slots,
            data_addr,
        });
        out.to_tm(resource_id, ToTaskManager::Registered { token: out.token });
        self.try_allocate(out);
    }

    /// Forgets a job's waiting requests (it ended).
    pub fn cancel_requests(&mut self, job: JobId) {
        self.slot_manager.cancel_requests(job);
    }

    // ANCHOR: try_allocate
    /// Matches waiting requests with free slots; asks for workers if active.
    pub fn try_allocate(&mut self, out: &mut Outbox) {
        self.slot_manager.try_allocate(out);
        if self.cfg.provider.is_active() && !self.slot_manager.pending.is_empty() {
            self.request_workers();
        }
    }

    /// Active ResourceManager: starts as many workers as the waiting
    /// requests need, counting those already coming.
    fn request_workers(&mut self) {
        let pending = self.slot_manager.pending.len();
        let per = self.cfg.worker_slots.max(1) as usize;
        let coming = self.pending_workers.len() * per;
        let missing = pending.saturating_sub(coming);
        for _ in 0..missing.div_ceil(per) {
            let rid = self.next_worker_name();
            self.ctx.emit(EventKind::WorkerRequested {
                resource_id: rid.clone(),
                pending_requests: pending,
            });
            self.cfg.provider.start_worker(&rid, self.cfg.worker_slots);
            self.pending_workers.insert(rid.clone());
            self.started_workers.insert(rid);
        }
    }
    // ANCHOR_END: try_allocate

    fn next_worker_name(&self) -> ResourceId {
        let prefix = &self.cfg.worker_prefix;
        let highest = self
            .task_managers
            .keys()
            .chain(self.pending_workers.iter())
            .chain(self.started_workers.iter())
            .filter_map(|r| r.strip_prefix(prefix.as_str())?.parse::<u32>().ok())
            .max()
            .unwrap_or(0);
        format!("{prefix}{}", highest + 1).into()
    }

    /// A TaskManager answered a heartbeat with its slot report.
    pub fn heartbeat(&mut self, rid: &str, report: &[SlotStatus]) {
        let now = self.ctx.now_ms();
        if let Some(tm) = self.task_managers.get_mut(rid) {
            tm.last_heartbeat = now;
            let _ = report;
        }
    }

    /// A TaskManager freed a slot (`notifySlotAvailable`).
    pub fn slot_freed(&mut self, rid: &str, slot: u32, out: &mut Outbox) {
        self.slot_manager.slot_freed(rid, slot);
        self.try_allocate(out);
    }

    /// The control connection of a TaskManager closed; it stays registered
    /// until its heartbeats time out, as in Flink.
    pub fn disconnected(&mut self, conn: ConnId) {
        for (rid, tm) in self.task_managers.iter_mut() {
            if tm.conn == Some(conn) {
                tm.conn = None;
                self.slot_manager.disconnected(rid);
            }
        }
    }

    /// A TaskManager said it is leaving (`disconnectTaskManager`): it is
    /// lost now, with its slots, rather than when its heartbeats time out.
    pub fn disconnect(&mut self, rid: &str, cause: String, out: &mut Outbox) {
        tracing::info!(resource_id = %rid, %cause, "TaskManager disconnected");
        self.lose(rid, cause, out);
    }

    /// Heartbeat round: request heartbeats, find the silent, release the idle.
    pub fn tick(&mut self, out: &mut Outbox) {
        let now = self.ctx.now_ms();
        let timeout = self.cfg.heartbeat_timeout_ms;
        let silent: Vec<ResourceId> = self
            .task_managers
            .iter()
            .filter(|(_, tm)| now.saturating_sub(tm.last_heartbeat) > timeout)
            .map(|(r, _)| r.clone())
            .collect();
        for rid in silent {
            self.ctx.emit(EventKind::HeartbeatTimeout {
                peer: rid.clone(),
                timeout_ms: timeout,
            });
            self.lose(
                &rid,
                format!("Heartbeat of TaskManager with id {rid} timed out."),
                out,
            );
        }
        if self.cfg.provider.is_active() && self.cfg.idle_timeout_ms > 0 {
            let idle: Vec<ResourceId> = self
                .task_managers
                .keys()
                .filter(|r| {
                    self.started_workers.contains(*r)
                        && self
                            .slot_manager
                            .idle_since(r)
                            .is_some_and(|t| now - t >= self.cfg.idle_timeout_ms)
                })
                .cloned()
                .collect();
            for rid in idle {
                out.to_tm(rid.clone(), ToTaskManager::Shutdown);
                self.cfg.provider.stop_worker(&rid);
                self.ctx.emit(EventKind::WorkerReleased {
                    resource_id: rid.clone(),
                });
                self.task_managers.remove(&rid);
                self.slot_manager.unregister_task_manager(&rid);
            }
        }
        for (rid, tm) in &self.task_managers {
            if tm.conn.is_some() {
                out.to_tm(rid.clone(), ToTaskManager::HeartbeatRequest);
            }
        }
    }

    /// Removes a TaskManager; the JobMasters with slots on it are told.
    pub fn lose(&mut self, rid: &str, cause: String, out: &mut Outbox) {
        let Some(tm) = self.task_managers.remove(rid) else {
            return;
        };
        let allocated = self.slot_manager.unregister_task_manager(rid);
        tracing::info!(resource_id = %rid, %cause, "TaskManager lost");
        self.ctx.emit(EventKind::TaskManagerLost {
            resource_id: ResourceId::from(rid),
            cause: cause.clone(),
        });
        for (slot, allocation, job) in allocated {
            out.to_jobmaster(job, ToJobMaster::AllocationLost { allocation });
            self.ctx.emit(EventKind::SlotFreed {
                allocation,
                resource_id: ResourceId::from(rid),
                slot,
            });
        }
        if let Some(conn) = tm.conn {
            out.close(conn);
        }
        out.lost.push((ResourceId::from(rid), cause));
    }

    /// The connection of a TaskManager.
    pub fn conn_of(&self, rid: &str) -> Option<ConnId> {
        self.task_managers.get(rid).and_then(|tm| tm.conn)
    }

    /// The TaskManager on a connection.
    pub fn rid_of(&self, conn: ConnId) -> Option<ResourceId> {
        self.task_managers
            .iter()
            .find(|(_, tm)| tm.conn == Some(conn))
            .map(|(r, _)| r.clone())
    }

    /// A registered TaskManager's data address.
    pub fn data_addr(&self, rid: &str) -> Option<&str> {
        self.task_managers.get(rid).map(|t| t.data_addr.as_str())
    }
}
