//! One workload under Flink's three execution modes, side by side.
//!
//! [`compare`] runs a scenario three times, as a session cluster, as job
//! clusters and as application clusters (the scenario's own `mode` is
//! ignored), and reads from each run's event trace what sets the modes
//! apart:
//!
//! - where each program's `main` ran (`ApplicationStarted`'s host);
//! - how many clusters and TaskManagers were started;
//! - start-up cost: virtual time from the moment a program asked for a job
//!   until all its tasks were RUNNING (a session cluster is already there;
//!   a job or application cluster first starts its processes);
//! - slot utilisation: slot time allocated to jobs over slot time
//!   registered, while the workload runs, and as a time series;
//! - blast radius: the jobs (and programs) with slots on the TaskManager a
//!   crash fault killed;
//! - the processes still running after every job ended.
//!
//! Everything is derived from the traces and the client's results, with
//! virtual times and ordered maps only: the comparison of a scenario and
//! seed is the same on every machine, so its JSON is snapshot-tested.

use crate::scenario::{Mode, Scenario};
use crate::simulation::{Outcome, SimError, Simulation};
use crate::summary::{job_names, secs, slots_held};
use runtime::events::{Event, EventKind, Fault, Role};
use runtime::graph::JobId;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// The comparison of one workload under the three modes.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Scenario name.
    pub scenario: String,
    /// Seed of every run.
    pub seed: u64,
    /// Jobs in the workload.
    pub jobs: usize,
    /// Programs (applications and lone jobs) in the workload.
    pub programs: Vec<String>,
    /// Length of one step of the utilisation series (ms).
    pub bucket_ms: u64,
    /// One report per mode: session, job, application.
    pub modes: Vec<ModeReport>,
}

/// What one mode did with the workload.
#[derive(Debug, Clone, Serialize)]
pub struct ModeReport {
    /// "session", "job" or "application".
    pub mode: String,
    /// "client" or "JobManager": where the programs' `main` ran.
    pub main_ran_on: String,
    /// The hosts `main` ran on.
    pub main_hosts: Vec<String>,
    /// JobManager processes started (one per cluster).
    pub jobmanagers: Vec<String>,
    /// TaskManagers that registered.
    pub taskmanagers: Vec<String>,
    /// JobManager and TaskManager processes started (restarts included).
    pub processes_launched: usize,
    /// Sum of their start-up times (ms).
    pub startup_ms_total: u64,
    /// Per job, in scenario order.
    pub jobs: Vec<JobReport>,
    /// Mean time from request to all tasks RUNNING (ms).
    pub to_running_mean_ms: u64,
    /// Longest time from request to all tasks RUNNING (ms).
    pub to_running_max_ms: u64,
    /// Slot time allocated to jobs (ms), from the first request to the end
    /// of the last job.
    pub slot_ms_used: u64,
    /// Slot time registered at ResourceManagers over the same window (ms).
    pub slot_ms_registered: u64,
    /// `slot_ms_used` / `slot_ms_registered`, in percent.
    pub slot_utilisation_percent: u32,
    /// Utilisation per `bucket_ms` step from 0 s, in percent; `None` while
    /// no slot is registered at all.
    pub utilisation_series: Vec<Option<u32>>,
    /// The TaskManager crashes of the run and who they hit.
    pub crashes: Vec<CrashReport>,
    /// When the last job ended (ms).
    pub all_ended_at: Option<u64>,
    /// Whether every job FINISHED.
    pub all_finished: bool,
    /// JobManager and TaskManager processes still running after the jobs.
    pub held_after: Vec<String>,
}

/// One job's life under a mode.
#[derive(Debug, Clone, Serialize)]
pub struct JobReport {
    /// Job name.
    pub name: String,
    /// Its program (application, or the job's own name).
    pub program: String,
    /// The cluster it ran on ("job3", "app1"; "session").
    pub cluster: String,
    /// When its program asked for it (ms).
    pub requested_at: Option<u64>,
    /// When all its tasks were RUNNING (ms).
    pub running_at: Option<u64>,
    /// When it ended (ms).
    pub ended_at: Option<u64>,
    /// `running_at - requested_at` (ms).
    pub to_running_ms: Option<u64>,
    /// Final status.
    pub status: String,
    /// Restarts it went through.
    pub restarts: u32,
}

