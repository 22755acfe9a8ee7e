//! The Dispatcher: the JobManager's front door (Flink's `Dispatcher`).
//!
//! Clients submit compiled JobGraphs here. The Dispatcher assigns a JobId,
//! starts one [`JobMaster`] per job, and answers list, result and cancel
//! requests. It keeps finished jobs' JobMasters so their results can be
//! fetched later, as Flink keeps an archive of finished jobs.
//!
//! It also keeps the applications whose `main` runs on this JobManager
//! ([`ApplicationRecord`]): which jobs each submitted, and its state. A job
//! a client submits belongs to no record: it is its own
//! `SingleJobApplication`, as in Flink.

use super::applications::ApplicationRecord;
use super::checkpoint::snapshot::StoredCheckpoint;
use super::checkpoint::storage::{CheckpointStorage, load};
use super::jobmaster::{JobMaster, JobStart};
use super::outbox::{HaOp, Outbox};
use crate::application::Application;
use crate::events::{EventKind, HostCtx};
use crate::graph::{ApplicationId, JobGraph, JobId};
use crate::ha::{CoordRequest, CoordResponse, HaClient};
use crate::ids::FencingToken;
use crate::rpc::{ClientRequest, ClientResponse, JobOverview};
use crate::rpc::{JobRecord, JobResult};
use crate::state::ApplicationState;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The Dispatcher.
pub struct Dispatcher {
    ctx: HostCtx,
    storage: Arc<dyn CheckpointStorage>,
    /// This leader's fencing token; attempts of its JobMasters start at
    /// `token * ATTEMPTS_PER_LEADER` so no channel of a predecessor's
    /// tasks can be mistaken for one of ours.
    token: FencingToken,
    /// Results of jobs that ended under an earlier leader.
    pub archived: BTreeMap<JobId, JobResult>,
    /// Every job ever submitted, by id.
    pub jobs: BTreeMap<JobId, JobMaster>,
    /// Submission order.
    pub order: Vec<JobId>,
    /// The applications whose `main` runs (or ran) here, by id.
    pub applications: BTreeMap<ApplicationId, ApplicationRecord>,
    /// The application each of their jobs belongs to.
    pub application_of: BTreeMap<JobId, ApplicationId>,
    /// Applications accepted whose `main` the loop has not started yet.
    starting: Vec<(ApplicationId, Application)>,
}

impl Dispatcher {
    /// No jobs yet.
    pub fn new(ctx: HostCtx, storage: Arc<dyn CheckpointStorage>, token: FencingToken) -> Self {
        Dispatcher {
            ctx,
            storage,
            token,
            archived: BTreeMap::new(),
            jobs: BTreeMap::new(),
            order: Vec::new(),
            applications: BTreeMap::new(),
            application_of: BTreeMap::new(),
            starting: Vec::new(),
        }
    }

    /// Accepts an application (Flink's `Dispatcher.submitApplication`):
    /// records it CREATED; the loop starts its `main`
    /// ([`Dispatcher::take_starting`]). With `shut_down_on_finish` the
    /// cluster goes when `main` is done (application mode).
    pub fn submit_application(
        &mut self,
        app: Application,
        shut_down_on_finish: bool,
    ) -> ApplicationId {
        let n = self.applications.len() + 1;
        let id = ApplicationId::from_parts(&[
            "application",
            &n.to_string(),
            &app.name,
            &self.ctx.seed.to_string(),
            &self.token.to_string(),
        ]);
        let record = ApplicationRecord::new(id, &app, shut_down_on_finish, self.ctx.now_ms());
        self.applications.insert(id, record);
        self.starting.push((id, app));
        id
    }

