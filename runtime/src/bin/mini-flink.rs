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
//! on virtual hosts; only the transport ([`TcpNetwork`]) and the clock
//! ([`TokioClock`] on a real runtime) differ. Every mistake on the command
//! line or in a job file ends in one clear message and a non-zero exit code.

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand};
use runtime::client::{ClientError, ClusterClient};
use runtime::config::{JobManagerConfig, Placement, TaskManagerConfig};
use runtime::events::{EventSink, HostCtx, NoEvents, StderrEvents, TokioClock};
use runtime::graph::plan::{PlanResponse, plan_text, preview_job_id};
use runtime::graph::{JobGraph, JobId, viz_model};
use runtime::jobfile::{JobFileError, load_job_file};
use runtime::jobmanager::checkpoint::storage::DirStorage;
use runtime::net::{NetworkRef, TcpNetwork};
use runtime::operators::{OperatorKind, Value};
use runtime::rpc::JobResult;
use runtime::state::JobStatus;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// The JobManager address every client command and TaskManager uses unless told otherwise.
const DEFAULT_JOBMANAGER: &str = "127.0.0.1:6123";

/// How long a client waits for a TCP connection to the JobManager.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client waits for any one answer of the JobManager.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// How long `run` watches a job wait for slots before saying how to help it.
const SLOT_HINT_AFTER: Duration = Duration::from_secs(10);

/// How many non-aggregated collected records `run` prints before summarising.
const MAX_PRINTED_RECORDS: usize = 50;

/// `println!` that ends the process quietly when standard output is gone
/// (`mini-flink plan JOB.toml | head`) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            stdout_gone();
        }
    }};
}

/// `print!` that ends the process quietly when standard output is gone.
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut out = std::io::stdout();
        if write!(out, $($arg)*).and_then(|()| out.flush()).is_err() {
            stdout_gone();
        }
    }};
}

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
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compile a job file on the client and show its plan (chains, parallelism, slots).
    Plan(PlanArgs),
    /// Start a JobManager (Dispatcher, ResourceManager, JobMasters) and serve forever.
    #[command(name = "jobmanager")]
    JobManager(JobManagerArgs),
    /// Start a TaskManager that registers with a JobManager and offers task slots.
    #[command(name = "taskmanager")]
    TaskManager(TaskManagerArgs),
    /// Compile a job file, submit it to a JobManager and wait for its result.
    Run(RunArgs),
    /// List the jobs a JobManager knows (running and finished).
    List(ListArgs),
    /// Cancel a job.
    Cancel(CancelArgs),
    /// Take a savepoint of a running job (with --stop: then stop the job).
    Savepoint(SavepointArgs),
    /// Stop a job with a savepoint (the same as `savepoint --stop`).
    Stop(StopArgs),
    /// Application mode: start a cluster on this machine whose JobManager
    /// runs the application's main(); TaskManager processes are started on
    /// demand and everything stops when the application ends.
    #[command(name = "run-application")]
    RunApplication(ClusterModeArgs),
    /// Job mode: start a cluster on this machine for this one job (main()
    /// stays here, on the client), run the job, and tear the cluster down.
    #[command(name = "run-job-cluster")]
    RunJobCluster(ClusterModeArgs),
    /// Start the high-availability coordinator (the ZooKeeper of mini-flink):
    /// JobManagers started with `--ha ADDR` elect their leader through it.
    Coordinator(CoordinatorArgs),
}

/// `mini-flink run-application` and `mini-flink run-job-cluster`.
#[derive(Debug, Args)]
struct ClusterModeArgs {
    /// The application file (run-application) or job file (run-job-cluster).
    file: PathBuf,
    /// Address the cluster's JobManager listens on; port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    bind: String,
    /// Slots of each TaskManager process the cluster starts.
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..))]
    slots: u32,
    #[command(flatten)]
    events: EventsArg,
}

/// `mini-flink coordinator`.
#[derive(Debug, Args)]
struct CoordinatorArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:2181")]
    bind: String,
    #[command(flatten)]
    events: EventsArg,
}

/// High availability for JobManagers and TaskManagers.
#[derive(Debug, Args)]
struct HaArgs {
    /// Run with high availability through the coordinator at ADDR (see
    /// `mini-flink coordinator`): JobManagers campaign for leadership,
    /// TaskManagers follow the leader. Clients then use
    /// `--jobmanager ha://ADDR`.
    #[arg(long, value_name = "ADDR")]
    ha: Option<String>,
    /// Leader lease, ms: a leader that cannot renew it for this long steps down.
    #[arg(long, value_name = "MS", default_value_t = 3_000,
          value_parser = clap::value_parser!(u64).range(100..))]
    lease_ms: u64,
}

/// `mini-flink plan`.
#[derive(Debug, Args)]
struct PlanArgs {
    /// The job file (TOML).
    job: PathBuf,
    /// Print the plan as the JSON of Flink's `GET /jobs/:id/plan` (plus `name` and `slots`).
    #[arg(long, conflicts_with_all = ["dot", "svg"])]
    json: bool,
    /// Print Graphviz DOT of a view: condensed (StreamGraph), chained (JobGraph)
    /// or parallel (ExecutionGraph). With --svg: the view to draw.
    #[arg(long, value_name = "VIEW", value_parser = parse_view)]
    dot: Option<viz::View>,
    /// Draw the view (default: chained) as SVG into FILE with Graphviz's `dot` program.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
}

