//! `book`: the book's generated material, and its exercises' checks.
//!
//! ```sh
//! cargo run -p mini-flink-tests --bin book -- generate            # into book/src/generated/
//! cargo run -p mini-flink-tests --bin book -- generate --out DIR  # elsewhere
//! cargo run -p mini-flink-tests --bin book -- check book/exercises/ch01-four-slots STUDENT.toml
//! cargo run -p mini-flink-tests --bin book -- links               # every link, include and picture
//! ```
//!
//! `generate` runs what each chapter shows (commands, scenarios, the TUI,
//! pictures) and writes it; with Graphviz installed it also draws an SVG
//! beside each DOT file. `check` compiles a job file, or runs a scenario in
//! the simulator for an exercise on a run (by default the exercise's
//! answer), and says which of the exercise's expectations it misses; it
//! exits 1 if any, 2 if the file does not load.

use clap::{Parser, Subcommand};
use mini_flink_tests::book::{self, exercise::Exercise};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "book",
    about = "Generate the book's outputs, screens and pictures; check exercises"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Regenerate every chapter's outputs, screens and pictures.
    Generate {
        /// Where to write them (default: book/src/generated).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check that every chapter, include, link and picture of the book
    /// resolves (offline; web links are not fetched).
    Links,
    /// Check a job file (or a scenario) against an exercise's expectation.
    Check {
        /// The exercise's folder (holding expect.toml).
        exercise: PathBuf,
        /// The job file or scenario to check (default: the exercise's answer).
        job: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    match Cli::parse().cmd {
        Cmd::Generate { out } => {
            let root = book::repo_root();
            let dir = out.unwrap_or_else(|| book::generated_dir(&root));
            let svg = viz::dot_available();
            let files = match book::generate(&root) {
                Ok(f) => f,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            };
            if let Err(e) = book::write(&dir, &files, svg) {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
            println!("wrote {} files to {}", files.len(), dir.display());
            if !svg {
                println!(
                    "Graphviz's `dot` is not installed: the SVG pictures were left as they were"
                );
            }
            ExitCode::SUCCESS
        }
        Cmd::Links => {
            let src = book::repo_root().join("book/src");
            let r = book::links::check(&src);
            for p in &r.problems {
                println!("{p}");
            }
            for d in &r.drafts {
                println!("SUMMARY.md: chapter \"{d}\" is a draft (no file yet)");
            }
            println!(
                "{} chapters, {} local links and pictures, {} web links (not fetched): {} problem(s)",
                r.chapters,
                r.links,
                r.web_links,
                r.problems.len()
            );
            if r.problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Cmd::Check { exercise, job } => {
            let ex = match Exercise::load(&exercise) {
                Ok(ex) => ex,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let job = job.unwrap_or_else(|| ex.answer_file());
            match ex.check(&job) {
                Ok(misses) => {
                    print!(
                        "{}",
                        book::exercise::report(&job.display().to_string(), &misses)
                    );
                    if misses.is_empty() {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    }
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}
