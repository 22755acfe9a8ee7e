//! The cluster's answers: `/config`, `/overview`, `/jobmanager/*` and
//! `/taskmanagers/*` (Flink's `DashboardConfigHandler`,
//! `ClusterOverviewHandler`, `JobManagerConfigHandler`,
//! `JobManagerEnvironmentHandler`, `JobManagerMetricsHandler`,
//! `TaskManagersHandler`, `TaskManagerDetailsHandler`,
//! `TaskManagerMetricsHandler`).
//!
//! In: the ResourceManager's TaskManagers and slots, the Dispatcher's jobs.
//! Out: JSON in Flink 2.3's shapes.

use super::metrics;
use super::roles::Roles;
use super::{FLINK_VERSION, RestReply};
use crate::jobmanager::resourcemanager::slot_manager::SlotState;
use crate::state::JobStatus;
use serde_json::{Map, Value, json};

/// `GET /config`: what the dashboard reads first.
pub fn config(r: &Roles<'_>) -> RestReply {
    RestReply::ok(json!({
        "refresh-interval": r.cfg.refresh_interval_ms,
        "timezone-name": "Coordinated Universal Time",
        "timezone-offset": 0,
        "flink-version": FLINK_VERSION,
        "flink-revision": concat!("mini-flink ", env!("CARGO_PKG_VERSION")),
        "features": {
            "web-submit": true,
            "web-cancel": true,
            "web-rescale": false,
            "web-history": false,
        },
    }))
}

/// Slots in all and free ones, over registered TaskManagers.
pub fn slot_counts(r: &Roles<'_>) -> (usize, usize) {
    let tms = &r.rm.slot_manager.task_managers;
    let total = tms.values().map(|t| t.slots.len()).sum();
    let free = tms
        .values()
        .flat_map(|t| &t.slots)
        .filter(|s| matches!(s, SlotState::Free))
        .count();
    (total, free)
}

/// `GET /overview`.
pub fn overview(r: &Roles<'_>) -> RestReply {
    let (total, free) = slot_counts(r);
    let count = |want: &[JobStatus]| {
        r.dispatcher
            .jobs
            .values()
            .filter(|m| want.contains(&m.status()))
            .count()
    };
    RestReply::ok(json!({
        "taskmanagers": r.rm.task_managers.len(),
        "slots-total": total,
        "slots-available": free,
        "jobs-running": r.dispatcher.jobs.values().filter(|m| !m.status().is_terminal()).count(),
        "jobs-finished": count(&[JobStatus::Finished]),
        "jobs-cancelled": count(&[JobStatus::Canceled]),
        "jobs-failed": count(&[JobStatus::Failed]),
        "flink-version": FLINK_VERSION,
        "flink-commit": "mini-flink",
    }))
}

/// `GET /taskmanagers`. We measure no CPU, hardware or memory: those
/// blocks carry Flink's keys with 0 (unknown).
pub fn taskmanagers(r: &Roles<'_>) -> RestReply {
    let tms: Vec<_> = r
        .rm
        .task_managers
        .iter()
        .map(|(rid, rec)| {
            let slots = r.rm.slot_manager.task_managers.get(rid);
            let number = slots.map_or(0, |s| s.slots.len());
            let free = slots.map_or(0, |s| {
                s.slots.iter().filter(|x| matches!(x, SlotState::Free)).count()
            });
            json!({
                "id": rid.to_string(),
                "path": format!("mini-flink://{rid}"),
                "dataPort": rec.data_addr.rsplit(':').next().and_then(|p| p.parse::<u16>().ok()).unwrap_or(0),
                "jmxPort": -1,
                "timeSinceLastHeartbeat": r.epoch(rec.last_heartbeat),
                "slotsNumber": number,
                "freeSlots": free,
                "assignedTasks": number - free,
                "totalResource": no_resources(),
                "freeResource": no_resources(),
                "hardware": { "cpuCores": 0, "physicalMemory": 0, "freeMemory": 0, "managedMemory": 0 },
                "memoryConfiguration": no_memory(),
            })
        })
        .collect();
    RestReply::ok(json!({ "taskmanagers": tms }))
}

