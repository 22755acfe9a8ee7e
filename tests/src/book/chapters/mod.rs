//! What each chapter shows, generated: one module per chapter, each with
//! one function returning its files under `generated/chNN/`, and the
//! helpers they share (compile a job file, run a scenario in the TUI, take
//! a screen).
//!
//! | module | chapter |
//! |---|---|
//! | [`ch01`] | 1, Client and cluster |
//! | [`ch02`] | 2, JobManager and TaskManagers |
//! | [`ch03`] | 3, The JobManager's three roles |
//! | [`ch04`] | 4, Views of a dataflow |
//! | [`ch05`] | 5, Execution modes |
//! | [`ch06`] | 6, Checkpoints, failover and savepoints |
//! | [`ch07`] | 7, Breaking it on purpose |
//! | [`ch08`] | 8, Running it for real on a few machines |
//! | [`runs`] | (chapters 2, 3, 5) `sim run`, `sim compare` and REST answers of a run |
//!
//! A chapter's files are of three kinds, each made by the project itself:
//! - `*.console`: a command and what it printed (the same library calls
//!   the `mini-flink` binary makes, so the same text);
//! - `*.screen`: the TUI rendered by `tui::render` into ratatui's
//!   `TestBackend` at a fixed size, at a named moment of a scenario run in
//!   the simulator;
//! - `*.dot`: a picture as Graphviz DOT from `viz` (an `.svg` is drawn
//!   beside it where Graphviz is installed).

pub mod ch01;
pub mod ch02;
pub mod ch03;
pub mod ch04;
pub mod ch05;
pub mod ch06;
pub mod ch07;
pub mod ch08;
pub mod runs;

use super::BookError;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use runtime::graph::JobGraph;
use runtime::graph::plan::{PlanResponse, plan_text, preview_job_id};
use std::path::Path;
use tui::App;

/// The width and height every TUI screen in the book is rendered at: wide
/// enough for the dataflow screen's boxes, narrow enough for a book page.
pub const SCREEN: (u16, u16) = (120, 36);

/// Compiles a job file into its JobGraph, as `mini-flink plan` does.
pub fn compile(root: &Path, rel: &str) -> Result<JobGraph, BookError> {
    let path = root.join(rel);
    let sg = runtime::jobfile::load_job_file(&path).map_err(|e| BookError::JobFile {
        path: path.clone(),
        message: e.to_string(),
    })?;
    Ok(JobGraph::from_stream_graph(&sg))
}

/// What `mini-flink plan FILE` prints.
pub fn plan_output(jg: &JobGraph) -> String {
    plan_text(jg)
}

/// What `mini-flink plan FILE --json` prints.
pub fn plan_json_output(jg: &JobGraph) -> String {
    let resp = PlanResponse::new(jg, preview_job_id(jg));
    // A PlanResponse is plain data (strings, numbers, lists): it always
    // serialises.
    let json = serde_json::to_string_pretty(&resp).expect("a plan serialises to JSON");
    format!("{json}\n")
}

/// Loads a scenario from `scenarios/`.
pub fn scenario(root: &Path, name: &str) -> Result<sim::Scenario, BookError> {
    runs::load(root, &format!("scenarios/{name}"))
}

/// The picture model of `app`'s cluster at `at_ms` (running or replaying
/// it that far), as `tui --dot … --at` draws it.
pub fn picture_at(app: &mut App, s: &sim::Scenario, at_ms: u64) -> Result<viz::Cluster, BookError> {
    tui::pictures::picture_at(app, s, at_ms).map_err(|e| BookError::Scenario {
        path: s.path.clone(),
        message: e.to_string(),
    })
}

/// Presses one key in the TUI.
pub fn press(app: &mut App, c: char) {
    app.key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
}

/// Types a `:` command in the TUI (`checkpoints`, `exceptions`, …) and
/// presses Enter.
pub fn command(app: &mut App, cmd: &str) {
    press(app, ':');
    for c in cmd.chars() {
        press(app, c);
    }
    app.key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
}

/// Selects the job named `job` (the `o` key, as often as it takes).
pub fn select_job(app: &mut App, job: &str) -> Result<(), BookError> {
    for _ in 0..app.view.jobs.len() + 1 {
        if app.selected_job.as_deref() == Some(job) {
            return Ok(());
        }
        press(app, 'o');
    }
    Err(BookError::Scenario {
        path: job.into(),
        message: format!("no job named `{job}` to select at t={} ms", app.now_ms),
    })
}

/// The TUI's screen as text, rendered at [`SCREEN`]'s size; trailing
/// blanks of each line are cut.
pub fn screen_text(app: &App) -> String {
    let (w, h) = SCREEN;
    // A TestBackend draws into memory: neither can fail.
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("an in-memory terminal");
    t.draw(|f| tui::render(app, f))
        .expect("drawing into memory");
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
