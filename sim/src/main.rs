//! `sim`: run mini-flink scenarios headless in the simulator.
//!
//! `cargo run -p sim -- run scenarios/session.toml [--seed N] [--trace FILE]`
//! `cargo run -p sim -- compare scenarios/compare-modes.toml [--json]`
//! `cargo run -p sim -- check scenarios/failover.toml --seeds 1..=100 [--jobs N]
//! [--check-determinism] [--verbose]` (exit 0 valid, 1 invalid, 2 unknown, 3 bad input)

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
    /// Run a scenario under a random fault schedule per seed and judge each
    /// run against the fault-free one: records lost, duplicated, unexpected;
    /// valid / invalid / unknown. Exit code: 0 all valid, 1 a seed invalid,
    /// 2 a seed unknown (none invalid), 3 bad input. The first invalid seed
    /// is shrunk to a minimal schedule, written as a replayable scenario.
    Check {
        /// The scenario file.
        scenario: PathBuf,
        /// Seeds: `N`, `A..B` or `A..=B`.
        #[arg(long, default_value = "1..=20", value_parser = parse_seeds)]
        seeds: SeedRange,
        /// Print each seed's fault schedule and the run's timeline (runs
        /// the seeds one at a time).
        #[arg(long)]
        verbose: bool,
        /// Simulations at once, on OS threads (default: available cores).
        #[arg(long)]
        jobs: Option<usize>,
        /// Run every seed twice and report the first event where the two
        /// traces differ.
        #[arg(long)]
        check_determinism: bool,
        /// Do not shrink the first invalid seed.
        #[arg(long)]
        no_shrink: bool,
        /// When no seed is invalid, shrink the first unknown one (a job that
        /// did not finish) to a minimal schedule that still stalls it.
        #[arg(long, conflicts_with = "no_shrink")]
        shrink_unknown: bool,
        /// Where the shrunk replay scenario is written.
        #[arg(long, default_value = "target/shrunk")]
        replay_dir: PathBuf,
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
    // A campaign injects faults on purpose: the errors they cause (a failed
    // checkpoint write, a lost connection), logged by hundreds of seeds at
    // once, would bury the progress bar and the verdicts. `check` judges
    // runs by their events; its log is off unless RUST_LOG or --verbose
    // asks for it.
    let quiet = matches!(cli.cmd, Cmd::Check { verbose: false, .. })
        && std::env::var_os("RUST_LOG").is_none();
    if quiet {
        sim::logging::init_with("off");
    } else {
        sim::logging::init();
    }
    match cli.cmd {
        Cmd::Check {
            scenario,
            seeds,
            verbose,
            jobs,
            check_determinism,
            no_shrink,
            shrink_unknown,
            replay_dir,
        } => check(
            &scenario,
            seeds,
            CheckOptions {
                verbose,
                jobs,
                check_determinism,
                shrink: !no_shrink,
                shrink_unknown,
                replay_dir,
            },
        ),
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

/// `sim check`'s switches.
struct CheckOptions {
    verbose: bool,
    jobs: Option<usize>,
    check_determinism: bool,
    shrink: bool,
    shrink_unknown: bool,
    replay_dir: PathBuf,
}

/// Exit code of `sim check` for bad input (0, 1, 2 are verdicts).
const BAD_INPUT: u8 = 3;

fn check(path: &std::path::Path, seeds: SeedRange, opts: CheckOptions) -> ExitCode {
    use std::io::IsTerminal as _;
    let s = match sim::load(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    let reference = match sim::campaign::Reference::run(&s) {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "error: the fault-free run of {} failed: {e}",
                path.display()
            );
            return ExitCode::from(BAD_INPUT);
        }
    };
    let jobs = opts
        .jobs
        .unwrap_or_else(sim::campaign::parallel::default_jobs);
    if jobs == 0 {
        eprintln!("error: --jobs 0: at least one simulation must run at a time");
        return ExitCode::from(BAD_INPUT);
    }
    let started = std::time::Instant::now();
    let reports = if opts.verbose {
        let mut reports = Vec::new();
        for seed in seeds.0..=seeds.1 {
            let r = sim::campaign::parallel::run_seed(&s, seed, &reference, opts.check_determinism);
            let faulty = sim::campaign::with_faults(&s, seed, &reference);
            println!(
                "seed {seed}: {} {}",
                r.verdict,
                r.failure.as_deref().unwrap_or("")
            );
            for j in &r.jobs {
                println!(
                    "  job {}: {} ({}; {} lost, {} duplicated, {} unexpected)",
                    j.name, j.verdict, j.why, j.lost, j.duplicated, j.unexpected
                );
            }
            for f in &faulty.faults {
                println!("  {:>8} {f}", sim::summary::secs(f.at_ms));
            }
            if let Ok(o) = sim::Simulation::new(&faulty, Some(seed)).run() {
                print!("{}", sim::summary::timeline(&o.events));
            }
            reports.push(r);
        }
        reports
    } else {
        sim::campaign::parallel::run(
            &s,
            seeds.0,
            seeds.1,
            &reference,
            sim::campaign::parallel::Options {
                jobs,
                progress: std::io::stderr().is_terminal(),
                check_determinism: opts.check_determinism,
            },
        )
    };
    let wall = started.elapsed().as_secs_f64();
    print!(
        "{}",
        sim::campaign::summary(&path.display().to_string(), &reports)
    );
    println!(
        "{} seeds in {wall:.1} s on {jobs} thread(s): {:.0} seeds/minute",
        reports.len(),
        reports.len() as f64 * 60.0 / wall.max(1e-9)
    );
    let worst = sim::campaign::worst(&reports);
    let first = |v| reports.iter().find(|r| r.verdict == v && s.draw_faults);
    let to_shrink = first(sim::campaign::Verdict::Invalid).or_else(|| {
        opts.shrink_unknown
            .then(|| first(sim::campaign::Verdict::Unknown))
            .flatten()
    });
    if opts.shrink
        && let Some(r) = to_shrink
    {
        eprintln!("shrinking seed {}...", r.seed);
        match sim::campaign::shrink::shrink(&s, r.seed, &reference, r.verdict, 120) {
            None => println!("seed {}: the failure did not repeat when shrinking", r.seed),
            Some(shrunk) => {
                println!(
                    "shrunk seed {} from {} fault entries to {} ({} runs): {}",
                    shrunk.seed,
                    shrunk.from,
                    shrunk.faults.len(),
                    shrunk.runs,
                    shrunk.failure
                );
                for f in &shrunk.faults {
                    println!("  {:>8} {f}", sim::summary::secs(f.at_ms));
                }
                match sim::campaign::shrink::write_replay(path, &shrunk, &opts.replay_dir) {
                    Ok(file) => println!(
                        "replay: sim check {0} --seeds {1}..={1}
        sim run {0}",
                        file.display(),
                        shrunk.seed
                    ),
                    Err(e) => eprintln!("error: {e}"),
                }
            }
        }
    }
    ExitCode::from(worst.exit_code())
}
