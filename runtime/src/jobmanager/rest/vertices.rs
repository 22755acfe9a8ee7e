//! A job vertex's answers: `/jobs/:jid/vertices/:vid` and its
//! sub-resources (Flink's `JobVertexDetailsHandler`,
//! `SubtasksTimesHandler`, `JobVertexTaskManagersHandler`,
//! `JobVertexWatermarksHandler`, `JobVertexBackPressureHandler`,
//! `JobVertexMetricsHandler`, `AggregatingSubtasksMetricsHandler`).
//!
//! A leaf: imports [`roles`](super::roles), [`executions`](super::executions)
//! and [`metrics`](super::metrics). In: the JobMaster's executions, their
//! counters and per-second [`Rates`]. Out: JSON in Flink 2.3's shapes.

use super::executions::{self, state_counts};
use super::metrics;
use super::roles::Roles;
use super::{RestReply, VertexView};
use crate::ids::{ExecutionVertexId, SubtaskIndex};
use crate::jobmanager::jobmaster::JobMaster;
use crate::jobmanager::jobmaster::history::Rates;
use crate::state::ExecutionState;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The per-subtask metrics we know, by Flink's names.
pub const SUBTASK_METRICS: [&str; 15] = [
    "numRecordsIn",
    "numRecordsOut",
    "numBytesIn",
    "numBytesOut",
    "numRecordsInPerSecond",
    "numRecordsOutPerSecond",
    "numBytesInPerSecond",
    "numBytesOutPerSecond",
    "busyTimeMsPerSecond",
    "backPressuredTimeMsPerSecond",
    "idleTimeMsPerSecond",
    "accumulateBusyTimeMs",
    "accumulateIdleTimeMs",
    "accumulateBackPressuredTimeMs",
    "currentInputWatermark",
];

/// We track no watermarks: Flink's value for "no watermark yet"
/// (`Long.MIN_VALUE`).
const NO_WATERMARK: i64 = i64::MIN;

/// One subtask's metric by Flink's name; `None` for a name we do not know.
/// Rates are 0 until two reports have come in.
pub fn subtask_metric(m: &JobMaster, key: ExecutionVertexId, name: &str, now: u64) -> Option<f64> {
    let e = m.executions.get(&key)?;
    let c = &e.counters;
    let rate = m.history.rates.get(&key).copied().unwrap_or(Rates {
        // Before any rate: a subtask that is not running is idle.
        idle_ms: if e.state() == ExecutionState::Running {
            0.0
        } else {
            1000.0
        },
        ..Rates::default()
    });
    let busy = if m.history.rates.contains_key(&key) {
        rate.busy_ms
    } else {
        0.0
    };
    Some(match name {
        "numRecordsIn" => c.records_in as f64,
        "numRecordsOut" => c.records_out as f64,
        "numBytesIn" => c.bytes_in as f64,
        "numBytesOut" => c.bytes_out as f64,
        "numRecordsInPerSecond" => rate.records_in,
        "numRecordsOutPerSecond" => rate.records_out,
        "numBytesInPerSecond" => rate.bytes_in,
        "numBytesOutPerSecond" => rate.bytes_out,
        "busyTimeMsPerSecond" => busy,
        "backPressuredTimeMsPerSecond" => rate.backpressured_ms,
        "idleTimeMsPerSecond" => rate.idle_ms,
        "accumulateBusyTimeMs" => executions::busy_ms(e, now) as f64,
        "accumulateIdleTimeMs" => c.idle_ms as f64,
        "accumulateBackPressuredTimeMs" => c.backpressured_ms as f64,
        "currentInputWatermark" => NO_WATERMARK as f64,
        _ => return None,
    })
}

