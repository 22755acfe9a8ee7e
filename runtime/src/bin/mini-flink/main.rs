//! # `mini-flink`: the real deployment and the client CLI
//!
//! One binary plays every part a Flink distribution ships as scripts, over
//! real TCP on this machine or a network:
//!
//! | command | Flink counterpart |
//! |---|---|
//! | `mini-flink jobmanager` | `bin/jobmanager.sh start` (standalone session cluster master) |
//! | `mini-flink taskmanager` | `bin/taskmanager.sh start` (a worker offering task slots) |
//! | `mini-flink run JOB.toml` | `flink run` (compile and chain on the client, submit, wait) |
//! | `mini-flink list` | `flink list` |
//! | `mini-flink cancel JOBID` | `flink cancel` |
//! | `mini-flink savepoint JOBID [--stop]` | `flink savepoint` (and `flink stop`) |
//! | `mini-flink stop JOBID` | `flink stop` (stop-with-savepoint) |
//! | `mini-flink run -s PATH JOB.toml` | `flink run -s` (resume from a savepoint) |
//! | `mini-flink plan JOB.toml` | the plan Flink's web UI and `GET /jobs/:id/plan` show, before submitting |
//! | `mini-flink plan --from-rest URL/jobs/JID` | a running Flink job's plan (`GET /jobs/:id/plan`), drawn as ours |
//! | `mini-flink coordinator` | the ZooKeeper a highly available cluster elects its leader through |
//! | `mini-flink run-application APP.toml` | `flink run-application` (an application cluster: `main` on the JobManager) |
//! | `mini-flink run-job-cluster JOB.toml` | a job cluster (started for one job, torn down after it) |
//!
//! A session cluster on one machine:
//!
//! ```text
//! mini-flink jobmanager --bind 127.0.0.1:6123 &
//! mini-flink taskmanager --jobmanager 127.0.0.1:6123 --slots 2 &
//! mini-flink taskmanager --jobmanager 127.0.0.1:6123 --slots 2 &
//! mini-flink run scenarios/jobs/wordcount.toml
//! ```
//!
//! Checkpoints and savepoints go to the JobManager's `--checkpoint-dir`
//! (Flink's `state.checkpoints.dir`), by default a folder in the system's
//! temporary directory. A job stopped with a savepoint continues where it
//! stopped:
//!
//! ```text
//! mini-flink run -d JOB.toml                 # prints the job id
//! mini-flink stop JOBID                      # prints the savepoint's path
//! mini-flink run --from-savepoint PATH JOB.toml
//! ```
//!
//! The JobManager and TaskManagers run exactly the code the simulator runs
//! on virtual hosts; only the transport (`TcpNetwork`) and the clock
//! (`TokioClock` on a real runtime) differ. Every mistake on the command
//! line or in a job file ends in one clear message and a non-zero exit code.
//!
//! This file holds the command line's shape and the way an error ends the
//! process; each command group is a thin module under [`cli`] that parses
//! its arguments and calls the library (`runtime::client` for the client
//! commands, `runtime::jobmanager` and `runtime::taskmanager` for the
//! processes):
//!
//! | module | commands |
//! |---|---|
//! | [`cli::plan`] | `plan` |
//! | [`cli::jobs`] | `run`, `list`, `cancel` |
//! | [`cli::savepoints`] | `savepoint`, `stop` |
//! | [`cli::processes`] | `jobmanager`, `taskmanager`, `coordinator` |
//! | [`cli::modes`] | `run-application`, `run-job-cluster` |
//!
//! Errors of every command are printed by [`error_text`](mod@error_text), one line each.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use runtime::jobfile::JobFileError;
use std::process::ExitCode;

/// `println!` that ends the process quietly when standard output is gone
/// (`mini-flink plan JOB.toml | head`) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            $crate::stdout_gone();
        }
    }};
}

/// `print!` that ends the process quietly when standard output is gone.
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut out = std::io::stdout();
        if write!(out, $($arg)*).and_then(|()| out.flush()).is_err() {
            $crate::stdout_gone();
        }
    }};
}

mod cli;
mod error_text;

use cli::{jobs, modes, plan, processes, savepoints};
use error_text::error_text;

/// Standard output was closed by its reader: stop as a C program killed by
/// SIGPIPE would (exit status 141), without a message or a panic.
fn stdout_gone() -> ! {
    std::process::exit(141)
}

/// mini-flink: Apache Flink's runtime architecture, re-implemented to be read.
#[derive(Debug, Parser)]
#[command(name = "mini-flink", version)]
#[command(after_help = "A session cluster on this machine:\n  \
    mini-flink jobmanager --bind 127.0.0.1:6123 &\n  \
    mini-flink taskmanager --slots 2 &\n  \
    mini-flink taskmanager --slots 2 &\n  \
    mini-flink run JOB.toml")]
