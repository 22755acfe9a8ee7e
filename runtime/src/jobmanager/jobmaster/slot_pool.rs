//! The JobMaster's SlotPool: the slots a job asked for and holds (Flink's
//! `SlotPool` / `DeclarativeSlotPool` with its `PhysicalSlot`s).
//!
//! With *slot sharing*, slot `k` of a sharing group holds subtask `k` of
//! every chain in that group ([`SharingSlot`]), so a job needs, per group, as
//! many slots as the group's highest parallelism. The pool asks the
//! ResourceManager for every sharing slot it lacks (a message, answered
//! with the allocation id the slot will carry), and accepts the slots that
//! TaskManagers then offer (`offerSlots`) when they answer an open request;
//! other offers go back. A lost TaskManager takes its slots out of the pool,
//! and a restart asks for them again.
//!
//! In: the JobGraph's sharing groups, answers of the ResourceManager, slot
//! offers, lost TaskManagers. Out: slot requests, `SlotsAccepted` and
//! `FreeSlot` to TaskManagers, and where each subtask runs.

use crate::graph::{JobGraph, JobId};
use crate::ids::SubtaskIndex;
use crate::jobmanager::outbox::{Outbox, SharingSlot, ToResourceManager};
use crate::rpc::{AllocationId, Location, ResourceId, SlotOffer, ToTaskManager};
use std::collections::{BTreeMap, BTreeSet};

/// A slot in the job's slot pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSlot {
    /// Allocation.
    pub allocation: AllocationId,
    /// TaskManager.
    pub resource_id: ResourceId,
    /// Its data address.
    pub data_addr: String,
    /// Slot index on the TaskManager.
    pub slot: u32,
}

impl PoolSlot {
    /// Where a subtask in this slot is reached by its peers.
    pub fn location(&self) -> Location {
        Location {
            resource_id: self.resource_id.clone(),
            data_addr: self.data_addr.clone(),
        }
    }
}

/// The slots of one job.
#[derive(Debug, Clone)]
pub struct SlotPool {
    job: JobId,
    /// Every sharing slot the job needs, in a fixed order.
    needed: Vec<SharingSlot>,
    /// Requests sent to the ResourceManager, not yet registered there.
    asking: BTreeSet<SharingSlot>,
    /// Registered requests: the allocation each slot will carry.
    pub requested: BTreeMap<AllocationId, SharingSlot>,
    /// Slots in the pool, by sharing slot.
    pub slots: BTreeMap<SharingSlot, PoolSlot>,
}

impl SlotPool {
    /// The pool of a job: empty, knowing which sharing slots it needs.
    pub fn new(job: JobId, jg: &JobGraph) -> Self {
        let needed = jg
            .slots_per_group()
            .into_iter()
            .flat_map(|(group, n)| {
                (0..n).map(move |index| SharingSlot {
                    group: group.to_string(),
                    index,
                })
            })
            .collect();
        SlotPool {
            job,
            needed,
            asking: BTreeSet::new(),
            requested: BTreeMap::new(),
            slots: BTreeMap::new(),
        }
    }

    /// Whether requests are open (sent or registered, not yet offered).
    pub fn is_waiting(&self) -> bool {
        !self.asking.is_empty() || !self.requested.is_empty()
    }

    /// Requests every sharing slot that is neither in the pool nor asked for.
    pub fn request_missing(&mut self, out: &mut Outbox) {
        let registered: BTreeSet<&SharingSlot> = self.requested.values().collect();
        let missing: Vec<SharingSlot> = self
            .needed
            .iter()
            .filter(|s| {
                !self.slots.contains_key(*s) && !registered.contains(s) && !self.asking.contains(*s)
            })
            .cloned()
            .collect();
        for sharing in missing {
            self.asking.insert(sharing.clone());
            out.to_rm(ToResourceManager::RequestSlot {
                job: self.job,
                sharing,
            });
        }
    }

    /// The ResourceManager registered a request under `allocation`. An
    /// answer nobody waits for any more (the job ended meanwhile) is dropped.
    pub fn request_registered(&mut self, allocation: AllocationId, sharing: SharingSlot) {
        if self.asking.remove(&sharing) {
            self.requested.insert(allocation, sharing);
        }
    }

    /// Slot offers from a TaskManager (`offerSlots`): accepted when they
    /// answer an open request and `accepting`, returned otherwise. Returns
    /// whether any was accepted.
    pub fn offer(
        &mut self,
        rid: &str,
        data_addr: &str,
        offers: &[SlotOffer],
        accepting: bool,
        out: &mut Outbox,
    ) -> bool {
        let mut accepted = Vec::new();
        for offer in offers {
            match self.requested.remove(&offer.allocation) {
                Some(sharing) if accepting => {
                    self.slots.insert(
                        sharing,
                        PoolSlot {
                            allocation: offer.allocation,
                            resource_id: ResourceId::from(rid),
                            data_addr: data_addr.to_string(),
                            slot: offer.slot,
                        },
                    );
                    accepted.push(offer.allocation);
                }
                _ => out.to_tm(
                    ResourceId::from(rid),
                    ToTaskManager::FreeSlot {
                        allocation: offer.allocation,
                    },
                ),
            }
        }
        if accepted.is_empty() {
            return false;
        }
        out.to_tm(
            ResourceId::from(rid),
            ToTaskManager::SlotsAccepted {
                job: self.job,
                allocations: accepted,
            },
        );
        true
    }

    /// The slot that holds subtask `subtask` of a chain in sharing group `group`.
    pub fn slot_for(&self, group: &str, subtask: SubtaskIndex) -> Option<&PoolSlot> {
        self.slots.get(&SharingSlot {
            group: group.to_string(),
            index: subtask.0,
        })
    }

    /// A registered request went away with its TaskManager before the slot
    /// was offered; returns whether it was one of ours.
    pub fn allocation_lost(&mut self, allocation: AllocationId) -> bool {
        self.requested.remove(&allocation).is_some()
    }

    /// A TaskManager is gone: its slots leave the pool. Returns whether the
    /// pool held any.
    pub fn task_manager_lost(&mut self, rid: &str) -> bool {
        let held = self.slots.values().any(|s| s.resource_id == rid);
        self.slots.retain(|_, s| s.resource_id != rid);
        held
    }

    /// Gives every slot back (`FreeSlot`) and forgets open requests.
    pub fn release_all(&mut self, out: &mut Outbox) {
        for slot in std::mem::take(&mut self.slots).into_values() {
            out.to_tm(
                slot.resource_id,
                ToTaskManager::FreeSlot {
                    allocation: slot.allocation,
                },
            );
        }
        self.requested.clear();
        self.asking.clear();
    }
}
