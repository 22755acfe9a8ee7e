//! The Dispatcher: the JobManager's front door (Flink's `Dispatcher`).
//!
//! Clients submit compiled JobGraphs here. The Dispatcher assigns a JobId,
//! starts one [`JobMaster`] per job, and answers list, result and cancel
//! requests. It keeps finished jobs' JobMasters so their results can be
//! fetched later, as Flink keeps an archive of finished jobs.

use super::Outbox;
use super::jobmaster::JobMaster;
use super::resourcemanager::ResourceManager;
use crate::events::{EventKind, HostCtx};
use crate::graph::{JobGraph, JobId};
use crate::rpc::{ClientRequest, ClientResponse, JobOverview};
use std::collections::BTreeMap;

/// The Dispatcher.
pub struct Dispatcher {
    ctx: HostCtx,
    /// Every job ever submitted, by id.
    pub jobs: BTreeMap<JobId, JobMaster>,
    /// Submission order.
    pub order: Vec<JobId>,
}

impl Dispatcher {
    /// No jobs yet.
    pub fn new(ctx: HostCtx) -> Self {
        Dispatcher {
            ctx,
            jobs: BTreeMap::new(),
            order: Vec::new(),
        }
    }

    /// The JobMaster of a job.
    pub fn master(&mut self, job: JobId) -> Option<&mut JobMaster> {
        self.jobs.get_mut(&job)
    }

    /// Answers a client.
    pub fn handle(&mut self, req: ClientRequest, rm: &mut ResourceManager, out: &mut Outbox) -> ClientResponse {
        match req {
            ClientRequest::Submit(jg) => ClientResponse::Submitted(self.submit(*jg, rm, out)),
            ClientRequest::List => ClientResponse::Jobs(
                self.order
                    .iter()
                    .filter_map(|id| self.jobs.get(id))
                    .map(|m| JobOverview {
                        id: m.id,
                        name: m.job_graph.name.clone(),
                        status: m.status,
                        submitted_at: m.submitted_at,
                    })
                    .collect(),
            ),
            ClientRequest::Result(id) => match self.jobs.get(&id) {
                Some(m) => ClientResponse::Result(Box::new(m.result())),
                None => ClientResponse::Error(format!("no job with id {id}")),
            },
            ClientRequest::Cancel(id) => match self.jobs.get_mut(&id) {
                Some(m) => {
                    if m.cancel(out) {
                        ClientResponse::Cancelling
                    } else {
                        ClientResponse::Error(format!("job {id} is already {}", m.status))
                    }
                }
                None => ClientResponse::Error(format!("no job with id {id}")),
            },
        }
    }

    /// Accepts a job and starts its JobMaster.
    pub fn submit(&mut self, jg: JobGraph, rm: &mut ResourceManager, out: &mut Outbox) -> JobId {
        let n = self.order.len() + 1;
        let id = JobId::from_parts(&["job", &n.to_string(), &jg.name, &self.ctx.seed.to_string()]);
        self.ctx.emit(EventKind::JobSubmitted {
            job: id.to_string(),
            name: jg.name.clone(),
            vertices: jg.vertices.len(),
            slots: jg.slots_needed(),
        });
        let master = JobMaster::start(self.ctx.clone(), id, jg, rm, out);
        rm.try_allocate(out);
        self.order.push(id);
        self.jobs.insert(id, master);
        id
    }

    /// Tells every JobMaster that a TaskManager is gone.
    pub fn task_manager_lost(&mut self, rid: &str, cause: &str, rm: &mut ResourceManager, out: &mut Outbox) {
        for id in &self.order {
            if let Some(m) = self.jobs.get_mut(id) {
                m.task_manager_lost(rid, cause, rm, out);
            }
        }
    }

    /// Runs the JobMasters' timers.
    pub fn tick(&mut self, rm: &mut ResourceManager, out: &mut Outbox) {
        for id in &self.order {
            if let Some(m) = self.jobs.get_mut(id)
                && !m.status.is_terminal()
            {
                m.tick(rm, out);
            }
        }
        rm.try_allocate(out);
    }
}
