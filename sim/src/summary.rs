//! The headless report of a run: outcomes, results, slot usage, timeline.
//!
//! Everything here is computed from the [`Outcome`] (the client's view and
//! the event trace), never from the runtime's internals, and is
//! deterministic: virtual times only, ordered maps only.

use crate::outcome::Outcome;
use crate::scenario::{Mode, Scenario};
use runtime::events::{Event, EventKind};
use runtime::graph::JobId;
use runtime::ids::ResourceId;
use runtime::operators::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Seconds with milliseconds, as a timeline prints them.
pub fn secs(ms: u64) -> String {
    format!("{}.{:03}s", ms / 1000, ms % 1000)
}

/// The final value per key of keyed `(key, n)` updates: what a rolling
/// aggregation's last update says. `None` when the records are not pairs.
pub fn final_per_key(records: &[Value]) -> Option<BTreeMap<Value, i64>> {
    let mut m = BTreeMap::new();
    for r in records {
        match r {
            Value::Pair(k, n) => {
                m.insert(k.to_value(), *n);
            }
            _ => return None,
        }
    }
    Some(m)
}

/// Names of job ids, from the trace.
pub fn job_names(events: &[Event]) -> BTreeMap<JobId, String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::JobSubmitted { job, name, .. } => Some((*job, name.clone())),
            _ => None,
        })
        .collect()
}

/// One allocation of a TaskManager's slot, as the trace tells it.
#[derive(Debug, Clone, Copy)]
struct SlotUse {
    job: JobId,
    /// When it was allocated (ms).
    from: u64,
    /// When it ended (ms); `None` while held.
    to: Option<u64>,
}

/// Every slot's uses, by (TaskManager, slot index).
type SlotUses = BTreeMap<(ResourceId, u32), Vec<SlotUse>>;

/// Ends a slot's latest use at `t`, if it is still held.
fn end_use(uses: &mut [SlotUse], t: u64) {
    if let Some(last) = uses.last_mut()
        && last.to.is_none()
    {
        last.to = Some(t);
    }
}

/// Ends at `t` the uses of every slot on the TaskManagers that are `gone`.
fn end_uses_on(slots: &mut SlotUses, t: u64, gone: impl Fn(&ResourceId) -> bool) {
    for ((tm, _), uses) in slots.iter_mut() {
        if gone(tm) {
            end_use(uses, t);
        }
    }
}

/// Every slot's allocations, in order: (TaskManager, slot) → uses. A use
/// ends at its `SlotFreed`; with `loss_frees`, also when its TaskManager is
/// lost, released or torn down. The one fold of slot events that both the
/// slots held now and the report's slot history read.
fn slot_uses(events: &[Event], loss_frees: bool) -> SlotUses {
    let mut slots = SlotUses::new();
    for e in events {
        match &e.kind {
            EventKind::SlotAllocated {
                job,
                resource_id,
                slot,
                ..
            } => slots
                .entry((resource_id.clone(), *slot))
                .or_default()
                .push(SlotUse {
                    job: *job,
                    from: e.t,
                    to: None,
                }),
            EventKind::SlotFreed {
                resource_id, slot, ..
            } => {
                if let Some(uses) = slots.get_mut(&(resource_id.clone(), *slot)) {
                    end_use(uses, e.t);
                }
            }
            EventKind::TaskManagerLost { resource_id, .. }
            | EventKind::WorkerReleased { resource_id }
                if loss_frees =>
            {
                end_uses_on(&mut slots, e.t, |tm| tm == resource_id)
            }
            EventKind::ClusterTornDown { hosts, .. } if loss_frees => {
                end_uses_on(&mut slots, e.t, |tm| hosts.iter().any(|h| tm == h))
            }
            _ => {}
        }
    }
    slots
}

