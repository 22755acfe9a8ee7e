//! `mini-flink jobmanager`, `taskmanager` and `coordinator`: the processes
//! of a standalone cluster.
//!
//! Flink ships these as scripts (`bin/jobmanager.sh`, `bin/taskmanager.sh`,
//! and ZooKeeper for high availability); here each is a command that
//! builds the process's configuration from its flags and runs the
//! library's component until it stops: [`runtime::jobmanager::run_jobmanager`],
//! [`runtime::taskmanager::run_taskmanager`] and
//! [`runtime::ha::run_coordinator`]. In: flags, and Ctrl-C or SIGTERM
//! ([`shutdown_signal`]), on which the process stops cleanly (a
//! TaskManager deregisters first) and exits 0. Out: a line or two on
//! standard output saying where the process listens, events on stderr with
//! `--events`, the log on stderr (`RUST_LOG`), and an error when it cannot
//! start.

use super::{
    DEFAULT_JOBMANAGER, EventsArg, checkpoint_dir, host_ctx, plural, start_jobmanager, unique_seed,
};
use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use runtime::config::{HaConfig, JobManagerConfig, Placement, TaskManagerConfig};
use runtime::jobmanager::checkpoint::storage::DirStorage;
use runtime::jobmanager::rest::RestConfig;
use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tokio::signal::unix::{SignalKind, signal};

/// Completes on Ctrl-C (SIGINT) or SIGTERM, what `kill` and service
/// managers send: the shutdown future of the cluster's processes. The
/// SIGTERM handler is installed now, before the process starts serving,
/// so that a SIGTERM from then on stops it cleanly instead of killing it.
/// The job and application clusters of [`super::modes`] stop on it too.
pub(super) fn shutdown_signal() -> Result<impl Future<Output = ()> + Send + 'static> {
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    Ok(async move {
        let ctrl_c = async {
            if tokio::signal::ctrl_c().await.is_err() {
                // No handler for Ctrl-C: then only SIGTERM stops us.
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            biased;
            () = ctrl_c => tracing::info!("Ctrl-C: shutting down"),
            _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
        }
    })
}

/// `mini-flink coordinator`.
#[derive(Debug, Args)]
pub struct CoordinatorArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:2181")]
    bind: String,
    #[command(flatten)]
    events: EventsArg,
}

/// High availability for JobManagers and TaskManagers.
#[derive(Debug, Args)]
pub struct HaArgs {
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

impl HaArgs {
    /// The HA settings these flags give, if any.
    fn config(&self) -> Option<HaConfig> {
        self.ha.clone().map(|coordinator| HaConfig {
            coordinator,
            lease_ms: self.lease_ms,
        })
    }
}

/// `mini-flink jobmanager`.
#[derive(Debug, Args)]
pub struct JobManagerArgs {
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
    rest: RestArgs,
    #[command(flatten)]
    ha: HaArgs,
    #[command(flatten)]
    events: EventsArg,
}

/// The REST API and web UI of a JobManager.
#[derive(Debug, Args)]
pub struct RestArgs {
    /// Address of the REST API and web UI (Flink's `rest.bind-address` and
    /// `rest.port`); port 0 picks a free port [default: 127.0.0.1:8081,
    /// skipped with a warning when that port is taken].
    #[arg(long, value_name = "ADDR")]
    pub rest_bind: Option<String>,
    /// Serve no REST API and no web UI.
    #[arg(long, conflicts_with = "rest_bind")]
    pub no_rest: bool,
    /// Largest REST request body accepted, in bytes (Flink's
    /// `rest.server.max-content-length`).
    #[arg(long, value_name = "BYTES", default_value_t = 10 * 1024 * 1024)]
    pub rest_max_content_length: usize,
}

impl RestArgs {
    /// The REST endpoint's settings, if one is served.
    pub fn config(&self) -> Option<RestConfig> {
        if self.no_rest {
            return None;
        }
        Some(RestConfig {
            bind: self
                .rest_bind
                .clone()
                .unwrap_or_else(|| DEFAULT_REST.to_string()),
            optional: self.rest_bind.is_none(),
            epoch_ms: epoch_now_ms(),
            max_content_length: self.rest_max_content_length,
            ..RestConfig::default()
        })
    }
}

/// Where the REST API listens unless told otherwise (Flink's default port).
pub const DEFAULT_REST: &str = "127.0.0.1:8081";

/// Wall-clock ms since 1970, now: the REST answers' epoch. Real processes
/// only; the simulator sets a fixed epoch.
fn epoch_now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `mini-flink taskmanager`.
#[derive(Debug, Args)]
pub struct TaskManagerArgs {
    /// The JobManager's address.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_JOBMANAGER)]
    pub jobmanager: String,
    /// Number of task slots offered (Flink's `taskmanager.numberOfTaskSlots`), at most 256.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(runtime::net::limits::MAX_SLOTS_PER_TASKMANAGER)))]
    pub slots: u32,
    /// Address of the data port other TaskManagers send records to; port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub data_bind: String,
    /// Address other TaskManagers reach the data port at: HOST (the bound
    /// port) or HOST:PORT (Flink's `taskmanager.host`). Needed when
    /// --data-bind is 0.0.0.0 [default: the bound address]
    #[arg(long, value_name = "ADDR")]
    pub data_advertise: Option<String>,
    /// Resource id of this TaskManager (default: taskmanager-<pid>).
    #[arg(long, value_name = "NAME")]
    id: Option<String>,
    #[command(flatten)]
    ha: HaArgs,
    #[command(flatten)]
    events: EventsArg,
}

/// Starts a JobManager and serves until it stops.
pub async fn jobmanager(a: JobManagerArgs) -> Result<ExitCode> {
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
        ha: a.ha.config(),
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
        rest: a.rest.config(),
        ..JobManagerConfig::default()
    };
    // Candidates are told apart by name at the coordinator: with HA each
    // JobManager process needs its own.
    let name = if a.ha.ha.is_some() {
        format!("jobmanager-{}", std::process::id())
    } else {
        "jobmanager".to_string()
    };
    super::security::check_bind("--bind", &a.bind)?;
    if let Some(r) = &cfg.rest {
        super::security::check_bind("--rest-bind", &r.bind)?;
    }
    let mut ctx = host_ctx(name, a.events.events, super::security::Who::Creator)?;
    let token = super::security::rest_token(&ctx.net);
    ctx.seed = unique_seed();
    if let Some(c) = &a.ha.ha {
        say!("JobManager campaigning for leadership at the coordinator {c}");
    }
    let shutdown = shutdown_signal()?;
    let (bound, server) = start_jobmanager(ctx, cfg, "the JobManager stopped", shutdown).await?;
    say!("JobManager listening on {}", bound.rpc);
    match &bound.rest {
        Some(rest) => {
            let scheme = super::security::rest_scheme();
            say!("REST API and web UI on {scheme}://{rest}/");
            if let Some(t) = &token {
                say!("Open the web UI with its token: {scheme}://{rest}/?token={t}");
            }
        }
        None if !a.rest.no_rest => say!(
            "No REST API: port {} is taken (choose one with --rest-bind)",
            DEFAULT_REST
        ),
        None => {}
    }
    say!(
        "Checkpoints and savepoints go to {}",
        checkpoint_dir.display()
    );
    match server.await {
        Ok(Ok(())) => {
            say!("JobManager stopped");
            Ok(ExitCode::SUCCESS)
        }
        Ok(Err(e)) => Err(anyhow!(e)).context("the JobManager stopped"),
        Err(e) => Err(anyhow!("the JobManager crashed: {e}")),
    }
}

