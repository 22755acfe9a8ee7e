//! k9s-style navigation: the `:` command line (aliases, prefixes, Tab,
//! unknown commands), the `/` filter, `Enter` down and `Esc` up the Jobs
//! screen, as keys in and state or TestBackend snapshots out, on
//! failover.toml after its TaskManager crash and restart (so there are
//! checkpoints, a failure and a restore to show).

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::PathBuf;
use tui::nav::{Crumb, Prompt};
use tui::{Action, App, Screen};

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

/// `:` + text + Enter.
fn command(app: &mut App, s: &str) {
    keys(app, ":");
    keys(app, s);
    press(app, KeyCode::Enter);
}

/// failover.toml after the crash (3 s), the heartbeat timeout and the
/// restart from the latest checkpoint: paused, so the screens stand still.
fn after_failover() -> App {
    let mut app = App::live(&scenario("failover.toml"), None);
    app.run_until(10_000);
    keys(&mut app, " ");
    assert!(app.paused);
    app
}

#[test]
fn command_line_aliases_prefixes_and_unknown() {
    let mut app = after_failover();
    let key =
        |app: &App, c: char| app.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    assert_eq!(key(&app, ':'), Action::OpenCommand);
    keys(&mut app, ":");
    assert_eq!(app.nav.prompt, Some(Prompt::Command(String::new())));
    // While the line is open, keys are text, not actions: `q` does not quit.
    assert_eq!(key(&app, 'q'), Action::Type('q'));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.nav.prompt, None);
    assert!(!app.quit);

    for (typed, want) in [
        ("jobs", Screen::Jobs),
        ("tm", Screen::Cluster),
        ("dataflow", Screen::Dataflow),
        ("events", Screen::Events),
        ("checkpoints", Screen::Checkpoints),
        ("exceptions", Screen::Exceptions),
        ("cp", Screen::Checkpoints),
        ("ex", Screen::Exceptions),
        ("df", Screen::Dataflow),
        ("che", Screen::Checkpoints),
        ("exc", Screen::Exceptions),
        ("JOB", Screen::Jobs),
        ("clu", Screen::Cluster),
    ] {
        command(&mut app, typed);
        assert_eq!(app.screen, want, ":{typed}");
        assert_eq!(app.nav.prompt, None);
    }

    command(&mut app, "frobnicate");
    assert_eq!(
        app.screen,
        Screen::Cluster,
        "an unknown command changes nothing"
    );
    let status = app.status.clone().unwrap_or_default();
    assert!(status.contains("unknown command :frobnicate"), "{status}");

    command(&mut app, "c");
    let status = app.status.clone().unwrap_or_default();
    assert!(
        status.contains("could be :cluster :checkpoints"),
        "{status}"
    );

    // Tab completes a unique prefix; Enter runs it.
    keys(&mut app, ":exce");
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.nav.prompt, Some(Prompt::Command("exceptions".into())));
    press(&mut app, KeyCode::Backspace);
    assert_eq!(app.nav.prompt, Some(Prompt::Command("exception".into())));
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Exceptions);

    command(&mut app, "q");
    assert!(app.quit);
}

#[test]
fn filter_narrows_events_and_jobs() {
    let mut app = App::live(&scenario("session.toml"), None);
    app.run_until(1_000);
    keys(&mut app, "c");
    app.run_until(6_100);
    let key = app.handle_key(KeyEvent::new(KeyCode::Char('/'), KeyModifiers::NONE));
    assert_eq!(key, Action::OpenFilter);
    keys(&mut app, "/CRASH");
    assert_eq!(app.nav.prompt, Some(Prompt::Filter));
    assert_eq!(app.nav.filter, "CRASH");
    let passing: Vec<usize> = (0..app.cursor).filter(|&i| app.event_passes(i)).collect();
    assert!(!passing.is_empty());
    for &i in &passing {
        assert!(app.event_text(i).to_lowercase().contains("crash"));
    }
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.nav.prompt, None, "Enter keeps the filter");
    assert_eq!(app.nav.filter, "CRASH");
    let text = screen(&app, 120, 40);
    assert!(text.contains("Events /CRASH"), "{text}");
    insta::assert_snapshot!("filter_crash_cluster_120x40", text);

    // The job list narrows to the jobs whose name, status or cause has it.
    keys(&mut app, "/keyed");
    press(&mut app, KeyCode::Enter);
    let names: Vec<&str> = app.visible_jobs().iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names, ["keyed-sum"]);
    assert!(screen(&app, 120, 40).contains("Jobs /keyed"));

    // Esc, once the line is closed, clears it too; at the top it does nothing more.
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.nav.filter, "");
    press(&mut app, KeyCode::Esc);
    assert!(!app.quit, "Esc never quits");

    // Esc while typing clears the filter.
    keys(&mut app, "/tm");
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.nav.filter, "");
    assert_eq!(app.nav.prompt, None);
}

