//! The TaskSlotTable: which slot of this TaskManager belongs to which job.
//!
//! Flink's `TaskSlotTable` (`TaskSlotTableImpl`) tracks each `TaskSlot`'s
//! allocation (`AllocationID`, `JobID`) and its lifecycle
//! ([`TaskSlotState`]: allocated when the ResourceManager asks, active once
//! the JobMaster accepts it or deploys into it, releasing while it is
//! freed). A slot is a fixed share of the TaskManager; with slot sharing it
//! holds one subtask of each chain of a job's slot sharing group. Every
//! move of a slot goes through [`TaskSlotState::check`].
//!
//! - **In**: allocate, activate and free requests from the TaskExecutor.
//! - **Out**: whether they were granted, and the slot report sent with
//!   every heartbeat.

use crate::graph::JobId;
use crate::rpc::{AllocationId, SlotStatus};
use crate::state::{TaskSlotState, TaskSlotTransitionError};

/// One slot (Flink's `TaskSlot`).
#[derive(Debug, Clone)]
pub struct TaskSlot {
    state: TaskSlotState,
    /// The allocation holding it and its job (`None` while free).
    allocation: Option<(AllocationId, JobId)>,
}

impl TaskSlot {
    fn free() -> Self {
        TaskSlot {
            state: TaskSlotState::Free,
            allocation: None,
        }
    }

    /// Its lifecycle state.
    pub fn state(&self) -> TaskSlotState {
        self.state
    }

    fn move_to(&mut self, to: TaskSlotState) -> Result<(), TaskSlotTransitionError> {
        self.state = self.state.check(to)?;
        Ok(())
    }

    /// Whether `allocation` holds this slot for `job`.
    fn is_held_by(&self, allocation: AllocationId, job: JobId) -> bool {
        self.allocation == Some((allocation, job))
    }

    /// Allocated or active → releasing → free; returns the allocation.
    fn release(&mut self) -> Result<Option<AllocationId>, TaskSlotTransitionError> {
        let Some((a, _)) = self.allocation else {
            return Ok(None);
        };
        self.move_to(TaskSlotState::Releasing)?;
        // The TaskExecutor cancels a slot's tasks before freeing it, so
        // nothing is left running in it: free at once.
        self.move_to(TaskSlotState::Free)?;
        self.allocation = None;
        Ok(Some(a))
    }
}

/// The slots of one TaskManager.
#[derive(Debug, Clone)]
pub struct TaskSlotTable {
    slots: Vec<TaskSlot>,
}

impl TaskSlotTable {
    /// `n` free slots.
    pub fn new(n: u32) -> Self {
        TaskSlotTable {
            slots: vec![TaskSlot::free(); n as usize],
        }
    }

    /// The slot at `index`.
    pub fn slot(&self, index: u32) -> Option<&TaskSlot> {
        self.slots.get(index as usize)
    }

    /// Allocates slot `slot` for a job; false if it does not exist or is
    /// taken by another allocation (asking again for the same allocation
    /// is granted).
    pub fn allocate(&mut self, slot: u32, allocation: AllocationId, job: JobId) -> bool {
        let Some(s) = self.slots.get_mut(slot as usize) else {
            return false;
        };
        match s.allocation {
            Some((a, _)) => a == allocation,
            None => {
                if s.move_to(TaskSlotState::Allocated).is_err() {
                    return false;
                }
                s.allocation = Some((allocation, job));
                true
            }
        }
    }

    /// Marks the slot of `allocation` active for `job` (Flink's
    /// `tryMarkSlotActive`): the JobMaster accepted it, or deploys into it.
    /// False if `allocation` does not hold a slot here for `job`.
    pub fn try_mark_active(&mut self, allocation: AllocationId, job: JobId) -> bool {
        let Some(s) = self
            .slots
            .iter_mut()
            .find(|s| s.is_held_by(allocation, job))
        else {
            return false;
        };
        s.state == TaskSlotState::Active || s.move_to(TaskSlotState::Active).is_ok()
    }

    /// Whether `allocation` is held here for `job`.
    pub fn holds(&self, allocation: AllocationId, job: JobId) -> bool {
        self.slots.iter().any(|s| s.is_held_by(allocation, job))
    }

    /// Frees the slot of an allocation; returns its index.
    pub fn free(&mut self, allocation: AllocationId) -> Option<u32> {
        let i = self
            .slots
            .iter()
            .position(|s| matches!(s.allocation, Some((a, _)) if a == allocation))?;
        match self.slots[i].release() {
            Ok(Some(_)) => Some(i as u32),
            _ => None,
        }
    }

    /// Frees everything; returns what was allocated.
    pub fn free_all(&mut self) -> Vec<(u32, AllocationId)> {
        let mut freed = Vec::new();
        for (i, s) in self.slots.iter_mut().enumerate() {
            if let Ok(Some(a)) = s.release() {
                freed.push((i as u32, a));
            }
        }
        freed
    }

    /// The slot report sent with heartbeats.
    pub fn report(&self) -> Vec<SlotStatus> {
        self.slots
            .iter()
            .enumerate()
            .map(|(i, s)| SlotStatus {
                slot: i as u32,
                allocation: s.allocation,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slot holds one allocation at a time and frees by allocation id.
    #[test]
    fn allocate_and_free() {
        let job = JobId(1);
        let mut t = TaskSlotTable::new(2);
        assert!(t.allocate(0, AllocationId(7), job));
        assert!(!t.allocate(0, AllocationId(8), job));
        assert!(t.holds(AllocationId(7), job));
        assert_eq!(t.free(AllocationId(7)), Some(0));
        assert!(!t.holds(AllocationId(7), job));
        assert!(!t.allocate(5, AllocationId(9), job));
    }

    /// A slot goes free → allocated → active → (releasing) → free, as
    /// Flink's `TaskSlot`; only its own job can activate it.
    #[test]
    fn slot_lifecycle() {
        let job = JobId(1);
        let mut t = TaskSlotTable::new(1);
        let state = |t: &TaskSlotTable| t.slot(0).map(TaskSlot::state);
        assert_eq!(state(&t), Some(TaskSlotState::Free));
        assert!(!t.try_mark_active(AllocationId(7), job));
        assert!(t.allocate(0, AllocationId(7), job));
        assert_eq!(state(&t), Some(TaskSlotState::Allocated));
        assert!(!t.try_mark_active(AllocationId(7), JobId(2)));
        assert!(t.try_mark_active(AllocationId(7), job));
        assert!(t.try_mark_active(AllocationId(7), job));
        assert_eq!(state(&t), Some(TaskSlotState::Active));
        assert_eq!(t.free_all(), vec![(0, AllocationId(7))]);
        assert_eq!(state(&t), Some(TaskSlotState::Free));
    }

    /// The lifecycle table refuses the moves Flink's slots never make.
    #[test]
    fn illegal_slot_moves_are_refused() {
        use TaskSlotState::*;
        assert!(Free.check(Active).is_err());
        assert!(Releasing.check(Active).is_err());
        assert_eq!(Active.check(Releasing), Ok(Releasing));
    }
}
