//! Chapter 6, "Checkpoints, failover and savepoints": checkpoints of a
//! running job (`checkpointing.toml`), recovery from the latest one after a
//! TaskManager crash (`failover.toml`, `failover-unaligned.toml`), aligned
//! and unaligned checkpoints under back-pressure (`slow-sink.toml`,
//! `backpressure.toml`), and stop-with-savepoint and resume
//! (`savepoint.toml`).

use super::{scenario, screen_text, select_job};
use crate::book::{BookError, Generated, transcript};
use std::path::Path;
use tui::{App, Screen};

/// What `sim run scenarios/NAME` prints (`--brief`: without the timeline),
/// from the same calls `sim`'s `main` makes.
pub fn sim_run(root: &Path, name: &str, brief: bool) -> Result<String, BookError> {
    let s = scenario(root, name)?;
    Ok(super::runs::summary(&s, &super::runs::run(&s)?, brief))
}

/// The lines of `text` holding any of `patterns`, as `grep -E 'A|B'` keeps
/// them, and that command. The patterns are plain text (no character that
/// `grep -E` reads as an operator), so the two agree.
pub fn grep(text: &str, patterns: &[&str]) -> (String, String) {
    const SPECIAL: &[char] = &[
        '.', '[', ']', '(', ')', '*', '+', '?', '{', '}', '|', '^', '$', '\\', '\'',
    ];
    assert!(
        patterns.iter().all(|p| !p.contains(SPECIAL)),
        "grep patterns are plain text: {patterns:?}"
    );
    (
        format!("grep -E '{}'", patterns.join("|")),
        super::runs::grep(text, patterns),
    )
}

/// `sim run scenarios/NAME | grep -E '…'`, as a console transcript.
fn sim_grep(root: &Path, name: &str, patterns: &[&str]) -> Result<String, BookError> {
    let (cmd, kept) = grep(&sim_run(root, name, false)?, patterns);
    Ok(transcript(
        &format!("sim run scenarios/{name} | {cmd}"),
        &kept,
    ))
}

/// `sim run scenarios/NAME --brief`, as a console transcript.
fn sim_brief(root: &Path, name: &str) -> Result<String, BookError> {
    Ok(transcript(
        &format!("sim run scenarios/{name} --brief"),
        &sim_run(root, name, true)?,
    ))
}

/// The TUI running scenario `name` live, at `at_ms`, with `job` selected.
fn tui_at(root: &Path, name: &str, at_ms: u64, job: &str) -> Result<App, BookError> {
    let s = scenario(root, name)?;
    let mut app = App::live(&s, None);
    app.run_until(at_ms);
    select_job(&mut app, job)?;
    Ok(app)
}

/// The slots picture of scenario `name` at `at_ms`.
fn slots_at(root: &Path, name: &str, at_ms: u64) -> Result<String, BookError> {
    let s = scenario(root, name)?;
    let mut app = App::live(&s, None);
    let picture = super::picture_at(&mut app, &s, at_ms)?;
    Ok(viz::cluster_dot(&picture, viz::ClusterDiagram::Slots))
}

