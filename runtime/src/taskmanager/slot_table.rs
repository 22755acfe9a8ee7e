//! The TaskSlotTable: which slot of this TaskManager belongs to which job.
//!
//! Flink's `TaskSlotTable` tracks each slot's allocation (`AllocationID`,
//! `JobID`) and the tasks inside it. A slot is a fixed share of the
//! TaskManager; with slot sharing it holds one subtask of each chain of a
//! job's slot sharing group.

use crate::graph::JobId;
use crate::rpc::{AllocationId, SlotStatus};

/// The slots of one TaskManager.
#[derive(Debug, Clone)]
pub struct TaskSlotTable {
    slots: Vec<Option<(AllocationId, JobId)>>,
}

impl TaskSlotTable {
    /// `n` free slots.
    pub fn new(n: u32) -> Self {
        TaskSlotTable {
            slots: vec![None; n as usize],
        }
    }

    /// Allocates slot `slot` for a job; false if it does not exist or is
    /// taken by another allocation.
    pub fn allocate(&mut self, slot: u32, allocation: AllocationId, job: JobId) -> bool {
        match self.slots.get_mut(slot as usize) {
            Some(s @ None) => {
                *s = Some((allocation, job));
                true
            }
            Some(Some((a, _))) => *a == allocation,
            None => false,
        }
    }

    /// Whether `allocation` is held here for `job`.
    pub fn holds(&self, allocation: AllocationId, job: JobId) -> bool {
        self.slots.contains(&Some((allocation, job)))
    }

    /// Frees the slot of an allocation; returns its index.
    pub fn free(&mut self, allocation: AllocationId) -> Option<u32> {
        let i = self
            .slots
            .iter()
            .position(|s| matches!(s, Some((a, _)) if *a == allocation))?;
        self.slots[i] = None;
        Some(i as u32)
    }

    /// Frees everything; returns what was allocated.
    pub fn free_all(&mut self) -> Vec<(u32, AllocationId)> {
        let mut freed = Vec::new();
        for (i, s) in self.slots.iter_mut().enumerate() {
            if let Some((a, _)) = s.take() {
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
                allocation: *s,
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
}