/// Starts a TaskManager and runs until its ResourceManager releases it, or
/// until Ctrl-C or SIGTERM (then it deregisters first).
pub async fn taskmanager(a: TaskManagerArgs) -> Result<ExitCode> {
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
    let every_interface = a
        .data_bind
        .rsplit_once(':')
        .is_some_and(|(h, _)| matches!(h, "0.0.0.0" | "[::]"));
    if every_interface && a.data_advertise.is_none() {
        bail!(
            "--data-bind {} listens on every interface, but other TaskManagers need one \
             address to send records to: add --data-advertise HOST (this machine's address)",
            a.data_bind
        );
    }
    let cfg = TaskManagerConfig {
        jobmanager: a.jobmanager.clone(),
        slots: a.slots,
        data_bind: a.data_bind,
        data_advertise: a.data_advertise,
        print_to_stdout: true,
        ha: a.ha.config(),
        connect_retry_ms: 5,
        // Buffers are cut at 32 KiB (a few thousand small records), not
        // at a record count: fewer hand-overs between threads.
        buffer_records: 8192,
        ..TaskManagerConfig::default()
    };
    say!(
        "TaskManager {id} ({} slot{}) connecting to {}",
        a.slots,
        plural(a.slots),
        a.jobmanager
    );
    super::security::check_bind("--data-bind", &cfg.data_bind)?;
    let ctx = host_ctx(id.clone(), a.events.events, super::security::Who::Member)?;
    // Whether the signal (rather than the ResourceManager) ended it.
    let signalled = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let shutdown = {
        let signal = shutdown_signal()?;
        let signalled = signalled.clone();
        async move {
            signal.await;
            signalled.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    };
    runtime::taskmanager::run_taskmanager(ctx, cfg, shutdown)
        .await
        .with_context(|| format!("TaskManager {id} stopped"))?;
    if signalled.load(std::sync::atomic::Ordering::SeqCst) {
        say!("TaskManager {id}: deregistered; shutting down");
    } else {
        say!("TaskManager {id}: the ResourceManager released it; shutting down");
    }
    Ok(ExitCode::SUCCESS)
}

/// Starts the HA coordinator and serves until it stops.
pub async fn coordinator(a: CoordinatorArgs) -> Result<ExitCode> {
    super::security::check_bind("--bind", &a.bind)?;
    let ctx = host_ctx(
        "coordinator".into(),
        a.events.events,
        super::security::Who::Creator,
    )?;
    let shutdown = shutdown_signal()?;
    say!("Coordinator listening on {}", a.bind);
    // The coordinator keeps no state worth saving: on a signal it just
    // stops serving.
    tokio::select! {
        biased;
        () = shutdown => say!("Coordinator stopped"),
        r = runtime::ha::run_coordinator(ctx, a.bind.clone()) => {
            r.with_context(|| format!("the coordinator on {} stopped", a.bind))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
