//! The ResourceManager and its SlotManager: who has slots, who needs them.
//!
//! Flink's ResourceManager (`resourcemanager` package) registers
//! TaskManagers, watches them with heartbeats, and through its
//! `SlotManager` matches slot requests of JobMasters with free slots: it
//! tells the chosen TaskManager to allocate the slot for the job
//! (`requestSlot`), and the TaskManager then offers it to the JobMaster
//! itself. When no slot is free, a request waits; a *standalone*
//! ResourceManager can only wait for a TaskManager to be started by hand,
//! an *active* one (YARN, Kubernetes) asks its environment to start one
//! (and, here, releases TaskManagers that stay idle).

pub mod local_process;
use super::Outbox;
use crate::config::{JobManagerConfig, Placement};
use crate::events::{EventKind, HostCtx};
use crate::graph::JobId;
use crate::rpc::{AllocationId, ResourceId, SlotStatus, ToTaskManager};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The JobManager's handle on a connection.
pub type ConnId = u64;

/// What the ResourceManager knows of a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotState {
    /// Free.
    Free,
    /// Given to a job.
    Allocated {
        /// Allocation.
        allocation: AllocationId,
        /// Job.
        job: JobId,
    },
}

/// A registered TaskManager.
#[derive(Debug, Clone)]
pub struct TaskManagerRecord {
    /// Control connection, if open.
    pub conn: Option<ConnId>,
    /// Its data address.
    pub data_addr: String,
    /// Its slots.
    pub slots: Vec<SlotState>,
    /// Last heartbeat (ms).
    pub last_heartbeat: u64,
    /// Since when all its slots are free (ms).
    pub idle_since: Option<u64>,
}

/// A slot request of a JobMaster, waiting or matched.
#[derive(Debug, Clone)]
pub struct SlotRequest {
    /// The allocation id the slot will carry.
    pub allocation: AllocationId,
    /// The job.
    pub job: JobId,
    /// Whether a "pending" event was emitted already.
    pub reported_pending: bool,
}

/// The ResourceManager.
pub struct ResourceManager {
    ctx: HostCtx,
    cfg: JobManagerConfig,
    /// Registered TaskManagers, in registration order of their ids.
    pub task_managers: BTreeMap<ResourceId, TaskManagerRecord>,
    /// Registration order (placement fills in this order).
    pub order: Vec<ResourceId>,
    /// Requests waiting for a slot, oldest first.
    pub pending: VecDeque<SlotRequest>,
    /// TaskManagers requested from the active provider, not yet registered.
    pub pending_workers: BTreeSet<ResourceId>,
    /// Every TaskManager the active provider started.
    pub started_workers: BTreeSet<ResourceId>,
    next_allocation: u64,
}

impl ResourceManager {
    /// A ResourceManager with no TaskManagers.
    pub fn new(ctx: HostCtx, cfg: JobManagerConfig) -> Self {
        ResourceManager {
            ctx,
            cfg,
            task_managers: BTreeMap::new(),
            order: Vec::new(),
            pending: VecDeque::new(),
            pending_workers: BTreeSet::new(),
            started_workers: BTreeSet::new(),
            next_allocation: 1,
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
        if self.task_managers.contains_key(&resource_id) {
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
                slots: vec![SlotState::Free; slots as usize],
                last_heartbeat: now,
                idle_since: Some(now),
            },
        );
        self.order.retain(|r| r != &resource_id);
        self.order.push(resource_id.clone());
        self.ctx.emit(EventKind::TaskManagerRegistered {
            resource_id: resource_id.clone(),
            slots,
            data_addr,
        });
        out.to_tm(resource_id, ToTaskManager::Registered { token: out.token });
        self.try_allocate(out);
    }

    /// A JobMaster needs a slot; returns the allocation id it will carry.
    pub fn request_slot(&mut self, job: JobId, group: &str, out: &mut Outbox) -> AllocationId {
        let allocation = AllocationId(self.next_allocation);
        self.next_allocation += 1;
        self.ctx.emit(EventKind::SlotRequested {
            job: job.to_string(),
            allocation: allocation.to_string(),
            group: group.to_string(),
        });
        self.pending.push_back(SlotRequest {
            allocation,
            job,
            reported_pending: false,
        });
        let _ = out;
        allocation
    }

    /// Forgets a job's waiting requests (it ended or restarts).
    pub fn cancel_requests(&mut self, job: JobId) {
        self.pending.retain(|r| r.job != job);
    }

