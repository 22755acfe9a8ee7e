//! The client: submits compiled jobs, polls them, fetches their results.
//!
//! In Flink the client (`flink run`, or a program's `execute()`) builds the
//! JobGraph locally (chaining happens here, not on the cluster), submits it
//! to the Dispatcher and then polls the job's status (`RestClusterClient`).
//! [`ClusterClient`] does the same over a framed connection to the
//! JobManager, in both worlds.
//!
//! In: a JobManager's address, `HOST:PORT` or `ha://COORDINATOR` (then the
//! client asks the HA coordinator who leads: Flink's leader retrieval), and
//! requests (submit, list, cancel, savepoint, result). Out: the
//! Dispatcher's answers, and [`ClientError`] when there is none.
//! [`ClusterClient::poll_job`] is the one loop that watches a job until its
//! caller has seen enough, finding the new leader when, with HA, the
//! JobManager is lost. [`result`] turns what comes back into the text a
//! user reads.

pub mod result;

use crate::events::HostCtx;
use crate::graph::{JobGraph, JobId};
use crate::net::NetworkRef;
use crate::net::frame::{FrameReader, FrameWriter, WireError, connect_handshake};
use crate::rpc::{ClientRequest, ClientResponse, JobOverview, JobResult};
use std::ops::ControlFlow;
use std::time::Duration;

/// The prefix of an address that names an HA coordinator instead of a
/// JobManager: `ha://COORDINATOR`.
pub const HA_PREFIX: &str = "ha://";

/// How long [`ClusterClient::poll_job`] waits before looking for a new
/// leader after losing the JobManager.
const RECONNECT_PAUSE: Duration = Duration::from_millis(500);

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
    /// Connecting took longer than allowed.
    #[error("cannot reach the JobManager at {addr}: no answer within {secs} s")]
    ConnectTimeout {
        /// Address.
        addr: String,
        /// The limit, seconds.
        secs: u64,
    },
    /// With HA: no JobManager was elected leader in time.
    #[error("no JobManager leads at the coordinator {coordinator} (none elected within {secs} s)")]
    NoLeader {
        /// The HA coordinator's address.
        coordinator: String,
        /// The limit, seconds.
        secs: u64,
    },
    /// The JobManager did not answer a request in time
    /// ([`ClusterClient::with_answer_timeout`]).
    #[error("no answer from the JobManager at {addr} within {secs} s")]
    NoAnswer {
        /// Address.
        addr: String,
        /// The limit, seconds.
        secs: u64,
    },
}

/// How a client that was given `ha://COORDINATOR` finds the leader again.
#[derive(Clone)]
struct LeaderRetrieval {
    /// The client's host (network, clock, name).
    ctx: HostCtx,
    /// The HA coordinator's address.
    coordinator: String,
    /// How long to wait for a leader and a connection.
    limit: Duration,
}

