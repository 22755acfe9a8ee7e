//! The SlotManager: matches slot requests with free slots (Flink's
//! `SlotManager`, in its per-slot form `DeclarativeSlotManager` /
//! `FineGrainedSlotManager` keep the same bookkeeping).
//!
//! It knows every registered TaskManager's slots and whether each is free
//! or allocated to a job, and the requests of JobMasters waiting for one,
//! oldest first. Matching picks a slot by the placement strategy (fill one
//! TaskManager first, or spread evenly) and tells the chosen TaskManager to
//! allocate it for the job (`requestSlot`); the TaskManager then offers it
//! to the JobMaster itself. A request nobody can serve waits.
//!
//! In: TaskManagers registered, lost or disconnected; slot requests; freed
//! slots. Out: `RequestSlot` to TaskManagers, slot events, and what was
//! allocated on a TaskManager that is lost.

use crate::config::Placement;
use crate::events::{EventKind, HostCtx};
use crate::graph::JobId;
use crate::jobmanager::outbox::Outbox;
use crate::rpc::{AllocationId, ResourceId, ToTaskManager};
use std::collections::{BTreeMap, VecDeque};

/// What the SlotManager knows of a slot.
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

/// The slots of one registered TaskManager.
#[derive(Debug, Clone)]
pub struct TaskManagerSlots {
    /// Its slots, by index.
    pub slots: Vec<SlotState>,
    /// Since when all its slots are free (ms).
    pub idle_since: Option<u64>,
    /// Whether its control connection is open (only then can it allocate).
    pub connected: bool,
}

impl TaskManagerSlots {
    fn free(&self) -> usize {
        self.slots.iter().filter(|s| **s == SlotState::Free).count()
    }
    fn first_free(&self) -> Option<u32> {
        self.slots
            .iter()
            .position(|s| *s == SlotState::Free)
            .map(|i| i as u32)
    }
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

/// The SlotManager.
#[derive(Debug)]
pub struct SlotManager {
    ctx: HostCtx,
    placement: Placement,
    /// Slots of registered TaskManagers.
    pub task_managers: BTreeMap<ResourceId, TaskManagerSlots>,
    /// Registration order (placement fills in this order).
    pub order: Vec<ResourceId>,
    /// Requests waiting for a slot, oldest first.
    pub pending: VecDeque<SlotRequest>,
    next_allocation: u64,
}

impl SlotManager {
    /// No TaskManagers, no requests.
    pub fn new(ctx: HostCtx, placement: Placement) -> Self {
        SlotManager {
            ctx,
            placement,
            task_managers: BTreeMap::new(),
            order: Vec::new(),
            pending: VecDeque::new(),
            next_allocation: 1,
        }
    }

    /// A TaskManager's slots become available (all free).
    pub fn register_task_manager(&mut self, rid: &ResourceId, slots: u32) {
        let now = self.ctx.now_ms();
        self.task_managers.insert(
            rid.clone(),
            TaskManagerSlots {
                slots: vec![SlotState::Free; slots as usize],
                idle_since: Some(now),
                connected: true,
            },
        );
        self.order.retain(|r| r != rid);
        self.order.push(rid.clone());
    }

    /// A TaskManager is gone with its slots; returns what was allocated on
    /// it: (slot, allocation, job).
    pub fn unregister_task_manager(&mut self, rid: &str) -> Vec<(u32, AllocationId, JobId)> {
        self.order.retain(|r| r != rid);
        let Some(tm) = self.task_managers.remove(rid) else {
            return Vec::new();
        };
        tm.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                SlotState::Allocated { allocation, job } => Some((i as u32, *allocation, *job)),
                SlotState::Free => None,
            })
            .collect()
    }

    /// A TaskManager's control connection closed: it cannot allocate until
    /// it registers again.
    pub fn disconnected(&mut self, rid: &str) {
        if let Some(tm) = self.task_managers.get_mut(rid) {
            tm.connected = false;
        }
    }

    /// A JobMaster needs a slot; returns the allocation id it will carry.
    pub fn request_slot(&mut self, job: JobId, group: &str) -> AllocationId {
        let allocation = AllocationId(self.next_allocation);
        self.next_allocation += 1;
        self.ctx.emit(EventKind::SlotRequested {
            job,
            allocation,
            group: group.to_string(),
        });
        self.pending.push_back(SlotRequest {
            allocation,
            job,
            reported_pending: false,
        });
        allocation
    }

    /// Forgets a job's waiting requests (it ended).
    pub fn cancel_requests(&mut self, job: JobId) {
        self.pending.retain(|r| r.job != job);
    }

    /// Matches waiting requests with free slots, oldest first.
    pub fn try_allocate(&mut self, out: &mut Outbox) {
        while !self.pending.is_empty() {
            let Some((rid, slot)) = self.pick_slot() else {
                break;
            };
            let Some(req) = self.pending.pop_front() else {
                break;
            };
            if let Some(tm) = self.task_managers.get_mut(&rid) {
                tm.slots[slot as usize] = SlotState::Allocated {
                    allocation: req.allocation,
                    job: req.job,
                };
                tm.idle_since = None;
            }
            self.ctx.emit(EventKind::SlotAllocated {
                job: req.job,
                allocation: req.allocation,
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
                job: req.job,
                allocation: req.allocation,
            });
        }
    }

    /// The free slot the placement strategy picks.
    fn pick_slot(&self) -> Option<(ResourceId, u32)> {
        let candidates = self
            .order
            .iter()
            .filter_map(|r| self.task_managers.get(r).map(|tm| (r, tm)))
            .filter(|(_, tm)| tm.connected && tm.free() > 0);
        let chosen = match self.placement {
            Placement::Fill => candidates.into_iter().next(),
            Placement::Spread => {
                let mut best: Option<(&ResourceId, &TaskManagerSlots)> = None;
                for c in candidates {
                    if best.is_none_or(|b| c.1.free() > b.1.free()) {
                        best = Some(c);
                    }
                }
                best
            }
        }?;
        Some((chosen.0.clone(), chosen.1.first_free()?))
    }

    /// A TaskManager freed a slot (`notifySlotAvailable`).
    pub fn slot_freed(&mut self, rid: &str, slot: u32) {
        let now = self.ctx.now_ms();
        if let Some(tm) = self.task_managers.get_mut(rid)
            && let Some(s) = tm.slots.get_mut(slot as usize)
        {
            *s = SlotState::Free;
            if tm.slots.iter().all(|s| *s == SlotState::Free) {
                tm.idle_since = Some(now);
            }
        }
    }

    /// Since when a TaskManager has had all its slots free.
    pub fn idle_since(&self, rid: &str) -> Option<u64> {
        self.task_managers.get(rid).and_then(|tm| tm.idle_since)
    }
}
