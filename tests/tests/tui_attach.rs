//! The TUI attached to a real Apache Flink 2.3.0, as recorded: a fixture
//! HTTP server answers each REST call with the file a real Flink answered
//! it with (`shared/flink-reference/rest-samples/`), and the TUI, attached
//! to it, is drawn on ratatui's `TestBackend` and snapshot-tested.
//!
//! The recorded cluster: two TaskManagers of two slots each, twelve jobs
//! in its job list (all CANCELED by the time the list was recorded), and
//! for one of them, the keyed sum (`cases/c_keyby_sum/`), the answers it
//! gave while it ran: RUNNING, `Source: Seq -> ToKeyOne` and
//! `Sum -> Discard: Writer` at parallelism 2, all four subtasks on one
//! TaskManager, whose two slots each hold subtask *i* of both chains
//! (slot sharing). Its checkpoint statistics and exception history come
//! from the checkpointed run of the same program
//! (`checkpointing-c_keyby_sum/`: nine completed, one failed; those
//! answers carry no job id). The job's own answer (RUNNING) is newer than
//! the list's, so the TUI shows it running. Every other job's detail is
//! Flink's 404 for an unknown job.
//!
//! Events are stamped by a frozen clock, so every screen is the same on
//! every run.

mod real_tcp_support;
mod tui_attach_support;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use runtime::events::{Event, EventKind};
use runtime::state::{ExecutionState, JobStatus};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use tui::App;
use tui::attach::{AttachOptions, Clock};
use tui::cluster::SlotState;
use tui_attach_support::{Answer, Fixture, Routes, get, sample, samples_dir};

/// The keyed sum's job id in the recorded job list.
const JOB: &str = "4af541a03f98dcdfbbb2b16ae1b2da44";
/// The TaskManager its subtasks ran on.
const BUSY_TM: &str = "127.0.0.1:39543-fc8c0a";
/// The TaskManager whose detail was recorded (no slot allocated then).
const IDLE_TM: &str = "127.0.0.1:34065-f34d25";

/// The recorded cluster's routes (see the module comment).
fn scene(dir: &Path) -> Routes {
    let mut r = Routes::new();
    get(&mut r, dir, "/config", "config.json");
    get(&mut r, dir, "/overview", "overview.json");
    get(&mut r, dir, "/taskmanagers", "taskmanagers.json");
    get(
        &mut r,
        dir,
        &format!("/taskmanagers/{IDLE_TM}"),
        "taskmanager-detail.json",
    );
    get(&mut r, dir, "/jobs/overview", "jobs_overview.json");
    let case = "cases/c_keyby_sum";
    get(
        &mut r,
        dir,
        &format!("/jobs/{JOB}"),
        &format!("{case}/job.json"),
    );
    get(
        &mut r,
        dir,
        &format!("/jobs/{JOB}/plan"),
        &format!("{case}/plan.json"),
    );
    // Each vertex's answer at the path of the id it carries.
    for n in 0.. {
        let name = format!("{case}/vertex-{n}.json");
        if !dir.join(&name).exists() {
            break;
        }
        let a = sample(dir, &name);
        let v: Value = serde_json::from_slice(&a.body).expect("vertex JSON");
        let vid = v["id"].as_str().expect("a vertex id");
        r.insert(("GET".into(), format!("/jobs/{JOB}/vertices/{vid}")), a);
    }
    let ckpt = "checkpointing-c_keyby_sum";
    get(
        &mut r,
        dir,
        &format!("/jobs/{JOB}/checkpoints"),
        &format!("{ckpt}/checkpoints.json"),
    );
    get(
        &mut r,
        dir,
        &format!("/jobs/{JOB}/exceptions"),
        &format!("{ckpt}/exceptions.json"),
    );
    // The controls, as Flink answered them.
    r.insert(
        ("PATCH".into(), format!("/jobs/{JOB}")),
        Answer {
            status: 202,
            body: b"{}".to_vec(),
        },
    );
    r.insert(
        ("POST".into(), format!("/jobs/{JOB}/savepoints")),
        sample(dir, "more/savepoint-trigger.json"),
    );
    let trigger: Value = serde_json::from_slice(&sample(dir, "more/savepoint-trigger.json").body)
        .expect("trigger JSON");
    let rid = trigger["request-id"].as_str().expect("a request id");
    get(
        &mut r,
        dir,
        &format!("/jobs/{JOB}/savepoints/{rid}"),
        "more/savepoint-status-completed.json",
    );
    r
}

