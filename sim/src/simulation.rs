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
//! The client's side (what it submits, polls and deploys) is its own
//! module, [`crate::client`]; this one builds the hosts and carries out
//! what the client and the active ResourceManagers ask between two steps.
//!
//! [`Simulation::step`] advances one tick and applies faults that are due,
//! so a UI can single-step the cluster; [`Simulation::run`] goes to the end.
//!
//! The scenario's [`Mode`] decides who starts what:
//!
//! - session: the cluster above is built at 0 s and stays;
//! - job: the client runs each program's `main`; every job it submits first
//!   deploys a cluster of its own (`job<N>-jobmanager`, whose active
//!   ResourceManager starts `job<N>-taskmanager-<k>`), which the client
//!   tears down when the job ended;
//! - application: the client ships each program to a cluster of its own
//!   (`app<N>-jobmanager`), whose JobManager runs `main`; the client only
//!   watches, and tears the cluster down when `main` is done.
//!
//! Deploying and tearing down is the environment's business (YARN,
//! Kubernetes): the client asks through [`Deployments`], and the simulation
//! starts or stops the hosts between two steps, as it does for the active
//! ResourceManager's requests ([`SimProvider`]).

pub use crate::client::{ClientAction, ClientJob, Deployments};
use crate::client::{DeployRequest, Env};
use crate::net::{
    COORDINATOR_ADDR, DATA_PORT, JOBMANAGER_ADDR, REST_PORT, SIM_EPOCH_MS, SimClock, TurmoilNetwork,
};
pub use crate::outcome::{JobOutcome, Outcome};
use crate::scenario::{FaultAction, Mode, Provider, Scenario, Trigger, TriggerEvent};
use runtime::application::Application;
use runtime::config::{JobManagerConfig, TaskManagerConfig};
use runtime::events::{Event, EventKind, EventLog, EventSink, Fault, HostCtx, Role};
use runtime::jobmanager::checkpoint::storage::MemoryStorage;
use runtime::jobmanager::resourcemanager::driver::{ResourceManagerDriver, Standalone};
use runtime::net::NetworkRef;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};
use tracing::Instrument as _;

/// A request of an active ResourceManager to its environment.
#[derive(Debug, Clone)]
enum ProviderRequest {
    /// Start TaskManager `resource_id` with `slots` slots, registering at
    /// `jobmanager`.
    Start {
        resource_id: String,
        slots: u32,
        jobmanager: String,
    },
    /// Stop a TaskManager it started.
    Stop { resource_id: String },
    /// The application of the JobManager at `jobmanager` is done: stop
    /// its whole cluster.
    Deregister {
        jobmanager: String,
        status: String,
        diagnostics: Option<String>,
    },
}

/// Requests of an active ResourceManager to its environment, carried out
/// by the simulation between steps. One per JobManager; all share a queue.
#[derive(Debug, Clone)]
pub struct SimProvider {
    /// Filled by the ResourceManagers (on their hosts), drained by
    /// [`Simulation::step`].
    requests: Arc<Mutex<Vec<ProviderRequest>>>,
    /// Where the TaskManagers it starts register ("jobmanager:6123").
    jobmanager: String,
}

impl SimProvider {
    fn push(&self, r: ProviderRequest) {
        if let Ok(mut q) = self.requests.lock() {
            q.push(r);
        }
    }
}

impl ResourceManagerDriver for SimProvider {
    fn is_active(&self) -> bool {
        true
    }
    fn start_worker(&self, resource_id: &str, slots: u32) {
        self.push(ProviderRequest::Start {
            resource_id: resource_id.to_string(),
            slots,
            jobmanager: self.jobmanager.clone(),
        });
    }
    fn stop_worker(&self, resource_id: &str) {
        self.push(ProviderRequest::Stop {
            resource_id: resource_id.to_string(),
        });
    }
    fn deregister_application(&self, status: &str, diagnostics: Option<&str>) {
        self.push(ProviderRequest::Deregister {
            jobmanager: self.jobmanager.clone(),
            status: status.to_string(),
            diagnostics: diagnostics.map(str::to_string),
        });
    }
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
    /// The queue every active ResourceManager's requests go to.
    worker_requests: Arc<Mutex<Vec<ProviderRequest>>>,
    client: Rc<RefCell<Vec<ClientJob>>>,
    /// Clusters the client deploys and tears down (job, application mode).
    deployments: Rc<RefCell<Deployments>>,
    /// Every host built so far (not the client), in name order.
    hosts: BTreeSet<String>,
    /// Requests for the client to make: (job index, action).
    requests: Rc<RefCell<Vec<(usize, ClientAction)>>>,
    /// The durable checkpoint storage every JobManager writes to.
    storage: MemoryStorage,
    done: bool,
    crashed: BTreeSet<String>,
    /// Faults armed, waiting for their trigger event.
    armed: Vec<(Trigger, FaultAction)>,
    /// Triggered faults and when they fire (ms).
    triggered: Vec<(u64, FaultAction)>,
    /// How far the event log was scanned for triggers.
    scanned: usize,
}