    /// The applications whose `main` is to start now, each moved to
    /// RUNNING (Flink's `execute()` does so before it runs `main`), with
    /// whether the cluster goes when it is done.
    pub fn take_starting(&mut self) -> Vec<(ApplicationId, Application, bool)> {
        let now = self.ctx.now_ms();
        let mut started = Vec::new();
        for (id, app) in std::mem::take(&mut self.starting) {
            let Some(record) = self.applications.get_mut(&id) else {
                continue;
            };
            if let Err(error) = record.transition(ApplicationState::Running, now) {
                tracing::error!(%error, application = %id, "application not started");
                continue;
            }
            started.push((id, app, record.shut_down_on_finish));
        }
        started
    }

    /// A request of application `app`'s `main`: answered as a client's,
    /// and a job it submits joins the application.
    pub fn handle_for(
        &mut self,
        app: ApplicationId,
        req: ClientRequest,
        out: &mut Outbox,
    ) -> ClientResponse {
        let resp = self.handle(req, out);
        if let ClientResponse::Submitted(job) = resp
            && let Some(record) = self.applications.get_mut(&app)
        {
            record.jobs.push(job);
            self.application_of.insert(job, app);
        }
        resp
    }

    /// `main` of application `app` returned: the application ends in `end`.
    pub fn application_ended(
        &mut self,
        app: ApplicationId,
        end: ApplicationState,
        cause: Option<String>,
    ) {
        let now = self.ctx.now_ms();
        if let Some(record) = self.applications.get_mut(&app)
            && let Err(error) = record.end(end, cause, now)
        {
            tracing::error!(%error, application = %app, "application end not recorded");
        }
    }

    /// The JobMaster of a job.
    pub fn master(&mut self, job: JobId) -> Option<&mut JobMaster> {
        self.jobs.get_mut(&job)
    }

    /// Answers a client.
    pub fn handle(&mut self, req: ClientRequest, out: &mut Outbox) -> ClientResponse {
        match req {
            ClientRequest::Submit(jg) => ClientResponse::Submitted(self.submit(*jg, None, out)),
            ClientRequest::SubmitFromSavepoint(jg, path) => match self.read_savepoint(&jg, &path) {
                Ok(stored) => {
                    ClientResponse::Submitted(self.submit(*jg, Some((path, stored)), out))
                }
                Err(e) => ClientResponse::Error(e.to_string()),
            },
            ClientRequest::Savepoint { job, stop } => match self.jobs.get_mut(&job) {
                Some(m) => match m.request_savepoint(stop) {
                    Ok(()) => ClientResponse::SavepointTriggered,
                    Err(e) => ClientResponse::Error(e.to_string()),
                },
                None => ClientResponse::Error(format!("no job with id {job}")),
            },
            ClientRequest::List => ClientResponse::Jobs(
                self.order
                    .iter()
                    .filter_map(|id| self.jobs.get(id))
                    .map(|m| JobOverview {
                        id: m.id,
                        name: m.job_graph.name.clone(),
                        status: m.status(),
                        submitted_at: m.submitted_at,
                    })
                    .collect(),
            ),
            ClientRequest::Result(id) => match (self.jobs.get(&id), self.archived.get(&id)) {
                (Some(m), _) => ClientResponse::Result(Box::new(m.result())),
                (None, Some(r)) => ClientResponse::Result(Box::new(r.clone())),
                (None, None) => ClientResponse::Error(format!("no job with id {id}")),
            },
            ClientRequest::Cancel(id) => match self.jobs.get_mut(&id) {
                Some(m) => {
                    if m.cancel(out) {
                        ClientResponse::Cancelling
                    } else {
                        ClientResponse::Error(format!("job {id} is already {}", m.status()))
                    }
                }
                None => ClientResponse::Error(format!("no job with id {id}")),
            },
        }
    }

    /// Reads a savepoint and checks that it fits the job.
    fn read_savepoint(&self, jg: &JobGraph, path: &str) -> Result<StoredCheckpoint, SubmitError> {
        let stored =
            super::checkpoint::storage::load(self.storage.as_ref(), path).map_err(|source| {
                SubmitError::Unreadable {
                    path: path.to_string(),
                    source: Box::new(source),
                }
            })?;
        stored
            .check_fits(jg)
            .map_err(|source| SubmitError::DoesNotFit {
                path: path.to_string(),
                source,
            })?;
        Ok(stored)
    }