/// The recorded cluster, served; `None` when the samples are absent.
fn fixture() -> Option<Fixture> {
    let dir = samples_dir()?;
    Some(Fixture::start(
        scene(&dir),
        sample(&dir, "more/error-unknown-job.json"),
    ))
}

fn attach(f: &Fixture) -> App {
    let mut opts = AttachOptions::new(&f.url);
    opts.clock = Some(Clock::frozen(0));
    opts.refresh_ms = Some(100);
    App::attach(opts).unwrap_or_else(|e| panic!("attach to the fixture: {e}"))
}

/// The screen as text, the fixture's port (a free one, different on
/// every run) masked.
fn screen(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    t.draw(|f| tui::render(app, f)).expect("draw");
    let text = t.backend().to_string();
    match app.attached() {
        Some(a) => {
            let addr = a.url().trim_start_matches("http://");
            text.replace(addr, &format!("{:<w$}", "127.0.0.1:PORT", w = addr.len()))
        }
        None => text,
    }
}

fn keys(app: &mut App, s: &str) {
    for c in s.chars() {
        app.key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
}

/// The cluster screen of a real Flink: both TaskManagers with their two
/// slots; the busy one's slots each hold one subtask of each chain (Flink's
/// slot sharing, inferred from where the subtasks run); the jobs panel
/// has the keyed sum RUNNING with its two vertices and its checkpoints
/// (#9 the latest, one failed), among the eleven CANCELED jobs.
#[test]
fn cluster_screen_of_a_real_flink() {
    let Some(f) = fixture() else { return };
    let app = attach(&f);
    let v = &app.view;
    let names: Vec<&str> = v.taskmanagers.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, [IDLE_TM, BUSY_TM]);
    let busy = v.taskmanager(BUSY_TM).expect("the busy TaskManager");
    assert_eq!(busy.slots.len(), 2);
    for (i, s) in busy.slots.iter().enumerate() {
        assert_eq!(s.state(), SlotState::Running, "slot {i}");
        let tasks: Vec<(String, u32)> = s
            .tasks
            .iter()
            .map(|t| (t.vertex.clone(), t.subtask))
            .collect();
        assert_eq!(
            tasks,
            [
                ("Source: Seq -> ToKeyOne".to_string(), i as u32),
                ("Sum -> Discard: Writer".to_string(), i as u32)
            ],
            "slot {i} shares subtask {i} of both chains"
        );
    }
    let idle = v.taskmanager(IDLE_TM).expect("the idle TaskManager");
    assert!(idle.slots.iter().all(|s| s.state() == SlotState::Free));
    assert_eq!(v.jobs.len(), 12);
    let job = v
        .jobs
        .iter()
        .find(|j| j.id.to_string() == JOB)
        .expect("job");
    assert_eq!(job.status, JobStatus::Running);
    assert_eq!(job.checkpoints.completed, 9);
    // Flink counts one failed checkpoint that its history does not list
    // (it failed before it had an id there): only what is listed is folded.
    assert_eq!(job.checkpoints.aborted, 0);
    assert_eq!(job.checkpoints.last.map(|c| c.id.0), Some(9));
    assert_eq!(
        v.jobs
            .iter()
            .filter(|j| j.status == JobStatus::Canceled)
            .count(),
        11
    );
    assert_eq!(app.selected_job.as_deref(), Some("ds-c_keyby_sum"));
    insta::assert_snapshot!("attached_flink_cluster_120x40", screen(&app, 120, 40));
    insta::assert_snapshot!("attached_flink_cluster_80x24", screen(&app, 80, 24));
}

/// The dataflow screen of the keyed sum, from Flink's plan: the condensed
/// view (four operators, two chained pairs, a HASH edge) and the parallel
/// view (two subtasks per chain, all-to-all channels, where each runs).
#[test]
fn dataflow_screen_of_a_real_flink() {
    let Some(f) = fixture() else { return };
    let mut app = attach(&f);
    let df = app
        .dataflows
        .iter()
        .find(|d| d.name == "ds-c_keyby_sum")
        .expect("the plan became a dataflow");
    let vertices: Vec<&str> = df.vertices.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        vertices,
        ["Source: Seq -> ToKeyOne", "Sum -> Discard: Writer"]
    );
    assert_eq!(df.vertex_edges[0].ship_strategy, "HASH");
    keys(&mut app, "2");
    insta::assert_snapshot!("attached_flink_dataflow_160x40", screen(&app, 160, 40));
    keys(&mut app, "v");
    insta::assert_snapshot!(
        "attached_flink_dataflow_parallel_120x40",
        screen(&app, 120, 40)
    );
}