/// One of a vertex's answers; a vertex id that names none is a 404.
pub fn view(m: &JobMaster, vid: &str, what: &VertexView, r: &Roles<'_>) -> RestReply {
    let Some(v) = executions::vertex_index(m, vid) else {
        return RestReply::error(404, format!("JobVertex {vid} not found in job {}.", m.id));
    };
    let keys = executions::subtasks_of(m, v);
    let vx = m.job_graph.vertex(v as usize);
    let head = json!({ "id": vid, "name": vx.name });
    let now = r.now_ms;
    let with = |mut extra: Map<String, Value>| {
        if let Value::Object(h) = head.clone() {
            extra.extend(h);
        }
        RestReply::ok(Value::Object(extra))
    };
    match what {
        VertexView::Details => {
            let subtasks: Vec<Value> = keys.iter().map(|&k| subtask(m, k, r)).collect();
            let mut o = Map::new();
            o.insert("parallelism".into(), json!(vx.parallelism));
            o.insert("maxParallelism".into(), json!(executions::max_parallelism(vx.parallelism)));
            o.insert("now".into(), json!(r.epoch(now)));
            o.insert("subtasks".into(), json!(subtasks));
            o.insert("aggregated".into(), executions::aggregated(m, &keys, now));
            with(o)
        }
        VertexView::SubtaskTimes => {
            let subtasks: Vec<Value> = keys.iter().map(|&ExecutionVertexId { vertex: v, subtask: SubtaskIndex(s) }| {
                let (endpoint, _) = executions::location(m, v, s);
                let at = m.history.state_at.get(&ExecutionVertexId::new(v, s));
                let mut ts = Map::new();
                for &st in executions::STATES {
                    let t = at.and_then(|a| a.get(&st)).map_or(0, |t| r.epoch(*t));
                    ts.insert(st.as_str().into(), json!(t));
                }
                ts.insert("RECONCILING".into(), json!(0));
                let created = at.and_then(|a| a.get(&ExecutionState::Created)).copied().unwrap_or(now);
                json!({ "subtask": s, "endpoint": endpoint, "duration": now.saturating_sub(created), "timestamps": ts })
            }).collect();
            let mut o = Map::new();
            o.insert("now".into(), json!(r.epoch(now)));
            o.insert("subtasks".into(), json!(subtasks));
            with(o)
        }
        VertexView::TaskManagers => {
            let mut by_tm: BTreeMap<(String, String), Vec<ExecutionVertexId>> = BTreeMap::new();
            for &ExecutionVertexId { vertex: v, subtask: SubtaskIndex(s) } in &keys {
                let (endpoint, tm) = executions::location(m, v, s);
                by_tm.entry((tm, endpoint)).or_default().push(ExecutionVertexId::new(v, s));
            }
            let tms: Vec<Value> = by_tm.iter().map(|((tm, endpoint), ks)| {
                let (start, end, duration) = executions::times(m, ks, r);
                let execs = ks.iter().filter_map(|k| m.executions.get(k));
                let status = ks.iter().filter_map(|k| m.executions.get(k)).map(|e| e.state()).min()
                    .unwrap_or(ExecutionState::Created);
                json!({
                    "endpoint": endpoint, "taskmanager-id": tm, "status": status.as_str(),
                    "start-time": start, "end-time": end, "duration": duration,
                    "metrics": executions::io_metrics(execs.clone(), now),
                    "status-counts": state_counts(execs),
                    "aggregated": executions::aggregated(m, ks, now),
                })
            }).collect();
            let mut o = Map::new();
            o.insert("now".into(), json!(r.epoch(now)));
            o.insert("taskmanagers".into(), json!(tms));
            with(o)
        }
        VertexView::Watermarks => RestReply::ok(Value::Array(
            keys.iter()
                .map(|ExecutionVertexId { subtask: SubtaskIndex(s), .. }| json!({ "id": format!("{s}.currentInputWatermark"), "value": NO_WATERMARK.to_string() }))
                .collect(),
        )),
        VertexView::Backpressure => backpressure(m, &keys, r),
        VertexView::Metrics { get } => {
            let all: Vec<String> = keys.iter()
                .flat_map(|ExecutionVertexId { subtask: SubtaskIndex(s), .. }| SUBTASK_METRICS.iter().map(move |n| format!("{s}.{n}")))
                .collect();
            let all_ref: Vec<&str> = all.iter().map(String::as_str).collect();
            RestReply::ok(metrics::pick(get, &all_ref, |name| {
                let (s, metric) = name.split_once('.')?;
                let s: u32 = s.parse().ok()?;
                let x = subtask_metric(m, ExecutionVertexId::new(v, s), metric, now)?;
                Some(metrics::num(x).to_string())
            }))
        }
        VertexView::SubtaskMetrics { get, agg } => {
            if get.is_empty() {
                return RestReply::ok(metrics::names(&SUBTASK_METRICS));
            }
            let answers: Vec<Value> = get.iter().filter_map(|name| {
                let vals: Vec<f64> = keys.iter().filter_map(|&k| subtask_metric(m, k, name, now)).collect();
                if vals.is_empty() {
                    return None;
                }
                let mut o = metrics::aggregate(&vals, agg);
                o.insert("id".into(), json!(name));
                Some(Value::Object(o))
            }).collect();
            RestReply::ok(json!(answers))
        }
    }
}

