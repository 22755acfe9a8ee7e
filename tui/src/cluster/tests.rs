//! The fold, event by event.

use super::*;
use runtime::events::{Event, EventKind, Fault, Role};
use runtime::graph::JobId;
use runtime::ids::{AllocationId, CheckpointId};
use runtime::state::ExecutionState;
use std::sync::Arc;

fn ev(t: u64, host: &str, kind: EventKind) -> Event {
    Event {
        t,
        host: host.into(),
        kind,
    }
}

/// A TaskManager's slots fill with a job's subtasks, and a crash is
/// first only a crash (the JobManager does not know), then a loss.
#[test]
fn slots_fill_and_a_crash_becomes_a_loss() {
    let mut v = ClusterView::new(Arc::new(Vec::new()));
    let j1 = JobId::from_parts(&["j1"]);
    let events = vec![
        ev(
            0,
            "taskmanager-1",
            EventKind::HostStarted {
                role: Role::TaskManager,
            },
        ),
        ev(
            3,
            "jobmanager",
            EventKind::TaskManagerRegistered {
                resource_id: "taskmanager-1".into(),
                slots: 2,
                data_addr: "x".into(),
            },
        ),
        ev(
            10,
            "jobmanager",
            EventKind::SlotAllocated {
                job: j1,
                allocation: AllocationId(1),
                resource_id: "taskmanager-1".into(),
                slot: 1,
            },
        ),
        ev(
            11,
            "jobmanager",
            EventKind::TaskDeployed {
                job: j1,
                vertex: "A -> B".into(),
                vertex_index: 0,
                subtask: runtime::ids::SubtaskIndex(0),
                parallelism: 1,
                attempt: 0,
                resource_id: "taskmanager-1".into(),
                slot: 1,
            },
        ),
        ev(
            12,
            "jobmanager",
            EventKind::TaskStateChanged {
                job: j1,
                vertex: "A -> B".into(),
                vertex_index: 0,
                subtask: runtime::ids::SubtaskIndex(0),
                attempt: 0,
                from: ExecutionState::Initializing,
                to: ExecutionState::Running,
                cause: None,
            },
        ),
    ];
    fold_all(&mut v, &events);
    let tm = &v.taskmanagers[0];
    assert_eq!(tm.slots[0].state(), SlotState::Free);
    assert_eq!(tm.slots[1].state(), SlotState::Running);
    fold(
        &mut v,
        &ev(
            20,
            "sim",
            EventKind::FaultInjected {
                fault: Fault::Crash {
                    host: "taskmanager-1".into(),
                },
            },
        ),
    );
    assert_eq!(v.taskmanagers[0].status, TmStatus::Crashed { at: 20 });
    fold(
        &mut v,
        &ev(
            30,
            "jobmanager",
            EventKind::TaskManagerLost {
                resource_id: "taskmanager-1".into(),
                cause: "timeout".into(),
            },
        ),
    );
    assert!(matches!(
        v.taskmanagers[0].status,
        TmStatus::Lost { at: 30, .. }
    ));
    assert_eq!(v.taskmanagers[0].crashed_at, Some(20));
}

/// TaskManagers sort by number, not by string.
#[test]
fn natural_order() {
    let mut v = ClusterView::new(Arc::new(Vec::new()));
    for n in ["taskmanager-10", "taskmanager-2", "taskmanager-1"] {
        fold(
            &mut v,
            &ev(
                0,
                n,
                EventKind::HostStarted {
                    role: Role::TaskManager,
                },
            ),
        );
    }
    let names: Vec<&str> = v.taskmanagers.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["taskmanager-1", "taskmanager-2", "taskmanager-10"]);
}

