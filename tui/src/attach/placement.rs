//! Which slot each subtask runs in: the TaskManagers' `TaskSlotTable`s as
//! far as the REST API tells them.
//!
//! mini-flink says it exactly: `/taskmanagers/:id` lists each allocated
//! slot with its `index` and the subtasks in it. Flink's REST API says
//! only which job holds how many slots of a TaskManager, and on which
//! TaskManager each subtask runs (`/jobs/:id/vertices/:vid`). For Flink
//! the slots are inferred the way its scheduler fills them by default:
//! one slot holds subtask *i* of every job vertex of one slot sharing
//! group (an `ExecutionSlotSharingGroup`), so `Source -> Map (1/2)` and
//! `Sum -> Sink (1/2)` share a slot. Which slot index is a guess kept
//! stable from poll to poll; what shares a slot is Flink's rule.
//!
//! In: a [`Snapshot`] and the previous [`Placement`]. Out: the new
//! placement, with allocation ids that stay the same while a slot keeps
//! its job.

use super::snapshot::Snapshot;
use runtime::graph::JobId;
use runtime::ids::AllocationId;
use runtime::state::ExecutionState;
use std::collections::{BTreeMap, BTreeSet};

/// A subtask: job, vertex index (in the job's detail), subtask index.
pub type SubtaskKey = (JobId, usize, u32);

/// What shares one slot: a job, a slot sharing group, a subtask index
/// (or, for an allocated slot no subtask is known in, `u32::MAX - n`).
pub type GroupKey = (JobId, String, u32);

/// One allocated slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotOccupant {
    /// The job holding it.
    pub job: JobId,
    /// Its allocation.
    pub allocation: AllocationId,
    /// What shares it, when inferred (Flink); `None` when the REST API
    /// said the slot's index (mini-flink).
    pub group: Option<GroupKey>,
}

/// Every allocated slot and every placed subtask.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    /// `(TaskManager, slot index)` → who holds it.
    pub slots: BTreeMap<(String, u32), SlotOccupant>,
    /// Subtask → `(TaskManager, slot index)`.
    pub subtasks: BTreeMap<SubtaskKey, (String, u32)>,
}

/// Places the subtasks of `snap`'s running jobs into slots, keeping what
/// `prev` placed where nothing says otherwise. `next_alloc` numbers the
/// allocations the REST API does not name.
pub fn place(snap: &Snapshot, prev: &Placement, next_alloc: &mut u64) -> Placement {
    let mut out = Placement::default();
    let mut alloc_for = |tm: &str, slot: u32, job: JobId, group: &Option<GroupKey>| match prev
        .slots
        .get(&(tm.to_string(), slot))
    {
        Some(p) if p.job == job && (group.is_none() || p.group == *group) => p.allocation,
        _ => {
            *next_alloc += 1;
            AllocationId(*next_alloc)
        }
    };
    let live: BTreeMap<JobId, &super::snapshot::JobSnap> = snap
        .jobs
        .iter()
        .filter(|j| !j.state.is_terminal())
        .map(|j| (j.id, j))
        .collect();
    // 1. Exact slots (mini-flink's `index` and `tasks`).
    let mut exact_tms = BTreeSet::new();
    for tm in snap.taskmanagers.values() {
        let Some(list) = &tm.allocated else { continue };
        for s in list {
            let (Some(i), Some(job)) = (s.index, s.job) else {
                continue;
            };
            exact_tms.insert(tm.id.clone());
            let Some(j) = live.get(&job) else { continue };
            let allocation = s
                .allocation
                .as_deref()
                .and_then(|a| a.parse::<AllocationId>().ok())
                .unwrap_or_else(|| alloc_for(&tm.id, i, job, &None));
            out.slots.insert(
                (tm.id.clone(), i),
                SlotOccupant {
                    job,
                    allocation,
                    group: None,
                },
            );
            for t in &s.tasks {
                if let Some(v) = j.vertices.iter().position(|v| v.id == t.vertex_id) {
                    out.subtasks.insert((job, v, t.subtask), (tm.id.clone(), i));
                }
            }
        }
    }
    // 2. Inferred slots (Flink): one per (job, slot sharing group, subtask index).
    let mut groups: BTreeMap<String, BTreeMap<GroupKey, Vec<SubtaskKey>>> = BTreeMap::new();
    for j in live.values() {
        for (vi, v) in j.vertices.iter().enumerate() {
            let ssg = v.slot_sharing_group.clone().unwrap_or_default();
            for s in &v.subtasks {
                let Some(tm) = &s.taskmanager else { continue };
                // A cancelled or failed subtask has left its slot; a
                // finished one keeps its share until the job ends.
                let gone = s.state.is_terminal() && s.state != ExecutionState::Finished;
                if exact_tms.contains(tm) || gone {
                    continue;
                }
                groups
                    .entry(tm.clone())
                    .or_default()
                    .entry((j.id, ssg.clone(), s.index))
                    .or_default()
                    .push((j.id, vi, s.index));
            }
        }
    }
    // Flink's allocated slots without a known subtask (just allocated).
    for tm in snap.taskmanagers.values() {
        let Some(list) = &tm.allocated else { continue };
        if exact_tms.contains(&tm.id) {
            continue;
        }
        let mut per_job: BTreeMap<JobId, usize> = BTreeMap::new();
        for s in list {
            if let Some(j) = s.job.filter(|j| live.contains_key(j)) {
                *per_job.entry(j).or_default() += 1;
            }
        }
        let g = groups.entry(tm.id.clone()).or_default();
        for (job, n) in per_job {
            let known = g.keys().filter(|k| k.0 == job).count();
            for k in known..n {
                g.insert((job, String::new(), u32::MAX - k as u32), Vec::new());
            }
        }
    }
    for (tm, gs) in groups {
        let mut used: BTreeSet<u32> = out
            .slots
            .keys()
            .filter(|(t, _)| *t == tm)
            .map(|(_, i)| *i)
            .collect();
        let mut todo = Vec::new();
        // Keep a group in the slot it had.
        for (g, subs) in gs {
            let kept = prev
                .slots
                .iter()
                .find(|((t, i), o)| *t == tm && o.group.as_ref() == Some(&g) && !used.contains(i));
            match kept {
                Some(((_, i), o)) => {
                    let i = *i;
                    used.insert(i);
                    out.slots.insert((tm.clone(), i), o.clone());
                    for s in subs {
                        out.subtasks.insert(s, (tm.clone(), i));
                    }
                }
                None => todo.push((g, subs)),
            }
        }
        for (g, subs) in todo {
            let i = (0..).find(|i| !used.contains(i)).unwrap_or(0);
            used.insert(i);
            let group = Some(g.clone());
            let allocation = alloc_for(&tm, i, g.0, &group);
            out.slots.insert(
                (tm.clone(), i),
                SlotOccupant {
                    job: g.0,
                    allocation,
                    group,
                },
            );
            for s in subs {
                out.subtasks.insert(s, (tm.clone(), i));
            }
        }
    }
    out
}
