//! `sim`: run mini-flink scenarios headless in the simulator.
//!
//! `cargo run -p sim -- run scenarios/session.toml [--seed N] [--trace FILE]`

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "sim", version, about = "Run mini-flink scenarios in the deterministic simulator (turmoil)")]
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Run { scenario, seed, trace, brief } => {
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
                eprintln!("trace: {} events written to {}", outcome.events.len(), path.display());
            }
            if outcome.failed_expectations.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