    // ANCHOR: submit
    /// Accepts a job and starts its JobMaster.
    pub fn submit(
        &mut self,
        jg: JobGraph,
        restore: Option<(String, StoredCheckpoint)>,
        out: &mut Outbox,
    ) -> JobId {
        let n = self.order.len() + self.archived.len() + 1;
        let id = JobId::from_parts(&[
            "job",
            &n.to_string(),
            &jg.name,
            &self.ctx.seed.to_string(),
            &self.token.to_string(),
        ]);
        // The job graph store: a successor leader recovers the job from it.
        out.ha.push(HaOp::Put(
            format!("jobgraphs/{id}"),
            crate::net::frame::encode(&JobRecord {
                job_graph: jg.clone(),
                savepoint: restore.as_ref().map(|(p, _)| p.clone()),
            }),
        ));
        self.ctx.emit(EventKind::JobSubmitted {
            job: id,
            name: jg.name.clone(),
            vertices: jg.vertex_count(),
            slots: jg.slots_needed(),
        });
        let start = JobStart {
            job_graph: jg,
            storage: self.storage.clone(),
            restore: restore.map(|(p, s)| (p, s, false)),
            attempt_base: self.token.0 * ATTEMPTS_PER_LEADER,
            retained: Vec::new(),
            restarts: 0,
        };
        let master = JobMaster::start(self.ctx.clone(), id, start, out);
        self.order.push(id);
        self.jobs.insert(id, master);
        id
    }
    // ANCHOR_END: submit

    /// A job reached a terminal status: archive its result, drop it from the
    /// job graph store.
    pub fn job_ended(&mut self, job: JobId, out: &mut Outbox) {
        if let Some(m) = self.jobs.get(&job) {
            out.ha.push(HaOp::Put(
                format!("results/{job}"),
                crate::net::frame::encode(&m.result()),
            ));
            out.ha.push(HaOp::Delete(format!("jobgraphs/{job}")));
            out.ha.push(HaOp::Delete(format!("checkpoints/{job}")));
        }
    }

    /// A new leader takes over: reads the archived results, and every job
    /// in the job graph store with the state it resumes from (its latest
    /// checkpoint, or its savepoint, or none). [`Dispatcher::recover_job`]
    /// then starts each.
    pub async fn read_recoverable(
        &mut self,
        client: &mut HaClient,
        storage: &Arc<dyn CheckpointStorage>,
    ) -> Vec<RecoveredJob> {
        let keys = |resp| match resp {
            Ok(CoordResponse::Keys(k)) => k,
            _ => Vec::new(),
        };
        for key in keys(
            client
                .call(
                    CoordRequest::List {
                        prefix: "results/".into(),
                    },
                    2_000,
                )
                .await,
        ) {
            if let Ok(CoordResponse::Value(Some(bytes))) = client
                .call(CoordRequest::Get { key: key.clone() }, 2_000)
                .await
                && let Ok(r) = crate::net::frame::decode::<JobResult>(&bytes)
            {
                self.archived.insert(r.id, r);
            }
        }
        let mut recovered = Vec::new();
        for key in keys(
            client
                .call(
                    CoordRequest::List {
                        prefix: "jobgraphs/".into(),
                    },
                    2_000,
                )
                .await,
        ) {
            let Some(id) = key.strip_prefix("jobgraphs/").and_then(JobId::parse) else {
                continue;
            };
            let Ok(CoordResponse::Value(Some(bytes))) = client
                .call(CoordRequest::Get { key: key.clone() }, 2_000)
                .await
            else {
                continue;
            };
            let Ok(record) = crate::net::frame::decode::<JobRecord>(&bytes) else {
                continue;
            };
            let pointer = match client
                .call(
                    CoordRequest::Get {
                        key: format!("checkpoints/{id}"),
                    },
                    2_000,
                )
                .await
            {
                Ok(CoordResponse::Value(Some(p))) => String::from_utf8(p).ok(),
                _ => None,
            };
            // The retained checkpoints, newest first; a damaged one is
            // skipped (said as an event) for the one before it, and the
            // savepoint the job started from comes last.
            let (mut retained, restarts) = super::checkpoint::coordinator::parse_pointer(
                pointer.as_deref().unwrap_or_default(),
            );
            let mut restore = None;
            while let Some(p) = retained.last().cloned() {
                match load(storage.as_ref(), &p) {
                    Ok(s) => {
                        restore = Some((p, s, true));
                        break;
                    }
                    Err(e) => {
                        retained.pop();
                        self.ctx.emit(EventKind::CheckpointSkipped {
                            job: id,
                            path: storage.describe(&p),
                            cause: e.to_string(),
                            fallback: retained
                                .last()
                                .or(record.savepoint.as_ref())
                                .map(|f| storage.describe(f)),
                        });
                    }
                }
            }
            if restore.is_none()
                && let Some(p) = &record.savepoint
            {
                match load(storage.as_ref(), p) {
                    Ok(s) => restore = Some((p.clone(), s, false)),
                    Err(e) => self.ctx.emit(EventKind::CheckpointSkipped {
                        job: id,
                        path: storage.describe(p),
                        cause: e.to_string(),
                        fallback: None,
                    }),
                }
            }
            recovered.push(RecoveredJob {
                id,
                job_graph: record.job_graph,
                restore,
                retained,
                restarts,
            });
        }
        recovered
    }