/// `GET /jobmanager/config`: the settings we run with, as Flink's keys.
pub fn jobmanager_config(r: &Roles<'_>) -> RestReply {
    let (host, port) = r
        .cfg
        .bind
        .rsplit_once(':')
        .unwrap_or((r.cfg.bind.as_str(), ""));
    let kv = [
        ("rest.address", host.to_string()),
        ("rest.bind-address", host.to_string()),
        ("rest.port", port.to_string()),
        (
            "rest.server.max-content-length",
            r.cfg.max_content_length.to_string(),
        ),
        (
            "web.refresh-interval",
            r.cfg.refresh_interval_ms.to_string(),
        ),
        ("state.checkpoints.num-retained", "1".to_string()),
    ];
    RestReply::ok(Value::Array(
        kv.iter()
            .map(|(k, v)| json!({ "key": k, "value": v }))
            .collect(),
    ))
}

/// `GET /jobmanager/environment`. We run no JVM: the `jvm` block names
/// the Rust build instead, with no options, and the classpath is empty.
pub fn jobmanager_environment() -> RestReply {
    RestReply::ok(json!({
        "jvm": {
            "version": concat!("mini-flink ", env!("CARGO_PKG_VERSION"), " (Rust, no JVM)"),
            "arch": std::env::consts::ARCH,
            "options": [],
        },
        "classpath": [],
    }))
}

/// The JobManager metrics we know.
const JM_METRICS: [&str; 4] = [
    "numRegisteredTaskManagers",
    "numRunningJobs",
    "taskSlotsAvailable",
    "taskSlotsTotal",
];

/// `GET /jobmanager/metrics?get=…`.
pub fn jobmanager_metrics(get: &[String], r: &Roles<'_>) -> RestReply {
    let (total, free) = slot_counts(r);
    let value = |name: &str| -> Option<String> {
        let v = match name {
            "numRegisteredTaskManagers" => r.rm.task_managers.len(),
            "numRunningJobs" => r
                .dispatcher
                .jobs
                .values()
                .filter(|m| !m.status().is_terminal())
                .count(),
            "taskSlotsAvailable" => free,
            "taskSlotsTotal" => total,
            _ => return None,
        };
        Some(v.to_string())
    };
    RestReply::ok(metrics::pick(get, &JM_METRICS, value))
}

/// The TaskManager metrics we answer. We run no JVM and keep no managed or
/// network memory pools: these are Flink's names with the honest value
/// `0` (unknown), so the dashboard's memory charts stay empty rather than
/// wrong; `Status.Flink.Slots.*` are real.
const TM_METRICS: [&str; 10] = [
    "Status.Flink.Slots.Total",
    "Status.Flink.Slots.Free",
    "Status.JVM.Memory.Heap.Used",
    "Status.JVM.Memory.Heap.Max",
    "Status.JVM.Memory.Metaspace.Used",
    "Status.JVM.Memory.Metaspace.Max",
    "Status.Flink.Memory.Managed.Used",
    "Status.Flink.Memory.Managed.Total",
    "Status.Shuffle.Netty.UsedMemory",
    "Status.Shuffle.Netty.TotalMemory",
];

/// Flink's 404 for a TaskManager id that names none.
fn unknown_tm(tm: &str) -> RestReply {
    RestReply::error(404, format!("Could not find TaskManager {tm}."))
}

/// `GET /taskmanagers/:tmid/metrics?get=…`.
pub fn taskmanager_metrics(tm: &str, get: &[String], r: &Roles<'_>) -> RestReply {
    let Some(slots) = r.rm.slot_manager.task_managers.get(tm) else {
        return unknown_tm(tm);
    };
    let free = slots
        .slots
        .iter()
        .filter(|s| matches!(s, SlotState::Free))
        .count();
    let value = |name: &str| -> Option<String> {
        match name {
            "Status.Flink.Slots.Total" => Some(slots.slots.len().to_string()),
            "Status.Flink.Slots.Free" => Some(free.to_string()),
            n if TM_METRICS.contains(&n) => Some("0".into()),
            _ => None,
        }
    };
    RestReply::ok(metrics::pick(get, &TM_METRICS, value))
}

