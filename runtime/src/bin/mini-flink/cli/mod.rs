//! The command groups of `mini-flink`, one thin module each, and what they
//! share.
//!
//! Each module holds its commands' clap arguments and a function per
//! command that turns them into library calls and prints the outcome:
//! [`plan`] (compile and show a job), [`jobs`] (run, list, cancel),
//! [`savepoints`] (savepoint, stop), [`processes`] (the JobManager,
//! TaskManager and HA coordinator processes) and [`modes`] (job and
//! application clusters). What they share sits here: the default address,
//! the time limits, the host context of a real process, the one way to
//! connect a client ([`connect`]), the checkpoint directory, the
//! handling of the JobManager's refusals, and the log's subscriber
//! ([`init_logging`]).

pub mod jobs;
pub mod modes;
pub mod plan;
pub mod processes;
pub mod savepoints;
pub mod security;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use runtime::client::{ClientError, ClusterClient};
use runtime::events::{EventSink, HostCtx, NoEvents, StderrEvents, TokioClock};
use runtime::graph::{JobGraph, JobId};
use runtime::jobfile::load_job_file;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The JobManager address every client command and TaskManager uses unless told otherwise.
pub const DEFAULT_JOBMANAGER: &str = "127.0.0.1:6123";

/// How long a client waits for a TCP connection to the JobManager (and,
/// with HA, for a leader).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client waits for any one answer of the JobManager.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// How often the client commands ask for a job's state.
const POLL_EVERY: Duration = Duration::from_millis(200);

/// `--events` on the processes of a cluster.
#[derive(Debug, Args)]
pub struct EventsArg {
    /// Print every event (registrations, slots, task states, metrics) as a JSON line on stderr.
    #[arg(long)]
    pub events: bool,
}

/// The context of a real host: TCP with this process's security (see
/// [`security::network`]; `who` says whether it may create the secret), a
/// real clock, events on stderr when asked.
pub fn host_ctx(host: String, events: bool, who: security::Who) -> Result<HostCtx> {
    let sink: Arc<dyn EventSink> = if events {
        Arc::new(StderrEvents)
    } else {
        Arc::new(NoEvents)
    };
    Ok(HostCtx {
        host,
        net: security::network(who)?,
        events: sink,
        clock: Arc::new(TokioClock::start()),
        seed: 0,
    })
}

/// Connects a client to the JobManager at `addr`; `ha://COORDINATOR`
/// means: whichever JobManager leads (Flink's leader retrieval, done by
/// [`ClusterClient::connect_to`]). Every answer is then awaited for at most
/// [`ANSWER_TIMEOUT`].
pub async fn connect(addr: &str) -> Result<ClusterClient> {
    let ctx = host_ctx(
        format!("client-{}", std::process::id()),
        false,
        security::Who::Member,
    )?;
    let e = match ClusterClient::connect_to(&ctx, addr, CONNECT_TIMEOUT).await {
        Ok(client) => return Ok(client.with_answer_timeout(ANSWER_TIMEOUT)),
        Err(e) => e,
    };
    match &e {
        ClientError::Connect { addr: at, .. } => bail!(
            "{e}\n  hint: is a JobManager running there? Start one with \
             `mini-flink jobmanager --bind {at}`, or pass --jobmanager ADDR"
        ),
        ClientError::NoLeader { .. } | ClientError::ConnectTimeout { .. } => Err(e.into()),
        _ => bail!("the server at {addr} does not answer as a mini-flink JobManager: {e}"),
    }
}

/// A JobManager running as a task of this process.
pub type JobManagerTask = tokio::task::JoinHandle<Result<(), runtime::jobmanager::JobManagerError>>;

