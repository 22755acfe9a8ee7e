//! Application mode: the program's `main` runs inside the JobManager.
//!
//! Flink's `ApplicationDispatcherBootstrap` starts the user's `main` in the
//! JobManager process once the Dispatcher is up. Each `execute()` in it goes
//! through an `EmbeddedExecutor`: the JobGraph is handed to the Dispatcher
//! in the same process, with no client, no REST call and no network in
//! between. When `main` has returned and every job it submitted has ended,
//! the application is done and its cluster can go.
//!
//! Here `main` is an [`Application`]: a list of compiled jobs and their
//! order. [`run_main`] is a task of the JobManager; it talks to the
//! Dispatcher through the JobManager's own inbox ([`EmbeddedExecutor`]), so
//! its requests are served by the same event loop as a client's, in order.
//! When `main` is done it deregisters the application at the resource
//! provider, which shuts the cluster down (an active one, like YARN's).

use super::inbox::Inbound;
use crate::application::{Application, JobOrder};
use crate::config::ResourceProvider;
use crate::events::{EventKind, HostCtx};
use crate::graph::{JobGraph, JobId};
use crate::rpc::{ClientRequest, ClientResponse, JobResult};
use crate::state::JobStatus;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How often `main` asks whether its jobs ended (as `execute()` waits).
const POLL_MS: u64 = 100;

/// Submits to the Dispatcher of this JobManager, in-process (Flink's
/// `EmbeddedExecutor`).
#[derive(Clone)]
pub struct EmbeddedExecutor {
    /// The JobManager's inbox; the event loop answers on the oneshot. A
    /// closed inbox means the JobManager stopped.
    inbox: mpsc::UnboundedSender<Inbound>,
}

impl EmbeddedExecutor {
    async fn call(&self, req: ClientRequest) -> Result<ClientResponse, String> {
        let (tx, rx) = oneshot::channel();
        self.inbox
            .send(Inbound::FromApplication(req, tx))
            .map_err(|_| "the JobManager stopped".to_string())?;
        match rx.await {
            Ok(ClientResponse::Error(e)) => Err(e),
            Ok(r) => Ok(r),
            Err(_) => Err("the JobManager stopped".to_string()),
        }
    }

    /// Submits a job; its id.
    pub async fn submit(&self, jg: JobGraph) -> Result<JobId, String> {
        match self.call(ClientRequest::Submit(Box::new(jg))).await? {
            ClientResponse::Submitted(id) => Ok(id),
            r => Err(format!("unexpected answer {r:?}")),
        }
    }

    /// A job's result so far.
    pub async fn result(&self, id: JobId) -> Result<JobResult, String> {
        match self.call(ClientRequest::Result(id)).await? {
            ClientResponse::Result(r) => Ok(*r),
            r => Err(format!("unexpected answer {r:?}")),
        }
    }

    /// Waits until the job is terminal (what a blocking `execute()` does).
    pub async fn wait(&self, id: JobId) -> Result<JobResult, String> {
        loop {
            let r = self.result(id).await?;
            if r.status.is_terminal() {
                return Ok(r);
            }
            tokio::time::sleep(Duration::from_millis(POLL_MS)).await;
        }
    }
}

/// Runs an application's `main` on this JobManager: submits its jobs in
/// their order and waits for them. A sequential `main` stops at the first
/// job that does not FINISH (its `execute()` throws), as Flink's does.
/// Then the application is deregistered, and the cluster goes with it.
pub(super) async fn run_main(
    ctx: HostCtx,
    app: Application,
    inbox: mpsc::UnboundedSender<Inbound>,
    provider: Arc<dyn ResourceProvider>,
) {
    ctx.emit(EventKind::ApplicationStarted {
        name: app.name.clone(),
        jobs: app.jobs.iter().map(|j| j.name.clone()).collect(),
        order: app.order,
    });
    let executor = EmbeddedExecutor { inbox };
    let total = app.jobs.len();
    let mut finished = 0;
    let mut cause = None;
    match app.order {
        JobOrder::Sequential => {
            for jg in app.jobs {
                let name = jg.name.clone();
                let r = match executor.submit(jg).await {
                    Ok(id) => executor.wait(id).await,
                    Err(e) => Err(e),
                };
                match r {
                    Ok(r) if r.status == JobStatus::Finished => finished += 1,
                    Ok(r) => {
                        cause = Some(format!(
                            "job \"{name}\" ended {}, so execute() threw",
                            r.status
                        ));
                        break;
                    }
                    Err(e) => {
                        cause = Some(format!("job \"{name}\": {e}"));
                        break;
                    }
                }
            }
        }
        JobOrder::Parallel => {
            let mut ids = Vec::new();
            for jg in app.jobs {
                let name = jg.name.clone();
                match executor.submit(jg).await {
                    Ok(id) => ids.push(id),
                    Err(e) => {
                        cause = Some(format!("job \"{name}\": {e}"));
                    }
                }
            }
            for id in ids {
                match executor.wait(id).await {
                    Ok(r) if r.status == JobStatus::Finished => finished += 1,
                    Ok(r) => {
                        cause.get_or_insert(format!("job \"{}\" ended {}", r.name, r.status));
                    }
                    Err(e) => {
                        cause.get_or_insert(e);
                    }
                }
            }
        }
    }
    let status = if cause.is_none() {
        "SUCCEEDED"
    } else {
        "FAILED"
    };
    ctx.emit(EventKind::ApplicationFinished {
        name: app.name,
        finished,
        jobs: total,
        cause: cause.clone(),
    });
    provider.deregister_application(status, cause.as_deref());
}
