//! From snapshots to events: what changed between two polls, as the
//! [`Event`]s the simulator would have emitted for it.
//!
//! Flink's REST API reports state, not changes; mini-flink's fold
//! ([`crate::cluster::fold()`]), its explanations and its screens read
//! events. [`Tracker::diff`] compares each poll with the last one and says
//! what happened in between: a TaskManager registered or is gone, a slot
//! was allocated or freed, a job was submitted or changed status, a
//! subtask was deployed into a slot or changed state, its counters moved,
//! a checkpoint completed or failed, an exception was recorded. The first
//! poll is compared with an empty cluster, so a TUI that attaches mid-run
//! folds to the cluster as it is.
//!
//! What a poll cannot see is not invented: events between two polls
//! collapse into one (a subtask that went DEPLOYING → RUNNING in between
//! shows one change), and every event carries the time of the poll that
//! saw it.
//!
//! In: [`Snapshot`]s and the poll's time. Out: events, in the order a
//! reader expects (TaskManagers, submissions, slots, subtasks, metrics,
//! checkpoints, then jobs ending and TaskManagers lost).

use super::placement::{Placement, place};
use super::snapshot::{CheckpointEntry, CheckpointStatus, JobSnap, Snapshot, parse_task_name};
use runtime::events::{Event, EventKind, TaskCounters};
use runtime::graph::JobId;
use runtime::ids::{CheckpointId, SubtaskIndex};
use runtime::state::{ExecutionState, JobStatus};
use std::collections::{BTreeMap, BTreeSet};

/// The host the derived events come from: all of them are what the
/// JobManager reports.
pub const HOST: &str = "jobmanager";

/// What the poller remembers between polls.
#[derive(Debug, Clone, Default)]
pub struct Tracker {
    prev: Snapshot,
    placement: Placement,
    next_alloc: u64,
    checkpoints: BTreeMap<(JobId, u64), CheckpointStatus>,
    newest_exception: BTreeMap<JobId, i64>,
    last_t: Option<u64>,
}

fn ev(t: u64, kind: EventKind) -> Event {
    Event {
        t,
        host: HOST.to_string(),
        kind,
    }
}

/// Slots a job needs: per slot sharing group its highest parallelism.
fn slots_needed(j: &JobSnap) -> u32 {
    let mut per: BTreeMap<&str, u32> = BTreeMap::new();
    for v in &j.vertices {
        let g = per
            .entry(v.slot_sharing_group.as_deref().unwrap_or(""))
            .or_default();
        *g = (*g).max(v.parallelism);
    }
    per.values().sum()
}

impl Tracker {
    /// A tracker that has seen nothing.
    pub fn new() -> Tracker {
        Tracker::default()
    }

    /// The last snapshot.
    pub fn last(&self) -> &Snapshot {
        &self.prev
    }

    /// The slots as last placed.
    pub fn placement(&self) -> &Placement {
        &self.placement
    }

