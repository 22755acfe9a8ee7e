//! `mini-flink run`, `list` and `cancel`: a job's life seen from the client.
//!
//! Flink's `flink run` compiles the program on the client, submits the
//! JobGraph to the Dispatcher and (unless detached) waits for the job's
//! result; `flink list` and `flink cancel` ask the Dispatcher about jobs.
//! In: a job file or a job id, and the JobManager's address (`HOST:PORT`,
//! or `ha://COORDINATOR` for whichever JobManager leads). Out: the
//! Dispatcher's answers, printed; the exit code says whether the job
//! FINISHED. The waiting is [`ClusterClient::poll_job`]'s, the words are
//! [`runtime::client::result`]'s.

use super::{
    DEFAULT_JOBMANAGER, POLL_EVERY, ask, compile, connect, parse_job_id, plural, reword_refusal,
};
use crate::error_text::cause_text;
use anyhow::Result;
use clap::Args;
use runtime::client::result::{collects_rolling_aggregates, jobs_text, result_text};
use runtime::client::{ClusterClient, JobPoll};
use runtime::state::JobStatus;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// How long `run` watches a job wait for slots before saying how to help it.
const SLOT_HINT_AFTER: Duration = Duration::from_secs(10);

/// How long `cancel` waits to see the job CANCELED.
const CANCEL_WAIT: Duration = Duration::from_secs(10);

/// `mini-flink run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The job file (TOML).
    job: PathBuf,
    /// The JobManager's address: HOST:PORT, or ha://COORDINATOR for whichever
    /// JobManager leads there.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_JOBMANAGER)]
    pub jobmanager: String,
    /// Submit, print the job id and return without waiting for the result.
    #[arg(long, short = 'd')]
    detached: bool,
    /// Start from this savepoint (a path `mini-flink savepoint` or
    /// `mini-flink stop` printed): sources continue from their saved
    /// offsets, operators from their saved state.
    #[arg(long, short = 's', value_name = "PATH")]
    pub from_savepoint: Option<String>,
}

/// `mini-flink list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The JobManager's address: HOST:PORT, or ha://COORDINATOR for whichever
    /// JobManager leads there.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_JOBMANAGER)]
    pub jobmanager: String,
}

/// `mini-flink cancel`.
#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The job's id: 32 hex digits, as `mini-flink run` and `mini-flink list` print it.
    job_id: String,
    /// The JobManager's address: HOST:PORT, or ha://COORDINATOR for whichever
    /// JobManager leads there.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_JOBMANAGER)]
    jobmanager: String,
}

/// With HA, what the poll loop says when it lost the JobManager.
pub fn say_leader_lost(poll: &JobPoll<'_>) {
    if let JobPoll::LeaderLost(e) = poll {
        say!(
            "lost the JobManager ({}); looking for the new leader",
            cause_text(*e)
        );
    }
}

/// `flink run`: compile, submit, and (unless detached) wait for the result.
pub async fn run(a: RunArgs) -> Result<ExitCode> {
    let jg = compile(&a.job)?;
    let rolling = collects_rolling_aggregates(&jg);
    let slots = jg.slots_needed();
    let mut client = connect(&a.jobmanager).await?;
    let id = match &a.from_savepoint {
        None => ask("submitting", client.submit(jg).await)?,
        Some(path) => ask("submitting", client.submit_from_savepoint(jg, path).await)
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
        plural(slots)
    );
    let mut last = None;
    let waiting = tokio::time::Instant::now();
    let mut hinted = false;
    let watch = |poll: JobPoll<'_>| {
        say_leader_lost(&poll);
        let JobPoll::Answer(r) = poll else {
            return ControlFlow::Continue(());
        };
        if last != Some(r.status) {
            say!("Job status: {}", r.status);
            last = Some(r.status);
        }
        if r.status.is_terminal() {
            return ControlFlow::Break(r.clone());
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
                plural(slots),
                a.jobmanager
            );
        }
        ControlFlow::Continue(())
    };
    let result = ask("polling", client.poll_job(id, POLL_EVERY, watch).await)?;
    say_raw!("{}", result_text(&result, rolling));
    Ok(if result.status == JobStatus::Finished {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `flink list`: every job the JobManager knows.
pub async fn list(a: ListArgs) -> Result<ExitCode> {
    let mut client = connect(&a.jobmanager).await?;
    let jobs = ask("listing jobs", client.list().await)?;
    say_raw!("{}", jobs_text(&jobs));
    Ok(ExitCode::SUCCESS)
}

/// `flink cancel`: cancels the job and waits a little to see it CANCELED.
pub async fn cancel(a: CancelArgs) -> Result<ExitCode> {
    let id = parse_job_id(&a.job_id)?;
    let mut client = connect(&a.jobmanager).await?;
    ask("cancelling", client.cancel(id).await)?;
    say!("Cancelling job {id}.");
    await_cancellation(&mut client, id).await?;
    Ok(ExitCode::SUCCESS)
}

/// Waits a little for the cancellation to complete, as `flink cancel` does.
async fn await_cancellation(client: &mut ClusterClient, id: runtime::graph::JobId) -> Result<()> {
    let deadline = tokio::time::Instant::now() + CANCEL_WAIT;
    let watch = |poll: JobPoll<'_>| {
        say_leader_lost(&poll);
        let JobPoll::Answer(r) = poll else {
            return ControlFlow::Continue(());
        };
        if r.status.is_terminal() {
            say!("Job {id} is {}.", r.status);
            return ControlFlow::Break(());
        }
        if tokio::time::Instant::now() >= deadline {
            say!("Job {id} is still {}; it will be cancelled.", r.status);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    };
    ask("polling", client.poll_job(id, POLL_EVERY, watch).await)
}
