//! A job's checkpoint answers: `/jobs/:jid/checkpoints` (`counts`,
//! `summary`, `latest`, `history`), `/checkpoints/config` and
//! `/checkpoints/details/:cid` (Flink's `CheckpointingStatisticsHandler`,
//! `CheckpointConfigHandler`, `CheckpointStatisticDetailsHandler`).
//!
//! A leaf: imports [`roles`](super::roles) and [`metrics`](super::metrics).
//! In: the CheckpointCoordinator's [`stats`](crate::jobmanager::checkpoint::stats).
//! Out: JSON in Flink 2.3's shapes.

use super::RestReply;
use super::metrics;
use super::roles::Roles;
use crate::job_config::CheckpointMode;
use crate::jobmanager::checkpoint::stats::{CheckpointOutcome, CheckpointRecord};
use crate::jobmanager::jobmaster::JobMaster;
use serde_json::{Map, Value, json};

/// The outcome a completed checkpoint has (for callers that look one up).
pub const COMPLETED: CheckpointOutcome = CheckpointOutcome::Completed;

/// How many checkpoints `history` lists (Flink's `web.checkpoints.history`).
const HISTORY: usize = 10;

/// One checkpoint as Flink's `CheckpointStatistics` shows it; `tasks` per
/// vertex only in the details answer.
fn record(m: &JobMaster, c: &CheckpointRecord, with_tasks: bool, r: &Roles<'_>) -> Value {
    let class = match c.outcome {
        CheckpointOutcome::Completed => "completed",
        CheckpointOutcome::Failed => "failed",
        CheckpointOutcome::InProgress => "in_progress",
    };
    let latest_completed = m
        .checkpoints
        .stats
        .latest(COMPLETED, Some(false))
        .map(|l| l.id);
    let mut tasks = Map::new();
    if with_tasks {
        for (v, vx) in m.job_graph.vertices().enumerate() {
            let acks: Vec<_> = c
                .acks
                .iter()
                .filter(|(k, _)| k.vertex == v as u32)
                .map(|(_, a)| a)
                .collect();
            let latest = acks.iter().map(|a| a.at).max();
            let size: u64 = acks.iter().map(|a| a.size).sum();
            tasks.insert(
                vx.id.to_string(),
                json!({
                    "id": c.id.0,
                    "status": c.outcome.as_str(),
                    "latest_ack_timestamp": r.epoch_or_minus_one(latest),
                    "checkpointed_size": size,
                    "state_size": size,
                    "end_to_end_duration": latest.map_or(0, |t| t.saturating_sub(c.triggered_at)),
                    "alignment_buffered": 0,
                    "processed_data": 0,
                    "persisted_data": 0,
                    "num_subtasks": vx.parallelism,
                    "num_acknowledged_subtasks": acks.len(),
                }),
            );
        }
    }
    let mut o = json!({
        "className": class,
        "id": c.id.0,
        "status": c.outcome.as_str(),
        "is_savepoint": c.savepoint,
        "savepointFormat": if c.savepoint { json!("CANONICAL") } else { Value::Null },
        "trigger_timestamp": r.epoch(c.triggered_at),
        "latest_ack_timestamp": r.epoch_or_minus_one(c.latest_ack()),
        "checkpointed_size": c.size(),
        "state_size": c.size(),
        "end_to_end_duration": c.duration(),
        "alignment_buffered": 0,
        "processed_data": 0,
        "persisted_data": 0,
        // Known from the first acknowledgement; until then every
        // subtask of the job must acknowledge.
        "num_subtasks": if c.num_subtasks > 0 { c.num_subtasks } else { m.executions.len() },
        "num_acknowledged_subtasks": c.acks.len(),
        "checkpoint_type": if c.savepoint { "SAVEPOINT" } else { "CHECKPOINT" },
        "tasks": tasks,
    });
    if let Value::Object(map) = &mut o {
        match c.outcome {
            CheckpointOutcome::Completed => {
                map.insert(
                    "external_path".into(),
                    json!(c.path.clone().unwrap_or_default()),
                );
                map.insert(
                    "discarded".into(),
                    json!(!c.savepoint && latest_completed != Some(c.id)),
                );
            }
            CheckpointOutcome::Failed => {
                map.insert(
                    "failure_timestamp".into(),
                    json!(r.epoch_or_minus_one(c.ended_at)),
                );
                map.insert("failure_message".into(), json!(c.failure));
            }
            CheckpointOutcome::InProgress => {}
        }
    }
    o
}

