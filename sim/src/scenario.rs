//! Scenario files: a cluster, jobs and a fault timeline, as a classroom demo.
//!
//! ```toml
//! name = "session"
//! description = "What a student should notice."
//! seed = 42
//!
//! [cluster]
//! taskmanagers = 3
//! slots = 2
//!
//! [[jobs]]
//! file = "jobs/wordcount.toml"   # relative to the scenario
//! at_ms = 0
//!
//! [[faults]]
//! at_ms = 3000
//! action = "crash"
//! host = "taskmanager-2"
//! ```
//!
//! Jobs may also be written inline (`[jobs.job]` with the fields of a job
//! file). Every error names the file, line and column, like job-file errors.
//!
//! ## Execution modes and applications
//!
//! `mode` says how the cluster is deployed (Flink's three modes):
//!
//! - `"session"` (default): one JobManager and `taskmanagers` TaskManagers
//!   start at 0 s and stay; every job is submitted to them.
//! - `"job"`: nothing runs at first. When the client submits a job it
//!   deploys a cluster for that job alone (`job<N>-jobmanager`, with an
//!   active ResourceManager that starts `job<N>-taskmanager-<k>` on
//!   demand) and tears it down when the job ends.
//! - `"application"`: the client ships each application (or lone job) to a
//!   cluster of its own (`app<N>-jobmanager`), whose JobManager runs the
//!   program's `main`; the cluster is torn down when `main` is done.
//!
//! `taskmanagers`, `provider` and high availability describe the session
//! cluster; job and application clusters always start their TaskManagers
//! through an active ResourceManager, with `slots` slots each. Processes
//! take `jobmanager_startup_ms` / `taskmanager_startup_ms` to start (JVM
//! start-up; default 0).
//!
//! An application is a program's `main` that submits several jobs:
//!
//! ```toml
//! [[applications]]
//! name = "reports"
//! at_ms = 1000
//! order = "sequential"        # or "parallel"
//! [[applications.jobs]]
//! file = "jobs/wordcount.toml"
//! ```
//!
//! or `file = "apps/reports.toml"` (an application file, see
//! [`runtime::application`]) with `at_ms`. In session and job mode its
//! `main` runs on the client; in application mode on the JobManager.
//!
//! A fault may wait for an event instead of firing at its time:
//! `after = "checkpoint-completed"` (or `"checkpoint-acknowledged"`) with
//! `after_ms = 3` arms it at `at_ms` and fires it 3 ms after the next such
//! event (a crash during the two-phase-commit sink's commit phase, or while
//! a checkpoint is being acknowledged). Fault campaigns draw these; a
//! shrunk failing schedule is written with them.
//!
//! Two sections are for fault campaigns only: `[campaign] draw_faults =
//! false` makes `sim check` replay the file's faults instead of drawing a
//! schedule per seed (what a shrunk failure is written with), and
//! `[debug] planted_bug = "stale-state" | "stale-commit"` plants a bug in
//! the simulated checkpoint storage ([`PlantedBug`]) for the campaign to
//! find. No scenario of the course uses either.
//!
//! A crash fault may name `host = "busiest-taskmanager"`: the TaskManager
//! holding slots of the most jobs at that moment (then the most slots,
//! then the first by name), which is how one crash compares across modes.

use runtime::application::{self, JobOrder, RawApplicationJob};
use runtime::config::Placement;
use runtime::graph::StreamGraph;
use runtime::jobfile::{self, JobFileError, RawJob, Source};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A parsed, checked scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Name.
    pub name: String,
    /// What a student should notice.
    pub description: String,
    /// Seed of the simulation.
    pub seed: u64,
    /// Longest virtual time the scenario may run (ms).
    pub duration_ms: u64,
    /// Keep the cluster running until at least this time (ms), even when
    /// every job has ended (to watch what happens after).
    pub run_until_ms: u64,
    /// The cluster.
    pub cluster: Cluster,
    /// Jobs and when they are submitted.
    pub jobs: Vec<ScenarioJob>,
    /// Faults on the timeline, in time order.
    pub faults: Vec<Fault>,
    /// Expected final status per job name.
    pub expect: BTreeMap<String, String>,
    /// The file it came from.
    pub path: PathBuf,
    /// How the cluster is deployed.
    pub mode: Mode,
    /// Programs that submit several jobs; their jobs are in `jobs` too.
    pub applications: Vec<ScenarioApplication>,
    /// Whether `sim check` draws a fault schedule per seed (`[campaign]
    /// draw_faults`, default true; false replays the file's faults).
    pub draw_faults: bool,
    /// A bug planted for a campaign to find (`[debug] planted_bug`).
    pub planted_bug: Option<PlantedBug>,
}