/// Starts a JobManager as a task of this process, serving until
/// `shutdown` completes; its RPC address once it listens, and the task.
/// When it does not start, the error says why, after `failed` ("the
/// JobManager stopped").
pub async fn start_jobmanager(
    ctx: HostCtx,
    cfg: runtime::config::JobManagerConfig,
    failed: &'static str,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(runtime::jobmanager::Bound, JobManagerTask)> {
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(runtime::jobmanager::run_jobmanager(
        ctx,
        cfg,
        Some(ready_tx),
        shutdown,
    ));
    // The sender is dropped unanswered when binding fails; the error then
    // comes out of the server task.
    match ready_rx.await {
        Ok(addr) => Ok((addr, server)),
        Err(_) => match server.await {
            Ok(Err(e)) => Err(anyhow!(e)).context(failed),
            Ok(Ok(())) => Err(anyhow!(failed)),
            Err(e) => Err(anyhow!("the JobManager crashed: {e}")),
        },
    }
}

/// Sends the log (`tracing`) to stderr, filtered by `RUST_LOG`; without
/// it, only warnings and errors (so that a command's own output on stdout
/// and stderr reads as it always did).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

/// A client call's outcome as the CLI reports it: an answer that did not
/// come in time says which step was waiting (`what`).
pub fn ask<T>(what: &str, r: Result<T, ClientError>) -> Result<T> {
    match r {
        Err(e @ ClientError::NoAnswer { .. }) => Err(anyhow!("{what}: {e}")),
        r => r.map_err(anyhow::Error::from),
    }
}

/// Rewords the JobManager's refusal of a request ([`ClientError::Refused`],
/// whose text says what was wrong) with `f`; other errors pass unchanged.
pub fn reword_refusal(e: anyhow::Error, f: impl FnOnce(&str) -> String) -> anyhow::Error {
    match e.downcast::<ClientError>() {
        Ok(ClientError::Refused(why)) => anyhow!(f(&why)),
        Ok(other) => anyhow::Error::from(other),
        Err(e) => e,
    }
}

/// Parses a job id given on the command line.
pub fn parse_job_id(s: &str) -> Result<JobId> {
    JobId::parse(s.trim()).ok_or_else(|| {
        anyhow!("`{s}` is not a job id: a job id is 32 hex digits, as `mini-flink list` prints it")
    })
}

/// Reads a job file and chains it into a JobGraph, as Flink's client does.
pub fn compile(path: &Path) -> Result<JobGraph> {
    let sg = load_job_file(path)?;
    Ok(JobGraph::from_stream_graph(&sg))
}

/// "s" unless there is one.
pub fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A seed that differs between processes and runs: the wall clock's
/// nanoseconds mixed with the process id. Job ids derive from the seed:
/// with a fixed one, the first job of every JobManager run would get the
/// same id, and its checkpoints and savepoints would overwrite those of an
/// earlier run in the same checkpoint directory. Flink's JobIDs are
/// random; so are these.
pub fn unique_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    nanos ^ u64::from(std::process::id()).rotate_left(32)
}

/// The checkpoint directory: the one given, or `mini-flink-checkpoints` in
/// the system's temporary directory; created now (so that a directory that
/// cannot be written is reported at start, not at the first checkpoint) and
/// made absolute (savepoint paths are printed for use from anywhere).
pub fn checkpoint_dir(given: Option<PathBuf>) -> Result<PathBuf> {
    let dir = given.unwrap_or_else(|| std::env::temp_dir().join("mini-flink-checkpoints"));
    if dir.exists() && !dir.is_dir() {
        bail!(
            "--checkpoint-dir {}: this is a file, not a directory",
            dir.display()
        );
    }
    std::fs::create_dir_all(&dir).with_context(|| {
        format!(
            "--checkpoint-dir {}: cannot create the directory",
            dir.display()
        )
    })?;
    let dir = std::fs::canonicalize(&dir)
        .with_context(|| format!("--checkpoint-dir {}", dir.display()))?;
    // A directory that exists but is read-only fails here, not at the
    // first checkpoint.
    let probe = dir.join(format!(".mini-flink-probe-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .with_context(|| format!("--checkpoint-dir {}: cannot write there", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(dir)
}
