//! A running job's picture for the web UI (what Flink's dashboard draws
//! on a job's page with dagre-d3 in the browser; here laid out in Rust by
//! `viz`, so it works on a JobManager without Graphviz and without any
//! script library).
//!
//! `GET /jobs/:jid/dataflow?view=chained|parallel` answers
//! `{"view": …, "svg": "<svg …>"}`: the job graph of operator chains, or
//! the parallel dataflow of subtasks and channels, each box coloured by
//! its status, each edge labelled with its ship strategy, its producer's
//! records per second (from the latest metric reports), and
//! each chain's highest busy and back-pressured shares (Flink's "(max)").
//!
//! In: the JobMaster (graphs, executions and their counters). Out: JSON
//! with the SVG text.

use super::RestReply;
use super::executions;
use crate::graph::picture::viz_model;
use crate::jobmanager::jobmaster::JobMaster;
use serde_json::json;
use viz::svg::{SvgView, VertexLive, svg};

/// The answer for a job.
pub fn picture(m: &JobMaster, parallel: bool) -> RestReply {
    let df = viz_model(&m.job_graph);
    let live: Vec<VertexLive> = (0..df.vertices.len())
        .map(|v| vertex_live(m, v as u32))
        .collect();
    let view = if parallel {
        SvgView::Parallel
    } else {
        SvgView::Chained
    };
    RestReply::ok(json!({
        "jid": m.id.to_string(),
        "view": if parallel { "parallel" } else { "chained" },
        "svg": svg(&df, view, &live),
    }))
}

/// What is live about one vertex: its subtasks' states, the records per
/// second it sends now and its highest busy and back-pressured shares, from
/// the rates of the latest metric reports (Flink's `numRecordsOutPerSecond`,
/// `busyTimeMsPerSecond`, `backPressuredTimeMsPerSecond`).
fn vertex_live(m: &JobMaster, vertex: u32) -> VertexLive {
    let keys = executions::subtasks_of(m, vertex);
    let mut live = VertexLive {
        status: executions::vertex_status(m, vertex).as_str().to_string(),
        ..VertexLive::default()
    };
    for k in &keys {
        if let Some(e) = m.executions.get(k) {
            live.subtasks.push(e.state().as_str().to_string());
        }
        if let Some(r) = m.history.rates.get(k) {
            live.records_out_per_s += r.records_out;
            live.backpressure = live.backpressure.max(r.backpressured_ms / 1000.0);
            live.busy = live.busy.max(r.busy_ms / 1000.0);
        }
    }
    live.backpressure = live.backpressure.clamp(0.0, 1.0);
    live.busy = live.busy.clamp(0.0, 1.0);
    live
}