/// A bug the simulator plants on purpose (`[debug] planted_bug`), in the
/// checkpoint storage it gives the JobManagers, so that a fault campaign
/// has something to find. Only a new leader reads checkpoints back, so it
/// shows after a JobManager failover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlantedBug {
    /// A checkpoint is stored with the state of the checkpoint before
    /// (acknowledged before its own state was stored): a new leader
    /// rewinds the sources too far, and records are committed twice.
    StaleState,
    /// A checkpoint is stored with the committed output of the checkpoint
    /// before: what the sink committed in between is lost.
    StaleCommit,
}

impl PlantedBug {
    /// Its name in a scenario file.
    pub fn as_str(self) -> &'static str {
        match self {
            PlantedBug::StaleState => "stale-state",
            PlantedBug::StaleCommit => "stale-commit",
        }
    }
}

/// The event a triggered fault waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerEvent {
    /// A checkpoint completed (the sinks commit now: two-phase commit).
    CheckpointCompleted,
    /// A subtask acknowledged a checkpoint.
    CheckpointAcknowledged,
}

impl TriggerEvent {
    /// Its name in a scenario file.
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerEvent::CheckpointCompleted => "checkpoint-completed",
            TriggerEvent::CheckpointAcknowledged => "checkpoint-acknowledged",
        }
    }
}

/// Fire a fault `delay_ms` after the first `event` once it is armed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trigger {
    /// What to wait for.
    pub event: TriggerEvent,
    /// How long after it (ms).
    pub delay_ms: u64,
}

/// Flink's execution modes: who owns the cluster, and where `main` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Mode {
    /// A long-lived cluster, started up front and shared by every job.
    #[default]
    Session,
    /// A cluster per job, started after submission, torn down after it.
    Job,
    /// A cluster per application, whose JobManager runs the program's `main`.
    Application,
}

impl Mode {
    /// All three, in the order a comparison shows them.
    pub const ALL: [Mode; 3] = [Mode::Session, Mode::Job, Mode::Application];

    /// "session", "job" or "application".
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Session => "session",
            Mode::Job => "job",
            Mode::Application => "application",
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A program whose `main` submits several jobs.
#[derive(Debug, Clone)]
pub struct ScenarioApplication {
    /// Name.
    pub name: String,
    /// When the program is launched (ms).
    pub at_ms: u64,
    /// In which order `main` submits its jobs.
    pub order: JobOrder,
    /// Its jobs: indices into [`Scenario::jobs`], in order.
    pub jobs: Vec<usize>,
}

/// A program as the client (or an application cluster) runs it: an
/// application, or a lone `[[jobs]]` entry (a `main` with one job).
#[derive(Debug, Clone)]
pub struct Program {
    /// The application's name, or the lone job's.
    pub name: String,
    /// Launch time (ms).
    pub at_ms: u64,
    /// Order of its jobs.
    pub order: JobOrder,
    /// Indices into [`Scenario::jobs`].
    pub jobs: Vec<usize>,
    /// Index into [`Scenario::applications`], for a declared application.
    pub application: Option<usize>,
}

impl Scenario {
    /// Every program: the lone jobs first (in file order), then the
    /// applications. In application mode program N runs on cluster `app<N>`.
    pub fn programs(&self) -> Vec<Program> {
        let mut out: Vec<Program> = self
            .jobs
            .iter()
            .enumerate()
            .filter(|(_, j)| j.application.is_none())
            .map(|(i, j)| Program {
                name: j.graph.job_name.clone(),
                at_ms: j.at_ms,
                order: JobOrder::Sequential,
                jobs: vec![i],
                application: None,
            })
            .collect();
        out.extend(
            self.applications
                .iter()
                .enumerate()
                .map(|(a, app)| Program {
                    name: app.name.clone(),
                    at_ms: app.at_ms,
                    order: app.order,
                    jobs: app.jobs.clone(),
                    application: Some(a),
                }),
        );
        out
    }

    /// The name of the cluster a job runs on: `job<N>` in job mode (N its
    /// position in `jobs`), `app<N>` in application mode, `None` in session.
    pub fn cluster_of_job(&self, job: usize) -> Option<String> {
        match self.mode {
            Mode::Session => None,
            Mode::Job => Some(format!("job{}", job + 1)),
            Mode::Application => self
                .programs()
                .iter()
                .position(|p| p.jobs.contains(&job))
                .map(|p| format!("app{}", p + 1)),
        }
    }

