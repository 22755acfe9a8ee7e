//! [`super::diff`] on small clusters written as snapshots: each test folds the
//! derived events into a [`ClusterView`], the way the TUI does, and checks
//! the view against what the snapshots said.

use super::diff::Tracker;
use super::snapshot::{
    AllocatedSlot, CheckpointEntry, CheckpointStatus, CheckpointsSnap, ExceptionSnap, JobSnap,
    SlotTaskSnap, Snapshot, SubtaskSnap, TmSnap, VertexSnap,
};
use crate::cluster::{ClusterView, SlotState, fold_all};
use runtime::events::{Event, EventKind, TaskCounters};
use runtime::graph::JobId;
use runtime::state::{ExecutionState, JobStatus};
use std::sync::Arc;

fn jid() -> JobId {
    JobId::from_parts(&["keyed-sum"])
}

fn tm(id: &str, slots: u32) -> (String, TmSnap) {
    (
        id.to_string(),
        TmSnap {
            id: id.to_string(),
            slots,
            free: slots,
            data_addr: "127.0.0.1:1".into(),
            allocated: Some(Vec::new()),
        },
    )
}

fn subtask(index: u32, state: ExecutionState, attempt: u32, on: Option<&str>) -> SubtaskSnap {
    SubtaskSnap {
        index,
        state,
        attempt,
        taskmanager: on.map(str::to_string),
        counters: TaskCounters::default(),
    }
}

/// `Source -> Map` and `Sum -> Sink`, parallelism 2, one slot sharing
/// group, each subtask in `state` on `on`.
fn job(state: JobStatus, sub: impl Fn(u32) -> SubtaskSnap) -> JobSnap {
    let vertex = |id: &str, name: &str| VertexSnap {
        id: id.into(),
        name: name.into(),
        parallelism: 2,
        slot_sharing_group: Some("g".into()),
        subtasks: (0..2).map(&sub).collect(),
    };
    JobSnap {
        id: jid(),
        name: "keyed-sum".into(),
        state,
        start_time: 1,
        duration_ms: None,
        vertices: vec![vertex("v0", "Source -> Map"), vertex("v1", "Sum -> Sink")],
        checkpoints: None,
        exceptions: Vec::new(),
    }
}

fn cluster(jobs: Vec<JobSnap>) -> Snapshot {
    Snapshot {
        taskmanagers: [tm("tm-1", 2), tm("tm-2", 2)].into_iter().collect(),
        jobs,
    }
}

fn view() -> ClusterView {
    ClusterView::new(Arc::new(Vec::new()))
}

fn kinds(events: &[Event]) -> Vec<&'static str> {
    events
        .iter()
        .map(|e| match &e.kind {
            EventKind::TaskManagerRegistered { .. } => "registered",
            EventKind::TaskManagerLost { .. } => "tm-lost",
            EventKind::JobSubmitted { .. } => "submitted",
            EventKind::JobStatusChanged { .. } => "job-status",
            EventKind::SlotAllocated { .. } => "slot-allocated",
            EventKind::SlotFreed { .. } => "slot-freed",
            EventKind::TaskDeployed { .. } => "deployed",
            EventKind::TaskStateChanged { .. } => "task-state",
            EventKind::TaskMetrics { .. } => "metrics",
            EventKind::CheckpointTriggered { .. } => "ckpt-triggered",
            EventKind::CheckpointCompleted { .. } => "ckpt-completed",
            EventKind::RestartScheduled { .. } => "restart-scheduled",
            EventKind::Restarted { .. } => "restarted",
            _ => "other",
        })
        .collect()
}

/// A job's life as three polls: submitted (no slot yet), running (Flink
/// says only which TaskManager: subtask i of both chains share slot i),
/// cancelled (subtasks cancelled, slots freed, the job's end last).
#[test]
fn a_job_is_submitted_runs_and_is_cancelled() {
    let mut t = Tracker::new();
    let mut v = view();
    let created = job(JobStatus::Created, |i| {
        subtask(i, ExecutionState::Created, 0, None)
    });
    let e = t.diff(cluster(vec![created]), 0);
    fold_all(&mut v, &e);
    assert_eq!(
        kinds(&e),
        ["registered", "registered", "submitted", "job-status"]
    );
    let running = job(JobStatus::Running, |i| {
        subtask(i, ExecutionState::Running, 0, Some("tm-2"))
    });
    let e = t.diff(cluster(vec![running]), 1_000);
    fold_all(&mut v, &e);
    let tm2 = v.taskmanager("tm-2").expect("tm-2");
    for (i, s) in tm2.slots.iter().enumerate() {
        assert_eq!(s.state(), SlotState::Running);
        let tasks: Vec<(&str, u32)> = s
            .tasks
            .iter()
            .map(|x| (x.vertex.as_str(), x.subtask))
            .collect();
        assert_eq!(
            tasks,
            [("Source -> Map", i as u32), ("Sum -> Sink", i as u32)]
        );
    }
    assert!(
        v.taskmanager("tm-1")
            .expect("tm-1")
            .slots
            .iter()
            .all(|s| s.state() == SlotState::Free)
    );
    assert_eq!(v.jobs[0].status, JobStatus::Running);

    let cancelled = job(JobStatus::Canceled, |i| {
        subtask(i, ExecutionState::Canceled, 0, Some("tm-2"))
    });
    let e = t.diff(cluster(vec![cancelled]), 2_000);
    fold_all(&mut v, &e);
    let k = kinds(&e);
    assert_eq!(k.iter().filter(|x| **x == "task-state").count(), 4);
    assert_eq!(k.iter().filter(|x| **x == "slot-freed").count(), 2);
    assert_eq!(k.last(), Some(&"job-status"), "the job ends last: {k:?}");
    assert!(
        v.taskmanager("tm-2")
            .expect("tm-2")
            .slots
            .iter()
            .all(|s| s.state() == SlotState::Free)
    );
    assert_eq!(v.jobs[0].status, JobStatus::Canceled);
    assert_eq!(v.jobs[0].ended_at, Some(2_000));
}