/// `:NAME` Enter, as a user types a k9s-style command.
fn command(app: &mut App, name: &str) {
    keys(app, &format!(":{name}"));
    app.key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
}

/// The jobs, checkpoints and exceptions screens of a real Flink: the
/// twelve jobs with their status; the keyed sum's nine completed
/// checkpoints as Flink's history lists them (ids, sizes, durations) and
/// the failed one it only counts; an exception history Flink left empty.
#[test]
fn jobs_checkpoints_and_exceptions_screens_of_a_real_flink() {
    let Some(f) = fixture() else { return };
    let mut app = attach(&f);
    command(&mut app, "jobs");
    let jobs = screen(&app, 120, 40);
    assert!(jobs.contains("ds-c_keyby_sum"), "{jobs}");
    insta::assert_snapshot!("attached_flink_jobs_120x40", jobs);
    command(&mut app, "cp");
    let cp = screen(&app, 120, 40);
    assert!(cp.contains("#9") || cp.contains(" 9 "), "{cp}");
    insta::assert_snapshot!("attached_flink_checkpoints_120x40", cp);
    command(&mut app, "ex");
    insta::assert_snapshot!("attached_flink_exceptions_120x40", screen(&app, 120, 40));
}

/// The first poll of a cluster folds to its state as it is: the events
/// are the ones the simulator would have emitted to get there. A second
/// poll of an unchanged cluster says nothing new.
#[test]
fn first_poll_events_then_none() {
    let Some(f) = fixture() else { return };
    let mut app = attach(&f);
    let count = |app: &App, pred: &dyn Fn(&EventKind) -> bool| {
        app.events.iter().filter(|e| pred(&e.kind)).count()
    };
    assert_eq!(
        count(&app, &|k| matches!(
            k,
            EventKind::TaskManagerRegistered { .. }
        )),
        2
    );
    assert_eq!(
        count(&app, &|k| matches!(k, EventKind::JobSubmitted { .. })),
        12
    );
    assert_eq!(
        count(&app, &|k| matches!(k, EventKind::SlotAllocated { .. })),
        2
    );
    assert_eq!(
        count(&app, &|k| matches!(k, EventKind::TaskDeployed { .. })),
        4
    );
    assert_eq!(
        count(&app, &|k| matches!(
            k,
            EventKind::TaskStateChanged {
                to: ExecutionState::Running,
                ..
            }
        )),
        4
    );
    assert_eq!(
        count(&app, &|k| matches!(
            k,
            EventKind::CheckpointCompleted { .. }
        )),
        9
    );
    assert_eq!(
        count(&app, &|k| matches!(k, EventKind::CheckpointAborted { .. })),
        0,
        "the failed one is not in Flink's history"
    );
    let before = app.events.len();
    let polls = app.attached().expect("attached").polls;
    assert!(app.wait_until(Duration::from_secs(10), |a| {
        a.attached().is_some_and(|s| s.polls >= polls + 2)
    }));
    assert_eq!(
        app.events.len(),
        before,
        "an unchanged cluster: {:?}",
        &app.events[before..]
    );
    // The jobs whose detail Flink no longer had were read once.
    let details = f.requested("GET /jobs/d126af09ac6e673b72f88fa3e03fcb2f");
    assert_eq!(details, ["GET /jobs/d126af09ac6e673b72f88fa3e03fcb2f"]);
}

/// When the cluster goes away, the last state stays on screen, marked
/// STALE with the error, and the TUI keeps going (keys still work).
#[test]
fn stale_when_the_cluster_goes_away() {
    let Some(mut f) = fixture() else { return };
    let mut app = attach(&f);
    f.stop();
    assert!(
        app.wait_until(Duration::from_secs(20), |a| a
            .attached()
            .is_some_and(|s| s.stale.is_some())),
        "the failed poll is noticed"
    );
    let err = app.attached().and_then(|a| a.stale.clone()).expect("stale");
    assert!(err.contains("GET http://127.0.0.1:"), "{err}");
    assert_eq!(app.view.jobs.len(), 12, "the last state stays");
    let s = screen(&app, 120, 40);
    assert!(s.contains("STALE"), "{s}");
    keys(&mut app, "2v1?");
    assert!(app.help && !app.quit);
}

