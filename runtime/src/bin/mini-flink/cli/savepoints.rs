//! `mini-flink savepoint` and `mini-flink stop`: savepoints from the client.
//!
//! Flink's `flink savepoint JOBID` asks the JobMaster's
//! CheckpointCoordinator for a savepoint and prints its path;
//! `flink stop JOBID` takes one and then finishes the job
//! (stop-with-savepoint), so that `flink run -s PATH` can continue it. In:
//! a job id, the JobManager's address and a time limit. Out: the
//! savepoint's path on standard output, or one error saying why there is
//! none. The waiting is [`ClusterClient::poll_job`]'s.
//!
//! [`ClusterClient::poll_job`]: runtime::client::ClusterClient::poll_job

use super::{DEFAULT_JOBMANAGER, ask, connect, parse_job_id, reword_refusal};
use crate::error_text::cause_text;
use anyhow::{Result, anyhow, bail};
use clap::Args;
use runtime::client::JobPoll;
use runtime::client::result::cause_suffix;
use runtime::rpc::JobResult;
use runtime::state::JobStatus;
use std::ops::ControlFlow;
use std::process::ExitCode;
use std::time::Duration;

/// How often `savepoint` and `stop` ask for the job's state.
const SAVEPOINT_POLL: Duration = Duration::from_millis(200);

/// `mini-flink savepoint`.
#[derive(Debug, Args)]
pub struct SavepointArgs {
    /// The job's id: 32 hex digits, as `mini-flink run` and `mini-flink list` print it.
    pub job_id: String,
    /// Stop the job after the savepoint (stop-with-savepoint: the job FINISHES).
    #[arg(long)]
    pub stop: bool,
    #[command(flatten)]
    pub wait: SavepointWait,
}

/// `mini-flink stop`.
#[derive(Debug, Args)]
pub struct StopArgs {
    /// The job's id: 32 hex digits, as `mini-flink run` and `mini-flink list` print it.
    pub job_id: String,
    #[command(flatten)]
    pub wait: SavepointWait,
}

/// Where a savepoint is taken and how long to wait for it.
#[derive(Debug, Args)]
pub struct SavepointWait {
    /// The JobManager's address: HOST:PORT, or ha://COORDINATOR for whichever
    /// JobManager leads there.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_JOBMANAGER)]
    pub jobmanager: String,
    /// Give up waiting for the savepoint after this many seconds (it may
    /// still complete later; `mini-flink list` shows the job's status).
    #[arg(long, value_name = "SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
}

/// `mini-flink savepoint JOBID [--stop]` and `mini-flink stop JOBID`
/// (Flink's `flink savepoint` and `flink stop`): triggers a savepoint, waits
/// until its path appears in the job's result (and, with `stop`, until the
/// job has finished), and prints the path.
pub async fn savepoint(job_id: &str, stop: bool, w: &SavepointWait) -> Result<ExitCode> {
    let id = parse_job_id(job_id)?;
    let addr = w.jobmanager.as_str();
    let limit = Duration::from_secs(w.timeout);
    let mut client = connect(addr).await?;
    // What the job had before: the savepoint to wait for is the next one.
    let before = ask("asking for the job", client.result(id).await).map_err(|e| {
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
    ask("triggering", client.savepoint(id, stop).await).map_err(|e| {
        reword_refusal(e, |why| {
            format!("the JobManager refused the savepoint of job {id}: {why}")
        })
    })?;
    say!("Waiting for response...");
    let mut wait = SavepointProgress {
        stop,
        before: &before,
        deadline: tokio::time::Instant::now() + limit,
        limit,
        path: None,
    };
    let watch = |poll: JobPoll<'_>| match poll {
        JobPoll::Answer(r) => wait.seen(r),
        // A leader change aborts the savepoint in progress.
        JobPoll::LeaderLost(e) => ControlFlow::Break(Err(anyhow!(cause_text(e)))),
    };
    ask("polling", client.poll_job(id, SAVEPOINT_POLL, watch).await)??;
    Ok(ExitCode::SUCCESS)
}

/// What `savepoint` knows while it waits.
struct SavepointProgress<'a> {
    /// Whether the job is to finish after the savepoint.
    stop: bool,
    /// The job before the savepoint was triggered.
    before: &'a JobResult,
    /// When to give up.
    deadline: tokio::time::Instant,
    /// The time limit, for messages.
    limit: Duration,
    /// The new savepoint's path, once it is complete.
    path: Option<String>,
}

impl SavepointProgress<'_> {
    /// Looks at the job's latest state: done (`Ok`), failed (`Err`), or
    /// still waiting.
    fn seen(&mut self, r: &JobResult) -> ControlFlow<Result<()>> {
        let id = r.id;
        if self.path.is_none()
            && let Some(p) = r.savepoints.get(self.before.savepoints.len())
        {
            say!("Savepoint completed. Path: {p}");
            self.path = Some(p.clone());
        }
        match (&self.path, self.stop, r.status) {
            (Some(p), false, _) | (Some(p), true, JobStatus::Finished) => {
                if self.stop {
                    say!("Job {id} is FINISHED.");
                }
                say!(
                    "Resume the job from this savepoint with \
                     `mini-flink run --from-savepoint {p} JOB.toml`."
                );
                return ControlFlow::Break(Ok(()));
            }
            (Some(_), true, status) if status.is_terminal() => {
                return ControlFlow::Break(Err(anyhow!(
                    "the savepoint is complete, but job {id} then ended {status} instead of FINISHED{}",
                    cause_suffix(r)
                )));
            }
            (None, _, status) if status.is_terminal() => {
                return ControlFlow::Break(Err(anyhow!(
                    "job {id} ended {status} before the savepoint completed{}",
                    cause_suffix(r)
                )));
            }
            _ => {}
        }
        if tokio::time::Instant::now() < self.deadline {
            return ControlFlow::Continue(());
        }
        let restarts = r.restarts.saturating_sub(self.before.restarts);
        let restarted = if restarts > 0 {
            format!(
                "; it restarted {restarts} time{} meanwhile, which aborts a savepoint in progress",
                if restarts == 1 { "" } else { "s" }
            )
        } else {
            String::new()
        };
        let secs = self.limit.as_secs();
        ControlFlow::Break(Err(match self.path {
            Some(_) => anyhow!(
                "the savepoint is complete, but job {id} is still {} after {secs} s{restarted}",
                r.status
            ),
            None => anyhow!(
                "no savepoint of job {id} completed within {secs} s (the job is {}{restarted}); \
                 try again, or wait longer with --timeout SECS",
                r.status
            ),
        }))
    }
}
