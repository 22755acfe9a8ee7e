//! Chapter 7, "Breaking it on purpose": a fault campaign (`sim check`),
//! one seed's schedule and what the cluster did about it, and the
//! determinism that makes a failing seed a bug report.

use super::{screen_text, select_job};
use crate::book::{BookError, Generated, transcript};
use std::path::Path;
use tui::{App, Screen};

/// The book's campaign scenario, relative to the repository.
const SCENARIO: &str = "book/scenarios/campaign.toml";

/// The seeds the chapter's campaign runs.
const SEEDS: std::ops::RangeInclusive<u64> = 1..=6;

/// The seed the chapter follows: its schedule crashes the TaskManager
/// that runs the job.
const SEED: u64 = 1;

/// Where `a` and `b` first differ, in the words of `cmp`.
pub fn cmp(a_name: &str, a: &str, b_name: &str, b: &str) -> Option<String> {
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    let common = ab.iter().zip(bb).take_while(|(x, y)| x == y).count();
    if common == ab.len() && common == bb.len() {
        return None;
    }
    let line = 1 + ab[..common].iter().filter(|c| **c == b'\n').count();
    if common == ab.len() || common == bb.len() {
        let shorter = if common == ab.len() { a_name } else { b_name };
        return Some(format!(
            "cmp: EOF on {shorter} after byte {common}, line {line}"
        ));
    }
    Some(format!(
        "{a_name} {b_name} differ: byte {}, line {line}",
        common + 1
    ))
}

/// Runs `s` with `seed` (None: the scenario's) and returns the trace as
/// `sim run --trace` writes it.
fn trace(s: &sim::Scenario, seed: Option<u64>) -> Result<String, BookError> {
    let o = sim::Simulation::new(s, seed)
        .run()
        .map_err(|e| BookError::Scenario {
            path: s.path.clone(),
            message: e.to_string(),
        })?;
    Ok(sim::summary::trace_jsonl(&o.events))
}

/// The line `n` (1-based) of `text`.
fn line(text: &str, n: usize) -> &str {
    text.lines().nth(n.saturating_sub(1)).unwrap_or("")
}

/// Chapter 7's files.
pub fn breaking_it(root: &Path) -> Result<Vec<Generated>, BookError> {
    let path = root.join(SCENARIO);
    let s = sim::load(&path).map_err(|e| BookError::Scenario {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let mut files = Vec::new();

    // The campaign, as `sim check` prints it (its progress bar goes to
    // stderr).
    let reference = sim::campaign::Reference::run(&s).map_err(|e| BookError::Scenario {
        path: path.clone(),
        message: format!("the fault-free run: {e}"),
    })?;
    let reports: Vec<_> = SEEDS
        .map(|seed| sim::campaign::check_seed(&s, seed, &reference))
        .collect();
    files.push(Generated::new(
        "ch07/check.console",
        transcript(
            &format!(
                "cargo run -p sim -- check {SCENARIO} --seeds {}..={}",
                SEEDS.start(),
                SEEDS.end()
            ),
            &sim::campaign::summary(SCENARIO, &reports),
        ),
    ));

    // One seed, verbose, as `sim check --verbose` prints it, without the
    // checkpoint lines (`grep -v checkpoint`).
    let faulty = sim::campaign::with_faults(&s, SEED, &reference);
    let run = sim::Simulation::new(&faulty, Some(SEED))
        .run()
        .map_err(|e| BookError::Scenario {
            path: path.clone(),
            message: e.to_string(),
        })?;
    let report = sim::campaign::check_seed(&s, SEED, &reference);
    let mut out = format!(
        "seed {SEED}: {}\n",
        report.failure.as_deref().unwrap_or("ok")
    );
    for f in &faulty.faults {
        out.push_str(&format!("  {:>8} {}\n", sim::summary::secs(f.at_ms), f));
    }
    for l in sim::summary::timeline(&run.events).lines() {
        if !l.contains("checkpoint") {
            out.push_str(l);
            out.push('\n');
        }
    }
    files.push(Generated::new(
        "ch07/seed.console",
        transcript(
            &format!(
                "cargo run -p sim -- check {SCENARIO} --seeds {SEED}..={SEED} --verbose | grep -v checkpoint"
            ),
            &out,
        ),
    ));

    // Determinism: the same seed twice, then another seed.
    let a = trace(&s, None)?;
    let b = trace(&s, None)?;
    let c = trace(&s, Some(s.seed + 1))?;
    let events = |t: &str| t.lines().count();
    let mut out = String::new();
    let run_line = |file: &str, seed: Option<u64>, t: &str| {
        let seed = seed.map(|n| format!(" --seed {n}")).unwrap_or_default();
        format!(
            "$ cargo run -p sim -- run {SCENARIO}{seed} --brief --trace {file} > /dev/null\ntrace: {} events written to {file}\n",
            events(t)
        )
    };
    out.push_str(&run_line("a.jsonl", None, &a));
    out.push_str(&run_line("b.jsonl", None, &b));
    out.push_str("$ cmp a.jsonl b.jsonl && echo identical\n");
    match cmp("a.jsonl", &a, "b.jsonl", &b) {
        None => out.push_str("identical\n"),
        Some(d) => out.push_str(&format!("{d}\n")),
    }
    out.push_str(&run_line("c.jsonl", Some(s.seed + 1), &c));
    out.push_str("$ cmp a.jsonl c.jsonl\n");
    if let Some(d) = cmp("a.jsonl", &a, "c.jsonl", &c) {
        out.push_str(&format!("{d}\n"));
        if let Some(n) = d
            .rsplit_once("line ")
            .and_then(|(_, n)| n.parse::<usize>().ok())
        {
            out.push_str(&format!(
                "$ sed -n {n}p a.jsonl; sed -n {n}p c.jsonl\n{}\n{}\n",
                line(&a, n),
                line(&c, n)
            ));
        }
    } else {
        out.push_str("(no difference)\n");
    }
    files.push(Generated::new("ch07/determinism.console", out));

    // The TUI replaying the seed's run: just after the crash (the
    // JobManager has not noticed yet), and the event log once the job
    // has been redeployed.
    let mut app = App::live(&faulty, Some(SEED));
    app.run_until(3_500);
    select_job(&mut app, "counts")?;
    files.push(Generated::new("ch07/crashed.screen", screen_text(&app)));
    app.run_until(3_685);
    app.update(tui::Action::Show(Screen::Events));
    // Two steps back (the `,` key): before the JobMaster's two new slot
    // requests, so "What it means" explains the restart.
    super::press(&mut app, ',');
    super::press(&mut app, ',');
    files.push(Generated::new("ch07/recovered.screen", screen_text(&app)));

    // The job's slots before the crash and after the recovery.
    for (name, at) in [("before", 3_000), ("after", 5_000)] {
        let mut app = App::live(&faulty, Some(SEED));
        let c = super::picture_at(&mut app, &faulty, at)?;
        files.push(Generated::new(
            format!("ch07/slots-{name}.dot"),
            viz::cluster_dot(&c, viz::ClusterDiagram::Slots),
        ));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::cmp;

    #[test]
    fn cmp_speaks_like_cmp() {
        assert_eq!(cmp("a", "x\ny\n", "b", "x\ny\n"), None);
        assert_eq!(
            cmp("a", "x\nyz\n", "b", "x\nyq\n").as_deref(),
            Some("a b differ: byte 4, line 2")
        );
        assert_eq!(
            cmp("a", "x\n", "b", "x\ny\n").as_deref(),
            Some("cmp: EOF on a after byte 2, line 2")
        );
    }
}