/// A TaskManager crash and its blast radius.
#[derive(Debug, Clone, Serialize)]
pub struct CrashReport {
    /// When (ms).
    pub at_ms: u64,
    /// The TaskManager that crashed.
    pub taskmanager: String,
    /// Jobs with slots on it at that moment.
    pub jobs_hit: Vec<String>,
    /// Their programs.
    pub programs_hit: Vec<String>,
}

/// Runs the scenario in each mode and compares; `seed` overrides the scenario's.
pub fn compare(s: &Scenario, seed: Option<u64>) -> Result<Comparison, SimError> {
    let seed = seed.unwrap_or(s.seed);
    let mut runs = Vec::new();
    for mode in Mode::ALL {
        let mut scenario = s.clone();
        scenario.mode = mode;
        let outcome = Simulation::new(&scenario, Some(seed)).run()?;
        runs.push((scenario, outcome));
    }
    // One time axis for all three series: about 60 steps, in whole 500 ms.
    let horizon = runs
        .iter()
        .map(|(_, o)| ended_at(o).unwrap_or(o.end_ms))
        .max()
        .unwrap_or(0);
    let bucket_ms = (horizon.div_ceil(60)).div_ceil(500).max(1) * 500;
    Ok(Comparison {
        scenario: s.name.clone(),
        seed,
        jobs: s.jobs.len(),
        programs: s.programs().into_iter().map(|p| p.name).collect(),
        bucket_ms,
        modes: runs
            .iter()
            .map(|(sc, o)| report(sc, o, bucket_ms))
            .collect(),
    })
}

fn ended_at(o: &Outcome) -> Option<u64> {
    o.jobs
        .iter()
        .map(|j| j.result.as_ref()?.ended_at)
        .collect::<Option<Vec<u64>>>()?
        .into_iter()
        .max()
}

fn report(s: &Scenario, o: &Outcome, bucket_ms: u64) -> ModeReport {
    let programs = s.programs();
    let program_of = |i: usize| {
        programs
            .iter()
            .find(|p| p.jobs.contains(&i))
            .map_or_else(String::new, |p| p.name.clone())
    };
    let ended = |i: usize| o.jobs.get(i)?.result.as_ref()?.ended_at;
    let jobs: Vec<JobReport> = o
        .jobs
        .iter()
        .enumerate()
        .map(|(i, j)| {
            let r = j.result.as_ref();
            let requested_at = s.requested_at(i, ended);
            let running_at = r.and_then(|r| r.running_at);
            JobReport {
                name: j.name.clone(),
                program: program_of(i),
                cluster: s.cluster_of_job(i).unwrap_or_else(|| "session".into()),
                requested_at,
                running_at,
                ended_at: r.and_then(|r| r.ended_at),
                to_running_ms: running_at
                    .zip(requested_at)
                    .map(|(run, req)| run.saturating_sub(req)),
                status: r.map_or_else(|| "NOT SUBMITTED".into(), |r| r.status.to_string()),
                restarts: r.map_or(0, |r| r.restarts),
            }
        })
        .collect();
    let waits: Vec<u64> = jobs.iter().filter_map(|j| j.to_running_ms).collect();
    let main_hosts: BTreeSet<String> = o
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::ApplicationStarted { .. }))
        .map(|e| e.host.clone())
        .collect();
    let main_ran_on =
        if !main_hosts.is_empty() && main_hosts.iter().all(|h| h.ends_with("jobmanager")) {
            "JobManager"
        } else {
            // Lone jobs, too, are built and submitted by a `main` on the client.
            "client"
        };
    let jobmanagers: BTreeSet<String> = o
        .events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::HostStarted { role } if *role == Role::JobManager))
        .map(|e| e.host.clone())
        .collect();
    let taskmanagers: BTreeSet<String> = o
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::TaskManagerRegistered { resource_id, .. } => Some(resource_id.to_string()),
            _ => None,
        })
        .collect();
    let launched = o
        .events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::HostStarted { role } if matches!(role, Role::JobManager | Role::TaskManager)))
        .count();
    let startup_ms_total = o
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::HostLaunching { startup_ms, .. } => Some(*startup_ms),
            _ => None,
        })
        .sum();
    let all_ended_at = ended_at(o);
    let start = jobs
        .iter()
        .filter_map(|j| j.requested_at)
        .min()
        .unwrap_or(0);
    let end = all_ended_at.unwrap_or(o.end_ms);
    let usage = SlotUsage::of(&o.events, o.end_ms);
    let (used, registered) = usage.between(start, end);
    let series = (0..end.div_ceil(bucket_ms))
        .map(|b| {
            let (u, r) = usage.between(b * bucket_ms, ((b + 1) * bucket_ms).min(end));
            (r > 0).then(|| percent(u, r))
        })
        .collect();
    ModeReport {
        mode: s.mode.to_string(),
        main_ran_on: main_ran_on.to_string(),
        main_hosts: main_hosts.into_iter().collect(),
        jobmanagers: jobmanagers.into_iter().collect(),
        taskmanagers: taskmanagers.into_iter().collect(),
        processes_launched: launched,
        startup_ms_total,
        to_running_mean_ms: if waits.is_empty() {
            0
        } else {
            waits.iter().sum::<u64>() / waits.len() as u64
        },
        to_running_max_ms: waits.iter().copied().max().unwrap_or(0),
        jobs,
        slot_ms_used: used,
        slot_ms_registered: registered,
        slot_utilisation_percent: percent(used, registered),
        utilisation_series: series,
        crashes: crashes(o, &programs),
        all_ended_at,
        all_finished: o.jobs.iter().all(|j| {
            j.result
                .as_ref()
                .is_some_and(|r| r.status == runtime::state::JobStatus::Finished)
        }),
        held_after: o.running_hosts.clone(),
    }
}

