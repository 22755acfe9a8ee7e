//! Fault campaigns: the same scenario under thousands of random fault
//! schedules, each judged for exactly-once results.
//!
//! For every seed a fault schedule is drawn ([`schedule`]: swarm testing
//! over TaskManager and JobManager crashes, partitions of every link,
//! slow links, crashes during a checkpoint's acknowledgement or commit)
//! and added to the scenario's own faults. The run is judged against the
//! fault-free run ([`verdict`]): per job, records lost, duplicated and
//! unexpected, and `valid` / `invalid` / `unknown`, safety apart from
//! liveness, as Jepsen's checkers do. Seeds run in parallel
//! ([`parallel`]), and a failing seed's schedule is shrunk to a minimal one
//! written as a replayable scenario ([`shrink`]). This is the simulation
//! testing that FoundationDB and TigerBeetle made famous, on Flink's
//! recovery protocol.

pub mod parallel;
pub mod reference;
pub mod schedule;
pub mod shrink;
pub mod verdict;

use crate::scenario::{Fault, Scenario};
use crate::simulation::{Outcome, SimError, Simulation};
pub use reference::{Reference, committed};
use runtime::events::EventKind;
use runtime::operators::Value;
pub use schedule::FaultKind;
use std::collections::BTreeMap;
use std::fmt::Write as _;
pub use verdict::{JobVerdict, Verdict};

/// The fault schedule a seed draws (its entries in time order), for a
/// scenario whose fault-free run is `reference`.
pub fn fault_schedule(s: &Scenario, seed: u64, reference: &Reference) -> Vec<Fault> {
    let mut faults: Vec<Fault> = schedule::draw(s, seed, reference)
        .into_iter()
        .flat_map(|d| d.faults)
        .collect();
    faults.sort_by_key(|f| f.at_ms);
    faults
}

/// The scenario with a seed's faults added (unchanged if the scenario says
/// `[campaign] draw_faults = false`: a replay).
pub fn with_faults(s: &Scenario, seed: u64, reference: &Reference) -> Scenario {
    let mut s = s.clone();
    if s.draw_faults {
        s.faults.extend(fault_schedule(&s, seed, reference));
        s.faults.sort_by_key(|f| f.at_ms);
    }
    s
}

/// One seed's verdict.
#[derive(Debug, Clone)]
pub struct SeedReport {
    /// The seed.
    pub seed: u64,
    /// The run's verdict: the worst of its jobs', invalid if a stale
    /// leader wrote or a process failed.
    pub verdict: Verdict,
    /// Why it is not valid, if it is not.
    pub failure: Option<String>,
    /// Each job's verdict.
    pub jobs: Vec<JobVerdict>,
    /// Checkpoints completed by a deposed leader.
    pub stale_writes: Vec<String>,
    /// Fault timeline entries injected (the scenario's and the seed's).
    pub faults: usize,
    /// The seed's drawn faults by kind.
    pub kinds: BTreeMap<FaultKind, usize>,
    /// Restarts (recoveries) performed.
    pub recoveries: usize,
    /// Checkpoints completed.
    pub checkpoints: usize,
    /// When the last fault was injected (ms).
    pub last_fault_ms: u64,
    /// When the run ended (ms).
    pub end_ms: u64,
}

/// Runs one seed against the fault-free reference.
pub fn check_seed(s: &Scenario, seed: u64, reference: &Reference) -> SeedReport {
    let faulty = with_faults(s, seed, reference);
    let outcome = Simulation::new(&faulty, Some(seed)).run();
    judge_seed(s, &faulty, seed, reference, outcome)
}

