//! A job's answers: `/jobs/overview`, `/jobs/:jid` and its sub-resources
//! (Flink's `JobsOverviewHandler`, `JobDetailsHandler`, `JobPlanHandler`,
//! `JobStatusHandler`, …).
//!
//! In: the JobMaster (its ExecutionGraph, executions and status). Out:
//! JSON in Flink 2.3's shapes.

use super::roles::Roles;
use super::{JobView, RestReply};
use crate::graph::plan::PlanResponse;
use crate::jobmanager::jobmaster::JobMaster;
use crate::state::ExecutionState;
use serde_json::{Value, json};

/// Every ExecutionState, in the order Flink's `tasks` objects list them.
const STATES: [ExecutionState; 9] = [
    ExecutionState::Created,
    ExecutionState::Scheduled,
    ExecutionState::Deploying,
    ExecutionState::Initializing,
    ExecutionState::Running,
    ExecutionState::Finished,
    ExecutionState::Canceling,
    ExecutionState::Canceled,
    ExecutionState::Failed,
];

/// A job's executions counted per state, as `{"running": 2, …, "total": 4}`.
fn task_counts(m: &JobMaster) -> Value {
    let mut o = serde_json::Map::new();
    for s in STATES {
        let n = m.executions.values().filter(|e| e.state() == s).count();
        o.insert(s.as_str().to_lowercase(), json!(n));
    }
    o.insert("reconciling".into(), json!(0));
    o.insert("total".into(), json!(m.executions.len()));
    Value::Object(o)
}

/// One job as `/jobs/overview` lists it.
fn job_summary(m: &JobMaster, r: &Roles<'_>) -> Value {
    let end = r.epoch_or_minus_one(m.ended_at);
    let until = m.ended_at.unwrap_or(r.now_ms);
    json!({
        "jid": m.id.to_string(),
        "name": m.job_graph.name,
        "jobType": "STREAMING",
        "schedulerType": "Default",
        "start-time": r.epoch(m.submitted_at),
        "end-time": end,
        "duration": until.saturating_sub(m.submitted_at),
        "state": m.status().as_str(),
        "last-modification": r.epoch(m.ended_at.or(m.running_at).unwrap_or(m.submitted_at)),
        "tasks": task_counts(m),
        "pending-operators": 0,
    })
}

/// `GET /jobs/overview`: every job, newest first as Flink lists them.
pub fn overview(r: &Roles<'_>) -> RestReply {
    let jobs: Vec<Value> = r
        .dispatcher
        .order
        .iter()
        .rev()
        .filter_map(|id| r.dispatcher.jobs.get(id))
        .map(|m| job_summary(m, r))
        .collect();
    RestReply::ok(json!({ "jobs": jobs }))
}

/// One of a job's read-only answers.
pub fn view(m: &JobMaster, what: &JobView, r: &Roles<'_>) -> RestReply {
    match what {
        JobView::Plan => RestReply::ok(json!({ "plan": plan(m) })),
        JobView::Status => RestReply::ok(json!({ "status": m.status().as_str() })),
        JobView::Details => details(m, r),
        other => RestReply::error(501, format!("not implemented yet: {other:?}")),
    }
}

/// The job's plan (Flink's `JsonPlanGenerator` output).
fn plan(m: &JobMaster) -> Value {
    serde_json::to_value(PlanResponse::new(&m.job_graph, m.id).plan).unwrap_or(Value::Null)
}

/// `GET /jobs/:jid`.
fn details(m: &JobMaster, r: &Roles<'_>) -> RestReply {
    let mut o = match job_summary(m, r) {
        Value::Object(o) => o,
        _ => serde_json::Map::new(),
    };
    o.remove("tasks");
    o.remove("jobType");
    o.insert("job-type".into(), json!("STREAMING"));
    o.insert("application-id".into(), json!(m.id.to_string()));
    o.insert("isStoppable".into(), json!(false));
    o.insert("maxParallelism".into(), json!(-1));
    o.insert("now".into(), json!(r.epoch(r.now_ms)));
    o.insert("plan".into(), plan(m));
    RestReply::ok(Value::Object(o))
}
