//! Chapter 4, "Views of a dataflow": one job (the pipeline of Flink's
//! "Tasks and Operator Chains" figure) seen condensed, parallel without and
//! with operator chains, and running in task slots without and with slot
//! sharing.

use super::{compile, plan_output, screen_text, select_job};
use crate::book::{BookError, Generated, transcript};
use runtime::graph::viz_model;
use std::path::Path;
use tui::{App, Screen};

/// The pipeline as written (chaining on, one slot sharing group).
pub const JOB: &str = "book/scenarios/jobs/pipeline.toml";
/// The same pipeline with `chaining = false`.
pub const UNCHAINED: &str = "book/scenarios/jobs/pipeline-unchained.toml";
/// The same pipeline with each chain in a slot sharing group of its own.
pub const GROUPS: &str = "book/scenarios/jobs/pipeline-groups.toml";

/// When the pictures and screens of the running pipeline are taken (ms):
/// it runs from 0.107 s to 4.107 s in both scenarios, and at 2 s it is
/// half-way, every subtask RUNNING.
pub const RUNNING_AT: u64 = 2_000;

/// Loads a book-only scenario from `book/scenarios/`.
pub fn book_scenario(root: &Path, name: &str) -> Result<sim::Scenario, BookError> {
    super::runs::load(root, &format!("book/scenarios/{name}"))
}

/// The slots picture of `scenario` (under `book/scenarios/`) at
/// [`RUNNING_AT`], and the App at that moment for its screens.
fn running(root: &Path, name: &str) -> Result<(App, String), BookError> {
    let s = book_scenario(root, name)?;
    let mut app = App::live(&s, None);
    let picture = super::picture_at(&mut app, &s, RUNNING_AT)?;
    select_job(&mut app, "pipeline")?;
    Ok((app, viz::cluster_dot(&picture, viz::ClusterDiagram::Slots)))
}

/// Chapter 4's files: the plans of the pipeline with and without chaining
/// and with a slot sharing group per chain; its condensed and parallel
/// views (figures "parallel dataflow" and "parallel dataflow with operator
/// chains"); the slots of two live runs, without and with slot sharing
/// (figures "operator chains in slots" and "chains sharing slots"); and the
/// TUI's cluster and parallel dataflow screens of both runs.
pub fn views_of_a_dataflow(root: &Path) -> Result<Vec<Generated>, BookError> {
    let jg = compile(root, JOB)?;
    let unchained = compile(root, UNCHAINED)?;
    let groups = compile(root, GROUPS)?;
    let plan = |file: &str, jg| transcript(&format!("mini-flink plan {file}"), &plan_output(jg));
    let mut files = vec![
        Generated::new("ch04/plan.console", plan(JOB, &jg)),
        Generated::new("ch04/plan-unchained.console", plan(UNCHAINED, &unchained)),
        Generated::new("ch04/plan-groups.console", plan(GROUPS, &groups)),
        Generated::new(
            "ch04/condensed.dot",
            viz::dot(&viz_model(&jg), viz::View::Condensed),
        ),
        Generated::new(
            "ch04/parallel-unchained.dot",
            viz::dot(&viz_model(&unchained), viz::View::Parallel),
        ),
        Generated::new(
            "ch04/parallel-chained.dot",
            viz::dot(&viz_model(&jg), viz::View::Parallel),
        ),
    ];

    // Without slot sharing: one subtask per slot.
    let (mut app, slots) = running(root, "no-slot-sharing.toml")?;
    files.push(Generated::new("ch04/slots-unshared.dot", slots));
    files.push(Generated::new(
        "ch04/cluster-unshared.screen",
        screen_text(&app),
    ));
    app.update(tui::Action::Show(Screen::Dataflow));
    app.update(tui::Action::ToggleFlow);
    files.push(Generated::new(
        "ch04/parallel-unshared.screen",
        screen_text(&app),
    ));

    // With slot sharing (the default): a whole pipeline per slot.
    let (mut app, slots) = running(root, "slot-sharing.toml")?;
    files.push(Generated::new("ch04/slots-shared.dot", slots));
    files.push(Generated::new(
        "ch04/cluster-shared.screen",
        screen_text(&app),
    ));
    app.update(tui::Action::Show(Screen::Dataflow));
    app.update(tui::Action::ToggleFlow);
    files.push(Generated::new(
        "ch04/parallel-shared.screen",
        screen_text(&app),
    ));
    Ok(files)
}