/// A poll of an unchanged cluster says nothing.
#[test]
fn nothing_changed_nothing_said() {
    let mut t = Tracker::new();
    let running = || {
        job(JobStatus::Running, |i| {
            subtask(i, ExecutionState::Running, 0, Some("tm-1"))
        })
    };
    assert!(!t.diff(cluster(vec![running()]), 0).is_empty());
    assert_eq!(t.diff(cluster(vec![running()]), 500), Vec::new());
}

/// mini-flink names each slot's index and its subtasks: those are taken as
/// they are (slot 1, not the first free one).
#[test]
fn mini_flink_says_the_slot() {
    let mut t = Tracker::new();
    let mut snap = cluster(vec![job(JobStatus::Running, |i| {
        subtask(i, ExecutionState::Running, 0, Some("tm-1"))
    })]);
    let slots = (0..2)
        .map(|i| AllocatedSlot {
            index: Some(1 - i),
            job: Some(jid()),
            allocation: Some(format!("alloc-{}", 7 + i)),
            tasks: vec![
                SlotTaskSnap {
                    vertex_id: "v0".into(),
                    subtask: i,
                },
                SlotTaskSnap {
                    vertex_id: "v1".into(),
                    subtask: i,
                },
            ],
        })
        .collect();
    snap.taskmanagers.get_mut("tm-1").expect("tm-1").allocated = Some(slots);
    let mut v = view();
    fold_all(&mut v, &t.diff(snap, 0));
    let tm1 = v.taskmanager("tm-1").expect("tm-1");
    assert_eq!(tm1.slots[1].allocation, Some(runtime::ids::AllocationId(7)));
    assert_eq!(tm1.slots[1].tasks[0].subtask, 0, "subtask 0 is in slot 1");
    assert_eq!(tm1.slots[0].tasks[0].subtask, 1);
}

/// A failure, as the next poll sees it: the exception history names the
/// failed attempt, the subtasks run a new attempt on the other
/// TaskManager, restored from checkpoint 4. The events say the task
/// failed, the job restarts, and was redeployed from checkpoint 4.
#[test]
fn a_failure_and_the_restart() {
    let mut t = Tracker::new();
    let mut v = view();
    let first = job(JobStatus::Running, |i| {
        subtask(i, ExecutionState::Running, 0, Some("tm-1"))
    });
    fold_all(&mut v, &t.diff(cluster(vec![first]), 0));
    let mut again = job(JobStatus::Running, |i| {
        subtask(i, ExecutionState::Running, 1, Some("tm-2"))
    });
    again.exceptions = vec![ExceptionSnap {
        timestamp: 10,
        message: "java.lang.RuntimeException: boom".into(),
        task: Some("Sum -> Sink (2/2)#0".into()),
    }];
    again.checkpoints = Some(CheckpointsSnap {
        restored: Some((4, 9)),
        ..CheckpointsSnap::default()
    });
    let e = t.diff(cluster(vec![again]), 1_000);
    let k = kinds(&e);
    assert!(k.starts_with(&["task-state", "restart-scheduled"]), "{k:?}");
    assert!(e.iter().any(|x| matches!(
        &x.kind,
        EventKind::TaskStateChanged { to: ExecutionState::Failed, cause: Some(c), attempt: 0, .. }
            if c.contains("boom")
    )));
    assert!(e.iter().any(|x| matches!(
        &x.kind,
        EventKind::Restarted { attempt: 1, from_checkpoint: Some(c), .. } if c.0 == 4
    )));
    fold_all(&mut v, &e);
    let j = &v.jobs[0];
    assert_eq!(j.restarts, 1);
    // The Exceptions screen: the failed task on its TaskManager, the
    // restart, the redeployment from checkpoint 4.
    use crate::cluster::ExceptionKind as K;
    let x: Vec<K> = j.exceptions.iter().map(|x| x.kind).collect();
    assert!(
        x.starts_with(&[K::TaskFailed, K::RestartScheduled]),
        "{x:?}"
    );
    assert!(x.contains(&K::Restarted), "{x:?}");
    let failed = &j.exceptions[0];
    assert!(failed.cause.contains("boom"), "{failed:?}");
    assert_eq!(failed.taskmanager.as_deref(), Some("tm-1"));
    assert_eq!(
        j.last_restart.map(|r| (r.0, r.1.map(|c| c.0))),
        Some((1, Some(4)))
    );
    assert!(
        v.taskmanager("tm-1")
            .expect("tm-1")
            .slots
            .iter()
            .all(|s| s.state() == SlotState::Free)
    );
    assert!(
        v.taskmanager("tm-2")
            .expect("tm-2")
            .slots
            .iter()
            .all(|s| s.state() == SlotState::Running)
    );
}

