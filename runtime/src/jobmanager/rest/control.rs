//! Control calls on a running job: cancel, savepoints, stop-with-savepoint
//! and checkpoints on demand (Flink's `JobCancellationHandler`,
//! `SavepointHandlers.SavepointTriggerHandler` and
//! `SavepointStatusHandler`, `StopWithSavepointHandler`,
//! `CheckpointHandlers.CheckpointTriggerHandler` and
//! `CheckpointStatusHandler`).
//!
//! A trigger is an asynchronous operation as in Flink: the answer is 202
//! with a `request-id`, and `GET /jobs/:jid/savepoints/:triggerid` reports
//! `IN_PROGRESS` until the savepoint is written (and, for a stop, until
//! the job has finished), then `COMPLETED` with its `location`, or with a
//! `failure-cause` when it was aborted or the job ended without it. A
//! checkpoint triggered on demand is polled the same way at
//! `GET /jobs/:jid/checkpoints/:triggerid`, which completes with its
//! `checkpointId` (or a `failureCause`): the first checkpoint, not a
//! savepoint, triggered after the request. The
//! request ids are deterministic: a hash of the store's counter and the
//! job (the same hash as the graphs' ids), so the simulator replays them.
//!
//! In: a job id from the URL, a JSON body (`targetDirectory`, `cancel-job`,
//! `drain`), the JobMasters. Out: 202/200 answers in Flink's shapes;
//! savepoint and checkpoint requests to the job's CheckpointCoordinator;
//! a cancel through the JobMaster, as a client's `Cancel` would.

use super::RestReply;
use super::roles::{CheckpointTrigger, Roles, SavepointTrigger};
use crate::jobmanager::checkpoint::coordinator::SavepointError;
use crate::jobmanager::checkpoint::stats::CheckpointOutcome;
use crate::jobmanager::outbox::Outbox;
use serde::Deserialize;
use serde_json::{Value, json};

/// A savepoint or stop request's body, as Flink's
/// `SavepointTriggerRequestBody` and `StopWithSavepointRequestBody`.
#[derive(Debug, Default, Deserialize)]
struct TriggerBody {
    /// Where to write it. mini-flink writes every savepoint to the
    /// JobManager's checkpoint directory (`--checkpoint-dir`), so this is
    /// accepted and not used.
    #[serde(rename = "targetDirectory")]
    _target_directory: Option<String>,
    /// `POST /savepoints` with `cancel-job: true`: end the job after it
    /// (Flink's deprecated cancel-with-savepoint, here a stop).
    #[serde(rename = "cancel-job")]
    cancel_job: Option<bool>,
    /// Stop with `MAX_WATERMARK` first. Our sources end at the barrier
    /// either way, so this is accepted and not used.
    #[serde(rename = "drain")]
    _drain: Option<bool>,
}

/// Reads an optional JSON body: empty is the default, anything else must
/// be the JSON object `T` describes (400 otherwise, with serde's line and column).
pub fn json_body<T: for<'de> Deserialize<'de> + Default>(body: &[u8]) -> Result<T, RestReply> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        RestReply::error(
            400,
            format!("Request body is not valid JSON for this request: {e}"),
        )
    })
}

/// `PATCH /jobs/:jid?mode=cancel`: 202 `{}`, or 409 when the job is
/// already ending or ended.
pub fn cancel(r: &mut Roles<'_>, jid: &str, out: &mut Outbox) -> RestReply {
    let Some(m) = crate::graph::JobId::parse(jid).and_then(|id| r.dispatcher.master(id)) else {
        return RestReply::unknown_job(jid);
    };
    if m.cancel(out) {
        RestReply::accepted(json!({}))
    } else {
        RestReply::error(
            409,
            format!(
                "Job {jid} is already {}: it cannot be cancelled.",
                m.status().as_str()
            ),
        )
    }
}