    /// The events that turn the last snapshot into `next`, at time `t`.
    pub fn diff(&mut self, next: Snapshot, t: u64) -> Vec<Event> {
        let mut out = Vec::new();
        let placement = place(&next, &self.placement, &mut self.next_alloc);
        let prev = std::mem::take(&mut self.prev);
        // TaskManagers that registered (or came back with other slots).
        for (id, tm) in &next.taskmanagers {
            if prev
                .taskmanagers
                .get(id)
                .is_none_or(|p| p.slots != tm.slots)
            {
                out.push(ev(
                    t,
                    EventKind::TaskManagerRegistered {
                        resource_id: id.as_str().into(),
                        slots: tm.slots,
                        data_addr: tm.data_addr.clone(),
                    },
                ));
            }
        }
        // Jobs submitted, and moves to a status that is not an end.
        let mut ends = Vec::new();
        for j in &next.jobs {
            let before = prev.job(j.id);
            if before.is_none() {
                out.push(ev(
                    t,
                    EventKind::JobSubmitted {
                        job: j.id,
                        name: j.name.clone(),
                        vertices: j.vertices.len(),
                        slots: slots_needed(j),
                    },
                ));
            }
            let from = before.map_or(JobStatus::Initializing, |b| b.state);
            if from != j.state {
                let cause = matches!(
                    j.state,
                    JobStatus::Failing | JobStatus::Failed | JobStatus::Restarting
                )
                .then(|| j.exceptions.first().map(|e| e.message.clone()))
                .flatten();
                let e = ev(
                    t,
                    EventKind::JobStatusChanged {
                        job: j.id,
                        name: j.name.clone(),
                        from,
                        to: j.state,
                        cause,
                    },
                );
                if j.state.is_terminal() {
                    ends.push(e);
                } else {
                    out.push(e);
                }
            }
            self.exceptions(j, t, &mut out);
        }
        // Slots freed, then allocated.
        let mut reallocated = BTreeSet::new();
        for (key, o) in &self.placement.slots {
            if placement
                .slots
                .get(key)
                .is_none_or(|n| n.allocation != o.allocation)
            {
                out.push(ev(
                    t,
                    EventKind::SlotFreed {
                        allocation: o.allocation,
                        resource_id: key.0.as_str().into(),
                        slot: key.1,
                    },
                ));
            }
        }
        for (key, n) in &placement.slots {
            if self
                .placement
                .slots
                .get(key)
                .is_none_or(|o| o.allocation != n.allocation)
            {
                reallocated.insert(key.clone());
                out.push(ev(
                    t,
                    EventKind::SlotAllocated {
                        job: n.job,
                        allocation: n.allocation,
                        resource_id: key.0.as_str().into(),
                        slot: key.1,
                    },
                ));
            }
        }
        // Subtasks: deployed, changed state, counted.
        for j in &next.jobs {
            let before = prev.job(j.id);
            for (vi, v) in j.vertices.iter().enumerate() {
                let pv = before.and_then(|b| b.vertices.iter().find(|x| x.id == v.id));
                let mut attempts_rose = false;
                for s in &v.subtasks {
                    let ps = pv.and_then(|p| p.subtasks.iter().find(|x| x.index == s.index));
                    let key = (j.id, vi, s.index);
                    let at = placement.subtasks.get(&key);
                    let was = self.placement.subtasks.get(&key);
                    let moved = at.is_some()
                        && (at != was
                            || ps.is_none_or(|p| p.attempt != s.attempt)
                            || at.is_some_and(|a| reallocated.contains(a)));
                    if let (true, Some((tm, slot))) = (moved, at) {
                        out.push(ev(
                            t,
                            EventKind::TaskDeployed {
                                job: j.id,
                                vertex: v.name.clone(),
                                vertex_index: vi as u32,
                                subtask: SubtaskIndex(s.index),
                                parallelism: v.parallelism,
                                attempt: s.attempt,
                                resource_id: tm.as_str().into(),
                                slot: *slot,
                            },
                        ));
                    }
                    attempts_rose |= ps.is_some_and(|p| s.attempt > p.attempt)
                        || (ps.is_none() && s.attempt > 0);
                    let from = match ps {
                        Some(p) if p.attempt == s.attempt && !moved => p.state,
                        _ if moved => ExecutionState::Deploying,
                        _ => ExecutionState::Created,
                    };
                    if from != s.state {
                        out.push(ev(
                            t,
                            EventKind::TaskStateChanged {
                                job: j.id,
                                vertex: v.name.clone(),
                                vertex_index: vi as u32,
                                subtask: SubtaskIndex(s.index),
                                attempt: s.attempt,
                                from,
                                to: s.state,
                                cause: None,
                            },
                        ));
                    }
                    let old = ps.filter(|p| p.attempt == s.attempt).map(|p| &p.counters);
                    let changed = match old {
                        Some(o) => *o != s.counters,
                        None => s.counters != TaskCounters::default(),
                    };
                    if changed {
                        let bp = match (old, self.last_t) {
                            (Some(o), Some(lt)) if t > lt => {
                                (s.counters
                                    .backpressured_ms
                                    .saturating_sub(o.backpressured_ms)
                                    * 1_000
                                    / (t - lt))
                                    .min(1_000) as u32
                            }
                            _ => 0,
                        };
                        let metrics = |counters: TaskCounters| {
                            ev(
                                t,
                                EventKind::TaskMetrics {
                                    job: j.id,
                                    vertex: v.name.clone(),
                                    vertex_index: vi as u32,
                                    subtask: SubtaskIndex(s.index),
                                    counters,
                                    backpressure_permille: bp,
                                },
                            )
                        };
                        out.push(metrics(s.counters.clone()));
                        if old.is_none() {
                            // First sight: the counters are totals since the
                            // subtask started, not this interval's. A second
                            // report of the same totals makes that the
                            // baseline, so the rate starts at zero.
                            out.push(metrics(s.counters.clone()));
                        }
                    }
                }
                if attempts_rose {
                    self.restarted(j, vi, t, &mut out);
                }
            }
            self.checkpoints(j, t, &mut out);
        }
        out.extend(ends);
        for id in prev.taskmanagers.keys() {
            if !next.taskmanagers.contains_key(id) {
                out.push(ev(
                    t,
                    EventKind::TaskManagerLost {
                        resource_id: id.as_str().into(),
                        cause: "no longer listed by the JobManager".into(),
                    },
                ));
            }
        }
        self.placement = placement;
        self.prev = next;
        self.last_t = Some(t);
        out
    }