/// The controls: each asks first; any key but `y` says no and sends
/// nothing; `y` sends Flink's REST call (a cancel is `PATCH
/// /jobs/:id?mode=cancel`; a savepoint is followed until Flink says where
/// it is). Crashing a TaskManager is the simulator's only.
#[test]
fn controls_ask_then_call_rest() {
    let Some(f) = fixture() else { return };
    let mut app = attach(&f);
    keys(&mut app, "x");
    let asked = app.status.clone().unwrap_or_default();
    assert!(
        asked.contains("Cancel \"ds-c_keyby_sum\"") && asked.contains("y: yes"),
        "{asked}"
    );
    keys(&mut app, "n");
    assert!(
        app.status
            .as_deref()
            .unwrap_or("")
            .contains("did not cancel")
    );
    keys(&mut app, "xy");
    let wait = |app: &mut App, f: &Fixture, prefix: &str| {
        app.wait_until(Duration::from_secs(10), |_| !f.requested(prefix).is_empty())
    };
    assert!(wait(&mut app, &f, "PATCH "), "the cancel is sent");
    assert_eq!(
        f.requested("PATCH "),
        [format!("PATCH /jobs/{JOB}?mode=cancel")]
    );
    assert!(app.wait_until(Duration::from_secs(10), |a| {
        a.status
            .as_deref()
            .is_some_and(|s| s.contains("asked the JobManager to cancel"))
    }));

    keys(&mut app, "sy");
    assert!(wait(&mut app, &f, "POST "), "the savepoint is asked for");
    assert!(
        app.wait_until(Duration::from_secs(10), |a| {
            a.status
                .as_deref()
                .is_some_and(|s| s.contains("savepoint of \"ds-c_keyby_sum\" at file:"))
        }),
        "followed to its end: {:?}",
        app.status
    );

    keys(&mut app, "c");
    let s = app.status.clone().unwrap_or_default();
    assert!(s.contains("simulator only"), "{s}");
    keys(&mut app, "C");
    assert!(app.confirming());
    keys(&mut app, "q");
    assert!(!app.quit, "q answers the question first");
    keys(&mut app, "q");
    assert!(app.quit);
}

/// `--token` goes with every request as `Authorization: Bearer TOKEN`.
#[test]
fn the_token_goes_with_every_request() {
    let Some(f) = fixture() else { return };
    let mut opts = AttachOptions::new(&f.url);
    opts.token = Some("s3cret".into());
    opts.clock = Some(Clock::frozen(0));
    let app = App::attach(opts).unwrap_or_else(|e| panic!("attach: {e}"));
    assert_eq!(app.view.taskmanagers.len(), 2);
    let auth = f.auth.lock().expect("auth log").clone();
    assert!(!auth.is_empty());
    assert!(
        auth.iter().all(|a| a.as_deref() == Some("Bearer s3cret")),
        "{auth:?}"
    );
}

