//! Scripted sessions on ratatui's `TestBackend`: keys in, named insta
//! snapshots out, at the moments a student would look (cluster up, a
//! TaskManager crashed, the JobManager noticing, recovery), in 80x24 and
//! 120x40.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use runtime::state::JobStatus;
use std::path::PathBuf;
use tui::{App, Screen};

fn scenario(name: &str) -> sim::Scenario {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(name);
    sim::load(&path).expect("scenario loads")
}

fn screen(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    t.draw(|f| tui::render(app, f)).expect("draw");
    t.backend().to_string()
}

fn press(app: &mut App, code: KeyCode) {
    app.key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn keys(app: &mut App, s: &str) {
    for c in s.chars() {
        press(app, KeyCode::Char(c));
    }
}

fn snap_both(name: &str, app: &App) {
    insta::assert_snapshot!(format!("{name}_80x24"), screen(app, 80, 24));
    insta::assert_snapshot!(format!("{name}_120x40"), screen(app, 120, 40));
}

/// The newcomer's session: the cluster comes up and runs two jobs; `c`
/// crashes the selected TaskManager (taskmanager-1, where keyed-sum runs);
/// for the heartbeat timeout the JobManager does not know; then it declares
/// the TaskManager lost, frees its slots and restarts the checkpointed job
/// (RESTARTING, then RUNNING again on free slots of taskmanager-2, from
/// the latest checkpoint); `r` restarts the TaskManager, which registers
/// again with empty slots.
#[test]
fn crash_a_taskmanager_and_recover() {
    let mut app = App::live(&scenario("session.toml"), None);
    app.run_until(1_000);
    snap_both("session_1_start", &app);

    keys(&mut app, "c");
    assert!(
        app.status
            .as_deref()
            .unwrap_or("")
            .contains("heartbeat timeout")
    );
    app.run_until(3_000);
    snap_both("session_2_crashed_jm_unaware", &app);

    app.run_until(6_100);
    snap_both("session_3_after_heartbeat_timeout", &app);
    let tm1 = app.view.taskmanager("taskmanager-1").expect("tm-1");
    assert!(matches!(tm1.status, tui::cluster::TmStatus::Lost { .. }));
    let ks = app
        .view
        .jobs
        .iter()
        .find(|j| j.name == "keyed-sum")
        .expect("job");
    assert_eq!(ks.status, JobStatus::Restarting);

    keys(&mut app, "r");
    app.run_until(7_500);
    snap_both("session_4_restarted", &app);
    let ks = app
        .view
        .jobs
        .iter()
        .find(|j| j.name == "keyed-sum")
        .expect("job");
    assert_eq!(
        ks.status,
        JobStatus::Running,
        "recovered from its checkpoint"
    );

    app.run_until(121_000);
    assert!(app.ended, "the scenario ends at its duration");
    snap_both("session_5_end", &app);
}

/// `?` opens the help over any screen, `?` or Esc closes it, q quits.
#[test]
fn help_overlay() {
    let mut app = App::live(&scenario("session.toml"), None);
    app.run_until(1_000);
    keys(&mut app, "?");
    assert!(app.help);
    snap_both("help", &app);
    press(&mut app, KeyCode::Esc);
    assert!(!app.help && !app.quit);
    keys(&mut app, "q");
    assert!(app.quit);
}

/// The dataflow screen: condensed (operators, partitioning, chained edges
/// doubled) and parallel (subtasks in their slots, channels), with live
/// records per second, while the job of tm-crash.toml runs.
#[test]
fn dataflow_views() {
    let mut app = App::live(&scenario("tm-crash.toml"), None);
    app.run_until(1_500);
    keys(&mut app, "2");
    assert_eq!(app.screen, Screen::Dataflow);
    snap_both("dataflow_condensed", &app);
    keys(&mut app, "v");
    snap_both("dataflow_parallel", &app);
    insta::assert_snapshot!("dataflow_side_by_side_160x40", screen(&app, 160, 40));
    // The wordcount job: five operators, three chains.
    let mut app = App::live(&scenario("session.toml"), None);
    app.run_until(600);
    keys(&mut app, "2");
    insta::assert_snapshot!("dataflow_wordcount_condensed_80x24", screen(&app, 80, 24));
    keys(&mut app, "v");
    insta::assert_snapshot!("dataflow_wordcount_parallel_80x24", screen(&app, 80, 24));
}

/// Time travel in a live run: after the crash is noticed, stepping back
/// shows the TaskManager as merely crashed again, and End returns to now.
#[test]
fn time_travel_in_a_live_run() {
    let mut app = App::live(&scenario("tm-crash.toml"), None);
    app.run_until(7_500);
    let now = screen(&app, 80, 24);
    // Back over the failures, the slot releases, the loss and the timeout.
    for _ in 0..11 {
        press(&mut app, KeyCode::Left);
    }
    assert!(!app.at_present());
    assert!(app.paused);
    insta::assert_snapshot!("time_travel_80x24", screen(&app, 80, 24));
    // The events screen explains the event under the cursor.
    keys(&mut app, "3");
    insta::assert_snapshot!("time_travel_events_screen_80x24", screen(&app, 80, 24));
    keys(&mut app, "1");
    // (the header says PAUSED now; the rest is the same picture)
    let body = |s: String| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    press(&mut app, KeyCode::End);
    assert!(app.at_present());
    assert_eq!(body(screen(&app, 80, 24)), body(now.clone()));
    // Stepping forward from the past replays the same events one by one.
    press(&mut app, KeyCode::Home);
    while !app.at_present() {
        press(&mut app, KeyCode::Right);
    }
    assert_eq!(body(screen(&app, 80, 24)), body(now));
}

/// A recorded trace plays back to the same picture as the live run, and
/// scrubbing works both ways.
#[test]
fn replay_matches_live() {
    let s = scenario("tm-crash.toml");
    let outcome = sim::Simulation::new(&s, None).run().expect("runs");
    let text = sim::summary::trace_jsonl(&outcome.events);
    let events = tui::app::parse_trace(&text).expect("trace parses");
    let mut replay = App::replay(&s, events);
    // Playing follows the clock (as the real loop does, frame by frame).
    replay.tick(1_000.0);
    assert_eq!(replay.now_ms, 1_000);
    assert!(replay.at_present() && replay.cursor > 0);
    replay.run_until(7_500);
    let mut live = App::live(&s, None);
    live.run_until(7_500);
    // Same cluster, same jobs; only the header's LIVE/REPLAY differs.
    let strip = |s: String| s.lines().skip(1).take(22).collect::<Vec<_>>().join("\n");
    assert_eq!(strip(screen(&replay, 80, 24)), strip(screen(&live, 80, 24)));
    let end = screen(&replay, 80, 24);
    for _ in 0..20 {
        press(&mut replay, KeyCode::Left);
    }
    insta::assert_snapshot!("replay_scrubbed_back_80x24", screen(&replay, 80, 24));
    for _ in 0..20 {
        press(&mut replay, KeyCode::Right);
    }
    press(&mut replay, KeyCode::End);
    assert_eq!(screen(&replay, 80, 24), end);
    // Faults cannot change a recording.
    keys(&mut replay, "c");
    assert!(replay.status.as_deref().unwrap_or("").contains("recording"));
}

/// `s` asks the JobManager for a savepoint of the selected job; Ctrl-C quits.
#[test]
fn savepoint_and_ctrl_c() {
    let mut app = App::live(&scenario("tm-crash.toml"), None);
    app.run_until(1_000);
    keys(&mut app, "s");
    assert!(app.status.as_deref().unwrap_or("").contains("savepoint"));
    app.run_until(2_000);
    let faults: Vec<String> = app
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            runtime::events::EventKind::FaultInjected { fault } => Some(fault.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(faults, ["savepoint of job slow-count"]);
    insta::assert_snapshot!("savepoint_80x24", screen(&app, 80, 24));
    app.key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(app.quit, "Ctrl-C quits");
}

/// Every scenario in `scenarios/` runs in the UI (its first 20 s, where
/// the faults are), drawn every half second of virtual time on every
/// screen, without a panic.
#[test]
fn every_scenario_renders() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("scenarios")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    assert!(!names.is_empty());
    for name in names {
        let s = scenario(&name);
        let mut app = App::live(&s, None);
        let mut t = 0;
        while !app.ended && t < 20_000 {
            t += 500;
            app.run_until(t);
            for (key, w, h) in [("1", 80, 24), ("2", 100, 30), ("v", 160, 40), ("3", 80, 24)] {
                keys(&mut app, key);
                let _ = screen(&app, w, h);
            }
            keys(&mut app, "o");
        }
    }
}

/// With high availability the header names the JobManager the coordinator
/// elected, and after the leader's crash the standby that took over.
#[test]
fn the_elected_leader_is_shown() {
    let mut app = App::live(&scenario("ha.toml"), None);
    app.run_until(1_000);
    assert_eq!(app.view.leader.as_deref(), Some("jobmanager-1"));
    app.run_until(8_000);
    assert_eq!(app.view.leader.as_deref(), Some("jobmanager-2"));
    assert!(app.view.elections >= 2);
}

/// The TUI's log never reaches the terminal it draws on: a line logged
/// while the simulation runs shows in the status line instead.
#[test]
fn a_logged_line_shows_in_the_status_line() {
    let mut app = App::live(&scenario("session.toml"), None);
    let log = sim::logging::LogBuffer::new();
    app.attach_log(log.clone());
    app.advance(10);
    assert_eq!(app.status, None);
    let subscriber = sim::logging::subscriber("warn", log.clone());
    tracing::subscriber::with_default(subscriber, || tracing::warn!("a warning"));
    app.advance(10);
    let status = app.status.clone().unwrap_or_default();
    assert!(status.starts_with("log: "), "{status}");
    assert!(status.ends_with("a warning"), "{status}");
}