/// `GET /jobs/:jid/checkpoints`.
pub fn overview(m: &JobMaster, r: &Roles<'_>) -> RestReply {
    let st = &m.checkpoints.stats;
    let done: Vec<&CheckpointRecord> = st
        .history
        .iter()
        .filter(|c| c.outcome == COMPLETED)
        .collect();
    let of = |f: &dyn Fn(&CheckpointRecord) -> u64| -> Value {
        metrics::checkpoint_summary(&done.iter().map(|c| f(c) as f64).collect::<Vec<_>>())
    };
    let latest = |outcome, sp| {
        st.latest(outcome, sp)
            .map_or(Value::Null, |c| record(m, c, false, r))
    };
    let restored = st.restored.map_or(Value::Null, |(id, at)| {
        json!({
            "id": id.0, "restore_timestamp": r.epoch(at), "is_savepoint": m.restored_from.is_some(),
            "external_path": m.restored_from.clone().unwrap_or_default(),
        })
    });
    let history: Vec<Value> = st
        .history
        .iter()
        .rev()
        .take(HISTORY)
        .map(|c| record(m, c, false, r))
        .collect();
    RestReply::ok(json!({
        "counts": {
            "restored": u64::from(st.restored.is_some()),
            "total": st.completed + st.failed + st.in_progress() as u64,
            "in_progress": st.in_progress(),
            "completed": st.completed,
            "failed": st.failed,
        },
        "summary": {
            "checkpointed_size": of(&|c| c.size()),
            "state_size": of(&|c| c.size()),
            "end_to_end_duration": of(&|c| c.duration()),
            "alignment_buffered": of(&|_| 0),
            "processed_data": of(&|_| 0),
            "persisted_data": of(&|_| 0),
        },
        "latest": {
            "completed": latest(COMPLETED, Some(false)),
            "savepoint": latest(COMPLETED, Some(true)),
            "failed": latest(CheckpointOutcome::Failed, None),
            "restored": restored,
        },
        "history": history,
    }))
}

/// `GET /jobs/:jid/checkpoints/config`. Values we have no setting for are
/// Flink's defaults for what we do (one checkpoint at a time, timeout as
/// the coordinator's expiry, state kept by the JobManager's storage).
pub fn config(m: &JobMaster) -> RestReply {
    let sg = &m.job_graph.stream_graph;
    let Some(interval) = sg.checkpoint_interval_ms else {
        return RestReply::error(404, "Checkpointing is not enabled for this job.");
    };
    let unaligned = sg.checkpoint_mode == CheckpointMode::Unaligned;
    RestReply::ok(json!({
        "mode": "exactly_once",
        "interval": interval,
        "timeout": interval.saturating_mul(10).max(10_000),
        "min_pause": 0,
        "max_concurrent": 1,
        "externalization": { "enabled": true, "delete_on_cancellation": false },
        "state_backend": "HashMapStateBackend",
        "checkpoint_storage": "FileSystemCheckpointStorage",
        "unaligned_checkpoints": unaligned,
        "tolerable_failed_checkpoints": 0,
        "aligned_checkpoint_timeout": 0,
        "checkpoints_after_tasks_finish": false,
        "state_changelog_enabled": false,
        "changelog_periodic_materialization_interval": 600_000,
        "changelog_storage": "memory",
    }))
}

/// `GET /jobs/:jid/checkpoints/details/:cid`.
pub fn details(m: &JobMaster, cid: &str, r: &Roles<'_>) -> RestReply {
    let found = cid.parse::<u64>().ok().and_then(|id| {
        m.checkpoints
            .stats
            .history
            .iter()
            .rev()
            .find(|c| c.id.0 == id)
    });
    match found {
        Some(c) => RestReply::ok(record(m, c, true, r)),
        None => RestReply::error(
            404,
            format!("Could not find checkpointing statistics for checkpoint {cid}."),
        ),
    }
}
