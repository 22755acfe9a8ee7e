//! The simulated client: the `flink run` side of a scenario, on turmoil's
//! `client` host.
//!
//! Flink's client turns a program into a JobGraph (on the client) and hands
//! it to a cluster through `ClusterClient`; here `Env` does the same with
//! the scenario's jobs, over the runtime's real [`ClusterClient`]. What
//! comes in: the scenario (jobs, their times, programs), the requests a
//! fault timeline or a UI makes of a job ([`ClientAction`]), and, in job and
//! application mode, the clusters the environment has started
//! ([`Deployments`]). What goes out: the jobs' ids and latest results
//! ([`ClientJob`], read by the simulation's outcome), the events a program's
//! `main` causes (application started, `main` returned, cluster deploying),
//! and the deploy and tear-down requests that the simulation carries out
//! between two steps.
//!
//! - `Env::run_session`: a session cluster's client. It runs every
//!   program's `main`, submits each job when it is due to the one
//!   JobManager (or the leader), and polls results until every job ended.
//! - `Env::run_deploying`: job and application mode. Per program it
//!   deploys clusters (one per job, or one per application), submits or
//!   watches, and tears each cluster down when its work is done.

use crate::net::{COORDINATOR_ADDR, JOBMANAGER_ADDR};
use crate::scenario::{Mode, Program, Scenario};
use runtime::application::{Application, JobEnd, JobOrder, MainRun, job_label};
use runtime::client::{ClientError, ClusterClient};
use runtime::events::{ClusterMode, EventKind, HostCtx};
use runtime::graph::{JobGraph, JobId};
use runtime::rpc::JobResult;
use runtime::state::JobStatus;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::time::Duration;

/// What the simulated client is asked to do to a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAction {
    /// Cancel it.
    Cancel,
    /// Take a savepoint; with `stop`, stop the job after it.
    Savepoint {
        /// Stop after the savepoint.
        stop: bool,
    },
}

/// What the client saw of one job.
#[derive(Debug, Clone)]
pub struct ClientJob {
    /// Its id, once submitted.
    pub id: Option<JobId>,
    /// The latest result polled.
    pub result: Option<JobResult>,
}

/// What the client asks of its environment in job and application mode.
#[derive(Debug, Clone)]
pub(crate) enum DeployRequest {
    /// Start cluster `cluster`: its JobManager, with `application`'s `main`
    /// in it for an application cluster.
    Start {
        cluster: String,
        application: Option<Application>,
    },
    /// Stop every process of `cluster`.
    TearDown { cluster: String, reason: String },
}

/// The client's line to the environment that deploys clusters, shared by
/// the client (inside turmoil) and the simulation (outside, between steps).
#[derive(Debug, Default)]
pub struct Deployments {
    /// Client → simulation; carried out before the next step.
    pub(crate) requests: Vec<DeployRequest>,
    /// Clusters whose JobManager host exists (it may still be starting up).
    pub(crate) started: BTreeSet<String>,
    /// Application clusters whose JobManager deregistered the application
    /// (`main` returned), with why; the client stops them after taking the
    /// final results (standing in for Flink's history server).
    pub(crate) deregistered: BTreeMap<String, String>,
    /// Clusters torn down.
    pub(crate) torn_down: BTreeSet<String>,
}

/// What the client works with; cloned into each program it runs. The
/// shared parts are `Rc`s: everything on turmoil's hosts runs on one
/// thread, one step at a time.
#[derive(Clone)]
pub(crate) struct Env {
    ctx: HostCtx,
    scenario: Rc<Scenario>,
    /// Every job, compiled (on the client, as `flink run` does).
    graphs: Rc<Vec<JobGraph>>,
    /// Per job what the client saw; read by the simulation.
    state: Rc<RefCell<Vec<ClientJob>>>,
    /// Requests for the client to make: (job index, action); pushed by the
    /// simulation, drained here.
    requests: Rc<RefCell<Vec<(usize, ClientAction)>>>,
    /// Clusters asked for and started (job, application mode).
    deployments: Rc<RefCell<Deployments>>,
}