    /// Starts the JobMaster of a job recovered from the HA stores.
    pub fn recover_job(&mut self, job: RecoveredJob, out: &mut Outbox) {
        let RecoveredJob {
            id,
            job_graph,
            restore,
            retained,
            restarts,
        } = job;
        self.ctx.emit(EventKind::JobRecovered {
            job: id,
            name: job_graph.name.clone(),
            from_checkpoint: restore.as_ref().map(|(_, s, _)| s.id),
        });
        let start = JobStart {
            job_graph,
            storage: self.storage.clone(),
            restore,
            attempt_base: self.token.0 * ATTEMPTS_PER_LEADER,
            retained,
            restarts,
        };
        let master = JobMaster::start(self.ctx.clone(), id, start, out);
        self.order.push(id);
        self.jobs.insert(id, master);
    }

    /// The jobs whose JobMasters still run, in submission order.
    pub fn running_jobs(&self) -> Vec<JobId> {
        self.order
            .iter()
            .filter(|id| self.jobs.get(id).is_some_and(|m| !m.status().is_terminal()))
            .copied()
            .collect()
    }
}

/// Why a submission from a savepoint is refused.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The savepoint cannot be read, is damaged, or is not a savepoint.
    #[error("cannot read the savepoint {path}: {}", .source.reason())]
    Unreadable {
        /// Where.
        path: String,
        /// Why (boxed: it is large and rare).
        source: Box<super::checkpoint::storage::LoadError>,
    },
    /// The savepoint's state does not fit the job.
    #[error("cannot resume from {path}: {source}")]
    DoesNotFit {
        /// Where.
        path: String,
        /// Why.
        source: crate::jobmanager::checkpoint::snapshot::StateMismatch,
    },
}

/// A job a new leader found in the job graph store.
pub struct RecoveredJob {
    /// Its id.
    pub id: JobId,
    /// Its graph.
    pub job_graph: JobGraph,
    /// What it resumes from: (path, checkpoint, `recovered` = the
    /// predecessor's checkpoint rather than the savepoint it started from).
    pub restore: Option<(String, StoredCheckpoint, bool)>,
    /// The predecessor's retained checkpoints still intact, oldest first.
    pub retained: Vec<String>,
    /// How many times the predecessor(s) restarted it.
    pub restarts: u32,
}

/// Attempt numbers reserved per leader generation.
pub const ATTEMPTS_PER_LEADER: u64 = 1 << 16;
