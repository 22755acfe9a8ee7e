//! `mini-flink run-application` and `run-job-cluster`: clusters that live
//! as long as their work.
//!
//! Flink's execution modes differ in where `main` runs and how long the
//! cluster lives. A *job cluster* is started for one job (`main` stays on
//! the client, which submits the job) and torn down after it; an
//! *application cluster* runs the application's `main` on its JobManager
//! (Flink's `ApplicationDispatcherBootstrap`) and goes when `main` is done.
//! Both start here with an active ResourceManager whose driver,
//! [`LocalProcessDriver`], starts TaskManager processes on demand. In: an
//! application or job file and the slots per TaskManager; Ctrl-C or
//! SIGTERM (the [`shutdown_signal`] of the cluster processes), on which the
//! JobManager stops and the cluster is torn down before its work is done.
//! Out: what the cluster did, printed, every process of it stopped, and an
//! exit code that says whether the work succeeded.

use super::processes::shutdown_signal;
use super::{
    EventsArg, ask, checkpoint_dir, compile, connect, host_ctx, start_jobmanager, unique_seed,
};
use anyhow::{Context, Result, anyhow};
use clap::Args;
use runtime::application::Application;
use runtime::client::result::result_text;
use runtime::config::JobManagerConfig;
use runtime::graph::JobGraph;
use runtime::jobmanager::checkpoint::storage::DirStorage;
use runtime::jobmanager::resourcemanager::local_process::{DriverEvent, LocalProcessDriver};
use runtime::state::JobStatus;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// `mini-flink run-application` and `mini-flink run-job-cluster`.
#[derive(Debug, Args)]
pub struct ClusterModeArgs {
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
    #[command(flatten)]
    rest: super::processes::RestArgs,
}

/// Which cluster a command starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `main` on the JobManager; the cluster goes when `main` is done.
    Application,
    /// One job, submitted from here; the cluster goes when it ends.
    Job,
}

/// What a cluster of this command is for.
enum Work {
    /// An application: its `main` runs on the JobManager.
    Application(Application),
    /// One job, compiled here.
    Job(JobGraph),
}

/// Starts the cluster, runs its work, and tears the cluster down.
pub async fn cluster_mode(a: ClusterModeArgs, mode: Mode) -> Result<ExitCode> {
    let work = match mode {
        Mode::Application => {
            let program = runtime::application::load_application_file(&a.file)?;
            Work::Application(program.to_application())
        }
        Mode::Job => Work::Job(compile(&a.file)?),
    };
    let program = std::env::current_exe()
        .context("cannot find the mini-flink program to start TaskManager processes with")?;
    let (driver, reports) = LocalProcessDriver::new(program);
    let driver = driver.with_args(super::security::child_args()?);
    let driver = Arc::new(driver);
    let (done_tx, done_rx) = oneshot::channel();
    let reporter = tokio::spawn(report(reports, done_tx));
    let checkpoint_dir = checkpoint_dir(None)?;
    let cfg = JobManagerConfig {
        bind: a.bind.clone(),
        provider: driver.clone(),
        worker_slots: a.slots,
        worker_prefix: format!("taskmanager-{}-", std::process::id()),
        storage: Arc::new(DirStorage::new(&checkpoint_dir)),
        application: match &work {
            Work::Application(app) => Some(app.clone()),
            Work::Job(_) => None,
        },
        rest: a.rest.config(),
        ..JobManagerConfig::default()
    };
    super::security::check_bind("--bind", &a.bind)?;
    let mut ctx = host_ctx(
        "jobmanager".into(),
        a.events.events,
        super::security::Who::Creator,
    )?;
    ctx.seed = unique_seed();
    let shutdown = shutdown_signal()?;
    let (bound, mut server) =
        start_jobmanager(ctx, cfg, "the JobManager did not start", shutdown).await?;
    let addr = bound.rpc;
    driver.jobmanager_up(&addr);
    let kind = match mode {
        Mode::Application => "Application",
        Mode::Job => "Job",
    };
    say!("{kind} cluster: JobManager on {addr}; TaskManager processes start on demand");
    if let Some(rest) = &bound.rest {
        say!(
            "REST API and web UI on {}://{rest}/",
            super::security::rest_scheme()
        );
    }
    let work = async {
        match work {
            Work::Application(app) => {
                say!(
                    "main() of application \"{}\" runs on the JobManager: {} job(s), {}",
                    app.name,
                    app.jobs.len(),
                    app.order
                );
                let status = done_rx.await.unwrap_or_else(|_| "UNKNOWN".into());
                let mut client = connect(&addr).await?;
                for j in ask("listing", client.list().await)? {
                    say!("  job {} \"{}\": {}", j.id, j.name, j.status);
                }
                say!("Application {status}; stopping the cluster");
                Ok(status == "SUCCEEDED")
            }
            Work::Job(jg) => {
                let mut client = connect(&addr).await?;
                let id = ask("submitting", client.submit(jg).await)?;
                say!("main() ran here, on the client: job {id} submitted to its own cluster");
                let r = ask("polling", client.wait(id, 200).await)?;
                say_raw!("{}", result_text(&r, false));
                say!("Job {}; tearing the job cluster down", r.status);
                Ok(r.status == JobStatus::Finished)
            }
        }
    };
    // The JobManager ends before the work on Ctrl-C or SIGTERM (or when it
    // fails); the cluster is torn down all the same.
    let outcome: Result<bool> = tokio::select! {
        biased;
        stopped = &mut server => match stopped {
            Ok(Ok(())) => {
                say!("The JobManager shut down (Ctrl-C or SIGTERM); tearing the cluster down");
                Ok(false)
            }
            Ok(Err(e)) => Err(anyhow!(e)).context("the JobManager stopped"),
            Err(e) => Err(anyhow!("the JobManager crashed: {e}")),
        },
        outcome = work => outcome,
    };
    driver.stop_all();
    server.abort();
    reporter.abort();
    Ok(if outcome? {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Prints what the driver did, and passes on the application's final
/// status when the JobManager deregisters it.
async fn report(mut reports: mpsc::UnboundedReceiver<DriverEvent>, done: oneshot::Sender<String>) {
    let mut done = Some(done);
    while let Some(event) = reports.recv().await {
        match event {
            DriverEvent::WorkerStarted {
                resource_id,
                pid,
                slots,
            } => say!("started TaskManager process {resource_id} (pid {pid}, {slots} slots)"),
            // The driver logs it (an error: shown unless `RUST_LOG` hides it).
            DriverEvent::WorkerFailed { .. } => {}
            DriverEvent::ApplicationDeregistered { status, .. } => {
                if let Some(tx) = done.take() {
                    let _ = tx.send(status);
                }
            }
        }
    }
}
