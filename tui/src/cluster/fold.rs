//! The fold: one [`Event`] at a time into the [`ClusterView`]. A recorded
//! trace folds to the same view as a live run.

use runtime::events::{Event, EventKind, Fault, Role, TaskCounters};
use runtime::state::{ExecutionState, JobStatus};

use super::checkpoints::*;
use super::view::*;

fn is_taskmanager(view: &ClusterView, host: &str) -> bool {
    host.starts_with("taskmanager") || view.taskmanager(host).is_some()
}

fn sorted_pair(a: String, b: String) -> (String, String) {
    if a <= b { (a, b) } else { (b, a) }
}

/// Folds one event into the view. Unknown or purely informative events
/// only advance the clock.
pub fn fold(view: &mut ClusterView, e: &Event) {
    view.now_ms = view.now_ms.max(e.t);
    view.folded += 1;
    let t = e.t;
    match &e.kind {
        EventKind::HostStarted { role } => match role {
            Role::TaskManager => {
                let tm = view.tm_mut(&e.host, TmStatus::Starting);
                tm.status = TmStatus::Starting;
                tm.slots.clear();
                tm.connection_lost_at = None;
            }
            // Without high availability the one JobManager leads once it runs.
            Role::JobManager if !view.ha => {
                view.elections += 1;
                view.leader = Some(e.host.clone());
            }
            _ => {}
        },
        // With high availability the coordinator says who leads.
        EventKind::LeaderElected { leader, .. } => {
            if !view.ha {
                view.ha = true;
                view.elections = 0;
            }
            view.elections += 1;
            view.leader = Some(leader.clone());
        }
        EventKind::LeaderLost { leader, .. } if view.leader.as_deref() == Some(leader.as_str()) => {
            view.leader = None;
        }
        EventKind::TaskManagerRegistered {
            resource_id, slots, ..
        } => {
            let tm = view.tm_mut(resource_id, TmStatus::Registered);
            let fresh = !matches!(tm.status, TmStatus::Registered);
            tm.status = TmStatus::Registered;
            tm.connection_lost_at = None;
            if fresh {
                tm.slots.clear();
            }
            tm.slots.resize_with(*slots as usize, SlotView::default);
        }
        EventKind::TaskManagerLost { resource_id, cause } => {
            let tm = view.tm_mut(resource_id, TmStatus::Registered);
            tm.status = TmStatus::Lost {
                at: t,
                cause: cause.clone(),
            };
        }
        EventKind::WorkerRequested { resource_id, .. } => {
            view.tm_mut(resource_id, TmStatus::Requested);
        }
        EventKind::WorkerReleased { resource_id } => {
            let tm = view.tm_mut(resource_id, TmStatus::Released);
            tm.status = TmStatus::Released;
            tm.slots.clear();
        }
        EventKind::ConnectionLost { peer, .. }
            if e.host == "jobmanager" && is_taskmanager(view, peer) =>
        {
            view.tm_mut(peer, TmStatus::Registered).connection_lost_at = Some(t);
        }
        EventKind::SlotRequestPending { job, allocation } => {
            view.job_mut(*job, &job.short(), t)
                .pending_slots
                .insert(*allocation);
        }
        EventKind::SlotAllocated {
            job,
            allocation,
            resource_id,
            slot,
        } => {
            view.job_mut(*job, &job.short(), t)
                .pending_slots
                .remove(allocation);
            let s = view.slot_mut(resource_id, *slot);
            s.allocation = Some(*allocation);
            s.job = Some(*job);
            s.tasks.clear();
            s.changed_at = t;
        }
        EventKind::SlotFreed {
            allocation,
            resource_id,
            slot,
        } => {
            let s = view.slot_mut(resource_id, *slot);
            if s.allocation.is_none() || s.allocation.as_ref() == Some(allocation) {
                *s = SlotView {
                    changed_at: t,
                    ..SlotView::default()
                };
            }
        }
        EventKind::JobSubmitted { job, name, .. } => {
            let j = view.job_mut(*job, name, t);
            j.name = name.clone();
            j.submitted_at = t;
        }
        EventKind::JobStatusChanged {
            job,
            name,
            to,
            cause,
            ..
        } => {
            let j = view.job_mut(*job, name, t);
            j.status = *to;
            if let Some(c) = cause
                && matches!(to, JobStatus::Failing | JobStatus::Failed)
            {
                push_capped(
                    &mut j.exceptions,
                    ExceptionRecord {
                        at: t,
                        kind: ExceptionKind::JobFailed,
                        cause: c.clone(),
                        task: None,
                        taskmanager: None,
                    },
                );
            }
            if cause.is_some() {
                j.cause = cause.clone();
            } else if *to == JobStatus::Running {
                // Recovered: the restart line tells what happened.
                j.cause = None;
            }
            if to.is_terminal() {
                j.ended_at = Some(t);
                j.channels.clear();
                for v in &mut j.vertices {
                    for s in &mut v.subtasks {
                        s.out_per_sec = 0;
                        s.in_per_sec = 0;
                    }
                }
            }
        }
        EventKind::TaskDeployed {
            job,
            vertex,
            subtask,
            parallelism,
            attempt,
            resource_id,
            slot,
            ..
        } => {
            let subtask = &subtask.0;
            let st = view.subtask_mut(*job, vertex, *subtask, *parallelism, t);
            let old = st.location.take();
            st.location = Some((resource_id.to_string(), *slot));
            if *attempt != st.attempt {
                // A new execution attempt counts from zero again.
                st.counters = TaskCounters::default();
                st.metrics_at = None;
                st.out_per_sec = 0;
                st.in_per_sec = 0;
            }
            st.attempt = *attempt;
            st.cause = None;
            if let Some((otm, oslot)) = old
                && (*resource_id != otm || oslot != *slot)
            {
                let s = view.slot_mut(&otm, oslot);
                s.tasks
                    .retain(|x| !(x.vertex == *vertex && x.subtask == *subtask));
            }
            let s = view.slot_mut(resource_id, *slot);
            if s.job.is_none() {
                s.job = Some(*job);
            }
            let task = SlotTask {
                vertex: vertex.clone(),
                subtask: *subtask,
                parallelism: *parallelism,
                attempt: *attempt,
                state: ExecutionState::Deploying,
            };
            match s
                .tasks
                .iter_mut()
                .find(|x| x.vertex == *vertex && x.subtask == *subtask)
            {
                Some(x) => *x = task,
                None => s.tasks.push(task),
            }
        }
        EventKind::TaskStateChanged {
            job,
            vertex,
            subtask,
            attempt,
            to,
            cause,
            ..
        } => {
            let subtask = &subtask.0;
            let st = view.subtask_mut(*job, vertex, *subtask, subtask + 1, t);
            if *attempt < st.attempt {
                return;
            }
            st.attempt = *attempt;
            st.state = *to;
            if cause.is_some() {
                st.cause = cause.clone();
            }
            if *to == ExecutionState::Running {
                st.running_since = Some(t);
            }
            let ended = to.is_terminal();
            if ended {
                st.out_per_sec = 0;
                st.in_per_sec = 0;
            }
            let location = st.location.clone();
            let failure = (*to == ExecutionState::Failed).then(|| ExceptionRecord {
                at: t,
                kind: ExceptionKind::TaskFailed,
                cause: cause
                    .clone()
                    .unwrap_or_else(|| "(no cause reported)".into()),
                task: Some(format!("{vertex} [{}]", subtask + 1)),
                taskmanager: location.as_ref().map(|(tm, _)| tm.clone()),
            });
            if let Some(x) = failure
                && let Some(j) = view.jobs.iter_mut().find(|j| j.id == *job)
            {
                push_capped(&mut j.exceptions, x);
            }
            if let Some((tm, slot)) = location {
                let s = view.slot_mut(&tm, slot);
                if let Some(x) = s
                    .tasks
                    .iter_mut()
                    .find(|x| x.vertex == *vertex && x.subtask == *subtask)
                {
                    x.state = *to;
                    x.attempt = *attempt;
                }
            }
            if ended && let Some(j) = view.job(*job) {
                let edges = view.edges_from(j, vertex);
                if let Some(j) = view.jobs.iter_mut().find(|j| j.id == *job) {
                    j.channels
                        .retain(|(edge, from, _), _| !(edges.contains(edge) && from == subtask));
                }
            }
        }
        EventKind::TaskMetrics {
            job,
            vertex,
            subtask,
            counters,
            backpressure_permille,
            ..
        } => {
            let subtask = &subtask.0;
            let st = view.subtask_mut(*job, vertex, *subtask, subtask + 1, t);
            let since = st.metrics_at.or(st.running_since);
            let (prev_out, prev_in) = (st.counters.records_out, st.counters.records_in);
            let dt = since.map_or(1_000, |s| t.saturating_sub(s)).max(1);
            st.out_per_sec = counters.records_out.saturating_sub(prev_out) * 1_000 / dt;
            st.in_per_sec = counters.records_in.saturating_sub(prev_in) * 1_000 / dt;
            st.counters = counters.clone();
            st.backpressure_permille = *backpressure_permille;
            st.metrics_at = Some(t);
        }
        EventKind::ChannelTraffic {
            job,
            edge,
            from,
            to,
            records,
            remote,
            ..
        } => {
            let j = view.job_mut(*job, &job.short(), t);
            let key = (*edge, *from, *to);
            let dt = j
                .channels
                .get(&key)
                .map_or(1_000, |c| t.saturating_sub(c.at))
                .max(1);
            j.channels.insert(
                key,
                ChannelRate {
                    per_sec: records * 1_000 / dt,
                    at: t,
                    remote: *remote,
                },
            );
        }
        EventKind::CheckpointTriggered { job, id, savepoint } => {
            let j = view.job_mut(*job, &job.short(), t);
            j.checkpoints.pending = Some((*id, t, 0));
            j.checkpoints.record_mut(*id, t, *savepoint);
        }
        EventKind::CheckpointAcknowledged { job, id, .. } => {
            let j = view.job_mut(*job, &job.short(), t);
            if let Some((pid, _, acks)) = &mut j.checkpoints.pending
                && *pid == *id
            {
                *acks += 1;
            }
            if let Some(r) = j.checkpoints.history.iter_mut().rev().find(|r| r.id == *id) {
                r.acks += 1;
            }
        }
        EventKind::CheckpointCompleted {
            job,
            id,
            duration_ms,
            size,
            acks,
            alignment_ms,
        } => {
            let j = view.job_mut(*job, &job.short(), t);
            let c = &mut j.checkpoints;
            let r = c.record_mut(*id, t.saturating_sub(*duration_ms), false);
            r.state = CheckpointState::Completed;
            r.duration_ms = Some(*duration_ms);
            r.size = Some(*size);
            r.alignment_ms = Some(*alignment_ms);
            r.acks = *acks;
            c.completed += 1;
            c.last = Some(CompletedCheckpoint {
                id: *id,
                at: t,
                duration_ms: *duration_ms,
                size: *size,
                acks: *acks,
            });
            if c.pending.is_some_and(|(p, _, _)| p <= *id) {
                c.pending = None;
            }
        }
        EventKind::SavepointCompleted { job, id, path, .. } => {
            let j = view.job_mut(*job, &job.short(), t);
            j.checkpoints.savepoints.push((*id, path.clone()));
            let r = j.checkpoints.record_mut(*id, t, true);
            r.savepoint = true;
            r.state = CheckpointState::Completed;
            r.duration_ms = Some(t.saturating_sub(r.triggered_at));
            if j.checkpoints.pending.is_some_and(|(p, _, _)| p == *id) {
                j.checkpoints.pending = None;
            }
        }
        EventKind::CheckpointAborted { job, id, cause } => {
            let j = view.job_mut(*job, &job.short(), t);
            let c = &mut j.checkpoints;
            c.record_mut(*id, t, false).state = CheckpointState::Aborted(cause.clone());
            c.aborted += 1;
            c.last_abort_cause = Some(cause.clone());
            if c.pending.is_some_and(|(p, _, _)| p == *id) {
                c.pending = None;
            }
        }
        EventKind::RestartScheduled {
            job,
            name,
            vertices,
            delay_ms,
            cause,
        } => {
            let j = view.job_mut(*job, name, t);
            j.restarts += 1;
            j.checkpoints.pending = None;
            for r in &mut j.checkpoints.history {
                if r.state == CheckpointState::InProgress {
                    r.state = CheckpointState::Aborted("the job restarts".into());
                }
            }
            push_capped(
                &mut j.exceptions,
                ExceptionRecord {
                    at: t,
                    kind: ExceptionKind::RestartScheduled,
                    cause: format!("{cause} (restart {} in {delay_ms} ms)", j.restarts),
                    task: Some(vertices.join(", ")),
                    taskmanager: None,
                },
            );
        }
        EventKind::Restarted {
            job,
            name,
            attempt,
            from_checkpoint,
            ..
        } => {
            let j = view.job_mut(*job, name, t);
            j.last_restart = Some((*attempt, *from_checkpoint, t));
            let from = match from_checkpoint {
                Some(c) => format!("from checkpoint {c}"),
                None => "from scratch (no checkpoint yet)".into(),
            };
            push_capped(
                &mut j.exceptions,
                ExceptionRecord {
                    at: t,
                    kind: ExceptionKind::Restarted,
                    cause: format!("redeployed as attempt {attempt} {from}"),
                    task: None,
                    taskmanager: None,
                },
            );
        }
        EventKind::FaultInjected { fault } => {
            view.faults += 1;
            match fault {
                Fault::Crash { host: h } => {
                    if is_taskmanager(view, h) {
                        let tm = view.tm_mut(h, TmStatus::Registered);
                        if !matches!(tm.status, TmStatus::Lost { .. } | TmStatus::Released) {
                            tm.status = TmStatus::Crashed { at: t };
                        }
                        tm.crashed_at = Some(t);
                    } else if view.leader.as_deref() == Some(h.as_str()) {
                        view.leader = None;
                    }
                }
                Fault::Restart { host: h } => {
                    if is_taskmanager(view, h) {
                        let tm = view.tm_mut(h, TmStatus::Starting);
                        tm.restarts += 1;
                    } else if view.leader.as_deref() == Some(h.as_str()) {
                        view.leader = None;
                    }
                }
                Fault::StartTaskManager { host: h } => {
                    view.tm_mut(h, TmStatus::Starting);
                }
                Fault::Partition { a, b } => {
                    view.partitions.insert(sorted_pair(a.clone(), b.clone()));
                }
                Fault::Repair { a, b } => {
                    view.partitions.remove(&sorted_pair(a.clone(), b.clone()));
                }
                Fault::NoBusiestTaskManager
                | Fault::Delay { .. }
                | Fault::CancelJob { .. }
                | Fault::Savepoint { .. }
                | Fault::StopWithSavepoint { .. }
                | Fault::StorageWritesFail { .. }
                | Fault::StorageWritesSlow { .. }
                | Fault::StorageDamaged { .. } => {}
            }
        }
        _ => {}
    }
}

/// Whether an event is a measurement or a per-subtask detail that the
/// logs and stepping leave out (metrics, checkpoint acknowledgements).
pub fn is_noise(e: &Event) -> bool {
    e.kind.is_metric() || matches!(e.kind, EventKind::CheckpointAcknowledged { .. })
}

/// Folds many events.
pub fn fold_all<'a>(view: &mut ClusterView, events: impl IntoIterator<Item = &'a Event>) {
    for e in events {
        fold(view, e);
    }
}
