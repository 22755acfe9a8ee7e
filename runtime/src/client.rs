//! The client: compiles a job file, submits it, polls, fetches results.
//!
//! In Flink the client (`flink run`, or a program's `execute()`) builds the
//! JobGraph locally (chaining happens here, not on the cluster), submits it
//! to the Dispatcher and then polls the job's status. [`ClusterClient`] does
//! the same over a framed connection to the JobManager, in both worlds.

use crate::graph::{JobGraph, JobId};
use crate::net::NetworkRef;
use crate::net::frame::{FrameReader, FrameWriter, WireError, handshake};
use crate::rpc::{ClientRequest, ClientResponse, JobOverview, JobResult};
use std::time::Duration;

/// Errors of the client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Connecting failed.
    #[error("cannot reach the JobManager at {addr}: {source}")]
    Connect {
        /// Address.
        addr: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The connection failed.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The JobManager refused the request.
    #[error("the JobManager answered: {0}")]
    Refused(String),
    /// An answer that does not fit the request.
    #[error("unexpected answer from the JobManager: {0}")]
    Unexpected(String),
}

/// A connection to a JobManager's Dispatcher.
pub struct ClusterClient {
    reader: FrameReader,
    writer: FrameWriter,
}

impl ClusterClient {
    /// Connects to the JobManager at `addr`, as host `me`.
    pub async fn connect(net: &NetworkRef, addr: &str, me: &str) -> Result<Self, ClientError> {
        // A crashed host may never answer: give up after 5 seconds.
        let stream = tokio::time::timeout(Duration::from_secs(5), net.connect(addr.to_string()))
            .await
            .unwrap_or_else(|_| {
                Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "no answer within 5 s",
                ))
            })
            .map_err(|source| ClientError::Connect {
                addr: addr.to_string(),
                source,
            })?;
        let (reader, writer, _) = handshake(stream, "client", me).await?;
        Ok(ClusterClient { reader, writer })
    }

    /// Connects to the leading JobManager named by the HA coordinator at
    /// `coordinator` (Flink's leader retrieval), waiting for one to lead.
    pub async fn connect_to_leader(
        ctx: &crate::events::HostCtx,
        coordinator: &str,
    ) -> Result<Self, ClientError> {
        let mut ha = crate::ha::HaClient::new(ctx.clone(), coordinator.to_string());
        let leader = ha.wait_for_leader().await;
        Self::connect(&ctx.net, &leader.addr, &ctx.host).await
    }

    /// Connects, retrying every 200 ms for up to `attempts` times (a
    /// JobManager that is still starting).
    pub async fn connect_retrying(
        net: &NetworkRef,
        addr: &str,
        me: &str,
        attempts: u32,
    ) -> Result<Self, ClientError> {
        let mut last = None;
        for _ in 0..attempts.max(1) {
            match Self::connect(net, addr, me).await {
                Ok(c) => return Ok(c),
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(last.unwrap_or_else(|| ClientError::Unexpected("no attempt made".into())))
    }

    async fn call(&mut self, req: ClientRequest) -> Result<ClientResponse, ClientError> {
        self.writer.send(&req).await?;
        match self.reader.recv::<ClientResponse>().await? {
            ClientResponse::Error(e) => Err(ClientError::Refused(e)),
            r => Ok(r),
        }
    }

    /// Submits a compiled job.
    pub async fn submit(&mut self, jg: JobGraph) -> Result<JobId, ClientError> {
        match self.call(ClientRequest::Submit(Box::new(jg))).await? {
            ClientResponse::Submitted(id) => Ok(id),
            r => Err(ClientError::Unexpected(format!("{r:?}"))),
        }
    }

    /// Submits a compiled job that resumes from a savepoint.
    pub async fn submit_from_savepoint(
        &mut self,
        jg: JobGraph,
        path: &str,
    ) -> Result<JobId, ClientError> {
        match self
            .call(ClientRequest::SubmitFromSavepoint(
                Box::new(jg),
                path.to_string(),
            ))
            .await?
        {
            ClientResponse::Submitted(id) => Ok(id),
            r => Err(ClientError::Unexpected(format!("{r:?}"))),
        }
    }

    /// Triggers a savepoint; with `stop`, the job finishes after it. The
    /// savepoint's path appears in the job's result once it is complete.
    pub async fn savepoint(&mut self, id: JobId, stop: bool) -> Result<(), ClientError> {
        match self
            .call(ClientRequest::Savepoint { job: id, stop })
            .await?
        {
            ClientResponse::SavepointTriggered => Ok(()),
            r => Err(ClientError::Unexpected(format!("{r:?}"))),
        }
    }

    /// All jobs.
    pub async fn list(&mut self) -> Result<Vec<JobOverview>, ClientError> {
        match self.call(ClientRequest::List).await? {
            ClientResponse::Jobs(j) => Ok(j),
            r => Err(ClientError::Unexpected(format!("{r:?}"))),
        }
    }

    /// A job's result so far.
    pub async fn result(&mut self, id: JobId) -> Result<JobResult, ClientError> {
        match self.call(ClientRequest::Result(id)).await? {
            ClientResponse::Result(r) => Ok(*r),
            r => Err(ClientError::Unexpected(format!("{r:?}"))),
        }
    }

    /// Cancels a job.
    pub async fn cancel(&mut self, id: JobId) -> Result<(), ClientError> {
        match self.call(ClientRequest::Cancel(id)).await? {
            ClientResponse::Cancelling => Ok(()),
            r => Err(ClientError::Unexpected(format!("{r:?}"))),
        }
    }

    /// Polls every `every_ms` until the job is terminal; returns its result.
    pub async fn wait(&mut self, id: JobId, every_ms: u64) -> Result<JobResult, ClientError> {
        loop {
            let r = self.result(id).await?;
            if r.status.is_terminal() {
                return Ok(r);
            }
            tokio::time::sleep(Duration::from_millis(every_ms.max(1))).await;
        }
    }
}
