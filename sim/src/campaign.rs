//! Fault campaigns: the same scenario under thousands of random fault
//! schedules, each checked for exactly-once results.
//!
//! For every seed, a fault schedule is drawn from the seed (TaskManager
//! crashes and restarts, JobManager–TaskManager partitions and repairs,
//! slow links) and added to the scenario's own faults. The run must end
//! with every job FINISHED and every job's committed output equal, as a
//! multiset, to the output of the fault-free run: nothing lost, nothing
//! counted twice. This is the simulation testing that FoundationDB and
//! TigerBeetle made famous, on Flink's recovery protocol.

use crate::scenario::{Fault, FaultAction, Scenario};
use crate::simulation::{Outcome, SimError, Simulation};
use runtime::events::EventKind;
use runtime::operators::Value;
use runtime::rng::SeededRng;
use std::fmt::Write as _;

/// The fault schedule a seed stands for.
pub fn fault_schedule(s: &Scenario, seed: u64) -> Vec<Fault> {
    let mut rng = SeededRng::new(seed ^ 0x5EED_FA17);
    let tms = s.cluster.taskmanagers.max(1) as u64;
    let horizon = 6_000;
    let n = 1 + rng.below(3);
    let mut faults = Vec::new();
    for _ in 0..n {
        let at = 300 + rng.below(horizon);
        let tm = format!("taskmanager-{}", 1 + rng.below(tms));
        let jms = s.cluster.jobmanager_hosts();
        let kinds = if s.cluster.ha() { 5 } else { 3 };
        match rng.below(kinds) {
            // With HA: a JobManager (perhaps the leader) crashes and restarts,
            3 => {
                let jm = jms[rng.below(jms.len() as u64) as usize].clone();
                faults.push(Fault {
                    at_ms: at,
                    action: FaultAction::Crash(jm.clone()),
                });
                faults.push(Fault {
                    at_ms: at + 200 + rng.below(5_000),
                    action: FaultAction::Restart(jm),
                });
            }
            // or one is cut off from the coordinator (and is deposed if it led).
            4 => {
                let jm = jms[rng.below(jms.len() as u64) as usize].clone();
                faults.push(Fault {
                    at_ms: at,
                    action: FaultAction::Partition("coordinator".into(), jm.clone()),
                });
                faults.push(Fault {
                    at_ms: at + 500 + rng.below(6_000),
                    action: FaultAction::Repair("coordinator".into(), jm),
                });
            }
            0 => {
                faults.push(Fault {
                    at_ms: at,
                    action: FaultAction::Crash(tm.clone()),
                });
                faults.push(Fault {
                    at_ms: at + 200 + rng.below(5_000),
                    action: FaultAction::Restart(tm),
                });
            }
            1 => {
                let jm = jms[rng.below(jms.len() as u64) as usize].clone();
                faults.push(Fault {
                    at_ms: at,
                    action: FaultAction::Partition(jm.clone(), tm.clone()),
                });
                faults.push(Fault {
                    at_ms: at + 500 + rng.below(8_000),
                    action: FaultAction::Repair(jm, tm),
                });
            }
            _ => {
                let other = if rng.below(2) == 0 {
                    jms[rng.below(jms.len() as u64) as usize].clone()
                } else {
                    format!("taskmanager-{}", 1 + rng.below(tms))
                };
                if other != tm {
                    let base = s.cluster.latency_ms;
                    faults.push(Fault {
                        at_ms: at,
                        action: FaultAction::Delay(tm.clone(), other.clone(), 5 + rng.below(200)),
                    });
                    faults.push(Fault {
                        at_ms: at + 200 + rng.below(4_000),
                        action: FaultAction::Delay(tm, other, base),
                    });
                }
            }
        }
    }
    faults.sort_by_key(|f| f.at_ms);
    faults
}

/// The scenario with a seed's faults added.
pub fn with_faults(s: &Scenario, seed: u64) -> Scenario {
    let mut s = s.clone();
    s.faults.extend(fault_schedule(&s, seed));
    s.faults.sort_by_key(|f| f.at_ms);
    s
}

