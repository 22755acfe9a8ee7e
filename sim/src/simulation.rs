//! A scenario running on turmoil: virtual hosts, virtual time, real messages.
//!
//! [`Simulation::new`] builds one turmoil host per process of the cluster
//! (`jobmanager`, `taskmanager-1..n`) and a `client` that submits the
//! scenario's jobs at their times and polls them until they end. Each host
//! runs the runtime's real entry points (`run_jobmanager`,
//! `run_taskmanager`, `ClusterClient`) over [`TurmoilNetwork`]. Turmoil
//! steps every host in a fixed order, one millisecond of virtual time per
//! step, with its RNG seeded from the scenario: the same scenario and seed
//! give the same event trace, byte for byte.
//!
//! [`Simulation::step`] advances one tick and applies faults that are due,
//! so a UI can single-step the cluster; [`Simulation::run`] goes to the end.

use crate::net::{SimClock, TurmoilNetwork};
use crate::scenario::{FaultAction, Provider, Scenario};
use runtime::client::ClusterClient;
use runtime::config::{JobManagerConfig, ResourceProvider, Standalone, TaskManagerConfig};
use runtime::events::{Event, EventKind, EventLog, EventSink, HostCtx};
use runtime::graph::{JobGraph, JobId};
use runtime::net::NetworkRef;
use runtime::rpc::JobResult;
use std::cell::RefCell;
use runtime::storage::MemoryStorage;
use std::collections::{BTreeMap, BTreeSet};

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
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

/// The JobManager's RPC address inside the simulator (without HA).
pub const JOBMANAGER_ADDR: &str = "jobmanager:6123";
/// The HA coordinator's address inside the simulator.
pub const COORDINATOR_ADDR: &str = "coordinator:2181";
/// Every TaskManager's data port.
pub const DATA_PORT: u16 = 6121;

/// A request of the active ResourceManager: start a TaskManager with
/// `Some(slots)`, stop it with `None`.
type WorkerRequest = (String, Option<u32>);

/// Requests of the active ResourceManager to its environment, carried out
/// by the simulation between steps.
#[derive(Debug, Default, Clone)]
pub struct SimProvider {
    requests: Arc<Mutex<Vec<WorkerRequest>>>,
}

impl ResourceProvider for SimProvider {
    fn is_active(&self) -> bool {
        true
    }
    fn start_worker(&self, resource_id: &str, slots: u32) {
        if let Ok(mut r) = self.requests.lock() {
            r.push((resource_id.to_string(), Some(slots)));
        }
    }
    fn stop_worker(&self, resource_id: &str) {
        if let Ok(mut r) = self.requests.lock() {
            r.push((resource_id.to_string(), None));
        }
    }
}

/// What the client saw of one job.
#[derive(Debug, Clone)]
pub struct ClientJob {
    /// Its id, once submitted.
    pub id: Option<JobId>,
    /// The latest result polled.
    pub result: Option<JobResult>,
}

/// A job's outcome at the end of a run.
#[derive(Debug, Clone)]
pub struct JobOutcome {
    /// Job name.
    pub name: String,
    /// Final (or last known) result.
    pub result: Option<JobResult>,
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Virtual time at the end (ms).
    pub end_ms: u64,
    /// Whether the scenario hit its duration before the client was done.
    pub timed_out: bool,
    /// Per job, in scenario order.
    pub jobs: Vec<JobOutcome>,
    /// The event trace.
    pub events: Vec<Event>,
    /// Expectations that did not hold.
    pub failed_expectations: Vec<String>,
}

/// Errors of a simulation run.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A host's software returned an error or panicked.
    #[error("simulation failed: {0}")]
    Turmoil(String),
}

/// A running scenario.
pub struct Simulation<'a> {
    sim: turmoil::Sim<'a>,
    scenario: Scenario,
    seed: u64,
    events: EventLog,
    next_fault: usize,
    provider: SimProvider,
    client: Rc<RefCell<Vec<ClientJob>>>,
    /// Requests for the client to make: (job index, action).
    requests: Rc<RefCell<Vec<(usize, ClientAction)>>>,
    /// The durable checkpoint storage every JobManager writes to.
    storage: MemoryStorage,
    done: bool,
    crashed: BTreeSet<String>,
}

fn host_seed(seed: u64, host: &str) -> u64 {
    let mut h = runtime::graph::ids::Fnv64::with_seed(seed);
    h.write(host.as_bytes());
    h.finish()
}

