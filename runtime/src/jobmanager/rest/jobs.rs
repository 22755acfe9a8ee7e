//! A job's answers: `/jobs`, `/jobs/overview`, `/jobs/:jid` and its
//! sub-resources (Flink's `JobIdsHandler`, `JobsOverviewHandler`,
//! `JobDetailsHandler`, `JobPlanHandler`, `JobStatusHandler`,
//! `JobExecutionResultHandler`, `JobConfigHandler`, `JobExceptionsHandler`,
//! `JobMetricsHandler`).
//!
//! In: the JobMaster (its ExecutionGraph, executions, status and
//! [`history`](crate::jobmanager::jobmaster::history)). Out: JSON in Flink
//! 2.3's shapes. The checkpoint answers are in [`super::checkpoints`].

use super::executions::{self, state_counts, task_counts};
use super::metrics;
use super::roles::Roles;
use super::{JobView, RestReply};
use crate::graph::plan::PlanResponse;
use crate::jobmanager::jobmaster::JobMaster;
use crate::state::JobStatus;
use serde_json::{Map, Value, json};

/// Every JobStatus (with Flink's `SUSPENDED` and `RECONCILING`, which we
/// never enter) as `timestamps` lists them.
const STATUSES: [&str; 11] = [
    "INITIALIZING",
    "CREATED",
    "RUNNING",
    "FAILING",
    "FAILED",
    "CANCELLING",
    "CANCELED",
    "FINISHED",
    "RESTARTING",
    "SUSPENDED",
    "RECONCILING",
];