/// A resource profile we do not measure (no CPU or memory accounting):
/// Flink's keys with 0.
fn no_resources() -> Value {
    json!({
        "cpuCores": 0, "taskHeapMemory": 0, "taskOffHeapMemory": 0,
        "managedMemory": 0, "networkMemory": 0, "extendedResources": {},
    })
}

/// A memory configuration we do not have (no JVM memory model): Flink's
/// keys with 0.
fn no_memory() -> Value {
    json!({
        "frameworkHeap": 0, "taskHeap": 0, "frameworkOffHeap": 0, "taskOffHeap": 0,
        "networkMemory": 0, "managedMemory": 0, "jvmMetaspace": 0, "jvmOverhead": 0,
        "totalFlinkMemory": 0, "totalProcessMemory": 0,
    })
}

/// What runs in one slot of a TaskManager: the subtasks sharing it (our
/// extra key `tasks`, which the web UI draws slot sharing from).
fn slot_tasks(r: &Roles<'_>, tm: &str, slot: u32, job: crate::graph::JobId) -> Vec<Value> {
    let Some(m) = r.dispatcher.jobs.get(&job) else {
        return Vec::new();
    };
    m.executions
        .iter()
        .filter(|(k, _)| {
            let group = &m.job_graph.vertex(k.vertex as usize).slot_sharing_group;
            m.slot_pool
                .slot_for(group, k.subtask)
                .is_some_and(|p| p.resource_id == tm && p.slot == slot)
        })
        .map(|(k, e)| {
            let vx = m.job_graph.vertex(k.vertex as usize);
            json!({
                "jobId": job.to_string(), "vertexId": vx.id.to_string(), "name": vx.name,
                "subtask": k.subtask.0, "attempt": e.attempt, "status": e.state().as_str(),
            })
        })
        .collect()
}

/// `GET /taskmanagers/:tmid`: its entry of `/taskmanagers` with the
/// allocated slots (and what runs in each), resources and memory. We
/// measure no hardware or memory: those keys are 0 (unknown).
pub fn taskmanager(tm: &str, r: &Roles<'_>) -> RestReply {
    let Some(slots) = r.rm.slot_manager.task_managers.get(tm) else {
        return unknown_tm(tm);
    };
    let list = taskmanagers(r).body;
    let mut o = list["taskmanagers"]
        .as_array()
        .and_then(|a| a.iter().find(|t| t["id"] == tm))
        .and_then(|t| t.as_object().cloned())
        .unwrap_or_default();
    let allocated: Vec<Value> = slots
        .slots
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s {
            SlotState::Allocated { allocation, job } => Some(json!({
                "index": i,
                "allocationId": allocation.to_string(),
                "jobId": job.to_string(),
                "resource": no_resources(),
                "tasks": slot_tasks(r, tm, i as u32, *job),
            })),
            SlotState::Free => None,
        })
        .collect();
    let mut mx = Map::new();
    for k in [
        "heapUsed",
        "heapCommitted",
        "heapMax",
        "nonHeapUsed",
        "nonHeapCommitted",
        "nonHeapMax",
        "directCount",
        "directUsed",
        "directMax",
        "mappedCount",
        "mappedUsed",
        "mappedMax",
        "nettyShuffleMemorySegmentsAvailable",
        "nettyShuffleMemorySegmentsUsed",
        "nettyShuffleMemorySegmentsTotal",
        "nettyShuffleMemoryAvailable",
        "nettyShuffleMemoryUsed",
        "nettyShuffleMemoryTotal",
    ] {
        mx.insert(k.into(), json!(0));
    }
    mx.insert("garbageCollectors".into(), json!([]));
    o.insert("allocatedSlots".into(), json!(allocated));
    o.insert("metrics".into(), Value::Object(mx));
    RestReply::ok(Value::Object(o))
}