/// The TUI attached to a real mini-flink cluster of processes on
/// 127.0.0.1 (a JobManager with REST, two TaskManagers of two slots)
/// while a checkpointed job runs at parallelism 4: both TaskManagers
/// show the job's two chains in each of their slots (mini-flink's REST
/// says which slot exactly), checkpoints complete; `x` then `y` cancels
/// the job (checked over REST); killing the JobManager marks the screen
/// STALE, and the TUI goes on.
#[test]
fn attached_to_a_real_cluster() {
    use real_tcp_support::{Cluster, http_get, rest_token};
    let mut cluster = Cluster::new("tui-attach");
    let (_, rest, jid) = cluster.attach_scene();

    let mut opts = AttachOptions::new(&format!("http://{rest}"));
    opts.refresh_ms = Some(200);
    // The cluster's REST token (the TUI binary finds it in the secret file).
    opts.token = Some(rest_token());
    let mut app = App::attach(opts).unwrap_or_else(|e| panic!("attach: {e}\n{}", cluster.logs()));
    let all_running = |a: &App| {
        a.view.taskmanagers.len() == 2
            && a.view.taskmanagers.iter().all(|t| {
                t.slots.len() == 2
                    && t.slots
                        .iter()
                        .all(|s| s.state() == SlotState::Running && s.tasks.len() == 2)
            })
            && a.view
                .jobs
                .iter()
                .any(|j| j.status == JobStatus::Running && j.checkpoints.completed > 0)
    };
    assert!(
        app.wait_until(Duration::from_secs(60), all_running),
        "both TaskManagers full, a checkpoint done:\n{}\n{}",
        screen(&app, 120, 40),
        cluster.logs()
    );
    let mut seen = Vec::new();
    for t in &app.view.taskmanagers {
        for s in &t.slots {
            let names: Vec<&str> = s.tasks.iter().map(|x| x.vertex.as_str()).collect();
            assert_eq!(
                names,
                ["Source: Generator", "Sum -> Sink: Collect"],
                "{}",
                t.name
            );
            assert_eq!(
                s.tasks[0].subtask, s.tasks[1].subtask,
                "one subtask index per slot"
            );
            seen.push(s.tasks[0].subtask);
        }
    }
    seen.sort();
    assert_eq!(seen, [0, 1, 2, 3]);

    // mini-flink serves its events (`GET /events`): the log has what only
    // the JobManager's stream says (acknowledgements, with their
    // alignment), and nothing twice though the polls go on.
    assert_eq!(
        app.attached().and_then(|a| a.stream.clone()),
        Some(Ok(())),
        "the event stream is read"
    );
    assert!(
        app.wait_until(Duration::from_secs(30), |a| a
            .events
            .iter()
            .any(|e| matches!(e.kind, EventKind::CheckpointAcknowledged { .. }))),
        "a checkpoint acknowledgement came by the stream"
    );

    assert_eq!(app.selected_job.as_deref(), Some("tui-attach"));
    keys(&mut app, "xy");
    let canceled = || {
        matches!(http_get(&rest, &format!("/jobs/{jid}/status")),
            Ok((200, v)) if v["status"] == "CANCELED")
    };
    assert!(
        app.wait_until(Duration::from_secs(30), |a| canceled()
            && a.view.jobs.iter().all(|j| j.status == JobStatus::Canceled)),
        "cancelled from the TUI: {:?}\n{}",
        app.status,
        cluster.logs()
    );
    // The job's end comes by the stream at once; the TaskManagers free
    // their slots a moment later, and a poll sees it.
    let free = |a: &App| {
        a.view
            .taskmanagers
            .iter()
            .all(|t| t.slots.iter().all(|s| s.state() == SlotState::Free))
    };
    assert!(
        app.wait_until(Duration::from_secs(10), free),
        "the slots are free again:\n{}",
        screen(&app, 120, 40)
    );
    assert_nothing_twice(&app.events);

    cluster.kill("jobmanager");
    assert!(
        app.wait_until(Duration::from_secs(30), |a| a
            .attached()
            .is_some_and(|s| s.stale.is_some())),
        "the lost JobManager is noticed"
    );
    let s = screen(&app, 120, 40);
    assert!(s.contains("STALE") && s.contains("tui-attach"), "{s}");
    assert!(
        app.wait_until(Duration::from_secs(10), |a| a
            .attached()
            .is_some_and(|s| matches!(s.stream, Some(Err(_))))),
        "the broken event stream is noticed"
    );
    keys(&mut app, "21");
    app.tick(16.0);
    assert!(!app.quit);
}

/// Each fact once: a deployment per attempt, a checkpoint's completion, a
/// job's status per change, a TaskManager's registration.
fn assert_nothing_twice(events: &[Event]) {
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for e in events {
        let key = match &e.kind {
            EventKind::TaskDeployed {
                job,
                vertex_index,
                subtask,
                attempt,
                ..
            } => format!("deployed {job} {vertex_index} {subtask} {attempt}"),
            EventKind::CheckpointCompleted { job, id, .. } => format!("completed {job} {id}"),
            EventKind::TaskManagerRegistered { resource_id, .. } => {
                format!("registered {resource_id}")
            }
            EventKind::JobStatusChanged { job, from, to, .. } => {
                format!("status {job} {from:?}->{to:?}")
            }
            _ => continue,
        };
        *seen.entry(key).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "folded twice: {twice:?}");
    assert!(
        seen.keys().any(|k| k.starts_with("completed")),
        "there were checkpoints to count: {seen:?}"
    );
}