/// One job as `/jobs/overview` and `/applications/:id` list it.
pub fn job_summary(m: &JobMaster, r: &Roles<'_>) -> Value {
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

/// The jobs newest first, as Flink lists them.
fn newest_first<'a>(r: &'a Roles<'_>) -> impl Iterator<Item = &'a JobMaster> {
    r.dispatcher
        .order
        .iter()
        .rev()
        .filter_map(|id| r.dispatcher.jobs.get(id))
}

/// `GET /jobs/overview`.
pub fn overview(r: &Roles<'_>) -> RestReply {
    let jobs: Vec<Value> = newest_first(r).map(|m| job_summary(m, r)).collect();
    RestReply::ok(json!({ "jobs": jobs }))
}

/// `GET /jobs`: ids and statuses.
pub fn ids(r: &Roles<'_>) -> RestReply {
    let jobs: Vec<Value> = newest_first(r)
        .map(|m| json!({ "id": m.id.to_string(), "status": m.status().as_str() }))
        .collect();
    RestReply::ok(json!({ "jobs": jobs }))
}

/// When the job entered each status, in epoch ms (0: never), as Flink's
/// `timestamps`.
pub fn status_timestamps(m: &JobMaster, r: &Roles<'_>) -> Value {
    let mut o = Map::new();
    for name in STATUSES {
        let at = m.history.status_at.iter().find(|(s, _)| s.as_str() == name);
        o.insert(name.into(), json!(at.map_or(0, |(_, t)| r.epoch(*t))));
    }
    Value::Object(o)
}

/// One of a job's read-only answers.
pub fn view(m: &JobMaster, what: &JobView, r: &Roles<'_>) -> RestReply {
    match what {
        JobView::Plan => RestReply::ok(json!({ "plan": plan(m) })),
        JobView::Status => RestReply::ok(json!({ "status": m.status().as_str() })),
        JobView::Details => details(m, r),
        JobView::ExecutionResult => execution_result(m, r),
        JobView::Config => config(m),
        JobView::Exceptions { max } => exceptions(m, *max, r),
        JobView::Metrics { get } => job_metrics(m, get, r),
        JobView::Checkpoints => super::checkpoints::overview(m, r),
        JobView::CheckpointConfig => super::checkpoints::config(m),
        JobView::CheckpointDetails { cid } => super::checkpoints::details(m, cid, r),
        JobView::Dataflow { parallel } => super::dataflow::picture(m, *parallel),
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
        _ => Map::new(),
    };
    o.remove("tasks");
    o.remove("jobType");
    let vertices: Vec<Value> = m
        .job_graph
        .vertices()
        .enumerate()
        .map(|(v, vx)| {
            let keys = executions::subtasks_of(m, v as u32);
            let (start, end, duration) = executions::times(m, &keys, r);
            let execs = keys.iter().filter_map(|k| m.executions.get(k));
            json!({
                "id": vx.id.to_string(),
                "slotSharingGroupId": vx.slot_sharing_group,
                "name": vx.name,
                "maxParallelism": executions::max_parallelism(vx.parallelism),
                "parallelism": vx.parallelism,
                "status": executions::vertex_status(m, v as u32).as_str(),
                "start-time": start,
                "end-time": end,
                "duration": duration,
                "tasks": state_counts(execs.clone()),
                "metrics": executions::io_metrics(execs, r.now_ms),
            })
        })
        .collect();
    o.insert("job-type".into(), json!("STREAMING"));
    o.insert("application-id".into(), json!(m.id.to_string()));
    o.insert("isStoppable".into(), json!(false));
    o.insert("maxParallelism".into(), json!(-1));
    o.insert("now".into(), json!(r.epoch(r.now_ms)));
    o.insert("timestamps".into(), status_timestamps(m, r));
    o.insert("vertices".into(), json!(vertices));
    o.insert("status-counts".into(), state_counts(m.executions.values()));
    o.insert("plan".into(), plan(m));
    RestReply::ok(Value::Object(o))
}

/// `GET /jobs/:jid/execution-result`: `IN_PROGRESS` until the job ends.
fn execution_result(m: &JobMaster, r: &Roles<'_>) -> RestReply {
    let Some(end) = m.ended_at else {
        return RestReply::ok(json!({ "status": { "id": "IN_PROGRESS" } }));
    };
    let app_status = match m.status() {
        JobStatus::Finished => "SUCCEEDED",
        JobStatus::Canceled => "CANCELED",
        _ => "FAILED",
    };
    let mut result = json!({
        "id": m.id.to_string(),
        "name": m.job_graph.name,
        "application-status": app_status,
        "accumulator-results": {},
        "net-runtime": end.saturating_sub(m.submitted_at),
        "application-id": m.id.to_string(),
        "start-time": r.epoch(m.submitted_at),
        "end-time": r.epoch(end),
    });
    if let (Some(cause), Value::Object(o)) = (&m.cause, &mut result) {
        o.insert(
            "failure-cause".into(),
            json!({ "class": "org.apache.flink.runtime.JobException", "stack-trace": cause, "serialized-throwable": "" }),
        );
    }
    RestReply::ok(json!({ "status": { "id": "COMPLETED" }, "job-execution-result": result }))
}

/// `GET /jobs/:jid/config`.
fn config(m: &JobMaster) -> RestReply {
    let parallelism = m
        .job_graph
        .vertices()
        .map(|v| v.parallelism)
        .max()
        .unwrap_or(1);
    RestReply::ok(json!({
        "jid": m.id.to_string(),
        "name": m.job_graph.name,
        "execution-config": {
            "restart-strategy": m.restart.to_string(),
            "job-parallelism": parallelism,
            "object-reuse-mode": false,
            "user-config": {},
        },
    }))
}

/// `GET /jobs/:jid/exceptions?maxExceptions=n`: newest first.
fn exceptions(m: &JobMaster, max: Option<usize>, r: &Roles<'_>) -> RestReply {
    let h = &m.history;
    let max = max.unwrap_or(h.exceptions.len());
    let entries: Vec<Value> = h
        .exceptions
        .iter()
        .rev()
        .take(max)
        .map(|e| {
            json!({
                "exceptionName": "org.apache.flink.runtime.JobException",
                "stacktrace": e.cause,
                "timestamp": r.epoch(e.at),
                "taskName": e.task_name,
                "location": e.endpoint,
                "endpoint": e.endpoint,
                "taskManagerId": e.task_manager,
                "failureLabels": {},
                "concurrentExceptions": [],
            })
        })
        .collect();
    let truncated = h.exceptions_seen > entries.len();
    RestReply::ok(json!({ "exceptionHistory": { "entries": entries, "truncated": truncated } }))
}

/// The job metrics we know (Flink's `JobManagerJobMetricGroup`).
const JOB_METRICS: [&str; 8] = [
    "uptime",
    "downtime",
    "numRestarts",
    "fullRestarts",
    "numberOfCompletedCheckpoints",
    "numberOfFailedCheckpoints",
    "numberOfInProgressCheckpoints",
    "lastCheckpointDuration",
];

/// `GET /jobs/:jid/metrics?get=…`.
fn job_metrics(m: &JobMaster, get: &[String], r: &Roles<'_>) -> RestReply {
    let st = &m.checkpoints.stats;
    let running = m.status() == JobStatus::Running;
    let value = |name: &str| -> Option<String> {
        let v = match name {
            "uptime" => m
                .running_at
                .filter(|_| running)
                .map_or(0, |t| r.now_ms.saturating_sub(t)),
            "downtime" => 0,
            "numRestarts" | "fullRestarts" => u64::from(m.tracker.restarts()),
            "numberOfCompletedCheckpoints" => st.completed,
            "numberOfFailedCheckpoints" => st.failed,
            "numberOfInProgressCheckpoints" => st.in_progress() as u64,
            "lastCheckpointDuration" => st
                .latest(super::checkpoints::COMPLETED, None)
                .map_or(0, |c| c.duration()),
            _ => return None,
        };
        Some(v.to_string())
    };
    RestReply::ok(metrics::pick(get, &JOB_METRICS, value))
}
