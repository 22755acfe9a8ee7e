//! Chapter 1, "Client and cluster": `mini-flink plan` on the client, and
//! the plan arriving at a session cluster.

use super::{compile, plan_json_output, plan_output, scenario, screen_text, select_job};
use crate::book::{BookError, Generated, transcript};
use runtime::graph::viz_model;
use std::path::Path;
use tui::{App, Screen};

/// Chapter 1, "Client and cluster": the plan of `wordcount.toml` as the
/// client builds it (text, JSON, condensed and chained pictures), and the
/// TUI a moment after the client submitted that plan to a session cluster
/// (`session.toml`).
pub fn client_and_cluster(root: &Path) -> Result<Vec<Generated>, BookError> {
    const JOB: &str = "scenarios/jobs/wordcount.toml";
    let jg = compile(root, JOB)?;
    let model = viz_model(&jg);
    let mut files = vec![
        Generated::new(
            "ch01/plan.console",
            transcript(&format!("mini-flink plan {JOB}"), &plan_output(&jg)),
        ),
        Generated::new(
            "ch01/plan-json.console",
            transcript(
                &format!("mini-flink plan {JOB} --json"),
                &plan_json_output(&jg),
            ),
        ),
        Generated::new("ch01/condensed.dot", viz::dot(&model, viz::View::Condensed)),
        Generated::new("ch01/chained.dot", viz::dot(&model, viz::View::Chained)),
    ];

    // session.toml submits wordcount at 1.5 s; at 1.528 s its tasks are deployed into
    // the slots its plan asked for.
    let s = scenario(root, "session.toml")?;
    let mut app = App::live(&s, None);
    app.run_until(1_528);
    select_job(&mut app, "wordcount")?;
    files.push(Generated::new("ch01/cluster.screen", screen_text(&app)));
    app.update(tui::Action::Show(Screen::Dataflow));
    files.push(Generated::new("ch01/dataflow.screen", screen_text(&app)));
    Ok(files)
}
