//! A job's executions as Flink's answers describe them: counts per
//! ExecutionState, one subtask's place, times and IO metrics (Flink's
//! `JobDetailsInfo.JobVertexDetailsInfo`, `SubtaskExecutionAttemptDetailsInfo`
//! and `IOMetricsInfo`), shared by the job, vertex and TaskManager answers.
//!
//! A leaf: imports [`roles`](super::roles) and [`metrics`](super::metrics)
//! only. In: a JobMaster. Out: JSON pieces.

use super::metrics;
use super::roles::Roles;
use crate::ids::{ExecutionVertexId, SubtaskIndex};
use crate::jobmanager::jobmaster::{ExecutionInfo, JobMaster};
use crate::state::{ExecutionState, Lifecycle};
use serde_json::{Map, Value, json};

/// Every ExecutionState, in the order Flink's `tasks` objects list them
/// (the lifecycle's own list).
pub const STATES: &[ExecutionState] = <ExecutionState as Lifecycle>::ALL;

/// Executions counted per state in Flink's upper-case form (with
/// `RECONCILING`, which we never enter), as `status-counts` and a vertex's
/// `tasks` give them.
pub fn state_counts<'a>(execs: impl Iterator<Item = &'a ExecutionInfo> + Clone) -> Value {
    let mut o = Map::new();
    for &s in STATES {
        o.insert(
            s.as_str().into(),
            json!(execs.clone().filter(|e| e.state() == s).count()),
        );
    }
    o.insert("RECONCILING".into(), json!(0));
    Value::Object(o)
}

/// A job's executions counted per state in lower case with the `total`,
/// as `/jobs/overview` gives them.
pub fn task_counts(m: &JobMaster) -> Value {
    let mut o = Map::new();
    for &s in STATES {
        let n = m.executions.values().filter(|e| e.state() == s).count();
        o.insert(s.as_str().to_lowercase(), json!(n));
    }
    o.insert("reconciling".into(), json!(0));
    o.insert("total".into(), json!(m.executions.len()));
    Value::Object(o)
}

/// Where a subtask runs: (data endpoint, TaskManager resource id), or
/// Flink's `"(unassigned)"` before it has a slot.
pub fn location(m: &JobMaster, v: u32, s: u32) -> (String, String) {
    let group = &m.job_graph.vertex(v as usize).slot_sharing_group;
    match m.slot_pool.slot_for(group, SubtaskIndex(s)) {
        Some(p) => (p.data_addr.clone(), p.resource_id.to_string()),
        None => ("(unassigned)".into(), "(unassigned)".into()),
    }
}

/// When a subtask's attempt was deployed (Flink's `start-time`), if yet.
pub fn started(m: &JobMaster, v: u32, s: u32) -> Option<u64> {
    let at = m.history.state_at.get(&ExecutionVertexId::new(v, s))?;
    at.get(&ExecutionState::Deploying)
        .or_else(|| at.get(&ExecutionState::Scheduled))
        .copied()
}

/// How long a subtask's attempt has been doing work: running time minus
/// idle and back-pressured time (ms).
pub fn busy_ms(e: &ExecutionInfo, now: u64) -> u64 {
    let running = e
        .running_since
        .map_or(0, |t| e.ended_at.unwrap_or(now).saturating_sub(t));
    running.saturating_sub(e.counters.idle_ms + e.counters.backpressured_ms)
}

/// Flink's IO metrics block (`read-bytes`, `write-records`, the
/// `accumulated-*-time`s) over some executions; `complete` says all of
/// them have reported.
pub fn io_metrics<'a>(execs: impl Iterator<Item = &'a ExecutionInfo>, now: u64) -> Value {
    let (mut rb, mut wb, mut rr, mut wr, mut bp, mut idle, mut busy) = (0, 0, 0, 0, 0, 0, 0);
    let mut complete = true;
    for e in execs {
        let c = &e.counters;
        complete &= e.running_since.is_some();
        rb += c.bytes_in;
        wb += c.bytes_out;
        rr += c.records_in;
        wr += c.records_out;
        bp += c.backpressured_ms;
        idle += c.idle_ms;
        busy += busy_ms(e, now);
    }
    json!({
        "read-bytes": rb, "read-bytes-complete": complete,
        "write-bytes": wb, "write-bytes-complete": complete,
        "read-records": rr, "read-records-complete": complete,
        "write-records": wr, "write-records-complete": complete,
        "accumulated-backpressured-time": bp,
        "accumulated-idle-time": idle,
        "accumulated-busy-time": busy,
    })
}