#[test]
fn drill_down_and_back() {
    let mut app = after_failover();
    command(&mut app, "jobs");
    assert!(app.nav.path.is_empty());
    insta::assert_snapshot!("jobs_120x40", screen(&app, 120, 40));
    insta::assert_snapshot!("jobs_80x24", screen(&app, 80, 24));

    press(&mut app, KeyCode::Enter);
    assert_eq!(app.nav.path, [Crumb::Job("counts".into())]);
    insta::assert_snapshot!("job_vertices_120x40", screen(&app, 120, 40));

    let job = app.nav_job().expect("job");
    let last = job.vertices.last().expect("a vertex").name.clone();
    for _ in 0..job.vertices.len() {
        press(&mut app, KeyCode::Down);
    }
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        app.nav.path,
        [Crumb::Job("counts".into()), Crumb::Vertex(last.clone())]
    );
    insta::assert_snapshot!("vertex_subtasks_120x40", screen(&app, 120, 40));

    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.nav.subtask(), Some(1));
    let text = screen(&app, 120, 40);
    assert!(
        text.contains(&format!("jobs › counts › {last} › subtask 2")),
        "{text}"
    );
    insta::assert_snapshot!("subtask_120x40", text);
    // Up and down move to the other subtask, in place.
    press(&mut app, KeyCode::Up);
    assert_eq!(app.nav.subtask(), Some(0));

    // Esc goes back one level at a time, to the row it came from.
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.nav.path.len(), 2);
    assert_eq!(app.nav.row, 0);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.nav.path.len(), 1);
    assert_eq!(
        app.nav_job().map(|j| j.vertices.len() - 1),
        Some(app.nav.row)
    );
    press(&mut app, KeyCode::Esc);
    assert!(app.nav.path.is_empty());
    press(&mut app, KeyCode::Esc);
    assert!(
        app.nav.path.is_empty() && !app.quit,
        "at the top Esc does nothing"
    );
    assert_eq!(app.screen, Screen::Jobs);

    // Enter on the cluster screen opens the selected job.
    keys(&mut app, "1");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Jobs);
    assert_eq!(app.nav.path, [Crumb::Job("counts".into())]);
    keys(&mut app, "q");
    assert!(app.quit);
}

#[test]
fn checkpoints_and_exceptions_screens() {
    let mut app = after_failover();
    let job = &app.view.jobs[0];
    assert!(job.checkpoints.history.len() > 3, "checkpoints were taken");
    assert!(
        job.exceptions
            .iter()
            .any(|x| x.kind == tui::cluster::ExceptionKind::TaskFailed),
        "the crash failed tasks"
    );
    assert!(
        job.last_restart.is_some_and(|(_, c, _)| c.is_some()),
        "restored from a checkpoint"
    );
    command(&mut app, "checkpoints");
    let text = screen(&app, 120, 40);
    assert!(text.contains("restored #"), "{text}");
    insta::assert_snapshot!("checkpoints_120x40", text);
    command(&mut app, "exceptions");
    let text = screen(&app, 120, 40);
    assert!(text.contains("taskmanager-1"), "{text}");
    insta::assert_snapshot!("exceptions_120x40", text);
    insta::assert_snapshot!("exceptions_80x24", screen(&app, 80, 24));
    // The command line, open, shows what the text could become.
    keys(&mut app, ":e");
    insta::assert_snapshot!("command_line_80x24", screen(&app, 80, 24));
}