fn host_seed(seed: u64, host: &str) -> u64 {
    let mut h = runtime::graph::ids::Fnv64::with_seed(seed);
    h.write(host.as_bytes());
    h.finish()
}

fn ctx(host: &str, events: &EventLog, seed: u64) -> HostCtx {
    HostCtx {
        host: host.to_string(),
        net: Arc::new(TurmoilNetwork::new(seed, host_seed(seed, host))) as NetworkRef,
        events: Arc::new(events.clone()) as Arc<dyn EventSink>,
        clock: Arc::new(SimClock),
        seed: host_seed(seed, host),
    }
}

/// The span every line a simulated host logs sits in, naming the host
/// (see [`crate::logging`]).
fn host_span(host: &str) -> tracing::Span {
    tracing::info_span!("host", name = %host)
}

fn tm_config(s: &Scenario, host: &str, slots: u32, jobmanager: &str) -> TaskManagerConfig {
    TaskManagerConfig {
        jobmanager: jobmanager.into(),
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
        ..TaskManagerConfig::default()
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
            .epoch(UNIX_EPOCH + Duration::from_millis(SIM_EPOCH_MS))
            .simulation_duration(Duration::from_millis(s.duration_ms))
            .tick_duration(Duration::from_millis(s.cluster.tick_ms))
            .min_message_latency(latency)
            .max_message_latency(latency)
            .tcp_capacity(1 << 16)
            .build();
        let events = EventLog::new();
        let mut me = Simulation {
            sim,
            scenario: s,
            seed,
            events,
            next_fault: 0,
            worker_requests: Arc::new(Mutex::new(Vec::new())),
            client: Rc::new(RefCell::new(Vec::new())),
            deployments: Rc::new(RefCell::new(Deployments::default())),
            hosts: BTreeSet::new(),
            requests: Rc::new(RefCell::new(Vec::new())),
            storage: MemoryStorage::new(),
            done: false,
            crashed: BTreeSet::new(),
            armed: Vec::new(),
            triggered: Vec::new(),
            scanned: 0,
        };
        if me.scenario.mode == Mode::Session {
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
                    .instrument(host_span("coordinator"))
                });
            }
            for host in me.scenario.cluster.jobmanager_hosts() {
                me.add_jobmanager(&host, None, None);
            }
            for i in 1..=me.scenario.cluster.taskmanagers {
                let slots = me.scenario.cluster.slots;
                me.add_taskmanager(&format!("taskmanager-{i}"), slots, JOBMANAGER_ADDR);
            }
        }
        me.add_client();
        me
    }

    /// Builds a JobManager host: the session cluster's (`cluster` is
    /// `None`), or the one of a job or application cluster.
    fn add_jobmanager(
        &mut self,
        host: &str,
        cluster: Option<&str>,
        application: Option<Application>,
    ) {
        let c = &self.scenario.cluster;
        let advertise = format!("{host}:6123");
        let active = || SimProvider {
            requests: self.worker_requests.clone(),
            jobmanager: advertise.clone(),
        };
        // A job or application cluster always has an active ResourceManager
        // (Flink deploys those on YARN or Kubernetes).
        let provider: Arc<dyn ResourceManagerDriver> = match (cluster, c.provider) {
            (None, Provider::Standalone) => Arc::new(Standalone),
            _ => Arc::new(active()),
        };
        let worker_prefix = match cluster {
            None => "taskmanager-".to_string(),
            Some(name) => format!("{name}-taskmanager-"),
        };
        let cfg = JobManagerConfig {
            bind: "0.0.0.0:6123".into(),
            heartbeat_interval_ms: c.heartbeat_interval_ms,
            heartbeat_timeout_ms: c.heartbeat_timeout_ms,
            placement: c.placement,
            provider,
            worker_slots: c.slots,
            worker_prefix,
            idle_timeout_ms: c.idle_timeout_ms,
            storage: match self.scenario.planted_bug {
                None => Arc::new(self.storage.clone()),
                Some(bug) => Arc::new(crate::planted::PlantedStorage::new(
                    self.storage.clone(),
                    bug,
                )),
            },
            ha: (cluster.is_none() && c.ha()).then(|| runtime::config::HaConfig {
                coordinator: COORDINATOR_ADDR.into(),
                lease_ms: c.lease_ms,
            }),
            advertise: Some(advertise.clone()),
            application,
            // Every simulated JobManager serves REST on its host's port
            // 8081, as a real one does by default; it emits nothing unless
            // asked, so traces do not change.
            rest: Some(runtime::jobmanager::rest::RestConfig {
                bind: format!("0.0.0.0:{REST_PORT}"),
                epoch_ms: SIM_EPOCH_MS,
                ..Default::default()
            }),
        };
        let startup = c.jobmanager_startup_ms;
        self.add_host(host, Role::JobManager, startup, move |ctx| {
            let cfg = cfg.clone();
            async move {
                runtime::jobmanager::run_jobmanager(ctx, cfg, None, std::future::pending()).await
            }
        });
    }

    fn add_taskmanager(&mut self, host: &str, slots: u32, jobmanager: &str) {
        let cfg = tm_config(&self.scenario, host, slots, jobmanager);
        let startup = self.scenario.cluster.taskmanager_startup_ms;
        self.add_host(host, Role::TaskManager, startup, move |ctx| {
            let cfg = cfg.clone();
            async move {
                runtime::taskmanager::run_taskmanager(ctx, cfg, std::future::pending()).await
            }
        });
    }

    /// Builds the host of a cluster process: it takes `startup_ms` to start
    /// as a `role`, then runs what `run` makes of its context. Turmoil calls
    /// the factory again on a restart, so a restarted process starts afresh.
    fn add_host<F, Fut, E>(&mut self, host: &str, role: Role, startup_ms: u64, run: F)
    where
        F: Fn(HostCtx) -> Fut + 'static,
        Fut: Future<Output = Result<(), E>> + 'static,
        E: Into<Box<dyn std::error::Error>>,
    {
        let events = self.events.clone();
        let seed = self.seed;
        let name = host.to_string();
        self.hosts.insert(name.clone());
        self.sim.host(host, move || {
            let ctx = ctx(&name, &events, seed);
            // A future does nothing until polled: the process starts after
            // the start-up time.
            let process = run(ctx.clone());
            async move {
                start_up(&ctx, role, startup_ms).await;
                process.await.map_err(Into::into)
            }
            .instrument(host_span(&name))
        });
    }

    /// The client host: the session client, or the one that deploys a
    /// cluster per job or application (see [`crate::client`]).
    fn add_client(&mut self) {
        let env = Env::new(
            ctx("client", &self.events, self.seed),
            &self.scenario,
            self.client.clone(),
            self.requests.clone(),
            self.deployments.clone(),
        );
        let client = match self.scenario.mode {
            Mode::Session => futures::future::Either::Left(env.run_session()),
            Mode::Job | Mode::Application => futures::future::Either::Right(env.run_deploying()),
        };
        self.sim
            .client("client", client.instrument(host_span("client")));
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
        // A rule names its target only now: resolve it, and record the
        // fault as the plain crash it is.
        let action = match action {
            FaultAction::CrashBusiest => {
                let held = crate::summary::slots_held(&self.events.snapshot());
                match crate::summary::busiest(&held, &self.crashed) {
                    Some(h) => FaultAction::Crash(h),
                    None => {
                        self.emit(EventKind::FaultInjected {
                            fault: Fault::NoBusiestTaskManager,
                        });
                        return;
                    }
                }
            }
            other => other.clone(),
        };
        if let Some(fault) = action.as_fault() {
            self.emit(EventKind::FaultInjected { fault });
        }
        match &action {
            FaultAction::Crash(h) => {
                if self.hosts.contains(h) && !self.crashed.contains(h) {
                    self.sim.crash(h.as_str());
                    self.crashed.insert(h.clone());
                }
            }
            FaultAction::Restart(h) => {
                if self.hosts.contains(h) {
                    self.sim.bounce(h.as_str());
                    self.crashed.remove(h);
                }
            }
            FaultAction::StartTaskManager(h) => {
                let slots = self.scenario.cluster.slots;
                self.add_taskmanager(h, slots, JOBMANAGER_ADDR);
            }
            FaultAction::CrashBusiest => {}
            // A partition holds every message between the two hosts until
            // the repair: TCP retransmits rather than losing bytes, so
            // nothing sent is lost, only late (turmoil's `partition` would
            // drop segments out of a live stream, which real TCP never does).
            // (Only between hosts that exist: a job or application cluster's
            // hosts come and go, and turmoil has no link to a host not built.)
            FaultAction::Partition(a, b) if self.linked(a, b) => {
                self.sim.hold(a.as_str(), b.as_str())
            }
            FaultAction::Repair(a, b) if self.linked(a, b) => {
                self.sim.release(a.as_str(), b.as_str())
            }
            FaultAction::Delay(a, b, ms) if self.linked(a, b) => {
                self.sim
                    .set_link_latency(a.as_str(), b.as_str(), Duration::from_millis(*ms))
            }
            FaultAction::Partition(..) | FaultAction::Repair(..) | FaultAction::Delay(..) => {}
            FaultAction::FailStorageWrites(n) => self.storage.fail_writes(*n),
            FaultAction::SlowStorageWrites(n, ms) => self.storage.slow_writes(*n, *ms),
            FaultAction::DamageLatestCheckpoint(tear) => {
                let latest = self
                    .storage
                    .paths()
                    .into_iter()
                    .filter(|p| p.starts_with("checkpoints/"))
                    .max_by_key(|p| {
                        p.rsplit_once("chk-")
                            .and_then(|(_, n)| n.parse::<u64>().ok())
                            .unwrap_or(0)
                    });
                if let Some(path) = latest {
                    let damage = if *tear {
                        runtime::jobmanager::checkpoint::storage::Damage::Tear
                    } else {
                        runtime::jobmanager::checkpoint::storage::Damage::Flip
                    };
                    self.storage.corrupt(&path, damage);
                    self.emit(EventKind::FaultInjected {
                        fault: Fault::StorageDamaged {
                            path,
                            damage: if *tear { "tear" } else { "flip" }.into(),
                        },
                    });
                }
            }
            FaultAction::CancelJob(name) => self.ask_client(name, ClientAction::Cancel),
            FaultAction::Savepoint(name) => {
                self.ask_client(name, ClientAction::Savepoint { stop: false })
            }
            FaultAction::StopWithSavepoint(name) => {
                self.ask_client(name, ClientAction::Savepoint { stop: true })
            }
        }
    }

    /// Whether both hosts exist, so that turmoil has a link between them.
    fn linked(&self, a: &str, b: &str) -> bool {
        let built = |h: &str| h == "client" || self.hosts.contains(h);
        built(a) && built(b)
    }

    /// Starts or tears down the clusters the client asked for.
    fn deploy(&mut self) {
        let requests = std::mem::take(&mut self.deployments.borrow_mut().requests);
        for r in requests {
            match r {
                DeployRequest::Start {
                    cluster,
                    application,
                } => {
                    self.add_jobmanager(
                        &format!("{cluster}-jobmanager"),
                        Some(&cluster),
                        application,
                    );
                    self.deployments.borrow_mut().started.insert(cluster);
                }
                DeployRequest::TearDown { cluster, reason } => self.tear_down(cluster, reason),
            }
        }
    }

    /// Stops every process of a job or application cluster.
    fn tear_down(&mut self, cluster: String, reason: String) {
        if self.deployments.borrow().torn_down.contains(&cluster) {
            return;
        }
        let prefix = format!("{cluster}-");
        let hosts: Vec<String> = self
            .hosts
            .iter()
            .filter(|h| h.starts_with(&prefix) && !self.crashed.contains(*h))
            .cloned()
            .collect();
        for h in &hosts {
            self.sim.crash(h.as_str());
            self.crashed.insert(h.clone());
        }
        self.emit(EventKind::ClusterTornDown {
            cluster: cluster.clone(),
            hosts,
            reason,
        });
        self.deployments.borrow_mut().torn_down.insert(cluster);
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

    /// Runs `client` on a new turmoil client host `name` from the next
    /// step on (an HTTP client of the REST API, say: see [`crate::http_client`]).
    pub fn client_host<F>(&mut self, name: &str, client: F)
    where
        F: std::future::Future<Output = turmoil::Result> + 'static,
    {
        self.sim.client(name, client);
    }

    /// Advances one tick (`[cluster] tick_ms` of virtual time, 1 ms by
    /// default); returns whether the run is over.
    pub fn step(&mut self) -> Result<bool, SimError> {
        if self.done {
            return Ok(true);
        }
        self.fire_triggers();
        while let Some(f) = self.scenario.faults.get(self.next_fault) {
            if f.at_ms > self.now_ms() {
                break;
            }
            let action = f.action.clone();
            let after = f.after;
            self.next_fault += 1;
            match after {
                Some(t) => {
                    if self.armed.is_empty() {
                        self.scanned = self.events.len();
                    }
                    self.armed.push((t, action));
                }
                None => self.inject(&action),
            }
        }
        self.deploy();
        let requests: Vec<ProviderRequest> = self
            .worker_requests
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default();
        for r in requests {
            match r {
                ProviderRequest::Start {
                    resource_id,
                    slots,
                    jobmanager,
                } => {
                    // A cluster that is gone starts nothing any more.
                    let gone = self
                        .deployments
                        .borrow()
                        .torn_down
                        .iter()
                        .any(|c| resource_id.starts_with(&format!("{c}-")));
                    if gone {
                    } else if self.hosts.contains(&resource_id) {
                        // A restarted JobManager's fresh ResourceManager
                        // asks again for a worker it started before: the
                        // environment starts that host afresh.
                        self.sim.bounce(resource_id.as_str());
                        self.crashed.remove(&resource_id);
                    } else {
                        self.add_taskmanager(&resource_id, slots, &jobmanager);
                    }
                }
                ProviderRequest::Stop { resource_id } => {
                    if self.hosts.contains(&resource_id) {
                        self.sim.crash(resource_id.as_str());
                    }
                    self.crashed.insert(resource_id);
                }
                ProviderRequest::Deregister {
                    jobmanager,
                    status,
                    diagnostics,
                } => {
                    if let Some(cluster) = jobmanager.strip_suffix("-jobmanager:6123") {
                        let reason = match diagnostics {
                            Some(d) => format!("main() returned, the application {status}: {d}"),
                            None => format!("main() returned, the application {status}"),
                        };
                        self.deployments
                            .borrow_mut()
                            .deregistered
                            .insert(cluster.to_string(), reason);
                    }
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
                // Turmoil ends a run that outlasts its duration with an
                // error too; it is told apart by the clock, not by its
                // text: a host's error stops the step before the clock
                // advances, the duration's only after it passed the end.
                if self.sim.elapsed() > Duration::from_millis(self.scenario.duration_ms) {
                    Ok(true)
                } else {
                    Err(SimError::Turmoil(e.to_string()))
                }
            }
        }
    }

    /// Moves armed faults whose event happened to the triggered ones, and
    /// applies the triggered ones that are due (in the order they were
    /// armed: deterministic).
    fn fire_triggers(&mut self) {
        if !self.armed.is_empty() {
            let new = self.events.since(self.scanned);
            self.scanned += new.len();
            for e in &new {
                let event = match e.kind {
                    EventKind::CheckpointCompleted { .. } => TriggerEvent::CheckpointCompleted,
                    EventKind::CheckpointAcknowledged { .. } => {
                        TriggerEvent::CheckpointAcknowledged
                    }
                    _ => continue,
                };
                let mut i = 0;
                while i < self.armed.len() {
                    if self.armed[i].0.event == event {
                        let (t, action) = self.armed.remove(i);
                        self.triggered.push((e.t + t.delay_ms, action));
                    } else {
                        i += 1;
                    }
                }
            }
        }
        let now = self.now_ms();
        let mut i = 0;
        while i < self.triggered.len() {
            if self.triggered[i].0 <= now {
                let (_, action) = self.triggered.remove(i);
                self.inject(&action);
            } else {
                i += 1;
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
        let by_name: BTreeMap<&str, &JobOutcome> =
            jobs.iter().map(|j| (j.name.as_str(), j)).collect();
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
            running_hosts: self
                .hosts
                .iter()
                .filter(|h| *h != "coordinator" && !self.crashed.contains(*h))
                .cloned()
                .collect(),
        }
    }
}

/// A process takes this long to start (a JVM, a container): said once,
/// then waited out in virtual time.
async fn start_up(ctx: &HostCtx, role: Role, startup_ms: u64) {
    if startup_ms > 0 {
        ctx.emit(EventKind::HostLaunching { role, startup_ms });
        tokio::time::sleep(Duration::from_millis(startup_ms)).await;
    }
}