    /// When a job's program asked for it (ms): its launch time, or for a
    /// job of a sequential program, when the previous job ended (`None`
    /// while that is unknown).
    pub fn requested_at(&self, job: usize, ended_at: impl Fn(usize) -> Option<u64>) -> Option<u64> {
        let j = self.jobs.get(job)?;
        match j.after {
            None => Some(j.at_ms),
            Some(prev) => ended_at(prev).map(|t| t.max(j.at_ms)),
        }
    }
}

/// Which ResourceManager flavour runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// Standalone: TaskManagers are started by hand.
    Standalone,
    /// Active: the ResourceManager starts TaskManagers on demand.
    Active,
}

/// The simulated cluster.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// TaskManagers started with the cluster.
    pub taskmanagers: u32,
    /// Slots per TaskManager.
    pub slots: u32,
    /// Heartbeat interval (ms).
    pub heartbeat_interval_ms: u64,
    /// Heartbeat timeout (ms).
    pub heartbeat_timeout_ms: u64,
    /// Resource provider.
    pub provider: Provider,
    /// Slot placement.
    pub placement: Placement,
    /// Active provider: stop TaskManagers idle this long (ms); 0 = never.
    pub idle_timeout_ms: u64,
    /// Records per network buffer.
    pub buffer_records: usize,
    /// Buffers per channel (credit).
    pub buffers_per_channel: u32,
    /// One-way network latency (ms).
    pub latency_ms: u64,
    /// The simulator's tick (ms): turmoil delivers network messages and
    /// polls every host once per tick (timers inside a host still fire at
    /// their exact millisecond). 1 by default; a coarser tick runs a big
    /// cluster faster, with messages moving at tick boundaries.
    pub tick_ms: u64,
    /// JobManagers; more than one means high availability (a coordinator
    /// elects the leader, the others stand by).
    pub jobmanagers: u32,
    /// Leader lease (ms) with high availability.
    pub lease_ms: u64,
    /// Time a JobManager process needs to start (ms).
    pub jobmanager_startup_ms: u64,
    /// Time a TaskManager process needs to start (ms).
    pub taskmanager_startup_ms: u64,
}

impl Cluster {
    /// Whether JobManagers run with high availability.
    pub fn ha(&self) -> bool {
        self.jobmanagers > 1
    }

    /// The JobManager host names.
    pub fn jobmanager_hosts(&self) -> Vec<String> {
        if self.ha() {
            (1..=self.jobmanagers)
                .map(|i| format!("jobmanager-{i}"))
                .collect()
        } else {
            vec!["jobmanager".to_string()]
        }
    }
}

/// A job of the scenario.
#[derive(Debug, Clone)]
pub struct ScenarioJob {
    /// Compiled program.
    pub graph: StreamGraph,
    /// Submission time (ms).
    pub at_ms: u64,
    /// Resume from the latest savepoint of the job with this name.
    pub resume: Option<String>,
    /// The application it belongs to (index into `applications`).
    pub application: Option<usize>,
    /// In a sequential application: the job before it (submitted only
    /// once that one FINISHED).
    pub after: Option<usize>,
}

/// What a fault does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultAction {
    /// Kill a host's process.
    Crash(String),
    /// Kill the TaskManager holding slots of the most jobs right now.
    CrashBusiest,
    /// Start a crashed host's process again (or bounce a running one).
    Restart(String),
    /// Start a new TaskManager host (an operator adding a machine).
    StartTaskManager(String),
    /// Cut the network between two hosts.
    Partition(String, String),
    /// Heal it.
    Repair(String, String),
    /// Set the latency of the link between two hosts.
    Delay(String, String, u64),
    /// Cancel the job with this name.
    CancelJob(String),
    /// Take a savepoint of the job with this name.
    Savepoint(String),
    /// Stop the job with this name with a savepoint.
    StopWithSavepoint(String),
    /// Make the next `n` writes to checkpoint storage fail.
    FailStorageWrites(u32),
    /// Make the next `n` checkpoint writes take this long (ms) each.
    SlowStorageWrites(u32, u64),
    /// Damage the newest checkpoint file: `true` tears it (cuts it
    /// short), `false` flips a byte.
    DamageLatestCheckpoint(bool),
}

/// A fault at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// When (ms): when it fires, or with `after`, when it is armed.
    pub at_ms: u64,
    /// What.
    pub action: FaultAction,
    /// Fire on an event after `at_ms` rather than at `at_ms`.
    pub after: Option<Trigger>,
}

