//! Running a campaign's seeds on all cores, and checking determinism.
//!
//! Each seed is one simulation, single-threaded and deterministic as
//! always (turmoil steps its hosts in a fixed order): the parallelism is
//! only several simulations at once, one per OS thread, each built inside
//! its thread. Results come back in any order and are reported in seed
//! order. A progress bar (indicatif, on stderr) shows how far it is; it
//! draws nothing when stderr is not a terminal.
//!
//! `--check-determinism` runs every seed twice and compares the two event
//! traces line by line: the first line that differs is the first event
//! where the runs diverged, which is where non-determinism crept in.

use super::{Reference, SeedReport, Verdict};
use crate::scenario::Scenario;
use crate::simulation::{SimError, Simulation};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

/// How to run a campaign.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Simulations at once (OS threads); at least 1.
    pub jobs: usize,
    /// Draw a progress bar on stderr (if it is a terminal).
    pub progress: bool,
    /// Run each seed twice and compare the traces.
    pub check_determinism: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            jobs: default_jobs(),
            progress: false,
            check_determinism: false,
        }
    }
}

/// The number of cores, or 1 if it cannot be told.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Where two traces first differ: the event's index and both lines.
pub fn first_divergence(a: &str, b: &str) -> Option<String> {
    let (mut la, mut lb) = (a.lines(), b.lines());
    for i in 0.. {
        match (la.next(), lb.next()) {
            (None, None) => return None,
            (x, y) if x == y => continue,
            (x, y) => {
                return Some(format!(
                    "the traces diverge at event {i}:\n    first:  {}\n    second: {}",
                    x.unwrap_or("(trace ended)"),
                    y.unwrap_or("(trace ended)")
                ));
            }
        }
    }
    None
}

/// Runs a scenario; a panic in it is a failed run, not a failed campaign.
pub fn run_caught(s: &Scenario, seed: u64) -> Result<crate::Outcome, SimError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Simulation::new(s, Some(seed)).run()
    }))
    .unwrap_or_else(|p| {
        let what = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic".into());
        Err(SimError::Turmoil(format!("panicked: {what}")))
    })
}

/// Runs and judges one seed (twice with `check_determinism`).
pub fn run_seed(
    s: &Scenario,
    seed: u64,
    reference: &Reference,
    check_determinism: bool,
) -> SeedReport {
    let faulty = super::with_faults(s, seed, reference);
    let outcome = run_caught(&faulty, seed);
    let first = check_determinism.then(|| {
        outcome
            .as_ref()
            .map(|o| crate::summary::trace_jsonl(&o.events))
            .unwrap_or_else(|e| e.to_string())
    });
    let mut report = super::judge_seed(s, &faulty, seed, reference, outcome);
    if let Some(first) = first {
        let second = match run_caught(&faulty, seed) {
            Ok(o) => crate::summary::trace_jsonl(&o.events),
            Err(e) => e.to_string(),
        };
        if let Some(d) = first_divergence(&first, &second) {
            report.verdict = Verdict::Invalid;
            report.failure = Some(format!("determinism: {d}"));
        }
    }
    report
}

/// Runs seeds `from..=to` on `opts.jobs` threads; the reports in seed order.
pub fn run(
    s: &Scenario,
    from: u64,
    to: u64,
    reference: &Reference,
    opts: Options,
) -> Vec<SeedReport> {
    let total = to - from + 1;
    let bar = if opts.progress {
        ProgressBar::new(total)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "[{elapsed_precise}] {bar:30} {pos}/{len} seeds, {msg} ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message("0 not valid");
    let next = AtomicU64::new(from);
    let (tx, rx) = mpsc::channel::<SeedReport>();
    let mut done = BTreeMap::new();
    std::thread::scope(|scope| {
        for _ in 0..opts.jobs.clamp(1, total.min(1024) as usize) {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || {
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed > to {
                        break;
                    }
                    if tx
                        .send(run_seed(s, seed, reference, opts.check_determinism))
                        .is_err()
                    {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut bad = 0;
        for r in rx {
            if r.verdict != Verdict::Valid {
                bad += 1;
                bar.set_message(format!("{bad} not valid"));
            }
            bar.inc(1);
            done.insert(r.seed, r);
        }
    });
    bar.finish_and_clear();
    done.into_values().collect()
}
