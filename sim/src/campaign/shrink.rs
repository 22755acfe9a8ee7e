//! Shrinking a failing seed to a minimal fault schedule, written as a
//! scenario that replays it.
//!
//! As QuickCheck and Hypothesis shrink a failing input, the campaign
//! shrinks a failing schedule: it drops whole faults (a crash with its
//! restart, a cut with its repair), then the second half of a pair (a
//! crash never restarted), moves faults later and shortens partitions and
//! slow links, keeping each change only if the run still gets the same
//! verdict. Every try is a full deterministic run of the same seed, so the
//! result replays exactly: it is written as a scenario file with `[campaign]
//! draw_faults = false` (`sim run FILE` shows it, `sim check FILE --seeds
//! S..=S` fails again).

use super::{Reference, Verdict};
use crate::scenario::{Fault, FaultAction, Scenario};
use std::path::{Path, PathBuf};

/// A shrunk schedule and how it was reached.
#[derive(Debug, Clone)]
pub struct Shrunk {
    /// The seed.
    pub seed: u64,
    /// The verdict it keeps.
    pub verdict: Verdict,
    /// Why, as the run with the shrunk schedule says.
    pub failure: String,
    /// Fault entries before shrinking.
    pub from: usize,
    /// The minimal schedule, in time order.
    pub faults: Vec<Fault>,
    /// Runs it took.
    pub runs: usize,
}

/// Whether a schedule still gives `target` for `seed`; its failure text.
fn fails(
    s: &Scenario,
    seed: u64,
    reference: &Reference,
    faults: &[Fault],
    target: Verdict,
) -> Option<String> {
    let mut t = s.clone();
    t.draw_faults = false;
    t.faults = faults.to_vec();
    t.faults.sort_by_key(|f| f.at_ms);
    let outcome = super::parallel::run_caught(&t, seed);
    let r = super::judge_seed(&t, &t, seed, reference, outcome);
    (r.verdict == target).then(|| r.failure.unwrap_or_default())
}

/// Groups of entries that belong together: a fault and the entry that
/// undoes it (same hosts, later), or a lone entry.
fn groups(faults: &[Fault]) -> Vec<Vec<Fault>> {
    let mut out: Vec<Vec<Fault>> = Vec::new();
    let mut used = vec![false; faults.len()];
    for i in 0..faults.len() {
        if used[i] {
            continue;
        }
        used[i] = true;
        let mut g = vec![faults[i].clone()];
        let undo = |a: &FaultAction, b: &FaultAction| match (a, b) {
            (FaultAction::Crash(x), FaultAction::Restart(y)) => x == y,
            (FaultAction::Partition(a1, b1), FaultAction::Repair(a2, b2)) => a1 == a2 && b1 == b2,
            (FaultAction::Delay(a1, b1, _), FaultAction::Delay(a2, b2, _)) => a1 == a2 && b1 == b2,
            _ => false,
        };
        if let Some(j) = (i + 1..faults.len()).find(|&j| {
            !used[j]
                && undo(&faults[i].action, &faults[j].action)
                && faults[i].after.is_some() == faults[j].after.is_some()
        }) {
            used[j] = true;
            g.push(faults[j].clone());
        }
        out.push(g);
    }
    out
}

fn flat(gs: &[Vec<Fault>]) -> Vec<Fault> {
    let mut v: Vec<Fault> = gs.iter().flatten().cloned().collect();
    v.sort_by_key(|f| f.at_ms);
    v
}