impl Fault {
    /// A fault at a time.
    pub fn at(at_ms: u64, action: FaultAction) -> Fault {
        Fault {
            at_ms,
            action,
            after: None,
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.after {
            Some(t) => write!(
                f,
                "{} ms after the next {}: {}",
                t.delay_ms,
                t.event.as_str(),
                self.action
            ),
            None => self.action.fmt(f),
        }
    }
}

impl FaultAction {
    /// The fault as the event stream records it; `None` for the rule
    /// "crash the busiest TaskManager", which names its host only when it
    /// is applied.
    pub fn as_fault(&self) -> Option<runtime::events::Fault> {
        use runtime::events::Fault;
        Some(match self {
            FaultAction::Crash(h) => Fault::Crash { host: h.clone() },
            FaultAction::CrashBusiest => return None,
            FaultAction::Restart(h) => Fault::Restart { host: h.clone() },
            FaultAction::StartTaskManager(h) => Fault::StartTaskManager { host: h.clone() },
            FaultAction::Partition(x, y) => Fault::Partition {
                a: x.clone(),
                b: y.clone(),
            },
            FaultAction::Repair(x, y) => Fault::Repair {
                a: x.clone(),
                b: y.clone(),
            },
            FaultAction::Delay(x, y, ms) => Fault::Delay {
                a: x.clone(),
                b: y.clone(),
                ms: *ms,
            },
            FaultAction::CancelJob(j) => Fault::CancelJob { job: j.clone() },
            FaultAction::Savepoint(j) => Fault::Savepoint { job: j.clone() },
            FaultAction::StopWithSavepoint(j) => Fault::StopWithSavepoint { job: j.clone() },
            FaultAction::FailStorageWrites(n) => Fault::StorageWritesFail { writes: *n },
            FaultAction::SlowStorageWrites(n, ms) => Fault::StorageWritesSlow {
                writes: *n,
                ms: *ms,
            },
            // The file is named when it is applied.
            FaultAction::DamageLatestCheckpoint(_) => return None,
        })
    }
}

impl std::fmt::Display for FaultAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self, self.as_fault()) {
            (_, Some(fault)) => fault.fmt(f),
            (FaultAction::DamageLatestCheckpoint(tear), _) => write!(
                f,
                "damage the latest checkpoint file ({})",
                if *tear { "tear" } else { "flip" }
            ),
            _ => f.write_str("crash the busiest TaskManager"),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    #[serde(default)]
    description: String,
    seed: Option<u64>,
    duration_ms: Option<u64>,
    run_until_ms: Option<u64>,
    cluster: RawCluster,
    #[serde(default)]
    jobs: Vec<RawScenarioJob>,
    #[serde(default)]
    faults: Vec<RawFault>,
    #[serde(default)]
    expect: BTreeMap<String, Spanned<String>>,
    mode: Option<Spanned<String>>,
    #[serde(default)]
    applications: Vec<RawScenarioApplication>,
    campaign: Option<RawCampaign>,
    debug: Option<RawDebug>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCampaign {
    draw_faults: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDebug {
    planted_bug: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenarioApplication {
    file: Option<Spanned<String>>,
    name: Option<Spanned<String>>,
    order: Option<Spanned<String>>,
    jobs: Option<Spanned<Vec<RawApplicationJob>>>,
    #[serde(default)]
    at_ms: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCluster {
    taskmanagers: Spanned<u32>,
    slots: Spanned<u32>,
    heartbeat_interval_ms: Option<u64>,
    heartbeat_timeout_ms: Option<u64>,
    provider: Option<Spanned<String>>,
    placement: Option<Spanned<String>>,
    idle_timeout_ms: Option<u64>,
    buffer_records: Option<usize>,
    buffers_per_channel: Option<u32>,
    latency_ms: Option<u64>,
    tick_ms: Option<u64>,
    jobmanagers: Option<u32>,
    lease_ms: Option<u64>,
    jobmanager_startup_ms: Option<u64>,
    taskmanager_startup_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenarioJob {
    file: Option<Spanned<String>>,
    job: Option<Spanned<RawJob>>,
    #[serde(default)]
    at_ms: u64,
    resume: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFault {
    at_ms: u64,
    action: Spanned<String>,
    host: Option<Spanned<String>>,
    hosts: Option<Spanned<Vec<String>>>,
    job: Option<Spanned<String>>,
    delay_ms: Option<u64>,
    after: Option<Spanned<String>>,
    after_ms: Option<u64>,
    writes: Option<u32>,
    damage: Option<Spanned<String>>,
}

/// Reads and checks a scenario file.
pub fn load(path: &Path) -> Result<Scenario, JobFileError> {
    jobfile::with_file(path, "scenario", |src| parse(src, path))
}

/// Parses scenario text.
pub fn parse(src: &Source<'_>, path: &Path) -> Result<Scenario, JobFileError> {
    let raw: RawScenario = src.parse_toml()?;
    let c = &raw.cluster;
    use runtime::net::limits::{MAX_SLOTS_PER_TASKMANAGER, MAX_TASKMANAGERS};
    if *c.taskmanagers.get_ref() > MAX_TASKMANAGERS {
        return Err(src.error_at(
            c.taskmanagers.span(),
            format!(
                "taskmanagers = {} is over the cap of {MAX_TASKMANAGERS} TaskManagers",
                c.taskmanagers.get_ref()
            ),
            format!("a cluster has at most {MAX_TASKMANAGERS} TaskManagers"),
        ));
    }
    if *c.slots.get_ref() > MAX_SLOTS_PER_TASKMANAGER {
        return Err(src.error_at(
            c.slots.span(),
            format!(
                "slots = {} is over the cap of {MAX_SLOTS_PER_TASKMANAGER} slots per TaskManager",
                c.slots.get_ref()
            ),
            format!("a TaskManager offers at most {MAX_SLOTS_PER_TASKMANAGER} slots"),
        ));
    }
    if *c.slots.get_ref() == 0 {
        return Err(src.error_at(
            c.slots.span(),
            "a TaskManager needs at least one slot",
            "set slots >= 1",
        ));
    }
    let provider = match c
        .provider
        .as_ref()
        .map(|p| (p.get_ref().as_str(), p.span()))
    {
        None | Some(("standalone", _)) => Provider::Standalone,
        Some(("active", _)) => Provider::Active,
        Some((other, span)) => {
            return Err(src.error_at(
                span,
                format!("unknown provider `{other}`"),
                "provider is \"standalone\" (TaskManagers started by hand) or \"active\" (started on demand, like YARN or Kubernetes)",
            ));
        }
    };
    let placement = match c
        .placement
        .as_ref()
        .map(|p| (p.get_ref().as_str(), p.span()))
    {
        None | Some(("fill", _)) => Placement::Fill,
        Some(("spread", _)) => Placement::Spread,
        Some((other, span)) => {
            return Err(src.error_at(
                span,
                format!("unknown placement `{other}`"),
                "placement is \"fill\" (one TaskManager after the other) or \"spread\" (evenly)",
            ));
        }
    };
    let cluster = Cluster {
        taskmanagers: *c.taskmanagers.get_ref(),
        slots: *c.slots.get_ref(),
        heartbeat_interval_ms: c.heartbeat_interval_ms.unwrap_or(1_000).max(1),
        heartbeat_timeout_ms: c.heartbeat_timeout_ms.unwrap_or(5_000).max(1),
        provider,
        placement,
        idle_timeout_ms: c.idle_timeout_ms.unwrap_or(0),
        buffer_records: c.buffer_records.unwrap_or(64).max(1),
        buffers_per_channel: c.buffers_per_channel.unwrap_or(2).max(1),
        latency_ms: c.latency_ms.unwrap_or(1),
        tick_ms: c.tick_ms.unwrap_or(1).max(1),
        jobmanagers: c.jobmanagers.unwrap_or(1).max(1),
        lease_ms: c.lease_ms.unwrap_or(3_000).max(10),
        jobmanager_startup_ms: c.jobmanager_startup_ms.unwrap_or(0),
        taskmanager_startup_ms: c.taskmanager_startup_ms.unwrap_or(0),
    };
    let mode = match raw.mode.as_ref().map(|m| (m.get_ref().as_str(), m.span())) {
        None | Some(("session", _)) => Mode::Session,
        Some(("job", _)) => Mode::Job,
        Some(("application", _)) => Mode::Application,
        Some((other, span)) => {
            return Err(src.error_at(
                span,
                format!("unknown mode `{other}`"),
                "mode is \"session\" (one shared cluster), \"job\" (a cluster per job) or \"application\" (a cluster per application, main on the JobManager)",
            ));
        }
    };
    if mode != Mode::Session
        && cluster.ha()
        && let Some(m) = &raw.mode
    {
        return Err(src.error_at(
            m.span(),
            format!(
                "high availability (jobmanagers = {}) is only simulated for a session cluster",
                cluster.jobmanagers
            ),
            "use mode = \"session\", or one JobManager",
        ));
    }
    let mut jobs = Vec::new();
    for j in &raw.jobs {
        let graph = match (&j.file, &j.job) {
            (Some(f), None) => {
                let p = src.base_dir.join(f.get_ref());
                if !p.exists() {
                    return Err(src.error_at(
                        f.span(),
                        format!("job file `{}` not found", p.display()),
                        "the path is relative to the scenario's folder",
                    ));
                }
                jobfile::load_job_file(&p)?
            }
            (None, Some(inline)) => jobfile::compile(src, inline.get_ref())?,
            (Some(f), Some(_)) => {
                return Err(src.error_at(
                    f.span(),
                    "a job has both `file` and `job`",
                    "keep one of them",
                ));
            }
            (None, None) => {
                return Err(src.error_at(
                    0..0,
                    "a [[jobs]] entry has neither `file` nor `job`",
                    "add file = \"jobs/wordcount.toml\" or an inline [jobs.job] table",
                ));
            }
        };
        if let Some(r) = &j.resume
            && !jobs
                .iter()
                .any(|sj: &ScenarioJob| &sj.graph.job_name == r.get_ref())
        {
            return Err(src.error_at(
                r.span(),
                format!("no earlier job named `{}` to resume from", r.get_ref()),
                "resume names a job listed before this one, whose savepoint it starts from",
            ));
        }
        jobs.push(ScenarioJob {
            graph,
            at_ms: j.at_ms,
            resume: j.resume.as_ref().map(|r| r.get_ref().clone()),
            application: None,
            after: None,
        });
        if mode == Mode::Application
            && let Some(r) = &j.resume
        {
            return Err(src.error_at(
                r.span(),
                "resuming from a savepoint is simulated in session and job mode only",
                "remove `resume`, or use mode = \"session\" or \"job\"",
            ));
        }
    }
    let mut applications = Vec::new();
    for a in &raw.applications {
        let program = match (&a.file, &a.name, &a.jobs) {
            (Some(f), None, None) => {
                if a.order.is_some() {
                    return Err(src.error_at(
                        f.span(),
                        "an application from a file takes its order from the file",
                        "remove `order` here, or set it in the application file",
                    ));
                }
                let p = src.base_dir.join(f.get_ref());
                if !p.exists() {
                    return Err(src.error_at(
                        f.span(),
                        format!("application file `{}` not found", p.display()),
                        "the path is relative to the scenario's folder",
                    ));
                }
                application::load_application_file(&p)?
            }
            (None, Some(name), Some(js)) => {
                if js.get_ref().is_empty() {
                    return Err(src.error_at(
                        js.span(),
                        "an application without jobs",
                        "add [[applications.jobs]] entries: the jobs its main() submits",
                    ));
                }
                application::ApplicationProgram {
                    name: name.get_ref().clone(),
                    order: application::parse_order(src, a.order.as_ref())?,
                    jobs: js
                        .get_ref()
                        .iter()
                        .map(|j| application::compile_job(src, j, "[[applications.jobs]]"))
                        .collect::<Result<Vec<_>, _>>()?,
                }
            }
            (Some(f), _, _) => {
                return Err(src.error_at(
                    f.span(),
                    "an application has both `file` and inline `name`/`jobs`",
                    "keep one of them",
                ));
            }
            _ => {
                let span = a
                    .name
                    .as_ref()
                    .map(|n| n.span())
                    .or(a.jobs.as_ref().map(|j| j.span()))
                    .unwrap_or(0..0);
                return Err(src.error_at(
                    span,
                    "an [[applications]] entry needs `file`, or `name` and [[applications.jobs]]",
                    "add file = \"apps/reports.toml\", or name = \"reports\" with [[applications.jobs]] entries",
                ));
            }
        };
        let index = applications.len();
        let mut ids = Vec::new();
        for (k, graph) in program.jobs.into_iter().enumerate() {
            let after = (k > 0 && program.order == JobOrder::Sequential).then(|| jobs.len() - 1);
            ids.push(jobs.len());
            jobs.push(ScenarioJob {
                graph,
                at_ms: a.at_ms,
                resume: None,
                application: Some(index),
                after,
            });
        }
        applications.push(ScenarioApplication {
            name: program.name,
            at_ms: a.at_ms,
            order: program.order,
            jobs: ids,
        });
    }
    let mut hosts: Vec<String> = Vec::new();
    let clusters = match mode {
        Mode::Session => {
            hosts.extend(cluster.jobmanager_hosts());
            0
        }
        Mode::Job => jobs.len(),
        Mode::Application => {
            jobs.iter().filter(|j| j.application.is_none()).count() + applications.len()
        }
    };
    hosts.push("client".into());
    if cluster.ha() {
        hosts.push("coordinator".into());
    }
    if mode == Mode::Session {
        hosts.extend((1..=cluster.taskmanagers).map(|i| format!("taskmanager-{i}")));
    }
    // Job and application clusters: their JobManagers, and the first few
    // TaskManagers each may start.
    let prefix = if mode == Mode::Job { "job" } else { "app" };
    for n in 1..=clusters {
        hosts.push(format!("{prefix}{n}-jobmanager"));
        hosts.extend((1..=4).map(|k| format!("{prefix}{n}-taskmanager-{k}")));
    }
    let is_cluster_tm = |h: &str| {
        h.strip_prefix(prefix)
            .and_then(|r| r.split_once("-taskmanager-"))
            .is_some_and(|(n, k)| {
                n.parse::<usize>()
                    .is_ok_and(|n| (1..=clusters).contains(&n))
                    && k.parse::<u32>().is_ok()
            })
    };
    let mut faults = Vec::new();
    for f in &raw.faults {
        let host = |extra: &mut Vec<String>| -> Result<String, JobFileError> {
            let h = f.host.as_ref().ok_or_else(|| {
                src.error_at(
                    f.action.span(),
                    format!("`{}` needs a host", f.action.get_ref()),
                    "add host = \"taskmanager-1\"",
                )
            })?;
            if !hosts.contains(h.get_ref())
                && !extra.contains(h.get_ref())
                && !is_cluster_tm(h.get_ref())
            {
                return Err(src.error_at(
                    h.span(),
                    format!("no host `{}` in this scenario", h.get_ref()),
                    format!("hosts are: {}", hosts.join(", ")),
                ));
            }
            Ok(h.get_ref().clone())
        };
        let pair = || -> Result<(String, String), JobFileError> {
            let hs = f.hosts.as_ref().ok_or_else(|| {
                src.error_at(
                    f.action.span(),
                    format!("`{}` needs two hosts", f.action.get_ref()),
                    "add hosts = [\"jobmanager\", \"taskmanager-1\"]",
                )
            })?;
            match hs.get_ref().as_slice() {
                [a, b] if a != b => {
                    for h in [a, b] {
                        if !hosts.contains(h) && !h.starts_with("taskmanager-") && !is_cluster_tm(h)
                        {
                            return Err(src.error_at(
                                hs.span(),
                                format!("no host `{h}` in this scenario"),
                                format!("hosts are: {}", hosts.join(", ")),
                            ));
                        }
                    }
                    Ok((a.clone(), b.clone()))
                }
                _ => Err(src.error_at(
                    hs.span(),
                    "`hosts` must name two different hosts",
                    "e.g. hosts = [\"jobmanager\", \"taskmanager-1\"]",
                )),
            }
        };
        let mut started: Vec<String> = faults
            .iter()
            .filter_map(|f: &Fault| match &f.action {
                FaultAction::StartTaskManager(h) => Some(h.clone()),
                _ => None,
            })
            .collect();
        let action = match f.action.get_ref().as_str() {
            "crash"
                if f.host
                    .as_ref()
                    .is_some_and(|h| h.get_ref() == "busiest-taskmanager") =>
            {
                FaultAction::CrashBusiest
            }
            "crash" => FaultAction::Crash(host(&mut started)?),
            "restart" => FaultAction::Restart(host(&mut started)?),
            "start" => {
                let h = f.host.as_ref().ok_or_else(|| {
                    src.error_at(
                        f.action.span(),
                        "`start` needs the new host's name",
                        "add host = \"taskmanager-4\"",
                    )
                })?;
                if mode != Mode::Session {
                    return Err(src.error_at(
                        h.span(),
                        "starting TaskManagers by hand needs a session cluster",
                        "job and application clusters start their own TaskManagers (active ResourceManager)",
                    ));
                }
                if hosts.contains(h.get_ref()) || !h.get_ref().starts_with("taskmanager-") {
                    return Err(src.error_at(
                        h.span(),
                        format!("cannot start `{}`", h.get_ref()),
                        "start names a new TaskManager, e.g. host = \"taskmanager-4\"",
                    ));
                }
                FaultAction::StartTaskManager(h.get_ref().clone())
            }
            "partition" => {
                let (a, b) = pair()?;
                FaultAction::Partition(a, b)
            }
            "repair" => {
                let (a, b) = pair()?;
                FaultAction::Repair(a, b)
            }
            "delay" => {
                let (a, b) = pair()?;
                let ms = f.delay_ms.ok_or_else(|| {
                    src.error_at(
                        f.action.span(),
                        "`delay` needs delay_ms",
                        "add delay_ms = 200",
                    )
                })?;
                FaultAction::Delay(a, b, ms)
            }
            "cancel" | "savepoint" | "stop" => {
                let j = f.job.as_ref().ok_or_else(|| {
                    src.error_at(
                        f.action.span(),
                        format!("`{}` needs a job name", f.action.get_ref()),
                        "add job = \"wordcount\"",
                    )
                })?;
                if !jobs.iter().any(|sj| &sj.graph.job_name == j.get_ref()) {
                    return Err(src.error_at(
                        j.span(),
                        format!("no job named `{}`", j.get_ref()),
                        "use a job's `name`",
                    ));
                }
                let name = j.get_ref().clone();
                match f.action.get_ref().as_str() {
                    "cancel" => FaultAction::CancelJob(name),
                    "savepoint" => FaultAction::Savepoint(name),
                    _ => FaultAction::StopWithSavepoint(name),
                }
            }
            "fail-writes" => FaultAction::FailStorageWrites(f.writes.unwrap_or(1)),
            "slow-writes" => {
                let ms = f.delay_ms.ok_or_else(|| {
                    src.error_at(
                        f.action.span(),
                        "`slow-writes` needs delay_ms (how long each write takes)",
                        "add delay_ms = 2000",
                    )
                })?;
                FaultAction::SlowStorageWrites(f.writes.unwrap_or(1), ms)
            }
            "damage-checkpoint" => match f.damage.as_ref().map(|d| d.get_ref().as_str()) {
                None | Some("flip") => FaultAction::DamageLatestCheckpoint(false),
                Some("tear") => FaultAction::DamageLatestCheckpoint(true),
                Some(other) => {
                    return Err(src.error_at(
                        f.damage.as_ref().map_or(f.action.span(), |d| d.span()),
                        format!("unknown damage `{other}`"),
                        "damage is \"flip\" (a byte) or \"tear\" (cut short)",
                    ));
                }
            },
            other => {
                return Err(src.error_at(
                    f.action.span(),
                    format!("unknown fault action `{other}`"),
                    "actions are: crash, restart, start, partition, repair, delay, cancel, savepoint, stop, fail-writes, slow-writes, damage-checkpoint",
                ));
            }
        };
        let after = match &f.after {
            None => None,
            Some(a) => {
                let event = match a.get_ref().as_str() {
                    "checkpoint-completed" => TriggerEvent::CheckpointCompleted,
                    "checkpoint-acknowledged" => TriggerEvent::CheckpointAcknowledged,
                    other => {
                        return Err(src.error_at(
                            a.span(),
                            format!("unknown trigger `{other}`"),
                            "after is \"checkpoint-completed\" or \"checkpoint-acknowledged\"",
                        ));
                    }
                };
                Some(Trigger {
                    event,
                    delay_ms: f.after_ms.unwrap_or(0),
                })
            }
        };
        faults.push(Fault {
            at_ms: f.at_ms,
            action,
            after,
        });
    }
    faults.sort_by_key(|f| f.at_ms);
    let planted_bug = match raw.debug.as_ref().and_then(|d| d.planted_bug.as_ref()) {
        None => None,
        Some(b) => Some(match b.get_ref().as_str() {
            "stale-state" => PlantedBug::StaleState,
            "stale-commit" => PlantedBug::StaleCommit,
            other => {
                return Err(src.error_at(
                    b.span(),
                    format!("unknown planted bug `{other}`"),
                    "planted_bug is \"stale-state\" or \"stale-commit\"",
                ));
            }
        }),
    };
    let mut expect = BTreeMap::new();
    for (job, status) in &raw.expect {
        let ok = ["FINISHED", "FAILED", "CANCELED", "RUNNING"];
        if !ok.contains(&status.get_ref().as_str()) {
            return Err(src.error_at(
                status.span(),
                format!("unknown status `{}`", status.get_ref()),
                format!("expect one of: {}", ok.join(", ")),
            ));
        }
        if !jobs.iter().any(|j| &j.graph.job_name == job) {
            return Err(src.error_at(
                status.span(),
                format!("no job named `{job}` to expect"),
                "use a job's `name`",
            ));
        }
        expect.insert(job.clone(), status.get_ref().clone());
    }
    Ok(Scenario {
        name: raw.name,
        description: raw.description.trim().to_string(),
        seed: raw.seed.unwrap_or(1),
        duration_ms: raw.duration_ms.unwrap_or(120_000),
        run_until_ms: raw.run_until_ms.unwrap_or(0),
        cluster,
        jobs,
        faults,
        expect,
        path: path.to_path_buf(),
        mode,
        applications,
        draw_faults: raw
            .campaign
            .as_ref()
            .and_then(|c| c.draw_faults)
            .unwrap_or(true),
        planted_bug,
    })
}