/// Chapter 6's files.
pub fn checkpoints(root: &Path) -> Result<Vec<Generated>, BookError> {
    let mut files = vec![
        // Checkpoints of a running job, and one checkpoint's life.
        Generated::new(
            "ch06/checkpointing.console",
            sim_brief(root, "checkpointing.toml")?,
        ),
        Generated::new(
            "ch06/checkpoint-2.console",
            sim_grep(root, "checkpointing.toml", &["checkpoint 2 "])?,
        ),
    ];
    // 1.120 s: checkpoint 2 was triggered at 1.110 s and is not yet
    // acknowledged (its acknowledgements come at 1.131 s).
    let mut app = tui_at(root, "checkpointing.toml", 1_120, "counts")?;
    files.push(Generated::new(
        "ch06/checkpointing.screen",
        screen_text(&app),
    ));
    app.update(tui::Action::Show(Screen::Events));
    files.push(Generated::new(
        "ch06/checkpointing-events.screen",
        screen_text(&app),
    ));

    // A TaskManager crash, and the recovery from checkpoint 5.
    files.push(Generated::new(
        "ch06/failover.console",
        sim_brief(root, "failover.toml")?,
    ));
    files.push(Generated::new(
        "ch06/failover-timeline.console",
        sim_grep(
            root,
            "failover.toml",
            &[
                "checkpoint 5 of",
                "checkpoint 6 of",
                "checkpoint 7 of",
                "FAULT",
                "taskmanager-1 is lost",
                "RESTARTING",
                "restarting",
                "redeployed",
            ],
        )?,
    ));
    // 5 s: taskmanager-1 crashed at 3 s; the JobManager notices at 8 s.
    files.push(Generated::new(
        "ch06/failover-crashed.dot",
        slots_at(root, "failover.toml", 5_000)?,
    ));
    let app = tui_at(root, "failover.toml", 5_000, "counts")?;
    files.push(Generated::new(
        "ch06/failover-crashed.screen",
        screen_text(&app),
    ));
    // 9.1 s: redeployed on taskmanager-2 at 9 s from checkpoint 5;
    // checkpoint 7 completed at 9.018 s.
    files.push(Generated::new(
        "ch06/failover-restored.dot",
        slots_at(root, "failover.toml", 9_100)?,
    ));
    let mut app = tui_at(root, "failover.toml", 9_100, "counts")?;
    files.push(Generated::new(
        "ch06/failover-restored.screen",
        screen_text(&app),
    ));
    // The same moment on the `:checkpoints` and `:exceptions` screens.
    super::command(&mut app, "checkpoints");
    files.push(Generated::new(
        "ch06/failover-checkpoints.screen",
        screen_text(&app),
    ));
    super::command(&mut app, "exceptions");
    files.push(Generated::new(
        "ch06/failover-exceptions.screen",
        screen_text(&app),
    ));

    // Back-pressure, and what it does to aligned and unaligned checkpoints.
    files.push(Generated::new(
        "ch06/slow-sink.console",
        sim_brief(root, "slow-sink.toml")?,
    ));
    files.push(Generated::new(
        "ch06/backpressure.console",
        sim_brief(root, "backpressure.toml")?,
    ));
    // 3.2 s: both jobs triggered checkpoint 3 at 3.110 s; the unaligned one
    // has completed it, the aligned one waits for its Sum subtasks.
    let app = tui_at(root, "backpressure.toml", 3_200, "aligned")?;
    files.push(Generated::new(
        "ch06/backpressure.screen",
        screen_text(&app),
    ));
    files.push(Generated::new(
        "ch06/checkpoint-9-aligned.console",
        sim_grep(root, "failover.toml", &["checkpoint 9 "])?,
    ));
    files.push(Generated::new(
        "ch06/checkpoint-9-unaligned.console",
        sim_grep(root, "failover-unaligned.toml", &["checkpoint 9 "])?,
    ));
    files.push(Generated::new(
        "ch06/failover-unaligned.console",
        sim_brief(root, "failover-unaligned.toml")?,
    ));

    // Stop with a savepoint, then resume from it.
    files.push(Generated::new(
        "ch06/savepoint.console",
        sim_brief(root, "savepoint.toml")?,
    ));
    files.push(Generated::new(
        "ch06/savepoint-timeline.console",
        sim_grep(
            root,
            "savepoint.toml",
            &[
                "FAULT",
                "savepoint 2 ",
                "checkpoint 1 of",
                "checkpoint 2 of",
                "checkpoint 3 of",
                "submitted:",
                "\"counts\" is FINISHED",
            ],
        )?,
    ));
    // 5.2 s: the job resumed from savepoint 2 at 4.085 s, and took
    // checkpoint 3 at 5.090 s.
    let app = tui_at(root, "savepoint.toml", 5_200, "counts")?;
    files.push(Generated::new("ch06/savepoint.screen", screen_text(&app)));
    Ok(files)
}