/// `POST /jobs/:jid/savepoints` (`stop` false) and `POST /jobs/:jid/stop`.
pub fn trigger_savepoint(r: &mut Roles<'_>, jid: &str, stop: bool, body: &[u8]) -> RestReply {
    let body: TriggerBody = match json_body(body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let stop = stop || body.cancel_job == Some(true);
    let Some(job) = crate::graph::JobId::parse(jid) else {
        return RestReply::unknown_job(jid);
    };
    let Some(m) = r.dispatcher.master(job) else {
        return RestReply::unknown_job(jid);
    };
    let savepoints_before = m.checkpoints.savepoints.len();
    if let Err(e) = m.request_savepoint(stop) {
        return refused(&e);
    }
    let what = if stop { "stop" } else { "savepoint" };
    let id = r.store.next_id(what, &job.to_string());
    r.store.triggers.insert(
        id.clone(),
        SavepointTrigger {
            job,
            savepoints_before,
            stop,
        },
    );
    RestReply::accepted(json!({ "request-id": id }))
}

/// `POST /jobs/:jid/checkpoints`: a checkpoint now, ahead of the interval.
pub fn trigger_checkpoint(r: &mut Roles<'_>, jid: &str) -> RestReply {
    let Some(job) = crate::graph::JobId::parse(jid) else {
        return RestReply::unknown_job(jid);
    };
    let Some(m) = r.dispatcher.master(job) else {
        return RestReply::unknown_job(jid);
    };
    if let Err(e) = m.request_checkpoint() {
        return refused(&e);
    }
    let from = m.checkpoints.next_id;
    let id = r.store.next_id("checkpoint", &job.to_string());
    r.store
        .checkpoint_triggers
        .insert(id.clone(), CheckpointTrigger { job, from });
    RestReply::accepted(json!({ "request-id": id }))
}

/// `GET /jobs/:jid/checkpoints/:triggerid`: the checkpoint a trigger
/// asked for, as Flink's `AsynchronousOperationResult<CheckpointInfo>`.
pub fn checkpoint_status(r: &Roles<'_>, jid: &str, trigger: &str) -> RestReply {
    let m = match r.job(jid) {
        Ok(m) => m,
        Err(e) => return e,
    };
    let Some(t) = r
        .store
        .checkpoint_triggers
        .get(trigger)
        .filter(|t| t.job == m.id)
    else {
        return no_operation("checkpoint", trigger, jid);
    };
    let ours = m
        .checkpoints
        .stats
        .history
        .iter()
        .find(|c| c.id >= t.from && !c.savepoint);
    match ours.map(|c| (c, c.outcome)) {
        Some((c, CheckpointOutcome::Completed)) => completed(json!({ "checkpointId": c.id.0 })),
        Some((_, CheckpointOutcome::InProgress)) => in_progress(),
        None if !m.status().is_terminal() => in_progress(),
        Some((c, CheckpointOutcome::Failed)) => {
            let cause = c.failure.clone().unwrap_or_else(|| "aborted".into());
            completed(json!({ "failureCause": failure_cause(&cause) }))
        }
        None => {
            let cause = format!("the job is {} and took no checkpoint", m.status().as_str());
            completed(json!({ "failureCause": failure_cause(&cause) }))
        }
    }
}

/// Flink's 404 for a trigger id that names no operation of the job.
fn no_operation(what: &str, trigger: &str, jid: &str) -> RestReply {
    RestReply::error(
        404,
        format!(
            "org.apache.flink.runtime.rest.NotFoundException: There is no {what} operation with triggerId={trigger} for job {jid}."
        ),
    )
}

/// An operation's answer once it is done.
fn completed(operation: Value) -> RestReply {
    RestReply::ok(json!({ "status": { "id": "COMPLETED" }, "operation": operation }))
}

/// `GET /jobs/:jid/savepoints/:triggerid`.
pub fn savepoint_status(r: &Roles<'_>, jid: &str, trigger: &str) -> RestReply {
    let m = match r.job(jid) {
        Ok(m) => m,
        Err(e) => return e,
    };
    let Some(t) = r.store.triggers.get(trigger).filter(|t| t.job == m.id) else {
        return no_operation("savepoint", trigger, jid);
    };
    let cp = &m.checkpoints;
    let status = m.status();
    match cp.savepoints.get(t.savepoints_before) {
        // A stop completes when the job has finished after its savepoint.
        Some(location) if !t.stop || status.is_terminal() => {
            completed(json!({ "location": location }))
        }
        Some(_) => in_progress(),
        None if cp.savepoint_in_progress() && !status.is_terminal() => in_progress(),
        None => {
            let cause = cp
                .savepoint_failure
                .clone()
                .unwrap_or_else(|| format!("the job is {} and took no savepoint", status.as_str()));
            completed(json!({ "failure-cause": failure_cause(&cause) }))
        }
    }
}

/// The operation's answer while it runs.
fn in_progress() -> RestReply {
    RestReply::ok(json!({ "status": { "id": "IN_PROGRESS" }, "operation": null }))
}

/// Flink's `SerializedThrowable` as the REST API writes it.
fn failure_cause(cause: &str) -> Value {
    let class = "org.apache.flink.runtime.checkpoint.CheckpointException";
    json!({
        "class": class,
        "stack-trace": format!("{class}: {cause}"),
        "serialized-throwable": Value::Null,
    })
}

/// A refused trigger: 409 for a job not RUNNING or a savepoint already under way.
fn refused(e: &SavepointError) -> RestReply {
    RestReply::error(409, e.to_string())
}