/// Shrinks `seed`'s schedule on `s` while the verdict stays `target`,
/// trying at most `budget` runs.
pub fn shrink(
    s: &Scenario,
    seed: u64,
    reference: &Reference,
    target: Verdict,
    budget: usize,
) -> Option<Shrunk> {
    let start = super::with_faults(s, seed, reference).faults;
    let mut runs = 1;
    let mut failure = fails(s, seed, reference, &start, target)?;
    let mut gs = groups(&start);
    let try_ = |gs: &[Vec<Fault>], runs: &mut usize| -> Option<String> {
        if *runs >= budget {
            return None;
        }
        *runs += 1;
        fails(s, seed, reference, &flat(gs), target)
    };
    // 1. Drop whole faults: halves first, then one at a time.
    let mut chunk = gs.len().div_ceil(2);
    while chunk >= 1 && gs.len() > 1 {
        let mut i = 0;
        let mut dropped = false;
        while i < gs.len() && gs.len() > 1 {
            let mut cand = gs.clone();
            cand.drain(i..(i + chunk).min(cand.len()));
            if let Some(f) = try_(&cand, &mut runs) {
                gs = cand;
                failure = f;
                dropped = true;
            } else {
                i += chunk;
            }
        }
        if chunk == 1 && !dropped {
            break;
        }
        chunk = if chunk == 1 { 1 } else { chunk / 2 };
    }
    // 2. Drop the undoing half of a pair (a crash never restarted).
    for i in 0..gs.len() {
        if gs[i].len() == 2 {
            let mut cand = gs.clone();
            cand[i].truncate(1);
            if let Some(f) = try_(&cand, &mut runs) {
                gs = cand;
                failure = f;
            }
        }
    }
    // 3. Shorten what is undone: bring the undoing entry closer.
    for i in 0..gs.len() {
        while gs[i].len() == 2 {
            let gap = gs[i][1].at_ms - gs[i][0].at_ms;
            let delay_gap = match (gs[i][0].after, gs[i][1].after) {
                (Some(a), Some(b)) => b.delay_ms.saturating_sub(a.delay_ms),
                _ => gap,
            };
            if delay_gap < 20 {
                break;
            }
            let mut cand = gs.clone();
            match (cand[i][0].after, &mut cand[i][1].after) {
                (Some(a), Some(b)) => b.delay_ms = a.delay_ms + delay_gap / 2,
                _ => cand[i][1].at_ms = cand[i][0].at_ms + gap / 2,
            }
            match try_(&cand, &mut runs) {
                Some(f) => {
                    gs = cand;
                    failure = f;
                }
                None => break,
            }
        }
    }
    // 4. Move faults later, by shrinking steps.
    for i in 0..gs.len() {
        for step in [4_000, 1_000, 250] {
            loop {
                let mut cand = gs.clone();
                for f in &mut cand[i] {
                    f.at_ms += step;
                }
                match try_(&cand, &mut runs) {
                    Some(f) => {
                        gs = cand;
                        failure = f;
                    }
                    None => break,
                }
            }
        }
    }
    Some(Shrunk {
        seed,
        verdict: target,
        failure,
        from: start.len(),
        faults: flat(&gs),
        runs,
    })
}

/// One fault as a `[[faults]]` table of a scenario file.
pub fn fault_table(f: &Fault) -> toml::Table {
    let mut t = toml::Table::new();
    let s = |x: &str| toml::Value::String(x.to_string());
    let pair = |a: &str, b: &str| toml::Value::Array(vec![s(a), s(b)]);
    t.insert("at_ms".into(), toml::Value::Integer(f.at_ms as i64));
    let (action, key, value) = match &f.action {
        FaultAction::Crash(h) => ("crash", "host", s(h)),
        FaultAction::CrashBusiest => ("crash", "host", s("busiest-taskmanager")),
        FaultAction::Restart(h) => ("restart", "host", s(h)),
        FaultAction::StartTaskManager(h) => ("start", "host", s(h)),
        FaultAction::Partition(a, b) => ("partition", "hosts", pair(a, b)),
        FaultAction::Repair(a, b) => ("repair", "hosts", pair(a, b)),
        FaultAction::Delay(a, b, ms) => {
            t.insert("delay_ms".into(), toml::Value::Integer(*ms as i64));
            ("delay", "hosts", pair(a, b))
        }
        FaultAction::CancelJob(j) => ("cancel", "job", s(j)),
        FaultAction::Savepoint(j) => ("savepoint", "job", s(j)),
        FaultAction::StopWithSavepoint(j) => ("stop", "job", s(j)),
        FaultAction::FailStorageWrites(n) => {
            ("fail-writes", "writes", toml::Value::Integer(*n as i64))
        }
        FaultAction::SlowStorageWrites(n, ms) => {
            t.insert("delay_ms".into(), toml::Value::Integer(*ms as i64));
            ("slow-writes", "writes", toml::Value::Integer(*n as i64))
        }
        FaultAction::DamageLatestCheckpoint(tear) => (
            "damage-checkpoint",
            "damage",
            s(if *tear { "tear" } else { "flip" }),
        ),
    };
    t.insert("action".into(), s(action));
    t.insert(key.into(), value);
    if let Some(a) = f.after {
        t.insert("after".into(), s(a.event.as_str()));
        t.insert("after_ms".into(), toml::Value::Integer(a.delay_ms as i64));
    }
    t
}