/// `--events` on the processes of a cluster.
#[derive(Debug, Args)]
struct EventsArg {
    /// Print every event (registrations, slots, task states, metrics) as a JSON line on stderr.
    #[arg(long)]
    events: bool,
}

/// `mini-flink jobmanager`.
#[derive(Debug, Args)]
struct JobManagerArgs {
    /// Address to listen on for TaskManagers and clients; port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_JOBMANAGER)]
    bind: String,
    /// Interval of heartbeat requests to TaskManagers, ms (Flink's `heartbeat.interval`).
    #[arg(long, value_name = "MS", default_value_t = 1_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    heartbeat_interval_ms: u64,
    /// A TaskManager silent this long is lost, ms (Flink's `heartbeat.timeout`).
    #[arg(long, value_name = "MS", default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    heartbeat_timeout_ms: u64,
    /// Spread slots over TaskManagers instead of filling one first
    /// (Flink's `cluster.evenly-spread-out-slots: true`).
    #[arg(long)]
    spread: bool,
    /// Directory for completed checkpoints and savepoints (Flink's
    /// `state.checkpoints.dir`) [default: mini-flink-checkpoints in the
    /// system's temporary directory].
    #[arg(long, value_name = "DIR")]
    checkpoint_dir: Option<PathBuf>,
    #[command(flatten)]
    ha: HaArgs,
    #[command(flatten)]
    events: EventsArg,
}

/// `mini-flink taskmanager`.
#[derive(Debug, Args)]
struct TaskManagerArgs {
    /// The JobManager's address.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_JOBMANAGER)]
    jobmanager: String,
    /// Number of task slots offered (Flink's `taskmanager.numberOfTaskSlots`).
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..))]
    slots: u32,
    /// Address of the data port other TaskManagers send records to; port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    data_bind: String,
    /// Resource id of this TaskManager (default: taskmanager-<pid>).
    #[arg(long, value_name = "NAME")]
    id: Option<String>,
    #[command(flatten)]
    ha: HaArgs,
    #[command(flatten)]
    events: EventsArg,
}

/// `mini-flink run`.
#[derive(Debug, Args)]
struct RunArgs {
    /// The job file (TOML).
    job: PathBuf,
    /// The JobManager's address.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_JOBMANAGER)]
    jobmanager: String,
    /// Submit, print the job id and return without waiting for the result.
    #[arg(long, short = 'd')]
    detached: bool,
    /// Start from this savepoint (a path `mini-flink savepoint` or
    /// `mini-flink stop` printed): sources continue from their saved
    /// offsets, operators from their saved state.
    #[arg(long, short = 's', value_name = "PATH")]
    from_savepoint: Option<String>,
}

/// `mini-flink list`.
#[derive(Debug, Args)]
struct ListArgs {
    /// The JobManager's address.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_JOBMANAGER)]
    jobmanager: String,
}

/// `mini-flink cancel`.
#[derive(Debug, Args)]
struct CancelArgs {
    /// The job's id: 32 hex digits, as `mini-flink run` and `mini-flink list` print it.
    job_id: String,
    /// The JobManager's address.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_JOBMANAGER)]
    jobmanager: String,
}

/// `mini-flink savepoint`.
#[derive(Debug, Args)]
struct SavepointArgs {
    /// The job's id: 32 hex digits, as `mini-flink run` and `mini-flink list` print it.
    job_id: String,
    /// Stop the job after the savepoint (stop-with-savepoint: the job FINISHES).
    #[arg(long)]
    stop: bool,
    #[command(flatten)]
    wait: SavepointWait,
}

/// `mini-flink stop`.
#[derive(Debug, Args)]
struct StopArgs {
    /// The job's id: 32 hex digits, as `mini-flink run` and `mini-flink list` print it.
    job_id: String,
    #[command(flatten)]
    wait: SavepointWait,
}

/// Where a savepoint is taken and how long to wait for it.
#[derive(Debug, Args)]
struct SavepointWait {
    /// The JobManager's address.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_JOBMANAGER)]
    jobmanager: String,
    /// Give up waiting for the savepoint after this many seconds (it may
    /// still complete later; `mini-flink list` shows the job's status).
    #[arg(long, value_name = "SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
}

/// The active resource provider of a cluster on this machine: it starts
/// TaskManager processes (this program, `taskmanager`) when slots are
/// missing, as YARN or Kubernetes would start containers, stops them when
/// asked, and reports when the application is over.
struct LocalProcesses {
    jobmanager: std::sync::Mutex<String>,
    /// Workers asked for before the JobManager's address was known.
    waiting: std::sync::Mutex<Vec<(String, u32)>>,
    children: std::sync::Mutex<std::collections::BTreeMap<String, std::process::Child>>,
    done: tokio::sync::mpsc::UnboundedSender<String>,
}