/// How long a subtask's attempt spent in each state it went through (ms).
pub fn status_durations(m: &JobMaster, v: u32, s: u32, now: u64) -> Map<String, Value> {
    let mut o = Map::new();
    let Some(at) = m.history.state_at.get(&ExecutionVertexId::new(v, s)) else {
        return o;
    };
    let times: Vec<(ExecutionState, u64)> = at.iter().map(|(k, t)| (*k, *t)).collect();
    let mut ordered = times.clone();
    ordered.sort_by_key(|(st, t)| (*t, *st));
    for (i, (st, t)) in ordered.iter().enumerate() {
        if st.is_terminal() {
            continue;
        }
        let until = ordered.get(i + 1).map_or(now, |(_, n)| *n);
        o.insert(st.as_str().into(), json!(until.saturating_sub(*t)));
    }
    o
}

/// The `aggregated` block of a set of subtasks: summaries of their IO
/// metrics and of their status durations.
pub fn aggregated(m: &JobMaster, keys: &[ExecutionVertexId], now: u64) -> Value {
    let execs: Vec<&ExecutionInfo> = keys.iter().filter_map(|k| m.executions.get(k)).collect();
    let field =
        |f: &dyn Fn(&ExecutionInfo) -> u64| -> Vec<u64> { execs.iter().map(|e| f(e)).collect() };
    let io = json!({
        "read-bytes": metrics::subtask_summary(&field(&|e| e.counters.bytes_in)),
        "write-bytes": metrics::subtask_summary(&field(&|e| e.counters.bytes_out)),
        "read-records": metrics::subtask_summary(&field(&|e| e.counters.records_in)),
        "write-records": metrics::subtask_summary(&field(&|e| e.counters.records_out)),
        "accumulated-backpressured-time": metrics::subtask_summary(&field(&|e| e.counters.backpressured_ms)),
        "accumulated-idle-time": metrics::subtask_summary(&field(&|e| e.counters.idle_ms)),
        "accumulated-busy-time": metrics::subtask_summary(&field(&|e| busy_ms(e, now))),
    });
    let mut durations = Map::new();
    for st in STATES.iter().filter(|s| !s.is_terminal()) {
        let vals: Vec<u64> = keys
            .iter()
            .filter_map(|k| {
                status_durations(m, k.vertex, k.subtask.0, now)
                    .get(st.as_str())
                    .and_then(Value::as_u64)
            })
            .collect();
        if !vals.is_empty() {
            durations.insert(st.as_str().into(), metrics::subtask_summary(&vals));
        }
    }
    json!({ "metrics": io, "status-duration": durations })
}

/// The subtask keys of a vertex, in subtask order.
pub fn subtasks_of(m: &JobMaster, v: u32) -> Vec<ExecutionVertexId> {
    m.executions
        .keys()
        .copied()
        .filter(|k| k.vertex == v)
        .collect()
}

/// The vertex of a URL's vertex id: its index.
pub fn vertex_index(m: &JobMaster, vid: &str) -> Option<u32> {
    m.job_graph
        .vertices()
        .position(|vx| vx.id.to_string() == vid)
        .map(|i| i as u32)
}

/// A vertex's status: Flink's aggregate of its subtasks' states (the
/// "least advanced" one that any subtask is in, failures first).
pub fn vertex_status(m: &JobMaster, v: u32) -> ExecutionState {
    let states: Vec<ExecutionState> = subtasks_of(m, v)
        .iter()
        .filter_map(|k| m.executions.get(k).map(ExecutionInfo::state))
        .collect();
    for s in [
        ExecutionState::Failed,
        ExecutionState::Canceling,
        ExecutionState::Canceled,
    ] {
        if states.contains(&s) {
            return s;
        }
    }
    states
        .iter()
        .copied()
        .min()
        .unwrap_or(ExecutionState::Created)
}

/// `start-time`, `end-time`, `duration` of some subtasks, in Flink's
/// epoch ms (`-1` for not yet).
pub fn times(m: &JobMaster, keys: &[ExecutionVertexId], r: &Roles<'_>) -> (i64, i64, i64) {
    let start = keys
        .iter()
        .filter_map(|k| started(m, k.vertex, k.subtask.0))
        .min();
    let ends: Vec<Option<u64>> = keys
        .iter()
        .map(|k| m.executions.get(k).and_then(|e| e.ended_at))
        .collect();
    let end = if !ends.is_empty() && ends.iter().all(Option::is_some) {
        ends.iter().flatten().max().copied()
    } else {
        None
    };
    let duration = start.map_or(-1, |t| end.unwrap_or(r.now_ms).saturating_sub(t) as i64);
    (
        r.epoch_or_minus_one(start),
        r.epoch_or_minus_one(end),
        duration,
    )
}

/// Flink's default max parallelism for a parallelism (we have no key
/// groups to bound it): 1.5 × the parallelism rounded up to a power of two,
/// at least 128 and at most 32768 (`KeyGroupRangeAssignment`).
pub fn max_parallelism(parallelism: u32) -> u32 {
    let wanted = u64::from(parallelism) + u64::from(parallelism) / 2;
    (wanted.next_power_of_two().clamp(128, 32_768)) as u32
}
