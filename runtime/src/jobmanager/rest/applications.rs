//! Applications, as Flink 2.x shows them: `/applications/overview` and
//! `/applications/:id` (Flink's `ApplicationsOverviewHandler` and
//! `ApplicationDetailsHandler`).
//!
//! A job submitted on its own is its own application,
//! `SingleJobApplication(<name>)`, with the job's id. (An application
//! mode `main` that submits several jobs is not told apart yet: the
//! Dispatcher does not record which submission came from it, so each of
//! its jobs shows as a single-job application too.)
//!
//! A leaf: imports [`roles`](super::roles) and [`jobs`](super::jobs). In:
//! the Dispatcher's JobMasters. Out: JSON in Flink 2.3's shapes.

use super::RestReply;
use super::jobs;
use super::roles::Roles;
use crate::jobmanager::jobmaster::JobMaster;
use crate::state::JobStatus;
use serde_json::{Value, json};

/// The application a job is, as the overview lists it.
fn summary(m: &JobMaster, r: &Roles<'_>) -> Value {
    let until = m.ended_at.unwrap_or(r.now_ms);
    json!({
        "id": m.id.to_string(),
        "name": format!("SingleJobApplication({})", m.job_graph.name),
        "start-time": r.epoch(m.submitted_at),
        "end-time": r.epoch_or_minus_one(m.ended_at),
        "duration": until.saturating_sub(m.submitted_at),
        "status": m.status().as_str(),
        "jobs": { m.status().as_str(): 1 },
    })
}

/// When the application entered each of Flink's `ApplicationState`s
/// (epoch ms, 0: never): its job's statuses, `CANCELLING` spelled
/// `CANCELING` as applications spell it.
fn timestamps(m: &JobMaster, r: &Roles<'_>) -> Value {
    let mut o = serde_json::Map::new();
    for (app, job) in [
        ("CREATED", JobStatus::Created),
        ("RUNNING", JobStatus::Running),
        ("FAILING", JobStatus::Failing),
        ("FAILED", JobStatus::Failed),
        ("CANCELING", JobStatus::Cancelling),
        ("CANCELED", JobStatus::Canceled),
        ("FINISHED", JobStatus::Finished),
    ] {
        let at = m.history.status_at.get(&job).map_or(0, |t| r.epoch(*t));
        o.insert(app.into(), json!(at));
    }
    Value::Object(o)
}

/// `GET /applications/overview`: newest first.
pub fn overview(r: &Roles<'_>) -> RestReply {
    let apps: Vec<Value> = r
        .dispatcher
        .order
        .iter()
        .rev()
        .filter_map(|id| r.dispatcher.jobs.get(id))
        .map(|m| summary(m, r))
        .collect();
    RestReply::ok(json!({ "applications": apps }))
}

/// `GET /applications/:id`.
pub fn details(id: &str, r: &Roles<'_>) -> RestReply {
    let Ok(m) = r.job(id) else {
        return RestReply::error(404, format!("Application {id} not found"));
    };
    let mut o = summary(m, r);
    if let Value::Object(map) = &mut o {
        map.insert("timestamps".into(), timestamps(m, r));
        map.insert("jobs".into(), json!([jobs::job_summary(m, r)]));
    }
    RestReply::ok(o)
}