/// A checkpoint seen in progress, then completed: triggered once, completed once.
#[test]
fn a_checkpoint_in_progress_then_completed() {
    let entry = |status| CheckpointEntry {
        id: 5,
        status,
        savepoint: false,
        duration_ms: 12,
        size: 100,
        acks: 4,
        path: None,
        failure: None,
    };
    let with = |status| {
        let mut j = job(JobStatus::Running, |i| {
            subtask(i, ExecutionState::Running, 0, Some("tm-1"))
        });
        j.checkpoints = Some(CheckpointsSnap {
            history: vec![entry(status)],
            ..CheckpointsSnap::default()
        });
        cluster(vec![j])
    };
    let mut t = Tracker::new();
    let mut v = view();
    let e = t.diff(with(CheckpointStatus::InProgress), 0);
    assert_eq!(
        kinds(&e).iter().filter(|k| k.starts_with("ckpt")).count(),
        1
    );
    fold_all(&mut v, &e);
    assert!(v.jobs[0].checkpoints.pending.is_some());
    let e = t.diff(with(CheckpointStatus::Completed), 500);
    assert_eq!(kinds(&e), ["ckpt-completed"]);
    fold_all(&mut v, &e);
    let c = &v.jobs[0].checkpoints;
    assert_eq!(
        (c.completed, c.pending, c.last.map(|l| l.id.0)),
        (1, None, Some(5))
    );
    // The Checkpoints screen's history: one line, triggered at the first
    // poll that saw it, now completed.
    assert_eq!(c.history.len(), 1);
    let r = &c.history[0];
    assert_eq!(
        (r.id.0, r.triggered_at, &r.state, r.duration_ms, r.size),
        (
            5,
            0,
            &crate::cluster::CheckpointState::Completed,
            Some(12),
            Some(100)
        )
    );
}

/// Counters: the first sight is a baseline (no rate from totals since the
/// start); a thousand more records a second later is 1000/s.
#[test]
fn rates_start_at_the_second_poll() {
    let with = |n: u64| {
        let mut j = job(JobStatus::Running, |i| {
            subtask(i, ExecutionState::Running, 0, Some("tm-1"))
        });
        j.vertices[0].subtasks[0].counters.records_out = n;
        cluster(vec![j])
    };
    let mut t = Tracker::new();
    let mut v = view();
    fold_all(&mut v, &t.diff(with(1_000_000), 0));
    let st = &v.jobs[0].vertices[0].subtasks[0];
    assert_eq!((st.counters.records_out, st.out_per_sec), (1_000_000, 0));
    fold_all(&mut v, &t.diff(with(1_001_000), 1_000));
    assert_eq!(v.jobs[0].vertices[0].subtasks[0].out_per_sec, 1_000);
}

/// A TaskManager no longer listed: its slots are freed, then it is lost.
#[test]
fn a_taskmanager_goes_away() {
    let mut t = Tracker::new();
    let mut v = view();
    let running = || {
        job(JobStatus::Running, |i| {
            subtask(i, ExecutionState::Running, 0, Some("tm-1"))
        })
    };
    fold_all(&mut v, &t.diff(cluster(vec![running()]), 0));
    let mut snap = cluster(vec![job(JobStatus::Restarting, |i| {
        subtask(i, ExecutionState::Canceled, 0, Some("tm-1"))
    })]);
    snap.taskmanagers.remove("tm-1");
    let e = t.diff(snap, 1_000);
    let k = kinds(&e);
    assert_eq!(k.last(), Some(&"tm-lost"), "{k:?}");
    fold_all(&mut v, &e);
    let tm1 = v.taskmanager("tm-1").expect("tm-1 is still shown");
    assert!(matches!(tm1.status, crate::cluster::TmStatus::Lost { .. }));
    assert!(tm1.slots.iter().all(|s| s.state() == SlotState::Free));
}