    /// A vertex of `j` runs a new attempt: it was restarted, from the
    /// checkpoint Flink says it restored (`latest.restored`), if it says.
    fn restarted(&self, j: &JobSnap, vi: usize, t: u64, out: &mut Vec<Event>) {
        let v = &j.vertices[vi];
        let from = j
            .checkpoints
            .as_ref()
            .and_then(|c| c.restored)
            .map(|(id, _)| CheckpointId(id));
        out.push(ev(
            t,
            EventKind::Restarted {
                job: j.id,
                name: j.name.clone(),
                vertices: vec![v.name.clone()],
                attempt: v.subtasks.iter().map(|s| s.attempt).max().unwrap_or(0),
                from_checkpoint: from,
            },
        ));
    }

    /// New entries of the exception history: the task failed (the
    /// attempt Flink names), and unless the job failed for good, it restarts.
    fn exceptions(&mut self, j: &JobSnap, t: u64, out: &mut Vec<Event>) {
        let seen = self.newest_exception.get(&j.id).copied();
        let fresh: Vec<_> = j
            .exceptions
            .iter()
            .filter(|e| seen.is_none_or(|s| e.timestamp > s))
            .collect();
        if let Some(newest) = j.exceptions.iter().map(|e| e.timestamp).max() {
            self.newest_exception
                .insert(j.id, newest.max(seen.unwrap_or(i64::MIN)));
        }
        let failed_for_good = j.state == JobStatus::Failed;
        for (k, e) in fresh.iter().rev().enumerate() {
            let task = e.task.as_deref().and_then(parse_task_name);
            if let Some((name, subtask, attempt)) = &task
                && let Some(vi) = j.vertices.iter().position(|v| v.name == *name)
            {
                out.push(ev(
                    t,
                    EventKind::TaskStateChanged {
                        job: j.id,
                        vertex: name.clone(),
                        vertex_index: vi as u32,
                        subtask: SubtaskIndex(*subtask),
                        attempt: *attempt,
                        from: ExecutionState::Running,
                        to: ExecutionState::Failed,
                        cause: Some(e.message.clone()),
                    },
                ));
            }
            let last = k + 1 == fresh.len();
            if !(failed_for_good && last) {
                out.push(ev(
                    t,
                    EventKind::RestartScheduled {
                        job: j.id,
                        name: j.name.clone(),
                        vertices: task.map_or_else(
                            || j.vertices.iter().map(|v| v.name.clone()).collect(),
                            |(n, _, _)| vec![n],
                        ),
                        delay_ms: 0,
                        cause: e.message.clone(),
                    },
                ));
            }
        }
    }

    /// Checkpoints that appeared in the history or moved on in it, oldest first.
    fn checkpoints(&mut self, j: &JobSnap, t: u64, out: &mut Vec<Event>) {
        let Some(c) = &j.checkpoints else { return };
        let mut entries: BTreeMap<u64, &CheckpointEntry> =
            c.history.iter().map(|e| (e.id, e)).collect();
        if let Some(l) = &c.latest_completed {
            entries.entry(l.id).or_insert(l);
        }
        for (id, e) in entries {
            let key = (j.id, id);
            let before = self.checkpoints.get(&key).copied();
            if before == Some(e.status) {
                continue;
            }
            self.checkpoints.insert(key, e.status);
            let cid = CheckpointId(id);
            let kind = match e.status {
                CheckpointStatus::InProgress => EventKind::CheckpointTriggered {
                    job: j.id,
                    id: cid,
                    savepoint: e.savepoint,
                },
                CheckpointStatus::Completed if e.savepoint => EventKind::SavepointCompleted {
                    job: j.id,
                    id: cid,
                    path: e.path.clone().unwrap_or_default(),
                    stop: false,
                },
                CheckpointStatus::Completed => EventKind::CheckpointCompleted {
                    job: j.id,
                    id: cid,
                    duration_ms: e.duration_ms,
                    size: e.size,
                    alignment_ms: 0,
                    acks: e.acks,
                },
                CheckpointStatus::Failed => EventKind::CheckpointAborted {
                    job: j.id,
                    id: cid,
                    cause: e
                        .failure
                        .clone()
                        .unwrap_or_else(|| "failed (Flink gave no reason)".into()),
                },
            };
            out.push(ev(t, kind));
        }
    }
}