    /// Matches waiting requests with free slots; asks for workers if active.
    pub fn try_allocate(&mut self, out: &mut Outbox) {
        while let Some(req) = self.pending.front() {
            let Some((rid, slot)) = self.pick_slot() else {
                break;
            };
            let req = req.clone();
            self.pending.pop_front();
            if let Some(tm) = self.task_managers.get_mut(&rid) {
                tm.slots[slot as usize] = SlotState::Allocated {
                    allocation: req.allocation,
                    job: req.job,
                };
                tm.idle_since = None;
            }
            self.ctx.emit(EventKind::SlotAllocated {
                job: req.job.to_string(),
                allocation: req.allocation.to_string(),
                resource_id: rid.clone(),
                slot,
            });
            out.to_tm(
                rid,
                ToTaskManager::RequestSlot {
                    slot,
                    allocation: req.allocation,
                    job: req.job,
                },
            );
        }
        for req in self.pending.iter_mut().filter(|r| !r.reported_pending) {
            req.reported_pending = true;
            self.ctx.emit(EventKind::SlotRequestPending {
                job: req.job.to_string(),
                allocation: req.allocation.to_string(),
            });
        }
        if self.cfg.provider.is_active() && !self.pending.is_empty() {
            let per = self.cfg.worker_slots.max(1) as usize;
            let coming = self.pending_workers.len() * per;
            let missing = self.pending.len().saturating_sub(coming);
            for _ in 0..missing.div_ceil(per) {
                let rid = self.next_worker_name();
                self.ctx.emit(EventKind::WorkerRequested {
                    resource_id: rid.clone(),
                    pending_requests: self.pending.len(),
                });
                self.cfg.provider.start_worker(&rid, self.cfg.worker_slots);
                self.pending_workers.insert(rid.clone());
                self.started_workers.insert(rid);
            }
        }
    }

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
        format!("{prefix}{}", highest + 1)
    }

    /// The free slot the placement strategy picks.
    fn pick_slot(&self) -> Option<(ResourceId, u32)> {
        let free =
            |tm: &TaskManagerRecord| tm.slots.iter().filter(|s| **s == SlotState::Free).count();
        let first_free =
            |tm: &TaskManagerRecord| tm.slots.iter().position(|s| *s == SlotState::Free);
        let candidates = self
            .order
            .iter()
            .filter_map(|r| self.task_managers.get(r).map(|tm| (r, tm)))
            .filter(|(_, tm)| tm.conn.is_some() && free(tm) > 0);
        let chosen = match self.cfg.placement {
            Placement::Fill => candidates.into_iter().next(),
            Placement::Spread => {
                let mut best: Option<(&ResourceId, &TaskManagerRecord)> = None;
                for c in candidates {
                    if best.is_none_or(|b| free(c.1) > free(b.1)) {
                        best = Some(c);
                    }
                }
                best
            }
        }?;
        Some((chosen.0.clone(), first_free(chosen.1)? as u32))
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
        let now = self.ctx.now_ms();
        if let Some(tm) = self.task_managers.get_mut(rid)
            && let Some(s) = tm.slots.get_mut(slot as usize)
        {
            *s = SlotState::Free;
            if tm.slots.iter().all(|s| *s == SlotState::Free) {
                tm.idle_since = Some(now);
            }
        }
        self.try_allocate(out);
    }

    /// The control connection of a TaskManager closed; it stays registered
    /// until its heartbeats time out, as in Flink.
    pub fn disconnected(&mut self, conn: ConnId) {
        for tm in self.task_managers.values_mut() {
            if tm.conn == Some(conn) {
                tm.conn = None;
            }
        }
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
                .iter()
                .filter(|(r, tm)| {
                    self.started_workers.contains(*r)
                        && tm
                            .idle_since
                            .is_some_and(|t| now - t >= self.cfg.idle_timeout_ms)
                })
                .map(|(r, _)| r.clone())
                .collect();
            for rid in idle {
                out.to_tm(rid.clone(), ToTaskManager::Shutdown);
                self.cfg.provider.stop_worker(&rid);
                self.ctx.emit(EventKind::WorkerReleased {
                    resource_id: rid.clone(),
                });
                self.task_managers.remove(&rid);
                self.order.retain(|r| r != &rid);
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
        self.order.retain(|r| r != rid);
        self.ctx.emit(EventKind::TaskManagerLost {
            resource_id: rid.to_string(),
            cause: cause.clone(),
        });
        for (i, s) in tm.slots.iter().enumerate() {
            if let SlotState::Allocated { allocation, job } = s {
                out.lost_allocations.push((*job, *allocation));
                self.ctx.emit(EventKind::SlotFreed {
                    allocation: allocation.to_string(),
                    resource_id: rid.to_string(),
                    slot: i as u32,
                });
            }
        }
        if let Some(conn) = tm.conn {
            out.close(conn);
        }
        out.lost.push((rid.to_string(), cause));
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
}
