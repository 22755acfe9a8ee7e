//! A running job's picture for the web UI (what Flink's dashboard draws
//! on a job's page with dagre-d3 in the browser; here laid out in Rust by
//! `viz`, so it works on a JobManager without Graphviz and without any
//! script library).
//!
//! `GET /jobs/:jid/dataflow?view=chained|parallel` answers
//! `{"view": …, "svg": "<svg …>"}`: the job graph of operator chains, or
//! the parallel dataflow of subtasks and channels, each box coloured by
//! its status, each edge labelled with its ship strategy, its producer's
//! records per second (averaged over the time it has been running), and
//! each chain's highest busy and back-pressured shares (Flink's "(max)").
//!
//! In: the JobMaster (graphs, executions and their counters). Out: JSON
//! with the SVG text.

use super::RestReply;
use crate::graph::picture::viz_model;
use crate::ids::ExecutionVertexId;
use crate::jobmanager::jobmaster::JobMaster;
use serde_json::json;
use viz::svg::{SvgView, VertexLive, svg};

/// The answer for a job.
pub fn picture(m: &JobMaster, parallel: bool, now_ms: u64) -> RestReply {
    let df = viz_model(&m.job_graph);
    let live: Vec<VertexLive> = (0..df.vertices.len())
        .map(|v| vertex_live(m, v as u32, now_ms))
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
/// second it sent (over the time each subtask ran) and its highest
/// back-pressure share.
fn vertex_live(m: &JobMaster, vertex: u32, now_ms: u64) -> VertexLive {
    let subtasks: Vec<_> = m
        .executions
        .range(ExecutionVertexId::new(vertex, 0)..=ExecutionVertexId::new(vertex, u32::MAX))
        .map(|(_, e)| e)
        .collect();
    let mut rate = 0.0;
    let mut backpressure: f64 = 0.0;
    let mut busy: f64 = 0.0;
    for e in &subtasks {
        let ran_ms = e.running_since.map_or(0, |since| {
            e.ended_at.unwrap_or(now_ms).saturating_sub(since)
        });
        if ran_ms > 0 {
            rate += e.counters.records_out as f64 * 1000.0 / ran_ms as f64;
            let bp = e.counters.backpressured_ms as f64 / ran_ms as f64;
            let idle = e.counters.idle_ms as f64 / ran_ms as f64;
            backpressure = backpressure.max(bp);
            busy = busy.max((1.0 - bp - idle).max(0.0));
        }
    }
    let states: Vec<String> = subtasks
        .iter()
        .map(|e| e.state().as_str().to_string())
        .collect();
    VertexLive {
        status: vertex_status(&states),
        subtasks: states,
        records_out_per_s: rate,
        backpressure: backpressure.min(1.0),
        busy: busy.min(1.0),
    }
}

/// A vertex's status from its subtasks' (Flink's `ExecutionJobVertex`
/// aggregate): all alike → that state; any failed → FAILED; else the
/// least advanced one that is still moving.
pub fn vertex_status(states: &[String]) -> String {
    let Some(first) = states.first() else {
        return "CREATED".into();
    };
    if states.iter().all(|s| s == first) {
        return first.clone();
    }
    for s in [
        "FAILED",
        "CANCELING",
        "CANCELED",
        "CREATED",
        "SCHEDULED",
        "DEPLOYING",
        "INITIALIZING",
        "RUNNING",
    ] {
        if states.iter().any(|x| x == s) {
            return s.into();
        }
    }
    first.clone()
}
