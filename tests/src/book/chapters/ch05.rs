//! Chapter 5, "Execution modes": session, job and application clusters;
//! where `main` runs; one `main` submitting several jobs; what one
//! TaskManager crash takes down; what start-up costs (`sim compare`).

use super::ch02::picture;
use super::runs::{compare, sim_run, sim_run_grep};
use super::screen_text;
use crate::book::{BookError, Generated};
use std::path::Path;
use tui::App;

/// Chapter 5's files: job clusters (`job.toml`: report, screen),
/// application clusters (`application.toml`: where `main` ran, screen),
/// `main` on the client of a session cluster (`compare-modes.toml`), a
/// crash without a restart strategy (`tm-crash.toml`), the session
/// cluster of `compare-modes.toml` before and after its crash (picture,
/// screen), and `sim compare`.
pub fn execution_modes(root: &Path) -> Result<Vec<Generated>, BookError> {
    let mut files = Vec::new();

    // Job clusters.
    let (brief, s, _) = sim_run(root, "scenarios/job.toml", true)?;
    files.push(Generated::new("ch05/job.console", brief));
    let mut app = App::live(&s, None);
    app.run_until(18_600);
    files.push(Generated::new("ch05/job.screen", screen_text(&app)));

    // Application clusters: main() on the JobManager.
    let (_, s, o) = sim_run(root, "scenarios/application.toml", false)?;
    files.push(Generated::new(
        "ch05/application.console",
        sim_run_grep(
            "scenarios/application.toml",
            &s,
            &o,
            &["main()", "deploys", "torn down"],
        ),
    ));
    let mut app = App::live(&s, None);
    app.run_until(17_603);
    files.push(Generated::new("ch05/application.screen", screen_text(&app)));

    // A session cluster: main() on the client, one crash for many jobs.
    let (_, s, o) = sim_run(root, "scenarios/compare-modes.toml", false)?;
    files.push(Generated::new(
        "ch05/session-main.console",
        sim_run_grep("scenarios/compare-modes.toml", &s, &o, &["main()"]),
    ));
    files.push(Generated::new(
        "ch05/session-crash.console",
        sim_run_grep(
            "scenarios/compare-modes.toml",
            &s,
            &o,
            &["FAULT", "is lost", "is RESTARTING"],
        ),
    ));
    let mut app = App::live(&s, None);
    files.push(Generated::new(
        "ch05/session.dot",
        picture(&mut app, &s, 25_000)?,
    ));
    app.run_until(35_100);
    files.push(Generated::new(
        "ch05/session-crash.screen",
        screen_text(&app),
    ));

    // A crash without a restart strategy: the job fails.
    let (brief, _, _) = sim_run(root, "scenarios/tm-crash.toml", true)?;
    files.push(Generated::new("ch05/tm-crash.console", brief));

    // The three modes side by side.
    files.push(Generated::new(
        "ch05/compare.console",
        compare(root, "scenarios/compare-modes.toml")?,
    ));
    Ok(files)
}