#[command(propagate_version = true, arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    security: cli::security::SecurityArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compile a job file on the client and show its plan (chains, parallelism, slots).
    ///
    /// Also a real Flink's plan: a saved `GET /jobs/:id/plan` answer
    /// (PLAN.json), or a running job's, read with --from-rest URL/jobs/JID.
    Plan(plan::PlanArgs),
    /// Start a JobManager (Dispatcher, ResourceManager, JobMasters) and serve forever.
    #[command(name = "jobmanager")]
    JobManager(processes::JobManagerArgs),
    /// Start a TaskManager that registers with a JobManager and offers task slots.
    #[command(name = "taskmanager")]
    TaskManager(processes::TaskManagerArgs),
    /// Compile a job file, submit it to a JobManager and wait for its result.
    Run(jobs::RunArgs),
    /// List the jobs a JobManager knows (running and finished).
    List(jobs::ListArgs),
    /// Cancel a job.
    Cancel(jobs::CancelArgs),
    /// Take a savepoint of a running job (with --stop: then stop the job).
    Savepoint(savepoints::SavepointArgs),
    /// Stop a job with a savepoint (the same as `savepoint --stop`).
    Stop(savepoints::StopArgs),
    /// Application mode: a cluster on this machine whose JobManager runs the application's main().
    ///
    /// TaskManager processes are started on demand, and everything stops
    /// when the application ends.
    #[command(name = "run-application")]
    RunApplication(modes::ClusterModeArgs),
    /// Job mode: a cluster on this machine for this one job, torn down after it.
    ///
    /// main() stays here, on the client: it submits the job to the
    /// cluster's JobManager and waits for its result. TaskManager processes
    /// are started on demand.
    #[command(name = "run-job-cluster")]
    RunJobCluster(modes::ClusterModeArgs),
    /// Start the high-availability coordinator (the ZooKeeper of mini-flink).
    ///
    /// JobManagers started with `--ha ADDR` elect their leader through it;
    /// TaskManagers and clients (`--jobmanager ha://ADDR`) find the leader
    /// there.
    Coordinator(processes::CoordinatorArgs),
    /// Print the REST API's bearer token (derived from the cluster's secret file).
    ///
    /// `curl -H "Authorization: Bearer $(mini-flink token)" http://127.0.0.1:8081/overview`
    Token,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::init_logging();
    cli::security::init(cli.security);
    match dispatch(cli.command) {
        Ok(code) => code,
        Err(e) => {
            // A job-file error is already a complete, located message.
            match e.downcast_ref::<JobFileError>() {
                Some(jfe) => eprintln!("{jfe}"),
                None => eprintln!("error: {}", error_text(&e)),
            }
            ExitCode::FAILURE
        }
    }
}