/// `part / whole` in whole percent, rounded; 0 of nothing is 0.
fn percent(part: u64, whole: u64) -> u32 {
    (part * 100 + whole / 2).checked_div(whole).unwrap_or(0) as u32
}

/// Each crash fault that hit a TaskManager, with the jobs that had slots on it.
fn crashes(o: &Outcome, programs: &[crate::scenario::Program]) -> Vec<CrashReport> {
    let names = job_names(&o.events);
    // Job id → scenario index, from the client's results.
    let index: BTreeMap<JobId, usize> = o
        .jobs
        .iter()
        .enumerate()
        .filter_map(|(i, j)| Some((j.result.as_ref()?.id, i)))
        .collect();
    let mut out = Vec::new();
    for (k, e) in o.events.iter().enumerate() {
        let EventKind::FaultInjected { fault } = &e.kind else {
            continue;
        };
        let Fault::Crash { host } = fault else {
            continue;
        };
        let held = slots_held(&o.events[..k]);
        let Some(jobs) = held.get(host.as_str()) else {
            continue;
        };
        let mut programs_hit = BTreeSet::new();
        let mut jobs_hit = Vec::new();
        for job in jobs.keys() {
            jobs_hit.push(names.get(job).cloned().unwrap_or_else(|| job.to_string()));
            if let Some(p) = index
                .get(job)
                .and_then(|&i| programs.iter().find(|p| p.jobs.contains(&i)))
            {
                programs_hit.insert(p.name.clone());
            }
        }
        jobs_hit.sort();
        out.push(CrashReport {
            at_ms: e.t,
            taskmanager: host.to_string(),
            jobs_hit,
            programs_hit: programs_hit.into_iter().collect(),
        });
    }
    out
}

/// Slot intervals from a trace: registered at a ResourceManager, and
/// allocated to a job.
struct SlotUsage {
    /// (from, to) per registered slot.
    registered: Vec<(u64, u64)>,
    /// (from, to) per allocation.
    allocated: Vec<(u64, u64)>,
}

impl SlotUsage {
    fn of(events: &[Event], end: u64) -> SlotUsage {
        let mut usage = SlotUsage {
            registered: Vec::new(),
            allocated: Vec::new(),
        };
        // TaskManager → (since, slots); (TaskManager, slot) → since.
        let mut tms: BTreeMap<String, (u64, u32)> = BTreeMap::new();
        let mut slots: BTreeMap<(String, u32), u64> = BTreeMap::new();
        for e in events {
            match &e.kind {
                EventKind::TaskManagerRegistered {
                    resource_id,
                    slots: n,
                    ..
                } => {
                    usage.gone(resource_id, e.t, &mut tms, &mut slots);
                    tms.insert(resource_id.to_string(), (e.t, *n));
                }
                EventKind::TaskManagerLost { resource_id, .. }
                | EventKind::WorkerReleased { resource_id } => {
                    usage.gone(resource_id, e.t, &mut tms, &mut slots);
                }
                EventKind::ClusterTornDown { hosts, .. } => {
                    for h in hosts {
                        usage.gone(h, e.t, &mut tms, &mut slots);
                    }
                }
                EventKind::SlotAllocated {
                    resource_id, slot, ..
                } => {
                    slots.insert((resource_id.to_string(), *slot), e.t);
                }
                EventKind::SlotFreed {
                    resource_id, slot, ..
                } => {
                    if let Some(since) = slots.remove(&(resource_id.to_string(), *slot)) {
                        usage.allocated.push((since, e.t));
                    }
                }
                _ => {}
            }
        }
        let open: Vec<String> = tms.keys().cloned().collect();
        for rid in open {
            usage.gone(&rid, end, &mut tms, &mut slots);
        }
        for (_, since) in slots {
            usage.allocated.push((since, end));
        }
        usage
    }