/// Which TaskManager holds slots of which jobs after these events:
/// TaskManager → job id → slots. A slot counts from its `SlotAllocated`
/// until it is freed, or its TaskManager is lost, released or torn down.
pub fn slots_held(events: &[Event]) -> BTreeMap<ResourceId, BTreeMap<JobId, u32>> {
    let mut held: BTreeMap<ResourceId, BTreeMap<JobId, u32>> = BTreeMap::new();
    for ((tm, _), uses) in slot_uses(events, true) {
        if let Some(u) = uses.last()
            && u.to.is_none()
        {
            *held.entry(tm).or_default().entry(u.job).or_default() += 1;
        }
    }
    held
}

/// The TaskManager a crash would hurt most: slots of the most jobs, then
/// the most slots, then the first by name; not one of `exclude`.
pub fn busiest(
    held: &BTreeMap<ResourceId, BTreeMap<JobId, u32>>,
    exclude: &std::collections::BTreeSet<String>,
) -> Option<String> {
    let mut best: Option<(&ResourceId, usize, u32)> = None;
    for (tm, jobs) in held.iter().filter(|(tm, _)| !exclude.contains(tm.as_str())) {
        let slots: u32 = jobs.values().sum();
        if best.is_none_or(|(_, j, s)| (jobs.len(), slots) > (j, s)) {
            best = Some((tm, jobs.len(), slots));
        }
    }
    best.map(|(tm, _, _)| tm.to_string())
}