/// Errors writing a replay file.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The scenario file cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// Which.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It is not TOML (it parsed before, so it changed meanwhile).
    #[error("{} is no longer valid TOML: {source}", path.display())]
    Toml {
        /// Which.
        path: PathBuf,
        /// Why.
        source: toml::de::Error,
    },
    /// The replay file cannot be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Makes `file = "..."` keys absolute (relative to `base`), in a table and
/// the arrays of tables below it.
fn absolute_files(v: &mut toml::Value, base: &Path) {
    match v {
        toml::Value::Table(t) => {
            for (k, x) in t.iter_mut() {
                if k == "file"
                    && let toml::Value::String(p) = x
                    && Path::new(p.as_str()).is_relative()
                {
                    *p = base.join(p.as_str()).display().to_string();
                } else {
                    absolute_files(x, base);
                }
            }
        }
        toml::Value::Array(a) => a.iter_mut().for_each(|x| absolute_files(x, base)),
        _ => {}
    }
}

/// Writes the shrunk schedule as a scenario next to nothing: `scenario`'s
/// file with its seed, its faults replaced and `[campaign] draw_faults =
/// false`, into `dir`. Returns the file written.
pub fn write_replay(scenario: &Path, shrunk: &Shrunk, dir: &Path) -> Result<PathBuf, ReplayError> {
    let text = std::fs::read_to_string(scenario).map_err(|source| ReplayError::Read {
        path: scenario.to_path_buf(),
        source,
    })?;
    let mut doc: toml::Table = toml::from_str(&text).map_err(|source| ReplayError::Toml {
        path: scenario.to_path_buf(),
        source,
    })?;
    let base = scenario
        .parent()
        .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()))
        .unwrap_or_default();
    for key in ["jobs", "applications"] {
        if let Some(v) = doc.get_mut(key) {
            absolute_files(v, &base);
        }
    }
    let stem = scenario
        .file_stem()
        .map_or("scenario".into(), |s| s.to_string_lossy().into_owned());
    let name = doc
        .get("name")
        .and_then(|n| n.as_str())
        .unwrap_or(&stem)
        .to_string();
    doc.insert(
        "name".into(),
        toml::Value::String(format!("{name}-seed-{}-shrunk", shrunk.seed)),
    );
    doc.insert(
        "description".into(),
        toml::Value::String(format!(
            "{} seed {} of `sim check {}`, shrunk from {} fault entries to {} in {} runs:\n{}\n",
            shrunk.verdict.as_str().to_uppercase(),
            shrunk.seed,
            scenario.display(),
            shrunk.from,
            shrunk.faults.len(),
            shrunk.runs,
            shrunk.failure
        )),
    );
    doc.insert("seed".into(), toml::Value::Integer(shrunk.seed as i64));
    doc.insert(
        "faults".into(),
        toml::Value::Array(
            shrunk
                .faults
                .iter()
                .map(|f| toml::Value::Table(fault_table(f)))
                .collect(),
        ),
    );
    let mut campaign = toml::Table::new();
    campaign.insert("draw_faults".into(), toml::Value::Boolean(false));
    doc.insert("campaign".into(), toml::Value::Table(campaign));
    // The fault-free run's statuses are what the replay expects.
    let out = dir.join(format!("{stem}-seed-{}-shrunk.toml", shrunk.seed));
    let body = toml::to_string(&doc).unwrap_or_default();
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&out, body))
        .map_err(|source| ReplayError::Write {
            path: out.clone(),
            source,
        })?;
    Ok(out)
}