    /// A TaskManager's slots stop counting at `t`.
    fn gone(
        &mut self,
        rid: &str,
        t: u64,
        tms: &mut BTreeMap<String, (u64, u32)>,
        slots: &mut BTreeMap<(String, u32), u64>,
    ) {
        if let Some((since, n)) = tms.remove(rid) {
            self.registered
                .extend(std::iter::repeat_n((since, t), n as usize));
        }
        let held: Vec<(String, u32)> = slots.keys().filter(|(tm, _)| tm == rid).cloned().collect();
        for key in held {
            if let Some(since) = slots.remove(&key) {
                self.allocated.push((since, t));
            }
        }
    }

    /// (allocated, registered) slot time within `[from, to)` (ms).
    fn between(&self, from: u64, to: u64) -> (u64, u64) {
        let overlap = |v: &[(u64, u64)]| -> u64 {
            v.iter()
                .map(|&(a, b)| b.min(to).saturating_sub(a.max(from)))
                .sum()
        };
        (overlap(&self.allocated), overlap(&self.registered))
    }
}

fn seconds(ms: u64) -> String {
    if ms < 1_000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// Processes, compressed: "jobmanager, taskmanager-1..3".
fn hosts_short(hosts: &[String]) -> String {
    if hosts.is_empty() {
        return "nothing".into();
    }
    // Group "<prefix><n>" runs.
    let mut groups: Vec<(String, Vec<u32>)> = Vec::new();
    for h in hosts {
        let split = h.rfind(|c: char| !c.is_ascii_digit()).map_or(0, |i| i + 1);
        let (prefix, num) = h.split_at(split);
        match (num.parse::<u32>(), groups.last_mut()) {
            (Ok(n), Some((p, ns))) if *p == prefix && !ns.is_empty() => ns.push(n),
            (Ok(n), _) => groups.push((prefix.to_string(), vec![n])),
            (Err(_), _) => groups.push((h.clone(), Vec::new())),
        }
    }
    let parts: Vec<String> = groups
        .into_iter()
        .map(|(p, mut ns)| {
            ns.sort_unstable();
            match ns.as_slice() {
                [] => p,
                [one] => format!("{p}{one}"),
                [first, .., last] if (*last - *first) as usize == ns.len() - 1 => {
                    format!("{p}{first}..{last}")
                }
                _ => ns
                    .iter()
                    .map(|n| format!("{p}{n}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })
        .collect();
    format!("{} ({})", hosts.len(), parts.join(", "))
}

const BARS: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The side-by-side table, with the utilisation over time and the crash.
pub fn table(c: &Comparison) -> String {
    let mut out = String::new();
    let crash_at = c
        .modes
        .iter()
        .flat_map(|m| m.crashes.first())
        .map(|k| k.at_ms)
        .next();
    let _ = writeln!(
        out,
        "Execution modes compared: \"{}\" (seed {}), {} jobs in {} programs{}",
        c.scenario,
        c.seed,
        c.jobs,
        c.programs.len(),
        crash_at.map_or_else(String::new, |t| format!(
            ", a TaskManager crash at {}",
            secs(t)
        ))
    );
    out.push('\n');
    let n_jobs = c.jobs;
    let n_programs = c.programs.len();
    type Row = (&'static str, fn(&ModeReport, usize, usize) -> String);
    let rows: [Row; 11] = [
        ("where main() ran", |m, _, _| m.main_ran_on.clone()),
        ("clusters (JobManagers) started", |m, _, _| {
            m.jobmanagers.len().to_string()
        }),
        ("TaskManagers started", |m, _, _| {
            m.taskmanagers.len().to_string()
        }),
        ("process start-up time, all processes", |m, _, _| {
            seconds(m.startup_ms_total)
        }),
        ("request -> all tasks RUNNING, mean", |m, _, _| {
            seconds(m.to_running_mean_ms)
        }),
        ("request -> all tasks RUNNING, max", |m, _, _| {
            seconds(m.to_running_max_ms)
        }),
        ("slot utilisation (used/registered)", |m, _, _| {
            format!("{}%", m.slot_utilisation_percent)
        }),
        ("jobs hit by the TaskManager crash", |m, jobs, _| {
            match m.crashes.first() {
                Some(k) => format!("{} of {jobs}", k.jobs_hit.len()),
                None => "no crash".into(),
            }
        }),
        ("programs hit by the crash", |m, _, programs| {
            match m.crashes.first() {
                Some(k) => format!("{} of {programs}", k.programs_hit.len()),
                None => "no crash".into(),
            }
        }),
        ("last job ended at", |m, _, _| {
            m.all_ended_at.map_or_else(|| "never".into(), secs)
        }),
        ("still running after the jobs ended", |m, _, _| {
            hosts_short(&m.held_after)
        }),
    ];
    let label = 38;
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|(_, f)| c.modes.iter().map(|m| f(m, n_jobs, n_programs)).collect())
        .collect();
    let width: Vec<usize> = (0..c.modes.len())
        .map(|k| {
            cells
                .iter()
                .map(|r| r[k].chars().count())
                .chain(std::iter::once(c.modes[k].mode.len()))
                .max()
                .unwrap_or(0)
                + 3
        })
        .collect();
    let _ = write!(out, "{:<label$}", "");
    for (k, m) in c.modes.iter().enumerate() {
        let _ = write!(out, "{:<w$}", m.mode, w = width[k]);
    }
    out = out.trim_end().to_string();
    out.push('\n');
    for ((name, _), row) in rows.iter().zip(&cells) {
        let mut line = format!("{name:<label$}");
        for (k, cell) in row.iter().enumerate() {
            let _ = write!(line, "{cell:<w$}", w = width[k]);
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out.push_str(
        "(request: when the job's main() asked for it: at its launch, or, in a main() that runs\n\
         its jobs one after another, when the job before ended)\n",
    );
    let _ = writeln!(
        out,
        "\nSlot utilisation over time (one character = {}, from 0 s; blank: no slot registered, \u{b7}: none used)",
        seconds(c.bucket_ms)
    );
    for m in &c.modes {
        let bars: String = m
            .utilisation_series
            .iter()
            .map(|p| match p {
                None => ' ',
                Some(0) => '\u{b7}',
                Some(p) => BARS[((*p as usize * 8 + 50) / 100).clamp(1, 8)],
            })
            .collect();
        let _ = writeln!(out, "  {:<12} |{}|", m.mode, bars);
    }
    out.push_str("\nThe crash\n");
    for m in &c.modes {
        match m.crashes.first() {
            Some(k) => {
                let _ = writeln!(
                    out,
                    "  {:<12} {} held slots of {}",
                    m.mode,
                    k.taskmanager,
                    if k.jobs_hit.is_empty() {
                        "no job".to_string()
                    } else {
                        k.jobs_hit.join(", ")
                    }
                );
            }
            None => {
                let _ = writeln!(out, "  {:<12} no TaskManager crashed", m.mode);
            }
        }
    }
    out.push_str("\nPer job: request -> all tasks RUNNING (cluster)\n");
    let names: Vec<&str> = c.modes.first().map_or_else(Vec::new, |m| {
        m.jobs.iter().map(|j| j.name.as_str()).collect()
    });
    let name_w = names.iter().map(|n| n.len()).max().unwrap_or(0).max(4) + 2;
    let mut header = format!("  {:<name_w$}", "");
    for m in &c.modes {
        let _ = write!(header, "{:<24}", m.mode);
    }
    let _ = writeln!(out, "{}", header.trim_end());
    for (i, name) in names.iter().enumerate() {
        let mut line = format!("  {name:<name_w$}");
        for m in &c.modes {
            let j = &m.jobs[i];
            let cell = match j.to_running_ms {
                Some(ms) => format!("{} ({})", seconds(ms), j.cluster),
                None => j.status.clone(),
            };
            let _ = write!(line, "{cell:<24}");
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}
