//! `mini-flink plan`: the plan of a job, before it is submitted.
//!
//! Flink's client compiles a program into a JobGraph (chaining operators)
//! before it submits anything; its web UI and `GET /jobs/:id/plan` then
//! show that plan. This command compiles a job file the same way and shows
//! the plan: as text, as the JSON of `GET /jobs/:id/plan`, as Graphviz DOT
//! of one view (condensed StreamGraph, chained JobGraph, parallel
//! ExecutionGraph), or drawn as SVG. In: a job file. Out: standard output
//! or an SVG file; nothing is sent to a cluster.

use super::compile;
use anyhow::{Result, anyhow, bail};
use clap::Args;
use runtime::graph::plan::{PlanResponse, plan_text, preview_job_id};
use runtime::graph::viz_model;
use std::path::PathBuf;
use std::process::ExitCode;

/// `mini-flink plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The job file (TOML).
    job: PathBuf,
    /// Print the plan as the JSON of Flink's `GET /jobs/:id/plan` (plus `name` and `slots`).
    #[arg(long, conflicts_with_all = ["dot", "svg"])]
    json: bool,
    /// Print Graphviz DOT of a view: condensed (StreamGraph), chained (JobGraph)
    /// or parallel (ExecutionGraph). With --svg: the view to draw.
    #[arg(long, value_name = "VIEW", value_parser = parse_view)]
    dot: Option<viz::View>,
    /// Draw the view (default: chained) as SVG into FILE with Graphviz's `dot` program.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
}

/// A `--dot` value that names no view.
#[derive(Debug, thiserror::Error)]
#[error("unknown view `{0}`: the views are condensed, chained and parallel")]
struct UnknownView(String);

/// Parses `--dot`'s view name.
fn parse_view(s: &str) -> Result<viz::View, UnknownView> {
    viz::View::parse(s).ok_or_else(|| UnknownView(s.to_string()))
}

/// Compiles the job file and prints (or draws) its plan.
pub fn plan(a: PlanArgs) -> Result<ExitCode> {
    let jg = compile(&a.job)?;
    if a.json {
        let resp = PlanResponse::new(&jg, preview_job_id(&jg));
        say!("{}", serde_json::to_string_pretty(&resp)?);
    } else if let Some(out) = &a.svg {
        let view = a.dot.unwrap_or(viz::View::Chained);
        if !viz::dot_available() {
            bail!(
                "cannot draw {}: the `dot` program (graphviz) is not installed or not on PATH; \
                 install graphviz (e.g. `apt-get install graphviz`), or print the DOT text \
                 with `--dot {}` and render it elsewhere",
                out.display(),
                view
            );
        }
        let dot = viz::dot(&viz_model(&jg), view);
        viz::render_svg(&dot, out).map_err(|e| anyhow!("cannot draw {}: {e}", out.display()))?;
        say!(
            "wrote the {view} view of job \"{}\" to {}",
            jg.name,
            out.display()
        );
    } else if let Some(view) = a.dot {
        say_raw!("{}", viz::dot(&viz_model(&jg), view));
    } else {
        say_raw!("{}", plan_text(&jg));
    }
    Ok(ExitCode::SUCCESS)
}