/// A partition and its repair fold into the set of cut links, read
/// from the structured fault (no text is parsed).
#[test]
fn partitions_come_and_go() {
    let mut v = ClusterView::new(Arc::new(Vec::new()));
    let cut = |a: &str, b: &str| Fault::Partition {
        a: a.into(),
        b: b.into(),
    };
    fold(
        &mut v,
        &ev(
            1,
            "sim",
            EventKind::FaultInjected {
                fault: cut("taskmanager-2", "jobmanager"),
            },
        ),
    );
    assert!(v.partitioned("jobmanager", "taskmanager-2"));
    fold(
        &mut v,
        &ev(
            2,
            "sim",
            EventKind::FaultInjected {
                fault: Fault::Repair {
                    a: "jobmanager".into(),
                    b: "taskmanager-2".into(),
                },
            },
        ),
    );
    assert!(!v.partitioned("jobmanager", "taskmanager-2"));
    assert_eq!(v.faults, 2);
}

/// The checkpoint history keeps each checkpoint's life (triggered,
/// acknowledged, completed or aborted), also one first seen completed
/// (attached, a poll can miss the trigger); a failed task and the
/// restart go into the exceptions with the task and its TaskManager.
#[test]
fn checkpoint_history_and_exceptions() {
    let mut v = ClusterView::new(Arc::new(Vec::new()));
    let j = JobId::from_parts(&["j"]);
    let jm = |t, kind| ev(t, "jobmanager", kind);
    let sub = runtime::ids::SubtaskIndex(1);
    fold_all(
        &mut v,
        &[
            jm(
                100,
                EventKind::CheckpointTriggered {
                    job: j,
                    id: CheckpointId(1),
                    savepoint: false,
                },
            ),
            jm(
                105,
                EventKind::CheckpointAcknowledged {
                    job: j,
                    id: CheckpointId(1),
                    vertex: "A".into(),
                    vertex_index: 0,
                    subtask: sub,
                    size: 10,
                    alignment_ms: 1,
                },
            ),
            jm(
                110,
                EventKind::CheckpointCompleted {
                    job: j,
                    id: CheckpointId(1),
                    duration_ms: 10,
                    size: 64,
                    alignment_ms: 3,
                    acks: 2,
                },
            ),
            jm(
                300,
                EventKind::CheckpointCompleted {
                    job: j,
                    id: CheckpointId(2),
                    duration_ms: 20,
                    size: 65,
                    alignment_ms: 0,
                    acks: 2,
                },
            ),
            jm(
                400,
                EventKind::CheckpointTriggered {
                    job: j,
                    id: CheckpointId(3),
                    savepoint: false,
                },
            ),
            jm(
                450,
                EventKind::TaskDeployed {
                    job: j,
                    vertex: "A".into(),
                    vertex_index: 0,
                    subtask: sub,
                    parallelism: 2,
                    attempt: 0,
                    resource_id: "taskmanager-2".into(),
                    slot: 0,
                },
            ),
            jm(
                500,
                EventKind::TaskStateChanged {
                    job: j,
                    vertex: "A".into(),
                    vertex_index: 0,
                    subtask: sub,
                    attempt: 0,
                    from: ExecutionState::Running,
                    to: ExecutionState::Failed,
                    cause: Some("boom".into()),
                },
            ),
            jm(
                500,
                EventKind::RestartScheduled {
                    job: j,
                    name: "j".into(),
                    vertices: vec!["A".into()],
                    delay_ms: 100,
                    cause: "boom".into(),
                },
            ),
        ],
    );
    let job = &v.jobs[0];
    let h = &job.checkpoints.history;
    assert_eq!(h.len(), 3);
    assert_eq!(
        (
            h[0].state.clone(),
            h[0].triggered_at,
            h[0].acks,
            h[0].alignment_ms
        ),
        (CheckpointState::Completed, 100, 2, Some(3))
    );
    assert_eq!((h[1].id, h[1].triggered_at), (CheckpointId(2), 280));
    assert!(
        matches!(h[2].state, CheckpointState::Aborted(_)),
        "a restart gives up #3"
    );
    let x = &job.exceptions;
    assert_eq!(x.len(), 2);
    assert_eq!(x[0].kind, ExceptionKind::TaskFailed);
    assert_eq!(x[0].task.as_deref(), Some("A [2]"));
    assert_eq!(x[0].taskmanager.as_deref(), Some("taskmanager-2"));
    assert_eq!(x[0].cause, "boom");
    assert_eq!(x[1].kind, ExceptionKind::RestartScheduled);
}
