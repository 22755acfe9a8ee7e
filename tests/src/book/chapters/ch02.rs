//! Chapter 2, "JobManager and TaskManagers": what the client asks of the
//! JobManager (submit, status, result, cancel, stop with a savepoint,
//! resume), scale-out by TaskManagers registering, JobManager high
//! availability, and data flowing TaskManager to TaskManager.

use super::runs::{load, sim_run, sim_run_grep};
use super::{press, screen_text, select_job};
use crate::book::{BookError, Generated};
use std::path::Path;
use tui::App;

/// The book's cluster of two jobs (chapters 2 and 3).
pub const TWO_JOBS: &str = "book/scenarios/two-jobs.toml";

/// Chapter 2's files: `savepoint.toml`'s report and its stop and resume,
/// a cancel in the TUI, `scale-out.toml`'s registrations, `ha.toml`'s
/// failover (report, picture before, screen after), and the cluster picture of
/// [`TWO_JOBS`] with its data connections.
pub fn jobmanager_and_taskmanagers(root: &Path) -> Result<Vec<Generated>, BookError> {
    let mut files = Vec::new();

    // Submit, status, result; stop with a savepoint; resume.
    let (brief, s, o) = sim_run(root, "scenarios/savepoint.toml", true)?;
    files.push(Generated::new("ch02/savepoint.console", brief));
    files.push(Generated::new(
        "ch02/savepoint-timeline.console",
        sim_run_grep(
            "scenarios/savepoint.toml",
            &s,
            &o,
            &["job \"counts\"", "FAULT", "savepoint 2", "checkpoint 3 of"],
        ),
    ));

    // Cancel: the `x` key on keyed-sum in session.toml, at 3 s.
    let session = load(root, "scenarios/session.toml")?;
    let mut app = App::live(&session, None);
    app.run_until(3_000);
    select_job(&mut app, "keyed-sum")?;
    press(&mut app, 'x');
    app.run_until(3_300);
    files.push(Generated::new("ch02/cancel.screen", screen_text(&app)));

    // Scale-out: TaskManagers registering late.
    let (_, s, o) = sim_run(root, "scenarios/scale-out.toml", false)?;
    files.push(Generated::new(
        "ch02/scale-out.console",
        sim_run_grep(
            "scenarios/scale-out.toml",
            &s,
            &o,
            &[
                "registered",
                "waits",
                "FAULT",
                "SlotManager gives",
                "job \"",
            ],
        ),
    ));
    let mut app = App::live(&s, None);
    app.run_until(3_010);
    files.push(Generated::new("ch02/scale-out.screen", screen_text(&app)));

    // High availability: a leader, a standby, a failover.
    let (_, s, o) = sim_run(root, "scenarios/ha.toml", false)?;
    files.push(Generated::new(
        "ch02/ha.console",
        sim_run_grep(
            "scenarios/ha.toml",
            &s,
            &o,
            &[
                "elected",
                "FAULT",
                "recovers",
                "registered",
                "job \"counts\" is",
            ],
        ),
    ));
    let mut app = App::live(&s, None);
    let before = picture(&mut app, &s, 2_000)?;
    files.push(Generated::new("ch02/ha.dot", before));
    app.run_until(5_300);
    files.push(Generated::new("ch02/ha.screen", screen_text(&app)));

    // The architecture: client, JobManager roles, TaskManagers, and data
    // between TaskManagers only.
    let s = load(root, TWO_JOBS)?;
    let mut app = App::live(&s, None);
    files.push(Generated::new(
        "ch02/architecture.dot",
        picture(&mut app, &s, 1_000)?,
    ));
    Ok(files)
}

/// The cluster picture (`tui --dot cluster --at AT`) of `app`'s run.
pub fn picture(app: &mut App, s: &sim::Scenario, at: u64) -> Result<String, BookError> {
    let c = super::picture_at(app, s, at)?;
    Ok(viz::cluster_dot(&c, viz::ClusterDiagram::Cluster))
}