/// Judges a seed's run (`faulty` is the scenario it ran).
pub fn judge_seed(
    s: &Scenario,
    faulty: &Scenario,
    seed: u64,
    reference: &Reference,
    outcome: Result<Outcome, SimError>,
) -> SeedReport {
    let mut kinds = BTreeMap::new();
    if s.draw_faults {
        for d in schedule::draw(s, seed, reference) {
            *kinds.entry(d.kind).or_insert(0) += 1;
        }
    }
    let mut report = SeedReport {
        seed,
        verdict: Verdict::Valid,
        failure: None,
        jobs: Vec::new(),
        stale_writes: Vec::new(),
        faults: faulty.faults.len(),
        kinds,
        recoveries: 0,
        checkpoints: 0,
        last_fault_ms: 0,
        end_ms: 0,
    };
    let o = match outcome {
        Ok(o) => o,
        Err(e) => {
            report.verdict = Verdict::Invalid;
            report.failure = Some(format!("safety: {e}"));
            return report;
        }
    };
    report.end_ms = o.end_ms;
    for e in &o.events {
        match e.kind {
            EventKind::Restarted { .. } | EventKind::JobRecovered { .. } => report.recoveries += 1,
            EventKind::CheckpointCompleted { .. } => report.checkpoints += 1,
            EventKind::FaultInjected { .. } => report.last_fault_ms = e.t,
            _ => {}
        }
    }
    report.jobs = verdict::judge(&o, &reference.committed);
    report.stale_writes = verdict::stale_leader_writes(&o.events);
    let worst = report.jobs.iter().max_by_key(|j| j.verdict);
    report.verdict = worst.map_or(Verdict::Valid, |j| j.verdict);
    if !report.stale_writes.is_empty() {
        report.verdict = Verdict::Invalid;
        report.failure = Some(format!(
            "safety: a stale leader wrote: {}",
            report.stale_writes[0]
        ));
    } else if let Some(j) = worst.filter(|j| j.verdict != Verdict::Valid) {
        let liveness = if j.verdict == Verdict::Unknown {
            format!(
                " (last fault at {}, run ended at {})",
                crate::summary::secs(report.last_fault_ms),
                crate::summary::secs(report.end_ms)
            )
        } else {
            String::new()
        };
        report.failure = Some(format!("job {}: {}{liveness}", j.name, j.why));
    }
    report
}

/// The fault-free run's committed output.
pub fn reference(s: &Scenario) -> Result<Vec<Vec<Value>>, SimError> {
    Ok(Reference::run(s)?.committed)
}

/// The worst verdict of a campaign (valid if it ran no seed).
pub fn worst(reports: &[SeedReport]) -> Verdict {
    reports
        .iter()
        .map(|r| r.verdict)
        .max()
        .unwrap_or(Verdict::Valid)
}

/// The campaign's closing summary: a table of what ran and the verdicts,
/// then every seed that is not valid with the command that replays it.
pub fn summary(path: &str, reports: &[SeedReport]) -> String {
    let mut out = String::new();
    let count = |v: Verdict| reports.iter().filter(|r| r.verdict == v).count();
    let seeds = |v: Verdict| {
        let s: Vec<String> = reports
            .iter()
            .filter(|r| r.verdict == v)
            .map(|r| r.seed.to_string())
            .collect();
        if s.is_empty() {
            String::new()
        } else if s.len() > 12 {
            format!("  seeds {} ... ({} more)", s[..12].join(" "), s.len() - 12)
        } else {
            format!("  seeds {}", s.join(" "))
        }
    };
    let sum = |f: fn(&SeedReport) -> usize| reports.iter().map(f).sum::<usize>();
    let _ = writeln!(out, "{:<24} {:>8}", "seeds", reports.len());
    let _ = writeln!(
        out,
        "{:<24} {:>8}",
        "fault entries injected",
        sum(|r| r.faults)
    );
    for k in FaultKind::ALL {
        let n: usize = reports.iter().filter_map(|r| r.kinds.get(&k)).sum();
        let with: usize = reports.iter().filter(|r| r.kinds.contains_key(&k)).count();
        if n > 0 {
            let _ = writeln!(out, "  {:<22} {n:>8}  (in {with} seeds)", k.as_str());
        }
    }
    let _ = writeln!(out, "{:<24} {:>8}", "recoveries", sum(|r| r.recoveries));
    let _ = writeln!(
        out,
        "{:<24} {:>8}",
        "checkpoints completed",
        sum(|r| r.checkpoints)
    );
    for v in [Verdict::Valid, Verdict::Invalid, Verdict::Unknown] {
        let seeds = if v == Verdict::Valid {
            String::new()
        } else {
            seeds(v)
        };
        let _ = writeln!(out, "{:<24} {:>8}{seeds}", v.as_str(), count(v));
    }
    let (lost, dup, unexp) = reports
        .iter()
        .flat_map(|r| &r.jobs)
        .fold((0, 0, 0), |a, j| {
            (a.0 + j.lost, a.1 + j.duplicated, a.2 + j.unexpected)
        });
    let _ = writeln!(
        out,
        "records: {lost} lost, {dup} duplicated, {unexp} unexpected; verdict: {}",
        worst(reports)
    );
    for r in reports.iter().filter(|r| r.verdict != Verdict::Valid) {
        let _ = writeln!(
            out,
            "{} seed {}: {}\n  replay: sim check {path} --seeds {}..={} --verbose",
            r.verdict.as_str().to_uppercase(),
            r.seed,
            r.failure.as_deref().unwrap_or(""),
            r.seed,
            r.seed
        );
    }
    out
}
