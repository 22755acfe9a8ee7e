//! The cluster's answers: `/config`, `/overview`, `/jobmanager/*` and
//! `/taskmanagers/*` (Flink's `DashboardConfigHandler`,
//! `ClusterOverviewHandler`, `JobManagerConfigHandler`,
//! `TaskManagersHandler`, `TaskManagerDetailsHandler`).
//!
//! In: the ResourceManager's TaskManagers and slots, the Dispatcher's jobs.
//! Out: JSON in Flink 2.3's shapes.

use super::roles::Roles;
use super::{FLINK_VERSION, RestReply};
use crate::jobmanager::resourcemanager::slot_manager::SlotState;
use crate::state::JobStatus;
use serde_json::json;

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

/// `GET /taskmanagers`.
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
            })
        })
        .collect();
    RestReply::ok(json!({ "taskmanagers": tms }))
}
