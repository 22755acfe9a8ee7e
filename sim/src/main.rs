//! `sim`: run mini-flink scenarios headless in the simulator.
//!
//! `cargo run -p sim -- run scenarios/session.toml [--seed N] [--trace FILE]`
//! `cargo run -p sim -- compare scenarios/compare-modes.toml [--json]`

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "sim",
    version,
    about = "Run mini-flink scenarios in the deterministic simulator (turmoil)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a scenario to its end and print outcomes, results, slots and a timeline.
    Run {
        /// The scenario file.
        scenario: PathBuf,
        /// Seed (overrides the scenario's).
        #[arg(long)]
        seed: Option<u64>,
        /// Write the event trace as JSON lines to this file.
        #[arg(long)]
        trace: Option<PathBuf>,
        /// Print only the summary, without the timeline.
        #[arg(long)]
        brief: bool,
    },
    /// Run a scenario's workload as a session cluster, as job clusters and as
    /// application clusters, and print the three side by side.
    Compare {
        /// The scenario file (its `mode` is ignored).
        scenario: PathBuf,
        /// Seed (overrides the scenario's).
        #[arg(long)]
        seed: Option<u64>,
        /// Print the comparison as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run a scenario under a random fault schedule per seed and check that
    /// every job's committed output equals the fault-free run's.
    Check {
        /// The scenario file.
        scenario: PathBuf,
        /// Seeds: `N`, `A..B` or `A..=B`.
        #[arg(long, default_value = "1..=20", value_parser = parse_seeds)]
        seeds: SeedRange,
        /// Print each seed's fault schedule and the run's timeline.
        #[arg(long)]
        verbose: bool,
    },
}

/// An inclusive range of seeds.
#[derive(Debug, Clone, Copy)]
struct SeedRange(u64, u64);

/// A `--seeds` value that is not a range of seeds.
#[derive(Debug, thiserror::Error)]
enum SeedRangeError {
    /// Not N, A..B or A..=B.
    #[error("`{0}` is not a seed range: write N, A..B or A..=B (e.g. 1..=10000)")]
    NotARange(String),
    /// A range with no seed in it.
    #[error("`{0}` is empty: the first seed is after the last")]
    Empty(String),
}

fn parse_seeds(s: &str) -> Result<SeedRange, SeedRangeError> {
    let bad = || SeedRangeError::NotARange(s.to_string());
    let num = |x: &str| x.trim().parse::<u64>().map_err(|_| bad());
    let r = if let Some((a, b)) = s.split_once("..=") {
        SeedRange(num(a)?, num(b)?)
    } else if let Some((a, b)) = s.split_once("..") {
        let b = num(b)?;
        if b == 0 {
            return Err(bad());
        }
        SeedRange(num(a)?, b - 1)
    } else {
        let n = num(s)?;
        SeedRange(n, n)
    };
    if r.0 > r.1 {
        return Err(SeedRangeError::Empty(s.to_string()));
    }
    Ok(r)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    sim::logging::init();
    match cli.cmd {
        Cmd::Check {
            scenario,
            seeds,
            verbose,
        } => check(&scenario, seeds, verbose),
        Cmd::Compare {
            scenario,
            seed,
            json,
        } => {
            let s = match sim::load(&scenario) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            };
            let c = match sim::compare::compare(&s, seed) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            };
            if json {
                match serde_json::to_string_pretty(&c) {
                    Ok(text) => println!("{text}"),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            } else {
                print!("{}", sim::compare::table(&c));
            }
            ExitCode::SUCCESS
        }
        Cmd::Run {
            scenario,
            seed,
            trace,
            brief,
        } => {
            let s = match sim::load(&scenario) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            };
            let sim = sim::Simulation::new(&s, seed);
            let seed = sim.seed();
            let outcome = match sim.run() {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let mut text = sim::summary::summary(&s, seed, &outcome);
            if brief && let Some(i) = text.find("\nTimeline\n") {
                text.truncate(i + 1);
            }
            print!("{text}");
            if let Some(path) = trace {
                if let Err(e) = std::fs::write(&path, sim::summary::trace_jsonl(&outcome.events)) {
                    eprintln!("error: cannot write the trace to {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
                eprintln!(
                    "trace: {} events written to {}",
                    outcome.events.len(),
                    path.display()
                );
            }
            if outcome.failed_expectations.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn check(path: &std::path::Path, seeds: SeedRange, verbose: bool) -> ExitCode {
    use std::io::Write as _;
    let s = match sim::load(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let reference = match sim::campaign::reference(&s) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: the fault-free run failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let total = seeds.1 - seeds.0 + 1;
    let mut reports = Vec::new();
    let mut failed = 0;
    for (i, seed) in (seeds.0..=seeds.1).enumerate() {
        let r = sim::campaign::check_seed(&s, seed, &reference);
        if r.failure.is_some() {
            failed += 1;
        }
        if verbose {
            let faulty = sim::campaign::with_faults(&s, seed);
            println!("seed {seed}: {}", r.failure.as_deref().unwrap_or("ok"));
            for f in &faulty.faults {
                println!("  {:>8} {}", sim::summary::secs(f.at_ms), f.action);
            }
            if let Ok(o) = sim::Simulation::new(&faulty, Some(seed)).run() {
                print!("{}", sim::summary::timeline(&o.events));
            }
        } else {
            let done = i as u64 + 1;
            let width = 30;
            let filled = (done * width / total) as usize;
            eprint!(
                "\r[{}{}] {done}/{total} seeds, {failed} failed",
                "#".repeat(filled),
                " ".repeat(width as usize - filled)
            );
            let _ = std::io::stderr().flush();
        }
        reports.push(r);
    }
    if !verbose {
        eprintln!();
    }
    print!(
        "{}",
        sim::campaign::summary(&path.display().to_string(), &reports)
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