/// Each job's committed output, sorted (a multiset).
pub fn committed(o: &Outcome) -> Vec<Vec<Value>> {
    o.jobs
        .iter()
        .map(|j| {
            let mut v = j
                .result
                .as_ref()
                .map(|r| r.collected.clone())
                .unwrap_or_default();
            v.sort();
            v
        })
        .collect()
}

/// One seed's verdict.
#[derive(Debug, Clone)]
pub struct SeedReport {
    /// The seed.
    pub seed: u64,
    /// Why it failed, if it did.
    pub failure: Option<String>,
    /// Faults injected.
    pub faults: usize,
    /// Restarts (recoveries) performed.
    pub recoveries: usize,
    /// Checkpoints completed.
    pub checkpoints: usize,
}

/// Runs one seed against the fault-free reference.
pub fn check_seed(s: &Scenario, seed: u64, reference: &[Vec<Value>]) -> SeedReport {
    let faulty = with_faults(s, seed);
    let faults = faulty.faults.len();
    let outcome = Simulation::new(&faulty, Some(seed)).run();
    let mut report = SeedReport {
        seed,
        failure: None,
        faults,
        recoveries: 0,
        checkpoints: 0,
    };
    let o = match outcome {
        Ok(o) => o,
        Err(e) => {
            report.failure = Some(e.to_string());
            return report;
        }
    };
    for e in &o.events {
        match e.kind {
            EventKind::Restarted { .. } | EventKind::JobRecovered { .. } => report.recoveries += 1,
            EventKind::CheckpointCompleted { .. } => report.checkpoints += 1,
            _ => {}
        }
    }
    for j in &o.jobs {
        match &j.result {
            Some(r) if r.status == runtime::state::JobStatus::Finished => {}
            Some(r) => {
                report.failure = Some(format!(
                    "job {} ended {}{}",
                    j.name,
                    r.status,
                    r.cause
                        .as_ref()
                        .map(|c| format!(": {c}"))
                        .unwrap_or_default()
                ));
                return report;
            }
            None => {
                report.failure = Some(format!("job {} never ran", j.name));
                return report;
            }
        }
    }
    let got = committed(&o);
    for ((j, want), have) in o.jobs.iter().zip(reference).zip(&got) {
        if want != have {
            let (lost, dup) = diff(want, have);
            report.failure = Some(format!(
                "job {}: {} records committed, {} expected ({lost} lost, {dup} extra)",
                j.name,
                have.len(),
                want.len()
            ));
            return report;
        }
    }
    report
}

/// Counts records missing from and extra in `have`, both sorted.
fn diff(want: &[Value], have: &[Value]) -> (usize, usize) {
    let (mut i, mut j, mut lost, mut extra) = (0, 0, 0, 0);
    while i < want.len() || j < have.len() {
        match (want.get(i), have.get(j)) {
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a < b => {
                lost += 1;
                i += 1;
            }
            (Some(_), None) => {
                lost += 1;
                i += 1;
            }
            _ => {
                extra += 1;
                j += 1;
            }
        }
    }
    (lost, extra)
}

/// The fault-free run's committed output.
pub fn reference(s: &Scenario) -> Result<Vec<Vec<Value>>, SimError> {
    let mut clean = s.clone();
    clean.faults.clear();
    Ok(committed(&Simulation::new(&clean, None).run()?))
}

/// The campaign's closing summary.
pub fn summary(path: &str, reports: &[SeedReport]) -> String {
    let failed: Vec<&SeedReport> = reports.iter().filter(|r| r.failure.is_some()).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} seeds: {} passed, {} failed; {} faults injected, {} recoveries, {} checkpoints completed",
        reports.len(),
        reports.len() - failed.len(),
        failed.len(),
        reports.iter().map(|r| r.faults).sum::<usize>(),
        reports.iter().map(|r| r.recoveries).sum::<usize>(),
        reports.iter().map(|r| r.checkpoints).sum::<usize>(),
    );
    for r in failed {
        let _ = writeln!(
            out,
            "FAILED seed {}: {}\n  replay: cargo run -p sim -- check {path} --seeds {}..={} --verbose",
            r.seed,
            r.failure.as_deref().unwrap_or(""),
            r.seed,
            r.seed
        );
    }
    out
}
