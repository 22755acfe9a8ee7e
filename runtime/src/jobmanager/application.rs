//! An application's `main` running inside the JobManager: application
//! mode, or an application file run over REST (`POST /jars/:id/run`).
//!
//! Flink's `ApplicationDispatcherBootstrap` starts the user's `main` in the
//! JobManager process once the Dispatcher is up. Each `execute()` in it goes
//! through an `EmbeddedExecutor`: the JobGraph is handed to the Dispatcher
//! in the same process, with no client, no REST call and no network in
//! between. When `main` has returned and every job it submitted has ended,
//! the application is done and its cluster can go.
//!
//! Here `main` is an [`Application`]: a list of compiled jobs and their
//! order. `run_main` is a task of the JobManager; it talks to the
//! Dispatcher through the JobManager's own inbox ([`EmbeddedExecutor`]), so
//! its requests are served by the same event loop as a client's, in order,
//! and each job it submits joins its application in the Dispatcher
//! ([`ApplicationRecord`](super::applications::ApplicationRecord)). When
//! `main` is done it tells the loop how the application ended and, in
//! application mode, deregisters the application at the resource
//! provider, which shuts the cluster down (an active one, like YARN's).

use super::inbox::Inbound;
use crate::application::{Application, JobEnd, JobOrder, MainRun, job_label};
use crate::events::{EventKind, HostCtx};
use crate::graph::{ApplicationId, JobGraph, JobId};
use crate::jobmanager::resourcemanager::driver::ResourceManagerDriver;
use crate::rpc::{ClientRequest, ClientResponse, JobResult};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How often `main` asks whether its jobs ended (as `execute()` waits).
const POLL_MS: u64 = 100;

/// Why a request of `main` to its own Dispatcher failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplicationError {
    /// The JobManager's event loop is gone (its inbox or the answer closed).
    #[error("the JobManager stopped")]
    Stopped,
    /// The Dispatcher refused the request; its words.
    #[error("{0}")]
    Refused(String),
    /// An answer that does not fit the request.
    #[error("unexpected answer {0}")]
    Unexpected(String),
}

/// Submits to the Dispatcher of this JobManager, in-process (Flink's
/// `EmbeddedExecutor`).
#[derive(Clone)]
pub struct EmbeddedExecutor {
    /// The application whose `main` submits.
    app: ApplicationId,
    /// The JobManager's inbox; the event loop answers on the oneshot. A
    /// closed inbox means the JobManager stopped.
    inbox: mpsc::UnboundedSender<Inbound>,
}

impl EmbeddedExecutor {
    async fn call(&self, req: ClientRequest) -> Result<ClientResponse, ApplicationError> {
        let (tx, rx) = oneshot::channel();
        self.inbox
            .send(Inbound::FromApplication(self.app, req, tx))
            .map_err(|_| ApplicationError::Stopped)?;
        match rx.await {
            Ok(ClientResponse::Error(e)) => Err(ApplicationError::Refused(e)),
            Ok(r) => Ok(r),
            Err(_) => Err(ApplicationError::Stopped),
        }
    }

    /// Submits a job; its id.
    pub async fn submit(&self, jg: JobGraph) -> Result<JobId, ApplicationError> {
        match self.call(ClientRequest::Submit(Box::new(jg))).await? {
            ClientResponse::Submitted(id) => Ok(id),
            r => Err(ApplicationError::Unexpected(format!("{r:?}"))),
        }
    }

    /// A job's result so far.
    pub async fn result(&self, id: JobId) -> Result<JobResult, ApplicationError> {
        match self.call(ClientRequest::Result(id)).await? {
            ClientResponse::Result(r) => Ok(*r),
            r => Err(ApplicationError::Unexpected(format!("{r:?}"))),
        }
    }

    /// Waits until the job is terminal (what a blocking `execute()` does).
    pub async fn wait(&self, id: JobId) -> Result<JobResult, ApplicationError> {
        loop {
            let r = self.result(id).await?;
            if r.status.is_terminal() {
                return Ok(r);
            }
            tokio::time::sleep(Duration::from_millis(POLL_MS)).await;
        }
    }

    /// Waits for job `id` and says how it ended, as `main` sees it.
    async fn outcome(&self, id: JobId) -> JobEnd {
        match self.wait(id).await {
            Ok(r) => JobEnd::Ended(r.status),
            Err(e) => JobEnd::Error(e.to_string()),
        }
    }
}

/// Runs the `main` of application `id` on this JobManager: submits its
/// jobs in their order and waits for them, by the rules of [`MainRun`] (a
/// sequential `main` stops at the first job that does not FINISH, as
/// Flink's `execute()` throws). Then it tells the loop how the application
/// ended; with a `provider` (application mode) the application is
/// deregistered there, and the cluster goes with it.
pub(super) async fn run_main(
    ctx: HostCtx,
    id: ApplicationId,
    app: Application,
    inbox: mpsc::UnboundedSender<Inbound>,
    provider: Option<Arc<dyn ResourceManagerDriver>>,
) {
    ctx.emit(EventKind::ApplicationStarted {
        name: app.name.clone(),
        jobs: app.jobs.iter().map(|j| j.name.clone()).collect(),
        order: app.order,
    });
    let executor = EmbeddedExecutor {
        app: id,
        inbox: inbox.clone(),
    };
    let mut main = MainRun::new(app.order, app.jobs.len());
    match app.order {
        JobOrder::Sequential => {
            for (k, jg) in app.jobs.into_iter().enumerate() {
                let label = job_label(Some(&jg.name), k);
                let outcome = match executor.submit(jg).await {
                    Ok(id) => executor.outcome(id).await,
                    Err(e) => JobEnd::Error(e.to_string()),
                };
                if !main.record(&label, outcome) {
                    break;
                }
            }
        }
        JobOrder::Parallel => {
            // executeAsync() for each, then wait for all.
            let mut submitted = Vec::new();
            for (k, jg) in app.jobs.into_iter().enumerate() {
                let label = job_label(Some(&jg.name), k);
                match executor.submit(jg).await {
                    Ok(id) => submitted.push((label, id)),
                    Err(e) => {
                        main.record(&label, JobEnd::Error(e.to_string()));
                    }
                }
            }
            for (label, id) in submitted {
                let outcome = executor.outcome(id).await;
                main.record(&label, outcome);
            }
        }
    }
    ctx.emit(main.finished_event(app.name));
    let _ = inbox.send(Inbound::ApplicationEnded(
        id,
        main.end_state(),
        main.cause().map(str::to_string),
    ));
    if let Some(provider) = provider {
        provider.deregister_application(main.status(), main.cause());
    }
}