impl runtime::config::ResourceProvider for LocalProcesses {
    fn is_active(&self) -> bool {
        true
    }
    fn start_worker(&self, resource_id: &str, slots: u32) {
        let addr = self
            .jobmanager
            .lock()
            .map(|a| a.clone())
            .unwrap_or_default();
        if addr.is_empty() {
            if let Ok(mut w) = self.waiting.lock() {
                w.push((resource_id.to_string(), slots));
            }
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let child = std::process::Command::new(exe)
            .args([
                "taskmanager",
                "--jobmanager",
                &addr,
                "--slots",
                &slots.to_string(),
                "--id",
                resource_id,
            ])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        match child {
            Ok(c) => {
                say!(
                    "started TaskManager process {resource_id} (pid {}, {slots} slots)",
                    c.id()
                );
                if let Ok(mut ch) = self.children.lock() {
                    ch.insert(resource_id.to_string(), c);
                }
            }
            Err(e) => eprintln!("error: cannot start a TaskManager process: {e}"),
        }
    }
    fn stop_worker(&self, resource_id: &str) {
        if let Ok(mut ch) = self.children.lock()
            && let Some(mut c) = ch.remove(resource_id)
        {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
    fn deregister_application(&self, status: &str, _diagnostics: Option<&str>) {
        let _ = self.done.send(status.to_string());
    }
}

impl LocalProcesses {
    /// The JobManager is up at `addr`: start the workers asked for so far.
    fn jobmanager_up(&self, addr: &str) {
        if let Ok(mut j) = self.jobmanager.lock() {
            *j = addr.to_string();
        }
        let waiting = self
            .waiting
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default();
        for (rid, slots) in waiting {
            runtime::config::ResourceProvider::start_worker(self, &rid, slots);
        }
    }

    fn stop_all(&self) {
        if let Ok(mut ch) = self.children.lock() {
            for (_, mut c) in std::mem::take(&mut *ch) {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

/// `run-application` (main on the JobManager) and `run-job-cluster` (main
/// here, one job): a cluster that lives as long as its work.
async fn cluster_mode(a: ClusterModeArgs, application: bool) -> Result<ExitCode> {
    let (app, job) = if application {
        let program =
            runtime::application::load_application_file(&a.file).map_err(anyhow::Error::from)?;
        (Some(program.to_application()), None)
    } else {
        (None, Some(compile(&a.file)?))
    };
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    let provider = Arc::new(LocalProcesses {
        jobmanager: std::sync::Mutex::new(String::new()),
        waiting: std::sync::Mutex::new(Vec::new()),
        children: std::sync::Mutex::new(Default::default()),
        done: done_tx,
    });
    let checkpoint_dir = checkpoint_dir(None)?;
    let cfg = JobManagerConfig {
        bind: a.bind.clone(),
        provider: provider.clone(),
        worker_slots: a.slots,
        worker_prefix: format!("taskmanager-{}-", std::process::id()),
        storage: Arc::new(DirStorage::new(&checkpoint_dir)),
        application: app.clone(),
        ..JobManagerConfig::default()
    };
    let mut ctx = host_ctx("jobmanager".into(), a.events.events);
    ctx.seed = unique_seed();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(runtime::jobmanager::run_jobmanager(
        ctx,
        cfg,
        Some(ready_tx),
    ));
    let addr = match ready_rx.await {
        Ok(addr) => addr,
        Err(_) => {
            return match server.await {
                Ok(Err(e)) => Err(anyhow!(e)).context("the JobManager did not start"),
                _ => Err(anyhow!("the JobManager did not start")),
            };
        }
    };
    provider.jobmanager_up(&addr);
    say!(
        "{} cluster: JobManager on {addr}; TaskManager processes start on demand",
        if application { "Application" } else { "Job" }
    );
    let outcome = if let Some(app) = app {
        say!(
            "main() of application \"{}\" runs on the JobManager: {} job(s), {}",
            app.name,
            app.jobs.len(),
            app.order
        );
        let status = done_rx.recv().await.unwrap_or_else(|| "UNKNOWN".into());
        let mut client = connect(&addr).await?;
        for j in timed("listing", &addr, ANSWER_TIMEOUT, client.list()).await? {
            say!("  job {} \"{}\": {}", j.id, j.name, j.status);
        }
        say!("Application {status}; stopping the cluster");
        status == "SUCCEEDED"
    } else {
        let jg = job.expect("a job in job mode");
        let mut client = connect(&addr).await?;
        let id = timed("submitting", &addr, ANSWER_TIMEOUT, client.submit(jg)).await?;
        say!("main() ran here, on the client: job {id} submitted to its own cluster");
        let r = client.wait(id, 200).await?;
        say_raw!("{}", result_text(&r, false));
        say!("Job {}; tearing the job cluster down", r.status);
        r.status == JobStatus::Finished
    };
    provider.stop_all();
    server.abort();
    Ok(if outcome {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn coordinator(a: CoordinatorArgs) -> Result<ExitCode> {
    let ctx = host_ctx("coordinator".into(), a.events.events);
    say!("Coordinator listening on {}", a.bind);
    runtime::ha::run_coordinator(ctx, a.bind.clone())
        .await
        .with_context(|| format!("the coordinator on {} stopped", a.bind))?;
    Ok(ExitCode::SUCCESS)
}

/// Parses `--dot`'s view name.
fn parse_view(s: &str) -> Result<viz::View, String> {
    viz::View::parse(s)
        .ok_or_else(|| format!("unknown view `{s}`: the views are condensed, chained and parallel"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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

/// An error and its causes on one line, leaving out a cause its parent's
/// message already spells out (the runtime's errors embed their sources).
fn error_text(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let m = cause.to_string();
        if parts.last().is_some_and(|p| p.contains(&m)) {
            continue;
        }
        parts.push(m);
    }
    parts.join(": ")
}

fn dispatch(command: Command) -> Result<ExitCode> {
    match command {
        Command::Plan(a) => plan(a),
        Command::JobManager(a) => block_on(jobmanager(a)),
        Command::TaskManager(a) => block_on(taskmanager(a)),
        Command::Run(a) => block_on(run(a)),
        Command::List(a) => block_on(list(a)),
        Command::Cancel(a) => block_on(cancel(a)),
        Command::Savepoint(a) => block_on(savepoint(&a.job_id, a.stop, &a.wait)),
        Command::Stop(a) => block_on(savepoint(&a.job_id, true, &a.wait)),
        Command::Coordinator(a) => block_on(coordinator(a)),
        Command::RunApplication(a) => block_on(cluster_mode(a, true)),
        Command::RunJobCluster(a) => block_on(cluster_mode(a, false)),
    }
}

/// Runs a future on a fresh multi-threaded tokio runtime.
fn block_on<F: std::future::Future<Output = Result<ExitCode>>>(f: F) -> Result<ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?
        .block_on(f)
}

/// Reads a job file and chains it into a JobGraph, as Flink's client does.
fn compile(path: &Path) -> Result<JobGraph> {
    let sg = load_job_file(path)?;
    Ok(JobGraph::from_stream_graph(&sg))
}

// ---------------------------------------------------------------- plan

fn plan(a: PlanArgs) -> Result<ExitCode> {
    let jg = compile(&a.job)?;
    if a.json {
        let resp = PlanResponse::new(&jg, preview_job_id(&jg));
        say!("{}", serde_json::to_string_pretty(&resp)?);
    } else if let Some(out) = &a.svg {
        let view = a.dot.unwrap_or(viz::View::Chained);
        if !viz::dot_available() {
            bail!(
                "cannot draw {}: the `dot` program (graphviz) is not installed or not on PATH; \
                 install graphviz (e.g. `apt-get install graphviz`), or print the DOT text \
                 with `--dot {}` and render it elsewhere",
                out.display(),
                view
            );
        }
        let dot = viz::dot(&viz_model(&jg), view);
        viz::render_svg(&dot, out).map_err(|e| anyhow!("cannot draw {}: {e}", out.display()))?;
        say!(
            "wrote the {view} view of job \"{}\" to {}",
            jg.name,
            out.display()
        );
    } else if let Some(view) = a.dot {
        say_raw!("{}", viz::dot(&viz_model(&jg), view));
    } else {
        say_raw!("{}", plan_text(&jg));
    }
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------- cluster processes

/// The context of a real host: TCP, a real clock, events on stderr when asked.
fn host_ctx(host: String, events: bool) -> HostCtx {
    let sink: Arc<dyn EventSink> = if events {
        Arc::new(StderrEvents)
    } else {
        Arc::new(NoEvents)
    };
    HostCtx {
        host,
        net: Arc::new(TcpNetwork),
        events: sink,
        clock: Arc::new(TokioClock::start()),
        seed: 0,
    }
}

async fn jobmanager(a: JobManagerArgs) -> Result<ExitCode> {
    if a.heartbeat_timeout_ms <= a.heartbeat_interval_ms {
        bail!(
            "--heartbeat-timeout-ms ({}) must be longer than --heartbeat-interval-ms ({}), \
             or every TaskManager is lost between two heartbeats",
            a.heartbeat_timeout_ms,
            a.heartbeat_interval_ms
        );
    }
    let checkpoint_dir = checkpoint_dir(a.checkpoint_dir)?;
    if a.ha.ha.is_some() && a.bind.ends_with(":0") {
        bail!(
            "with --ha, --bind needs a fixed port ({}): the leader's address is published for TaskManagers and clients",
            a.bind
        );
    }
    let cfg = JobManagerConfig {
        ha: a
            .ha
            .ha
            .clone()
            .map(|coordinator| runtime::config::HaConfig {
                coordinator,
                lease_ms: a.ha.lease_ms,
            }),
        advertise: a.ha.ha.is_some().then(|| a.bind.clone()),
        bind: a.bind.clone(),
        heartbeat_interval_ms: a.heartbeat_interval_ms,
        heartbeat_timeout_ms: a.heartbeat_timeout_ms,
        placement: if a.spread {
            Placement::Spread
        } else {
            Placement::Fill
        },
        storage: Arc::new(DirStorage::new(&checkpoint_dir)),
        ..JobManagerConfig::default()
    };
    // Candidates are told apart by name at the coordinator: with HA each
    // JobManager process needs its own.
    let name = if a.ha.ha.is_some() {
        format!("jobmanager-{}", std::process::id())
    } else {
        "jobmanager".to_string()
    };
    let mut ctx = host_ctx(name, a.events.events);
    // Job ids derive from the seed: with a fixed one, the first job of every
    // JobManager run would get the same id, and its checkpoints and
    // savepoints would overwrite those of an earlier run in the same
    // --checkpoint-dir. Flink's JobIDs are random; so are these.
    ctx.seed = unique_seed();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(runtime::jobmanager::run_jobmanager(
        ctx,
        cfg,
        Some(ready_tx),
    ));
    // The sender is dropped unanswered when binding fails; the error then
    // comes out of the server task below.
    if let Some(c) = &a.ha.ha {
        say!("JobManager campaigning for leadership at the coordinator {c}");
    }
    if let Ok(addr) = ready_rx.await {
        say!("JobManager listening on {addr}");
        say!(
            "Checkpoints and savepoints go to {}",
            checkpoint_dir.display()
        );
    }
    match server.await {
        Ok(Ok(())) => Ok(ExitCode::SUCCESS),
        Ok(Err(e)) => Err(anyhow!(e)).context("the JobManager stopped"),
        Err(e) => Err(anyhow!("the JobManager crashed: {e}")),
    }
}

/// A seed that differs between processes and runs: the wall clock's
/// nanoseconds mixed with the process id.
fn unique_seed() -> u64 {
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
fn checkpoint_dir(given: Option<PathBuf>) -> Result<PathBuf> {
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

async fn taskmanager(a: TaskManagerArgs) -> Result<ExitCode> {
    let id =
        a.id.unwrap_or_else(|| format!("taskmanager-{}", std::process::id()));
    if id.trim().is_empty() {
        bail!("--id must not be empty");
    }
    // The TaskManager retries an unreachable JobManager forever (it may
    // start later), so catch an address that can never work up front.
    if let Err(e) = tokio::net::lookup_host(a.ha.ha.as_deref().unwrap_or(&a.jobmanager)).await {
        bail!(
            "--jobmanager {}: not an address ({e}); give HOST:PORT, e.g. {DEFAULT_JOBMANAGER}",
            a.jobmanager
        );
    }
    let cfg = TaskManagerConfig {
        jobmanager: a.jobmanager.clone(),
        slots: a.slots,
        data_bind: a.data_bind,
        data_advertise: None,
        print_to_stdout: true,
        ha: a
            .ha
            .ha
            .clone()
            .map(|coordinator| runtime::config::HaConfig {
                coordinator,
                lease_ms: a.ha.lease_ms,
            }),
        ..TaskManagerConfig::default()
    };
    say!(
        "TaskManager {id} ({} slot{}) connecting to {}",
        a.slots,
        if a.slots == 1 { "" } else { "s" },
        a.jobmanager
    );
    let ctx = host_ctx(id.clone(), a.events.events);
    runtime::taskmanager::run_taskmanager(ctx, cfg)
        .await
        .with_context(|| format!("TaskManager {id} stopped"))?;
    say!("TaskManager {id}: the ResourceManager released it; shutting down");
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------- client commands

/// Runs one client call with a time limit, so a JobManager that never
/// answers cannot hang the command.
async fn timed<T, E>(
    what: &str,
    addr: &str,
    limit: Duration,
    f: impl Future<Output = Result<T, E>>,
) -> Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    match tokio::time::timeout(limit, f).await {
        Ok(r) => r.map_err(anyhow::Error::from),
        Err(_) => bail!(
            "{what}: no answer from the JobManager at {addr} within {} s",
            limit.as_secs()
        ),
    }
}

/// Rewords the JobManager's refusal of a request ([`ClientError::Refused`],
/// whose text says what was wrong) with `f`; other errors pass unchanged.
fn reword_refusal(e: anyhow::Error, f: impl FnOnce(&str) -> String) -> anyhow::Error {
    match e.downcast::<ClientError>() {
        Ok(ClientError::Refused(why)) => anyhow!(f(&why)),
        Ok(other) => anyhow::Error::from(other),
        Err(e) => e,
    }
}

/// A job's result; `None` when, with HA (`ha://`), the JobManager was lost
/// and the client now talks to the new leader (which recovers the job
/// under the same id): ask again.
async fn poll_result(
    client: &mut ClusterClient,
    addr: &str,
    id: JobId,
) -> Result<Option<JobResult>> {
    match timed("polling", addr, ANSWER_TIMEOUT, client.result(id)).await {
        Ok(r) => Ok(Some(r)),
        Err(e) if addr.starts_with("ha://") => {
            say!(
                "lost the JobManager ({}); looking for the new leader",
                error_text(&e)
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
            if let Ok(c) = connect(addr).await {
                *client = c;
            }
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Connects a client to the JobManager at `addr`; `ha://COORDINATOR`
/// means: whichever JobManager leads (Flink's leader retrieval).
async fn connect(addr: &str) -> Result<ClusterClient> {
    let net: NetworkRef = Arc::new(TcpNetwork);
    let me = format!("client-{}", std::process::id());
    let leader;
    let addr = match addr.strip_prefix("ha://") {
        None => addr,
        Some(coordinator) => {
            let ctx = host_ctx(me.clone(), false);
            let mut ha = runtime::ha::HaClient::new(ctx, coordinator.to_string());
            leader = match tokio::time::timeout(CONNECT_TIMEOUT, ha.wait_for_leader()).await {
                Ok(l) => l.addr,
                Err(_) => bail!(
                    "no JobManager leads at the coordinator {coordinator} (none elected within {} s)",
                    CONNECT_TIMEOUT.as_secs()
                ),
            };
            leader.as_str()
        }
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, ClusterClient::connect(&net, addr, &me)).await {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(e @ ClientError::Connect { .. })) => bail!(
            "{e}\n  hint: is a JobManager running there? Start one with \
             `mini-flink jobmanager --bind {addr}`, or pass --jobmanager ADDR"
        ),
        Ok(Err(e)) => bail!("the server at {addr} does not answer as a mini-flink JobManager: {e}"),
        Err(_) => bail!(
            "cannot reach the JobManager at {addr}: no answer within {} s",
            CONNECT_TIMEOUT.as_secs()
        ),
    }
}

async fn run(a: RunArgs) -> Result<ExitCode> {
    let jg = compile(&a.job)?;
    let rolling = collects_rolling_aggregates(&jg);
    let slots = jg.slots_needed();
    let mut client = connect(&a.jobmanager).await?;
    let id = match &a.from_savepoint {
        None => {
            timed(
                "submitting",
                &a.jobmanager,
                ANSWER_TIMEOUT,
                client.submit(jg),
            )
            .await?
        }
        Some(path) => timed(
            "submitting",
            &a.jobmanager,
            ANSWER_TIMEOUT,
            client.submit_from_savepoint(jg, path),
        )
        .await
        // The JobManager's own words say what is wrong with the savepoint.
        .map_err(|e| reword_refusal(e, |why| format!("the job was not submitted: {why}")))?,
    };
    say!("Job has been submitted with JobID {id}");
    if let Some(path) = &a.from_savepoint {
        say!("Restoring from savepoint {path}");
    }
    if a.detached {
        return Ok(ExitCode::SUCCESS);
    }
    say!(
        "Waiting for the job to finish (it needs {slots} slot{}) ...",
        if slots == 1 { "" } else { "s" }
    );
    let mut last = None;
    let waiting = tokio::time::Instant::now();
    let mut hinted = false;
    let result = loop {
        let Some(r) = poll_result(&mut client, &a.jobmanager, id).await? else {
            continue;
        };
        if last != Some(r.status) {
            say!("Job status: {}", r.status);
            last = Some(r.status);
        }
        if r.status.is_terminal() {
            break r;
        }
        // A standalone cluster cannot start TaskManagers: a job that needs
        // more slots than are offered waits (its tasks SCHEDULED, not all
        // RUNNING) until someone starts more.
        if r.running_at.is_none() && !hinted && waiting.elapsed() >= SLOT_HINT_AFTER {
            hinted = true;
            say!(
                "Not all tasks are running after {} s: the job needs {slots} free slot{}. \
                 Start more TaskManagers (`mini-flink taskmanager --jobmanager {} --slots N`), \
                 or stop waiting with Ctrl-C (the job stays submitted: `mini-flink cancel {id}`)",
                SLOT_HINT_AFTER.as_secs(),
                if slots == 1 { "" } else { "s" },
                a.jobmanager
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    say_raw!("{}", result_text(&result, rolling));
    Ok(if result.status == JobStatus::Finished {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Whether every `collect` sink reads straight from a keyed rolling
/// aggregation (sum, count, reduce): its records are then updates
/// `(key, value so far)`, and the last one per key is the answer.
fn collects_rolling_aggregates(jg: &JobGraph) -> bool {
    let g = &jg.stream_graph;
    let mut any = false;
    for (i, n) in g.nodes.iter().enumerate() {
        if !matches!(n.kind, OperatorKind::Collect { .. }) {
            continue;
        }
        any = true;
        let all_rolling = g.edges.iter().filter(|e| e.target == i).all(|e| {
            matches!(
                g.nodes[e.source].kind,
                OperatorKind::Sum | OperatorKind::Count | OperatorKind::Reduce(_)
            )
        });
        if !all_rolling {
            return false;
        }
    }
    any
}

/// Formats milliseconds as seconds.
fn secs(ms: u64) -> String {
    format!("{:.3} s", ms as f64 / 1000.0)
}

/// What `run` prints about a finished job: status, cause, per-vertex
/// records in and out, and the collected result. With `rolling`, pairs are
/// updates of keyed rolling aggregations and only the last one per key is
/// shown, sorted by key.
fn result_text(r: &JobResult, rolling: bool) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let took = r
        .ended_at
        .map(|e| format!(" in {}", secs(e.saturating_sub(r.submitted_at))))
        .unwrap_or_default();
    let _ = writeln!(s, "Job {} (\"{}\") {}{took}", r.id, r.name, r.status);
    if let Some(cause) = &r.cause {
        let _ = writeln!(s, "Cause: {cause}");
    }
    if r.restarts > 0 {
        let _ = writeln!(s, "Restarts: {}", r.restarts);
    }
    if let Some(path) = &r.restored_from {
        let _ = writeln!(s, "Restored from savepoint: {path}");
    }
    if r.checkpoints_completed > 0 {
        let latest = r
            .latest_checkpoint
            .map(|c| format!(" (latest: checkpoint {c})"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "Checkpoints completed: {}{latest}",
            r.checkpoints_completed
        );
    }
    for path in &r.savepoints {
        let _ = writeln!(s, "Savepoint taken: {path}");
    }
    if !r.vertices.is_empty() {
        s.push('\n');
        let _ = writeln!(s, "Vertices (records in / out, summed over subtasks):");
        let width = r.vertices.iter().map(|v| v.name.len()).max().unwrap_or(0);
        for v in &r.vertices {
            let _ = writeln!(
                s,
                "  {:<width$}  p={:<3} in {:>10}  out {:>10}",
                v.name, v.parallelism, v.counters.records_in, v.counters.records_out
            );
        }
    }
    if r.collected.is_empty() {
        return s;
    }
    s.push('\n');
    let pairs: Option<Vec<(&Value, i64)>> = r
        .collected
        .iter()
        .map(|v| match v {
            Value::Pair(k, n) => Some((&**k, *n)),
            _ => None,
        })
        .collect();
    match pairs {
        Some(pairs) if rolling => {
            let mut last: BTreeMap<&Value, i64> = BTreeMap::new();
            for (k, n) in pairs {
                last.insert(k, n);
            }
            let _ = writeln!(
                s,
                "Result: the final value of each of {} keys ({} updates received):",
                last.len(),
                r.collected.len()
            );
            for (k, n) in last {
                let _ = writeln!(s, "  ({k},{n})");
            }
        }
        _ => {
            let _ = writeln!(s, "Result: {} records collected:", r.collected.len());
            for v in r.collected.iter().take(MAX_PRINTED_RECORDS) {
                let _ = writeln!(s, "  {v}");
            }
            if r.collected.len() > MAX_PRINTED_RECORDS {
                let _ = writeln!(
                    s,
                    "  ... and {} more",
                    r.collected.len() - MAX_PRINTED_RECORDS
                );
            }
        }
    }
    s
}

async fn list(a: ListArgs) -> Result<ExitCode> {
    let mut client = connect(&a.jobmanager).await?;
    let jobs = timed("listing jobs", &a.jobmanager, ANSWER_TIMEOUT, client.list()).await?;
    if jobs.is_empty() {
        say!("No jobs.");
        return Ok(ExitCode::SUCCESS);
    }
    let width = jobs.iter().map(|j| j.name.len()).max().unwrap_or(0).max(4);
    say!("{:<32}  {:<width$}  STATUS", "JOB ID", "NAME");
    for j in &jobs {
        say!("{}  {:<width$}  {}", j.id, j.name, j.status);
    }
    Ok(ExitCode::SUCCESS)
}

/// Parses a job id given on the command line.
fn parse_job_id(s: &str) -> Result<JobId> {
    JobId::parse(s.trim()).ok_or_else(|| {
        anyhow!("`{s}` is not a job id: a job id is 32 hex digits, as `mini-flink list` prints it")
    })
}

async fn cancel(a: CancelArgs) -> Result<ExitCode> {
    let id = parse_job_id(&a.job_id)?;
    let mut client = connect(&a.jobmanager).await?;
    timed(
        "cancelling",
        &a.jobmanager,
        ANSWER_TIMEOUT,
        client.cancel(id),
    )
    .await?;
    say!("Cancelling job {id}.");
    // Wait a little for the cancellation to complete, as `flink cancel` does.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let Some(r) = poll_result(&mut client, &a.jobmanager, id).await? else {
            continue;
        };
        if r.status.is_terminal() {
            say!("Job {id} is {}.", r.status);
            return Ok(ExitCode::SUCCESS);
        }
        if tokio::time::Instant::now() >= deadline {
            say!("Job {id} is still {}; it will be cancelled.", r.status);
            return Ok(ExitCode::SUCCESS);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

// ---------------------------------------------------------------- savepoints

/// How often `savepoint` and `stop` ask for the job's state.
const SAVEPOINT_POLL: Duration = Duration::from_millis(200);

/// `mini-flink savepoint JOBID [--stop]` and `mini-flink stop JOBID`
/// (Flink's `flink savepoint` and `flink stop`): triggers a savepoint, waits
/// until its path appears in the job's result (and, with `stop`, until the
/// job has finished), and prints the path.
async fn savepoint(job_id: &str, stop: bool, w: &SavepointWait) -> Result<ExitCode> {
    let id = parse_job_id(job_id)?;
    let addr = w.jobmanager.as_str();
    let limit = Duration::from_secs(w.timeout);
    let mut client = connect(addr).await?;
    // What the job had before: the savepoint to wait for is the next one.
    let before = timed(
        "asking for the job",
        addr,
        ANSWER_TIMEOUT,
        client.result(id),
    )
    .await
    .map_err(|e| {
        reword_refusal(e, |why| {
            format!("{why}\n  hint: `mini-flink list --jobmanager {addr}` shows the jobs there")
        })
    })?;
    if before.status.is_terminal() {
        bail!(
            "job {id} (\"{}\") is already {}: there is nothing to take a savepoint of",
            before.name,
            before.status
        );
    }
    if stop {
        say!(
            "Suspending job {id} (\"{}\") with a savepoint.",
            before.name
        );
    } else {
        say!("Triggering savepoint for job {id} (\"{}\").", before.name);
    }
    timed(
        "triggering",
        addr,
        ANSWER_TIMEOUT,
        client.savepoint(id, stop),
    )
    .await
    .map_err(|e| {
        reword_refusal(e, |why| {
            format!("the JobManager refused the savepoint of job {id}: {why}")
        })
    })?;
    say!("Waiting for response...");
    let deadline = tokio::time::Instant::now() + limit;
    let mut path: Option<String> = None;
    loop {
        let r = timed("polling", addr, ANSWER_TIMEOUT, client.result(id)).await?;
        if path.is_none()
            && let Some(p) = r.savepoints.get(before.savepoints.len())
        {
            say!("Savepoint completed. Path: {p}");
            path = Some(p.clone());
        }
        match (&path, stop, r.status) {
            (Some(p), false, _) | (Some(p), true, JobStatus::Finished) => {
                if stop {
                    say!("Job {id} is FINISHED.");
                }
                say!(
                    "Resume the job from this savepoint with \
                     `mini-flink run --from-savepoint {p} JOB.toml`."
                );
                return Ok(ExitCode::SUCCESS);
            }
            (Some(_), true, status) if status.is_terminal() => bail!(
                "the savepoint is complete, but job {id} then ended {status} instead of FINISHED{}",
                cause_suffix(&r)
            ),
            (None, _, status) if status.is_terminal() => bail!(
                "job {id} ended {status} before the savepoint completed{}",
                cause_suffix(&r)
            ),
            _ => {}
        }
        if tokio::time::Instant::now() >= deadline {
            let restarts = r.restarts.saturating_sub(before.restarts);
            let restarted = if restarts > 0 {
                format!(
                    "; it restarted {restarts} time{} meanwhile, which aborts a savepoint in progress",
                    if restarts == 1 { "" } else { "s" }
                )
            } else {
                String::new()
            };
            match path {
                Some(_) => bail!(
                    "the savepoint is complete, but job {id} is still {} after {} s{restarted}",
                    r.status,
                    limit.as_secs()
                ),
                None => bail!(
                    "no savepoint of job {id} completed within {} s (the job is {}{restarted}); \
                     try again, or wait longer with --timeout SECS",
                    limit.as_secs(),
                    r.status
                ),
            }
        }
        tokio::time::sleep(SAVEPOINT_POLL).await;
    }
}

/// ": CAUSE" when the job has a failure cause.
fn cause_suffix(r: &JobResult) -> String {
    r.cause
        .as_deref()
        .map(|c| format!(": {c}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

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

    /// Compiles job-file text as `run` would.
    fn job(text: &str) -> JobGraph {
        let src = runtime::jobfile::Source {
            file: "test.toml",
            text,
            base_dir: Path::new("."),
        };
        JobGraph::from_stream_graph(&runtime::jobfile::parse_job(&src).unwrap())
    }

    const HEAD: &str = r#"
name = "t"
[[operators]]
id = "seq"
kind = "sequence"
args = { from = 1, to = 10 }
[[operators]]
id = "pair"
kind = "map"
fn = "key_mod"
args = { modulus = 3 }
input = "seq"
"#;

    /// Only a collect sink fed by a rolling aggregation is shown per key.
    #[test]
    fn rolling_aggregates_are_recognised() {
        let keyed = format!(
            "{HEAD}[[operators]]\nid = \"sum\"\nkind = \"sum\"\ninput = \"pair\"\n\
             partition = \"hash\"\nkey = \"f0\"\n\
             [[operators]]\nid = \"out\"\nkind = \"collect\"\ninput = \"sum\"\n"
        );
        assert!(collects_rolling_aggregates(&job(&keyed)));
        let plain =
            format!("{HEAD}[[operators]]\nid = \"out\"\nkind = \"collect\"\ninput = \"pair\"\n");
        assert!(!collects_rolling_aggregates(&job(&plain)));
        let no_collect =
            format!("{HEAD}[[operators]]\nid = \"out\"\nkind = \"discard\"\ninput = \"pair\"\n");
        assert!(!collects_rolling_aggregates(&job(&no_collect)));
    }

    fn result(collected: Vec<Value>) -> JobResult {
        JobResult {
            id: JobId(0xab),
            name: "t".into(),
            status: JobStatus::Finished,
            cause: None,
            collected,
            vertices: vec![],
            submitted_at: 1_000,
            running_at: Some(1_100),
            ended_at: Some(2_500),
            restarts: 0,
            checkpoints_completed: 0,
            latest_checkpoint: None,
            savepoints: vec![],
            restored_from: None,
        }
    }

    fn pair(k: &str, n: i64) -> Value {
        Value::Pair(Box::new(Value::Str(k.into())), n)
    }

    /// Rolling updates collapse to the last value per key, sorted by key.
    #[test]
    fn rolling_result_shows_last_update_per_key() {
        let r = result(vec![
            pair("b", 1),
            pair("a", 1),
            pair("b", 2),
            pair("a", 2),
            pair("b", 3),
        ]);
        let text = result_text(&r, true);
        assert!(text.contains("FINISHED in 1.500 s"), "{text}");
        assert!(
            text.ends_with(
                "Result: the final value of each of 2 keys (5 updates received):\n  (a,2)\n  (b,3)\n"
            ),
            "{text}"
        );
        // Not rolling: every record, in arrival order.
        let text = result_text(&r, false);
        assert!(
            text.contains("Result: 5 records collected:\n  (b,1)\n  (a,1)\n"),
            "{text}"
        );
    }

    /// Fault-tolerance facts are shown when there are any.
    #[test]
    fn result_shows_restarts_checkpoints_and_savepoints() {
        let plain = result_text(&result(vec![]), false);
        for absent in ["Restarts", "Checkpoints", "Savepoint", "Restored"] {
            assert!(!plain.contains(absent), "{plain}");
        }
        let mut r = result(vec![]);
        r.restarts = 2;
        r.checkpoints_completed = 7;
        r.latest_checkpoint = Some(9);
        r.savepoints = vec!["/ckpt/savepoints/t/savepoint-ab-9".into()];
        r.restored_from = Some("/ckpt/savepoints/t/savepoint-ab-3".into());
        let text = result_text(&r, false);
        for line in [
            "Restarts: 2\n",
            "Restored from savepoint: /ckpt/savepoints/t/savepoint-ab-3\n",
            "Checkpoints completed: 7 (latest: checkpoint 9)\n",
            "Savepoint taken: /ckpt/savepoints/t/savepoint-ab-9\n",
        ] {
            assert!(text.contains(line), "{text}");
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
        let e = reword_refusal(anyhow!("other"), |_| unreachable!());
        assert_eq!(error_text(&e), "other");
    }

    /// Long plain results are cut after MAX_PRINTED_RECORDS lines.
    #[test]
    fn long_results_are_truncated() {
        let r = result((0..120).map(Value::Int).collect());
        let text = result_text(&r, false);
        assert_eq!(
            text.lines().filter(|l| l.starts_with("  ")).count(),
            MAX_PRINTED_RECORDS + 1
        );
        assert!(text.ends_with("  ... and 70 more\n"), "{text}");
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
        let e = anyhow!("inner").context("outer");
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