/// The whole report.
pub fn summary(s: &Scenario, seed: u64, o: &Outcome) -> String {
    let mut out = String::new();
    let c = &s.cluster;
    let _ = writeln!(out, "Scenario \"{}\" (seed {seed})", s.name);
    let startup = if c.jobmanager_startup_ms + c.taskmanager_startup_ms > 0 {
        format!(
            ", start-up: JobManager {} s, TaskManager {} s",
            c.jobmanager_startup_ms as f64 / 1000.0,
            c.taskmanager_startup_ms as f64 / 1000.0
        )
    } else {
        String::new()
    };
    match s.mode {
        Mode::Session => {}
        Mode::Job => {
            let _ = writeln!(
                out,
                "Mode: job (a cluster per job, deployed when the job is submitted, torn down when it ends)"
            );
        }
        Mode::Application => {
            let _ = writeln!(
                out,
                "Mode: application (a cluster per application; its main() runs on the JobManager)"
            );
        }
    }
    if s.mode != Mode::Session {
        let _ = writeln!(
            out,
            "Each cluster: 1 JobManager, TaskManagers of {} slots started on demand by an active ResourceManager, heartbeat {} ms / timeout {} ms{startup}",
            c.slots, c.heartbeat_interval_ms, c.heartbeat_timeout_ms
        );
    } else {
        let _ = writeln!(
            out,
            "Cluster: {}, {} TaskManagers x {} slots, {} ResourceManager, heartbeat {} ms / timeout {} ms{startup}",
            if c.ha() {
                format!(
                    "{} JobManagers (HA, lease {} ms)",
                    c.jobmanagers, c.lease_ms
                )
            } else {
                "1 JobManager".to_string()
            },
            c.taskmanagers,
            c.slots,
            match c.provider {
                crate::scenario::Provider::Standalone => "standalone",
                crate::scenario::Provider::Active => "active",
            },
            c.heartbeat_interval_ms,
            c.heartbeat_timeout_ms
        );
    }
    let _ = writeln!(
        out,
        "Ended at {} of virtual time{}",
        secs(o.end_ms),
        if o.timed_out {
            " (duration reached before every job ended)"
        } else {
            ""
        }
    );
    out.push_str("\nJobs\n");
    for (i, j) in o.jobs.iter().enumerate() {
        let Some(r) = &j.result else {
            let _ = writeln!(out, "  {}: never submitted", j.name);
            continue;
        };
        let _ = writeln!(
            out,
            "  {} [{}]: {}",
            j.name,
            &r.id.to_string()[..8],
            r.status
        );
        if let Some(cause) = &r.cause {
            let _ = writeln!(out, "    cause: {cause}");
        }
        let mut times = format!("    submitted {}", secs(r.submitted_at));
        if let Some(t) = r.running_at {
            let _ = write!(times, ", all tasks RUNNING after {} ms", t - r.submitted_at);
        }
        if let Some(t) = r.ended_at {
            let _ = write!(times, ", ended {}", secs(t));
        }
        let _ = writeln!(out, "{times}");
        let in_program = s.jobs.get(i).is_some_and(|sj| sj.application.is_some());
        if s.mode != Mode::Session || in_program {
            let requested = s.requested_at(i, |p| o.jobs.get(p)?.result.as_ref()?.ended_at);
            let mut line = String::new();
            if let Some(req) = requested {
                let _ = write!(line, "    requested {} by its main()", secs(req));
                if let Some(t) = r.running_at {
                    let _ = write!(
                        line,
                        ": all tasks RUNNING {} later",
                        secs(t.saturating_sub(req))
                    );
                }
            }
            if let Some(cluster) = s.cluster_of_job(i) {
                let _ = write!(
                    line,
                    "{}on cluster {cluster}",
                    if line.is_empty() { "    " } else { ", " }
                );
            }
            let _ = writeln!(out, "{line}");
        }
        let stats: Vec<(u64, u64, u64)> = o
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::CheckpointCompleted {
                    job,
                    duration_ms,
                    size,
                    alignment_ms,
                    ..
                } if *job == r.id => Some((*duration_ms, *size, *alignment_ms)),
                _ => None,
            })
            .collect();
        if !stats.is_empty() {
            let mut d: Vec<u64> = stats.iter().map(|s| s.0).collect();
            d.sort_unstable();
            let _ = writeln!(
                out,
                "    checkpoints: {} completed, duration median {} ms / max {} ms, alignment max {} ms, last size {} bytes",
                stats.len(),
                d[d.len() / 2],
                d[d.len() - 1],
                stats.iter().map(|s| s.2).max().unwrap_or(0),
                stats.last().map_or(0, |s| s.1)
            );
        }
        if r.restarts > 0 {
            let _ = writeln!(out, "    restarts: {}", r.restarts);
        }
        for v in &r.vertices {
            let _ = writeln!(
                out,
                "    {} (p{}): {} in, {} out, {} bytes sent, back-pressured {}%",
                v.name,
                v.parallelism,
                v.counters.records_in,
                v.counters.records_out,
                v.counters.bytes_out,
                v.backpressure_permille / 10
            );
        }
        if !r.collected.is_empty() {
            match final_per_key(&r.collected) {
                Some(m) => {
                    let _ = writeln!(
                        out,
                        "    result: {} updates, final value per key ({} keys):",
                        r.collected.len(),
                        m.len()
                    );
                    let shown: Vec<String> =
                        m.iter().take(24).map(|(k, n)| format!("{k}={n}")).collect();
                    for line in shown.chunks(8) {
                        let _ = writeln!(out, "      {}", line.join(" "));
                    }
                    if m.len() > 24 {
                        let _ = writeln!(out, "      ... and {} more keys", m.len() - 24);
                    }
                }
                None => {
                    let _ = writeln!(out, "    result: {} records", r.collected.len());
                    for v in r.collected.iter().take(10) {
                        let _ = writeln!(out, "      {v}");
                    }
                }
            }
        }
    }
    out.push_str("\nSlots (allocation -> job, from .. to)\n");
    let names = job_names(&o.events);
    let slots = slot_uses(&o.events, false);
    for ((tm, slot), uses) in &slots {
        let parts: Vec<String> = uses
            .iter()
            .map(|u| {
                let job = names
                    .get(&u.job)
                    .cloned()
                    .unwrap_or_else(|| u.job.to_string());
                match u.to {
                    Some(t) => format!("{job} {}..{}", secs(u.from), secs(t)),
                    None => format!("{job} {}..", secs(u.from)),
                }
            })
            .collect();
        let _ = writeln!(out, "  {tm} slot {slot}: {}", parts.join(", "));
    }
    out.push_str(&programs_and_clusters(s, o));
    if !o.failed_expectations.is_empty() {
        out.push_str("\nExpectations NOT met\n");
        for f in &o.failed_expectations {
            let _ = writeln!(out, "  {f}");
        }
    } else if !s.expect.is_empty() {
        out.push_str("\nExpectations met\n");
    }
    out.push_str("\nTimeline\n");
    out.push_str(&timeline(&o.events));
    out
}