impl Env {
    /// The client of `scenario`, on the host `ctx` belongs to. `state`
    /// starts with one empty [`ClientJob`] per job.
    pub(crate) fn new(
        ctx: HostCtx,
        scenario: &Scenario,
        state: Rc<RefCell<Vec<ClientJob>>>,
        requests: Rc<RefCell<Vec<(usize, ClientAction)>>>,
        deployments: Rc<RefCell<Deployments>>,
    ) -> Env {
        *state.borrow_mut() = scenario
            .jobs
            .iter()
            .map(|_| ClientJob {
                id: None,
                result: None,
            })
            .collect();
        Env {
            ctx,
            graphs: Rc::new(
                scenario
                    .jobs
                    .iter()
                    .map(|j| JobGraph::from_stream_graph(&j.graph))
                    .collect(),
            ),
            scenario: Rc::new(scenario.clone()),
            state,
            requests,
            deployments,
        }
    }

    /// The client of a session cluster: runs every program's `main`,
    /// submitting each job when it is due to the one JobManager (or the
    /// leader), and polls results until every job ended.
    pub(crate) async fn run_session(self) -> turmoil::Result {
        let jobs = &self.scenario.jobs;
        let all: Vec<usize> = (0..jobs.len()).collect();
        // Declared applications: their `main` runs here, on the client.
        let apps: Vec<Program> = self
            .scenario
            .programs()
            .into_iter()
            .filter(|p| p.application.is_some())
            .collect();
        let ha = self.scenario.cluster.ha();
        let mut client = self.connect_session().await?;
        let mut order = all.clone();
        order.sort_by_key(|&i| jobs[i].at_ms);
        let mut started = vec![false; jobs.len()];
        let mut apps_done = vec![false; apps.len()];
        loop {
            let now = self.ctx.now_ms();
            for &i in &order {
                if started[i] || jobs[i].at_ms > now {
                    continue;
                }
                // A job of a sequential `main` waits for the one before;
                // if that one did not finish, `main` stopped there.
                if let Some(p) = jobs[i].after {
                    let before = settled(&self.state.borrow()[p], started[p]);
                    match before {
                        None => continue,
                        Some(status) if JobOrder::Sequential.continues_after(status) => {}
                        Some(_) => {
                            started[i] = true;
                            continue;
                        }
                    }
                }
                started[i] = true;
                if let Some(app) = apps.iter().find(|a| a.jobs.first() == Some(&i)) {
                    self.application_started(app);
                }
                let Some(savepoint) = self.savepoint_to_resume(i) else {
                    // Nothing to resume from: the job is not submitted.
                    continue;
                };
                if let Ok(id) = submit(&mut client, self.graphs[i].clone(), savepoint).await {
                    self.state.borrow_mut()[i].id = Some(id);
                }
            }
            self.serve_requests(&mut client, &all).await;
            let mut all_done = started.iter().all(|s| *s);
            for &i in &all {
                let id = self.state.borrow()[i].id;
                if let Some(id) = id {
                    match client.result(id).await {
                        Ok(r) => {
                            all_done &= r.status.is_terminal();
                            self.state.borrow_mut()[i].result = Some(r);
                        }
                        Err(_) if ha => {
                            // The leader changed: find the new one and ask again.
                            all_done = false;
                            client = self.connect_session().await?;
                        }
                        Err(e) => return Err(e.to_string().into()),
                    }
                }
            }
            for (a, app) in apps.iter().enumerate() {
                let returned = main_returned(app, &self.state.borrow(), &started);
                if !apps_done[a]
                    && let Some(kind) = returned
                {
                    apps_done[a] = true;
                    self.ctx.emit(kind);
                }
            }
            if all_done && self.ctx.now_ms() >= self.scenario.run_until_ms {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The client in job and application mode: per program, deploys
    /// clusters (one per job, or one per application), submits or watches,
    /// and tears each cluster down when its work is done.
    pub(crate) async fn run_deploying(self) -> turmoil::Result {
        let runs = self
            .scenario
            .programs()
            .into_iter()
            .enumerate()
            .map(|(n, p)| {
                let env = self.clone();
                async move {
                    sleep_until(&env.ctx, p.at_ms).await;
                    match env.scenario.mode {
                        Mode::Application => env.application_cluster(n + 1, &p).await,
                        _ => env.main_on_client(&p).await,
                    }
                }
            });
        for r in futures::future::join_all(runs).await {
            r?;
        }
        sleep_until(&self.ctx, self.scenario.run_until_ms).await;
        Ok(())
    }

    /// The session cluster's JobManager. Without HA: the one JobManager,
    /// retried for as long as it may take to come up. With HA: whoever
    /// leads, found through the coordinator, again after every failure.
    async fn connect_session(&self) -> Result<ClusterClient, ClientError> {
        if self.scenario.cluster.ha() {
            loop {
                if let Ok(c) = ClusterClient::connect_to_leader(&self.ctx, COORDINATOR_ADDR).await {
                    return Ok(c);
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        } else {
            ClusterClient::connect_retrying(
                &self.ctx.net,
                JOBMANAGER_ADDR,
                "client",
                self.connect_attempts(),
            )
            .await
        }
    }

    /// How often to try a JobManager: for as long as it may take to start.
    fn connect_attempts(&self) -> u32 {
        50 + (self.scenario.cluster.jobmanager_startup_ms / 200) as u32
    }

    /// Says that a program's `main` started.
    fn application_started(&self, p: &Program) {
        self.ctx.emit(EventKind::ApplicationStarted {
            name: p.name.clone(),
            jobs: p
                .jobs
                .iter()
                .map(|&j| self.graphs[j].name.clone())
                .collect(),
            order: p.order,
        });
    }

    /// What job `i` starts from: `Some(None)` from scratch (it resumes no
    /// job of the scenario), `Some(Some(path))` from the latest savepoint of
    /// the job it resumes; `None` if that job took no savepoint (then it is
    /// not submitted).
    fn savepoint_to_resume(&self, i: usize) -> Option<Option<String>> {
        let resumed = self.scenario.jobs[i].resume.as_ref().and_then(|name| {
            self.scenario
                .jobs
                .iter()
                .position(|o| &o.graph.job_name == name)
        });
        let Some(r) = resumed else {
            return Some(None);
        };
        self.state.borrow()[r]
            .result
            .as_ref()
            .and_then(|res| res.savepoints.last().cloned())
            .map(Some)
    }

    /// Job mode: `main` runs here, on the client; each job it submits gets
    /// a cluster of its own.
    async fn main_on_client(&self, p: &Program) -> Result<(), ClientError> {
        if p.application.is_some() {
            self.application_started(p);
        }
        match p.order {
            JobOrder::Sequential => {
                for &i in &p.jobs {
                    if !p.order.continues_after(self.job_cluster(i).await?) {
                        break;
                    }
                }
            }
            JobOrder::Parallel => {
                let runs = p.jobs.iter().map(|&i| self.job_cluster(i));
                for r in futures::future::join_all(runs).await {
                    r?;
                }
            }
        }
        if p.application.is_some() {
            let reached = vec![true; self.graphs.len()];
            if let Some(kind) = main_returned(p, &self.state.borrow(), &reached) {
                self.ctx.emit(kind);
            }
        }
        Ok(())
    }

    /// One job in a job cluster of its own: deploy, submit, watch, tear
    /// down. Its final status (`None` if it could not be submitted).
    async fn job_cluster(&self, i: usize) -> Result<Option<JobStatus>, ClientError> {
        let graph = self.graphs[i].clone();
        let Some(savepoint) = self.savepoint_to_resume(i) else {
            // Nothing to resume from: the job is not submitted.
            return Ok(None);
        };
        let cluster = format!("job{}", i + 1);
        let name = graph.name.clone();
        let jobmanager = self
            .deploy(&cluster, ClusterMode::Job, vec![name.clone()], None)
            .await;
        let mut client = self.connect(&jobmanager).await?;
        let id = submit(&mut client, graph, savepoint).await?;
        self.state.borrow_mut()[i].id = Some(id);
        let status = loop {
            self.serve_requests(&mut client, &[i]).await;
            let r = match client.result(id).await {
                Ok(r) => r,
                Err(_) => {
                    // The JobManager crashed or the connection broke:
                    // reconnect and ask again. (One without HA that
                    // restarted has forgotten the job, which then never
                    // ends: a campaign reports that as a liveness failure.)
                    client = self.reconnect(&jobmanager, client).await;
                    continue;
                }
            };
            let status = r.status;
            self.state.borrow_mut()[i].result = Some(r);
            if status.is_terminal() {
                break status;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        self.tear_down(&cluster, format!("job \"{name}\" is {status}"))
            .await;
        Ok(Some(status))
    }

    /// Application mode: ships program `p` to cluster `app<n>`, whose
    /// JobManager runs its `main`; watches its jobs appear and end. When
    /// `main` has returned, the JobManager deregisters the application and
    /// the cluster is stopped, once the client took the final results.
    async fn application_cluster(&self, n: usize, p: &Program) -> Result<(), ClientError> {
        let cluster = format!("app{n}");
        let app = Application {
            name: p.name.clone(),
            jobs: p.jobs.iter().map(|&j| self.graphs[j].clone()).collect(),
            order: p.order,
        };
        let names = app.jobs.iter().map(|j| j.name.clone()).collect();
        let jobmanager = self
            .deploy(&cluster, ClusterMode::Application, names, Some(app))
            .await;
        let mut client = self.connect(&jobmanager).await?;
        let deregistered = || {
            self.deployments
                .borrow()
                .deregistered
                .get(&cluster)
                .cloned()
        };
        let reason = loop {
            // Once deregistered, one last round takes the final results.
            let done = deregistered();
            if self.watch_application(&mut client, p).await.is_err() {
                client = self.reconnect(&jobmanager, client).await;
                continue;
            }
            if let Some(reason) = done {
                break reason;
            }
            for _ in 0..100 {
                if deregistered().is_some() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        self.tear_down(&cluster, reason).await;
        Ok(())
    }

    /// One round of watching an application: its jobs as `main` submitted
    /// them, and their results.
    async fn watch_application(
        &self,
        client: &mut ClusterClient,
        p: &Program,
    ) -> Result<(), ClientError> {
        self.serve_requests(client, &p.jobs).await;
        // `main` submits in its order, so the k-th job listed is its k-th.
        let listed = client.list().await?;
        for (k, o) in listed.iter().enumerate() {
            if let Some(&i) = p.jobs.get(k) {
                self.state.borrow_mut()[i].id = Some(o.id);
            }
        }
        for &i in &p.jobs {
            let id = self.state.borrow()[i].id;
            if let Some(id) = id {
                let r = client.result(id).await?;
                self.state.borrow_mut()[i].result = Some(r);
            }
        }
        Ok(())
    }

    /// Asks the environment for a cluster and waits until its JobManager
    /// host exists (it may still be starting up); its host name.
    async fn deploy(
        &self,
        cluster: &str,
        mode: ClusterMode,
        jobs: Vec<String>,
        application: Option<Application>,
    ) -> String {
        let jobmanager = format!("{cluster}-jobmanager");
        self.ctx.emit(EventKind::ClusterDeploying {
            cluster: cluster.to_string(),
            mode,
            jobmanager: jobmanager.clone(),
            jobs,
        });
        let start = DeployRequest::Start {
            cluster: cluster.to_string(),
            application,
        };
        self.ask_environment(start, |d| d.started.contains(cluster))
            .await;
        jobmanager
    }

    /// Asks the environment to stop a cluster, and waits until it did.
    async fn tear_down(&self, cluster: &str, reason: String) {
        let stop = DeployRequest::TearDown {
            cluster: cluster.to_string(),
            reason,
        };
        self.ask_environment(stop, |d| d.torn_down.contains(cluster))
            .await;
    }

    /// Hands a request to the environment (carried out between two steps)
    /// and waits, a millisecond at a time, until `done` says it happened.
    async fn ask_environment(&self, request: DeployRequest, done: impl Fn(&Deployments) -> bool) {
        self.deployments.borrow_mut().requests.push(request);
        while !done(&self.deployments.borrow()) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Connects to a JobManager, for as long as it may take to start.
    async fn connect(&self, jobmanager: &str) -> Result<ClusterClient, ClientError> {
        ClusterClient::connect_retrying(
            &self.ctx.net,
            &format!("{jobmanager}:6123"),
            "client",
            self.connect_attempts(),
        )
        .await
    }

    /// A new connection to a JobManager after the old one broke, once it
    /// answers again (the old one if it does not within the attempts).
    async fn reconnect(&self, jobmanager: &str, old: ClusterClient) -> ClusterClient {
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.connect(jobmanager).await.unwrap_or(old)
    }

    /// Carries out the cancellations and savepoints asked for these jobs.
    async fn serve_requests(&self, client: &mut ClusterClient, jobs: &[usize]) {
        let mine: Vec<(usize, ClientAction)> = {
            let mut all = self.requests.borrow_mut();
            let (mine, rest) = all.drain(..).partition(|(i, _)| jobs.contains(i));
            *all = rest;
            mine
        };
        for (i, action) in mine {
            let id = self.state.borrow()[i].id;
            if let Some(id) = id {
                let _ = match action {
                    ClientAction::Cancel => client.cancel(id).await,
                    ClientAction::Savepoint { stop } => client.savepoint(id, stop).await,
                };
            }
        }
    }
}

/// Submits a job, from a savepoint if it has one.
async fn submit(
    client: &mut ClusterClient,
    graph: JobGraph,
    savepoint: Option<String>,
) -> Result<JobId, ClientError> {
    match savepoint {
        None => client.submit(graph).await,
        Some(path) => client.submit_from_savepoint(graph, &path).await,
    }
}

/// Sleeps until virtual time `t_ms`.
async fn sleep_until(ctx: &HostCtx, t_ms: u64) {
    let now = ctx.now_ms();
    if now < t_ms {
        tokio::time::sleep(Duration::from_millis(t_ms - now)).await;
    }
}

/// A job as a program's `main` sees it: still ahead or running (`None`),
/// or over with its final status (`Some(None)`: `main` never submitted it,
/// though it got there).
fn settled(job: &ClientJob, reached: bool) -> Option<Option<JobStatus>> {
    match (&job.result, job.id) {
        (Some(r), _) if r.status.is_terminal() => Some(Some(r.status)),
        (None, None) if reached => Some(None),
        _ => None,
    }
}

/// Whether a program's `main` has returned, seen from its jobs; then the
/// event saying so. A sequential `main` stops at the first job that did not
/// finish; a parallel one waits for all.
fn main_returned(p: &Program, state: &[ClientJob], reached: &[bool]) -> Option<EventKind> {
    let mut main = MainRun::new(p.order, p.jobs.len());
    for &j in &p.jobs {
        let outcome = match settled(&state[j], reached.get(j).copied().unwrap_or(false))? {
            Some(status) => JobEnd::Ended(status),
            None => JobEnd::NotSubmitted,
        };
        let label = job_label(state[j].result.as_ref().map(|r| r.name.as_str()), j);
        if !main.record(&label, outcome) {
            break;
        }
    }
    Some(main.finished_event(p.name.clone()))
}