/// What [`ClusterClient::poll_job`] shows its caller each round.
#[derive(Debug)]
pub enum JobPoll<'a> {
    /// The job as the JobManager has it now.
    Answer(&'a JobResult),
    /// The JobManager was lost (why); with HA the client now looks for the
    /// new leader, which recovers the job under the same id.
    LeaderLost(&'a ClientError),
}

/// A connection to a JobManager's Dispatcher.
pub struct ClusterClient {
    reader: FrameReader,
    writer: FrameWriter,
    /// The JobManager's address (for messages).
    addr: String,
    /// The longest wait for one answer; `None`: wait as long as it takes.
    answer_timeout: Option<Duration>,
    /// Set when connected through `ha://`: how to find the next leader.
    leader: Option<LeaderRetrieval>,
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
        let (reader, writer, _) = connect_handshake(stream, net.auth(), "client", me).await?;
        Ok(ClusterClient {
            reader,
            writer,
            addr: addr.to_string(),
            answer_timeout: None,
            leader: None,
        })
    }

    /// Connects to the leading JobManager named by the HA coordinator at
    /// `coordinator` (Flink's leader retrieval), waiting for one to lead.
    pub async fn connect_to_leader(ctx: &HostCtx, coordinator: &str) -> Result<Self, ClientError> {
        let leader = leader_address(ctx, coordinator).await;
        Self::connect(&ctx.net, &leader, &ctx.host).await
    }

    /// Connects to `target`, a JobManager's `HOST:PORT` or `ha://COORDINATOR`
    /// (whichever JobManager leads there), giving up after `limit` for the
    /// leader and again for the connection. A client connected through
    /// `ha://` finds the next leader by itself in
    /// [`ClusterClient::poll_job`].
    pub async fn connect_to(
        ctx: &HostCtx,
        target: &str,
        limit: Duration,
    ) -> Result<Self, ClientError> {
        let secs = limit.as_secs();
        let (addr, leader) = match target.strip_prefix(HA_PREFIX) {
            None => (target.to_string(), None),
            Some(coordinator) => {
                let addr = tokio::time::timeout(limit, leader_address(ctx, coordinator))
                    .await
                    .map_err(|_| ClientError::NoLeader {
                        coordinator: coordinator.to_string(),
                        secs,
                    })?;
                let retrieval = LeaderRetrieval {
                    ctx: ctx.clone(),
                    coordinator: coordinator.to_string(),
                    limit,
                };
                (addr, Some(retrieval))
            }
        };
        let mut client = tokio::time::timeout(limit, Self::connect(&ctx.net, &addr, &ctx.host))
            .await
            .map_err(|_| ClientError::ConnectTimeout {
                addr: addr.clone(),
                secs,
            })??;
        client.leader = leader;
        Ok(client)
    }

    /// The same client, giving up on any one answer after `limit`, so that
    /// a JobManager that never answers cannot hang its caller.
    pub fn with_answer_timeout(mut self, limit: Duration) -> Self {
        self.answer_timeout = Some(limit);
        self
    }

    /// The address of the JobManager this client talks to.
    pub fn addr(&self) -> &str {
        &self.addr
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
        let Some(limit) = self.answer_timeout else {
            return self.exchange(req).await;
        };
        match tokio::time::timeout(limit, self.exchange(req)).await {
            Ok(r) => r,
            Err(_) => Err(ClientError::NoAnswer {
                addr: self.addr.clone(),
                secs: limit.as_secs(),
            }),
        }
    }

    /// One request and its answer.
    async fn exchange(&mut self, req: ClientRequest) -> Result<ClientResponse, ClientError> {
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
        let every = Duration::from_millis(every_ms.max(1));
        self.poll_job(id, every, |poll| match poll {
            JobPoll::Answer(r) if r.status.is_terminal() => ControlFlow::Break(r.clone()),
            _ => ControlFlow::Continue(()),
        })
        .await
    }

    /// The one poll loop: asks for job `id` every `every` and shows each
    /// answer to `watch`, until `watch` breaks with its value. When the
    /// JobManager is lost and this client came through `ha://`, `watch`
    /// sees [`JobPoll::LeaderLost`] and the client looks for the new
    /// leader (which recovers the job under the same id), again and again
    /// until `watch` gives up; without HA the loss is the error.
    pub async fn poll_job<T>(
        &mut self,
        id: JobId,
        every: Duration,
        mut watch: impl FnMut(JobPoll<'_>) -> ControlFlow<T>,
    ) -> Result<T, ClientError> {
        loop {
            match self.result(id).await {
                Ok(r) => {
                    if let ControlFlow::Break(t) = watch(JobPoll::Answer(&r)) {
                        return Ok(t);
                    }
                    tokio::time::sleep(every).await;
                }
                Err(e) if self.leader.is_some() => {
                    if let ControlFlow::Break(t) = watch(JobPoll::LeaderLost(&e)) {
                        return Ok(t);
                    }
                    tokio::time::sleep(RECONNECT_PAUSE).await;
                    // Not found yet: the next request fails, and we look again.
                    let _ = self.reconnect().await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// With HA: connects to whichever JobManager leads now, keeping this
    /// client's settings.
    async fn reconnect(&mut self) -> Result<(), ClientError> {
        let Some(l) = self.leader.clone() else {
            return Ok(());
        };
        let target = format!("{HA_PREFIX}{}", l.coordinator);
        let fresh = Self::connect_to(&l.ctx, &target, l.limit).await?;
        let answer_timeout = self.answer_timeout;
        *self = fresh;
        self.answer_timeout = answer_timeout;
        Ok(())
    }
}

/// The RPC address of the JobManager that leads at the HA coordinator
/// `coordinator`, once one does: the one leader lookup of every client.
async fn leader_address(ctx: &HostCtx, coordinator: &str) -> String {
    let mut ha = crate::ha::HaClient::new(ctx.clone(), coordinator.to_string());
    ha.wait_for_leader().await.addr
}