fn dispatch(command: Command) -> Result<ExitCode> {
    match command {
        Command::Plan(a) => plan::plan(a),
        Command::JobManager(a) => block_on(processes::jobmanager(a)),
        Command::TaskManager(a) => {
            // One worker thread per slot: each slot's chain runs on a
            // thread of its own, as Flink runs one thread per task.
            let threads = (a.slots as usize).max(1);
            block_on_threads(Some(threads), processes::taskmanager(a))
        }
        Command::Run(a) => block_on(jobs::run(a)),
        Command::List(a) => block_on(jobs::list(a)),
        Command::Cancel(a) => block_on(jobs::cancel(a)),
        Command::Savepoint(a) => block_on(savepoints::savepoint(&a.job_id, a.stop, &a.wait)),
        Command::Stop(a) => block_on(savepoints::savepoint(&a.job_id, true, &a.wait)),
        Command::Coordinator(a) => block_on(processes::coordinator(a)),
        Command::RunApplication(a) => block_on(modes::cluster_mode(a, modes::Mode::Application)),
        Command::RunJobCluster(a) => block_on(modes::cluster_mode(a, modes::Mode::Job)),
        Command::Token => {
            say!("{}", cli::security::token()?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs a future on a fresh multi-threaded tokio runtime.
fn block_on<F: std::future::Future<Output = Result<ExitCode>>>(f: F) -> Result<ExitCode> {
    block_on_threads(None, f)
}

/// Runs a future on a fresh multi-threaded tokio runtime with `threads`
/// worker threads (default: one per core).
fn block_on_threads<F: std::future::Future<Output = Result<ExitCode>>>(
    threads: Option<usize>,
    f: F,
) -> Result<ExitCode> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = threads {
        builder.worker_threads(n);
    }
    builder
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?
        .block_on(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use cli::{DEFAULT_JOBMANAGER, checkpoint_dir, parse_job_id, reword_refusal};
    use runtime::client::ClientError;

    /// The command line is well formed (no clashing flags, every arg documented).
    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Defaults follow Flink's: the JobManager at port 6123 for every client.
    #[test]
    fn client_defaults() {
        let cli = Cli::try_parse_from(["mini-flink", "list"]).unwrap();
        match cli.command {
            Command::List(a) => assert_eq!(a.jobmanager, DEFAULT_JOBMANAGER),
            c => panic!("parsed as {c:?}"),
        }
        let cli = Cli::try_parse_from(["mini-flink", "taskmanager", "--slots", "2"]).unwrap();
        match cli.command {
            Command::TaskManager(a) => {
                assert_eq!(a.jobmanager, DEFAULT_JOBMANAGER);
                assert_eq!(a.data_bind, "127.0.0.1:0");
                assert_eq!(a.slots, 2);
            }
            c => panic!("parsed as {c:?}"),
        }
    }

    /// `run -s`, `savepoint --stop` and `stop` parse as Flink's CLI spells them.
    #[test]
    fn savepoint_commands_parse() {
        let id = "0123456789abcdef0123456789abcdef";
        let cli = Cli::try_parse_from(["mini-flink", "run", "-s", "/sp/x", "j.toml"]).unwrap();
        match cli.command {
            Command::Run(a) => assert_eq!(a.from_savepoint.as_deref(), Some("/sp/x")),
            c => panic!("parsed as {c:?}"),
        }
        let cli = Cli::try_parse_from(["mini-flink", "savepoint", id, "--stop"]).unwrap();
        match cli.command {
            Command::Savepoint(a) => {
                assert!(a.stop);
                assert_eq!(a.wait.timeout, 60);
                assert_eq!(a.wait.jobmanager, DEFAULT_JOBMANAGER);
            }
            c => panic!("parsed as {c:?}"),
        }
        let cli = Cli::try_parse_from(["mini-flink", "stop", id, "--timeout", "5"]).unwrap();
        match cli.command {
            Command::Stop(a) => assert_eq!(a.wait.timeout, 5),
            c => panic!("parsed as {c:?}"),
        }
        assert!(Cli::try_parse_from(["mini-flink", "stop", id, "--timeout", "0"]).is_err());
        assert!(parse_job_id("nope").is_err());
        assert!(parse_job_id(id).is_ok());
    }

    /// The checkpoint directory is created, made absolute, and refused
    /// clearly when it is a file.
    #[test]
    fn checkpoint_dir_is_created_and_checked() {
        let base = std::env::temp_dir().join(format!("mini-flink-cli-{}", std::process::id()));
        let dir = checkpoint_dir(Some(base.join("a/b"))).unwrap();
        assert!(dir.is_absolute() && dir.is_dir(), "{}", dir.display());
        let file = base.join("file");
        std::fs::write(&file, b"x").unwrap();
        let e = checkpoint_dir(Some(file)).unwrap_err();
        assert!(error_text(&e).contains("not a directory"), "{e}");
        let _ = std::fs::remove_dir_all(&base);
    }

    /// The JobManager's refusal is reworded; other errors are kept.
    #[test]
    fn refusals_are_reworded() {
        let e = anyhow::Error::from(ClientError::Refused("no job with id x".into()));
        let e = reword_refusal(e, |why| format!("cannot: {why}"));
        assert_eq!(error_text(&e), "cannot: no job with id x");
        let e = reword_refusal(anyhow::anyhow!("other"), |_| unreachable!());
        assert_eq!(error_text(&e), "other");
    }

    /// Chained causes are printed once, not repeated.
    #[test]
    fn error_text_drops_repeated_causes() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let e = anyhow::Error::from(ClientError::Connect {
            addr: "x:1".into(),
            source: io,
        });
        assert_eq!(
            error_text(&e),
            "cannot reach the JobManager at x:1: refused"
        );
        let e = anyhow::anyhow!("inner").context("outer");
        assert_eq!(error_text(&e), "outer: inner");
    }

    /// Bad values are refused by the parser, not by a panic later.
    #[test]
    fn bad_values_are_refused() {
        assert!(Cli::try_parse_from(["mini-flink", "taskmanager", "--slots", "0"]).is_err());
        assert!(Cli::try_parse_from(["mini-flink", "plan", "j.toml", "--dot", "nope"]).is_err());
        assert!(
            Cli::try_parse_from(["mini-flink", "plan", "j.toml", "--json", "--dot", "chained"])
                .is_err()
        );
        assert!(
            Cli::try_parse_from(["mini-flink", "jobmanager", "--heartbeat-interval-ms", "0"])
                .is_err()
        );
    }
}