/// Where the programs' `main` ran, and the clusters deployed for them
/// (empty for a session cluster running lone jobs).
fn programs_and_clusters(s: &Scenario, o: &Outcome) -> String {
    let mut out = String::new();
    // (where main ran, application) → what it did; in order of starting.
    let mut apps: Vec<((&str, &str), String, String)> = Vec::new();
    for e in &o.events {
        match &e.kind {
            EventKind::ApplicationStarted { name, jobs, order } => {
                apps.push((
                    (e.host.as_str(), name.as_str()),
                    format!(
                        "{name} ({order}: {}): main() ran on {}",
                        jobs.join(", "),
                        e.host
                    ),
                    String::new(),
                ));
            }
            EventKind::ApplicationFinished {
                name,
                finished,
                jobs,
                cause,
            } => {
                if let Some(a) = apps
                    .iter_mut()
                    .find(|a| a.0 == (e.host.as_str(), name.as_str()))
                {
                    a.2 = format!(
                        ", returned {}: {finished} of {jobs} jobs finished{}",
                        secs(e.t),
                        cause
                            .as_ref()
                            .map(|c| format!(" ({c})"))
                            .unwrap_or_default()
                    );
                }
            }
            _ => {}
        }
    }
    if !apps.is_empty() {
        out.push_str("\nApplications\n");
        for (_, line, end) in &apps {
            let _ = writeln!(out, "  {line}{end}");
        }
    }
    if s.mode == Mode::Session {
        return out;
    }
    out.push_str("\nClusters\n");
    let mut clusters: BTreeMap<String, String> = BTreeMap::new();
    for e in &o.events {
        match &e.kind {
            EventKind::ClusterDeploying {
                cluster,
                mode,
                jobs,
                ..
            } => {
                clusters.insert(
                    cluster.clone(),
                    format!(
                        "{cluster}: {} cluster for {}, deployed {}",
                        mode.as_str(),
                        jobs.join(", "),
                        secs(e.t)
                    ),
                );
            }
            EventKind::ClusterTornDown { cluster, hosts, .. } => {
                if let Some(c) = clusters.get_mut(cluster) {
                    let _ = write!(
                        c,
                        ", torn down {} ({} processes stopped)",
                        secs(e.t),
                        hosts.len()
                    );
                }
            }
            _ => {}
        }
    }
    for line in clusters.values() {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(
        out,
        "  still running at the end: {}",
        if o.running_hosts.is_empty() {
            "nothing".to_string()
        } else {
            o.running_hosts.join(", ")
        }
    );
    out
}

/// The state changes of a trace, one line each, in plain words.
pub fn timeline(events: &[Event]) -> String {
    let mut out = String::new();
    // Host names of job and application clusters are longer than 14.
    let width = events
        .iter()
        .map(|e| e.host.len())
        .max()
        .unwrap_or(0)
        .max(14);
    for e in events.iter().filter(|e| !e.kind.is_metric()) {
        if matches!(
            e.kind,
            EventKind::SlotRequested { .. } | EventKind::SlotOffered { .. }
        ) {
            continue;
        }
        let _ = writeln!(
            out,
            "  {:>9} {:<width$} {}",
            secs(e.t),
            e.host,
            e.kind.describe()
        );
    }
    out
}

/// The trace as JSON lines.
pub fn trace_jsonl(events: &[Event]) -> String {
    let mut out = String::new();
    for e in events {
        if let Ok(line) = serde_json::to_string(e) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}