fn ctx(host: &str, events: &EventLog, seed: u64) -> HostCtx {
    HostCtx {
        host: host.to_string(),
        net: Arc::new(TurmoilNetwork) as NetworkRef,
        events: Arc::new(events.clone()) as Arc<dyn EventSink>,
        clock: Arc::new(SimClock),
        seed: host_seed(seed, host),
    }
}

fn tm_config(s: &Scenario, host: &str, slots: u32) -> TaskManagerConfig {
    TaskManagerConfig {
        jobmanager: JOBMANAGER_ADDR.into(),
        slots,
        data_bind: format!("0.0.0.0:{DATA_PORT}"),
        data_advertise: Some(format!("{host}:{DATA_PORT}")),
        jobmanager_timeout_ms: s.cluster.heartbeat_timeout_ms,
        buffer_records: s.cluster.buffer_records,
        buffers_per_channel: s.cluster.buffers_per_channel,
        metrics_interval_ms: 1_000,
        print_to_stdout: false,
        sink_delay_us: 0,
        ha: s.cluster.ha().then(|| runtime::config::HaConfig {
            coordinator: COORDINATOR_ADDR.into(),
            lease_ms: s.cluster.lease_ms,
        }),
    }
}

impl<'a> Simulation<'a> {
    /// Builds the cluster of a scenario; `seed` overrides the scenario's.
    pub fn new(scenario: &Scenario, seed: Option<u64>) -> Simulation<'a> {
        let seed = seed.unwrap_or(scenario.seed);
        let s = scenario.clone();
        let latency = Duration::from_millis(s.cluster.latency_ms);
        let sim = turmoil::Builder::new()
            .rng_seed(seed)
            .epoch(UNIX_EPOCH + Duration::from_secs(1_795_500_000))
            .simulation_duration(Duration::from_millis(s.duration_ms))
            .tick_duration(Duration::from_millis(1))
            .min_message_latency(latency)
            .max_message_latency(latency)
            .tcp_capacity(1 << 16)
            .build();
        let events = EventLog::new();
        let provider = SimProvider::default();
        let mut me = Simulation {
            sim,
            scenario: s,
            seed,
            events,
            next_fault: 0,
            provider,
            client: Rc::new(RefCell::new(Vec::new())),
            requests: Rc::new(RefCell::new(Vec::new())),
            storage: MemoryStorage::new(),
            done: false,
            crashed: BTreeSet::new(),
        };
        if me.scenario.cluster.ha() {
            let events = me.events.clone();
            let seed = me.seed;
            me.sim.host("coordinator", move || {
                let ctx = ctx("coordinator", &events, seed);
                async move {
                    runtime::ha::run_coordinator(ctx, "0.0.0.0:2181".into())
                        .await
                        .map_err(|e| e.into())
                }
            });
        }
        for host in me.scenario.cluster.jobmanager_hosts() {
            me.add_jobmanager(&host);
        }
        for i in 1..=me.scenario.cluster.taskmanagers {
            let slots = me.scenario.cluster.slots;
            me.add_taskmanager(&format!("taskmanager-{i}"), slots);
        }
        me.add_client();
        me
    }

    fn add_jobmanager(&mut self, host: &str) {
        let c = &self.scenario.cluster;
        let provider: Arc<dyn ResourceProvider> = match c.provider {
            Provider::Standalone => Arc::new(Standalone),
            Provider::Active => Arc::new(self.provider.clone()),
        };
        let cfg = JobManagerConfig {
            bind: "0.0.0.0:6123".into(),
            heartbeat_interval_ms: c.heartbeat_interval_ms,
            heartbeat_timeout_ms: c.heartbeat_timeout_ms,
            placement: c.placement,
            provider,
            worker_slots: c.slots,
            worker_prefix: "taskmanager-".into(),
            idle_timeout_ms: c.idle_timeout_ms,
            storage: Arc::new(self.storage.clone()),
            ha: c.ha().then(|| runtime::config::HaConfig {
                coordinator: COORDINATOR_ADDR.into(),
                lease_ms: c.lease_ms,
            }),
            advertise: Some(format!("{host}:6123")),
        };
        let events = self.events.clone();
        let seed = self.seed;
        let name = host.to_string();
        self.sim.host(host, move || {
            let ctx = ctx(&name, &events, seed);
            let cfg = cfg.clone();
            async move {
                runtime::jobmanager::run_jobmanager(ctx, cfg, None)
                    .await
                    .map_err(|e| e.into())
            }
        });
    }

    fn add_taskmanager(&mut self, host: &str, slots: u32) {
        let cfg = tm_config(&self.scenario, host, slots);
        let events = self.events.clone();
        let seed = self.seed;
        let name = host.to_string();
        self.sim.host(host, move || {
            let ctx = ctx(&name, &events, seed);
            let cfg = cfg.clone();
            async move {
                runtime::taskmanager::run_taskmanager(ctx, cfg)
                    .await
                    .map_err(|e| e.into())
            }
        });
    }

    fn add_client(&mut self) {
        let jobs: Vec<(u64, JobGraph, Option<usize>)> = self
            .scenario
            .jobs
            .iter()
            .map(|j| {
                let resume = j.resume.as_ref().and_then(|name| {
                    self.scenario.jobs.iter().position(|o| &o.graph.job_name == name)
                });
                (j.at_ms, JobGraph::from_stream_graph(&j.graph), resume)
            })
            .collect();
        *self.client.borrow_mut() = jobs
            .iter()
            .map(|_| ClientJob {
                id: None,
                result: None,
            })
            .collect();
        let run_until = self.scenario.run_until_ms;
        let state = self.client.clone();
        let requests = self.requests.clone();
        let ctx = ctx("client", &self.events, self.seed);
        let ha = self.scenario.cluster.ha();
        self.sim.client("client", async move {
            let net = ctx.net.clone();
            // Without HA: the one JobManager. With HA: whoever leads, found
            // through the coordinator, again after every failure.
            let connect = || async {
                if ha {
                    loop {
                        if let Ok(c) = ClusterClient::connect_to_leader(&ctx, COORDINATOR_ADDR).await {
                            return Ok(c);
                        }
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                } else {
                    ClusterClient::connect_retrying(&net, JOBMANAGER_ADDR, "client", 50).await
                }
            };
            let mut client = connect().await.map_err(|e| e.to_string())?;
            let mut order: Vec<usize> = (0..jobs.len()).collect();
            order.sort_by_key(|&i| jobs[i].0);
            let mut submitted = 0;
            loop {
                let now = ctx.now_ms();
                while submitted < order.len() && jobs[order[submitted]].0 <= now {
                    let i = order[submitted];
                    submitted += 1;
                    let (_, graph, resume) = &jobs[i];
                    let savepoint = resume.and_then(|r| {
                        state.borrow()[r]
                            .result
                            .as_ref()
                            .and_then(|res| res.savepoints.last().cloned())
                    });
                    let submitted_id = match (resume, savepoint) {
                        (None, _) => client.submit(graph.clone()).await,
                        (Some(_), Some(path)) => client.submit_from_savepoint(graph.clone(), &path).await,
                        // Nothing to resume from: the job is not submitted.
                        (Some(_), None) => continue,
                    };
                    if let Ok(id) = submitted_id {
                        state.borrow_mut()[i].id = Some(id);
                    }
                }
                let pending: Vec<(usize, ClientAction)> = std::mem::take(&mut *requests.borrow_mut());
                for (i, action) in pending {
                    let id = state.borrow()[i].id;
                    if let Some(id) = id {
                        let _ = match action {
                            ClientAction::Cancel => client.cancel(id).await,
                            ClientAction::Savepoint { stop } => client.savepoint(id, stop).await,
                        };
                    }
                }
                let mut all_done = submitted == order.len();
                for i in 0..jobs.len() {
                    let id = state.borrow()[i].id;
                    if let Some(id) = id {
                        match client.result(id).await {
                            Ok(r) => {
                                all_done &= r.status.is_terminal();
                                state.borrow_mut()[i].result = Some(r);
                            }
                            Err(_) if ha => {
                                // The leader changed: find the new one and ask again.
                                all_done = false;
                                client = connect().await.map_err(|e| e.to_string())?;
                            }
                            Err(e) => return Err(e.to_string().into()),
                        }
                    }
                }
                if all_done && ctx.now_ms() >= run_until {
                    return Ok(());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
    }

    /// Virtual time now (ms).
    pub fn now_ms(&self) -> u64 {
        self.sim.elapsed().as_millis() as u64
    }

    /// The event log (shared with every host).
    pub fn events(&self) -> &EventLog {
        &self.events
    }

    /// The scenario.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The seed in use.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Whether the client is done (every job ended) or the run stopped.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// What the client knows of each job.
    pub fn client_jobs(&self) -> Vec<ClientJob> {
        self.client.borrow().clone()
    }

    fn emit(&self, kind: EventKind) {
        self.events.emit(Event {
            t: self.now_ms(),
            host: "sim".into(),
            kind,
        });
    }

    /// Applies a fault now (from the timeline, or from a UI).
    pub fn inject(&mut self, action: &FaultAction) {
        self.emit(EventKind::FaultInjected {
            fault: action.to_string(),
        });
        match action {
            FaultAction::Crash(h) => {
                if !self.crashed.contains(h) {
                    self.sim.crash(h.as_str());
                    self.crashed.insert(h.clone());
                }
            }
            FaultAction::Restart(h) => {
                self.sim.bounce(h.as_str());
                self.crashed.remove(h);
            }
            FaultAction::StartTaskManager(h) => {
                let slots = self.scenario.cluster.slots;
                self.add_taskmanager(h, slots);
            }
            // A partition holds every message between the two hosts until
            // the repair: TCP retransmits rather than losing bytes, so
            // nothing sent is lost, only late (turmoil's `partition` would
            // drop segments out of a live stream, which real TCP never does).
            FaultAction::Partition(a, b) => self.sim.hold(a.as_str(), b.as_str()),
            FaultAction::Repair(a, b) => self.sim.release(a.as_str(), b.as_str()),
            FaultAction::Delay(a, b, ms) => {
                self.sim
                    .set_link_latency(a.as_str(), b.as_str(), Duration::from_millis(*ms))
            }
            FaultAction::CancelJob(name) => self.ask_client(name, ClientAction::Cancel),
            FaultAction::Savepoint(name) => self.ask_client(name, ClientAction::Savepoint { stop: false }),
            FaultAction::StopWithSavepoint(name) => {
                self.ask_client(name, ClientAction::Savepoint { stop: true })
            }
        }
    }

    fn ask_client(&mut self, job: &str, action: ClientAction) {
        // The latest job of that name (a resumed job carries its predecessor's name).
        let client = self.client.borrow();
        let target = (0..self.scenario.jobs.len())
            .rev()
            .find(|&i| self.scenario.jobs[i].graph.job_name == job && client[i].id.is_some());
        drop(client);
        if let Some(i) = target {
            self.requests.borrow_mut().push((i, action));
        }
    }

    /// The checkpoint storage (savepoints and checkpoints written so far).
    pub fn storage(&self) -> &MemoryStorage {
        &self.storage
    }

    /// Advances one tick (1 ms of virtual time); returns whether the run is over.
    pub fn step(&mut self) -> Result<bool, SimError> {
        if self.done {
            return Ok(true);
        }
        while let Some(f) = self.scenario.faults.get(self.next_fault) {
            if f.at_ms > self.now_ms() {
                break;
            }
            let action = f.action.clone();
            self.next_fault += 1;
            self.inject(&action);
        }
        let requests: Vec<WorkerRequest> = self
            .provider
            .requests
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default();
        for (rid, slots) in requests {
            match slots {
                Some(n) => self.add_taskmanager(&rid, n),
                None => {
                    self.sim.crash(rid.as_str());
                    self.crashed.insert(rid);
                }
            }
        }
        match self.sim.step() {
            Ok(finished) => {
                self.done = finished;
                Ok(finished)
            }
            Err(e) => {
                self.done = true;
                let msg = e.to_string();
                if msg.contains("Ran for duration") {
                    Ok(true)
                } else {
                    Err(SimError::Turmoil(msg))
                }
            }
        }
    }

    /// Runs to the end and gathers the outcome.
    pub fn run(mut self) -> Result<Outcome, SimError> {
        while !self.step()? {}
        Ok(self.outcome())
    }

    /// The outcome so far.
    pub fn outcome(&self) -> Outcome {
        let client = self.client.borrow();
        let jobs: Vec<JobOutcome> = self
            .scenario
            .jobs
            .iter()
            .zip(client.iter())
            .map(|(j, c)| JobOutcome {
                name: j.graph.job_name.clone(),
                result: c.result.clone(),
            })
            .collect();
        let timed_out = !jobs
            .iter()
            .all(|j| j.result.as_ref().is_some_and(|r| r.status.is_terminal()));
        let mut failed_expectations = Vec::new();
        let by_name: BTreeMap<&str, &JobOutcome> = jobs.iter().map(|j| (j.name.as_str(), j)).collect();
        for (name, want) in &self.scenario.expect {
            let got = by_name
                .get(name.as_str())
                .and_then(|j| j.result.as_ref())
                .map_or("NOT SUBMITTED".to_string(), |r| r.status.to_string());
            if &got != want {
                failed_expectations.push(format!("job {name}: expected {want}, got {got}"));
            }
        }
        Outcome {
            end_ms: self.now_ms(),
            timed_out,
            jobs,
            events: self.events.snapshot(),
            failed_expectations,
        }
    }
}