/// One subtask as a vertex's details list it.
fn subtask(
    m: &JobMaster,
    ExecutionVertexId {
        vertex: v,
        subtask: SubtaskIndex(s),
    }: ExecutionVertexId,
    r: &Roles<'_>,
) -> Value {
    let Some(e) = m.executions.get(&ExecutionVertexId::new(v, s)) else {
        return Value::Null;
    };
    let (endpoint, tm) = executions::location(m, v, s);
    let (start, end, duration) = executions::times(m, &[ExecutionVertexId::new(v, s)], r);
    json!({
        "subtask": s,
        "status": e.state().as_str(),
        "attempt": e.attempt,
        "endpoint": endpoint,
        "start-time": start,
        "start_time": start,
        "end-time": end,
        "duration": duration,
        "metrics": executions::io_metrics(std::iter::once(e), r.now_ms),
        "taskmanager-id": tm,
        "status-duration": executions::status_durations(m, v, s, r.now_ms),
    })
}

/// Flink's back-pressure level of a ratio: ≤ 0.10 ok, ≤ 0.5 low, else high.
pub fn level(ratio: f64) -> &'static str {
    if ratio <= 0.10 {
        "ok"
    } else if ratio <= 0.5 {
        "low"
    } else {
        "high"
    }
}

/// `.../backpressure`: from each subtask's back-pressured, idle and busy
/// time per second (Flink 1.13+ computes it the same way).
fn backpressure(m: &JobMaster, keys: &[ExecutionVertexId], r: &Roles<'_>) -> RestReply {
    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    let mut worst = 0.0f64;
    let subtasks: Vec<Value> = keys
        .iter()
        .map(|&k| {
            let get = |n| subtask_metric(m, k, n, r.now_ms).unwrap_or(0.0) / 1000.0;
            let (bp, idle, busy) = (
                get("backPressuredTimeMsPerSecond"),
                get("idleTimeMsPerSecond"),
                get("busyTimeMsPerSecond"),
            );
            worst = worst.max(bp);
            json!({
                "subtask": k.subtask.0, "attempt-number": m.executions.get(&k).map_or(0, |e| e.attempt),
                "backpressureLevel": level(bp), "backpressure-level": level(bp),
                "ratio": round(bp), "idleRatio": round(idle), "busyRatio": round(busy),
            })
        })
        .collect();
    RestReply::ok(json!({
        "status": "ok",
        "backpressureLevel": level(worst),
        "backpressure-level": level(worst),
        "end-timestamp": r.epoch(r.now_ms),
        "subtasks": subtasks,
    }))
}
