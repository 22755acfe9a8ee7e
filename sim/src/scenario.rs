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
    /// JobManagers; more than one means high availability (a coordinator
    /// elects the leader, the others stand by).
    pub jobmanagers: u32,
    /// Leader lease (ms) with high availability.
    pub lease_ms: u64,
}

impl Cluster {
    /// Whether JobManagers run with high availability.
    pub fn ha(&self) -> bool {
        self.jobmanagers > 1
    }

    /// The JobManager host names.
    pub fn jobmanager_hosts(&self) -> Vec<String> {
        if self.ha() {
            (1..=self.jobmanagers).map(|i| format!("jobmanager-{i}")).collect()
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
}

/// What a fault does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultAction {
    /// Kill a host's process.
    Crash(String),
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
}

/// A fault at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// When (ms).
    pub at_ms: u64,
    /// What.
    pub action: FaultAction,
}

impl std::fmt::Display for FaultAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FaultAction::Crash(h) => write!(f, "crash {h}"),
            FaultAction::Restart(h) => write!(f, "restart {h}"),
            FaultAction::StartTaskManager(h) => write!(f, "start {h}"),
            FaultAction::Partition(a, b) => write!(f, "partition {a} | {b}"),
            FaultAction::Repair(a, b) => write!(f, "repair {a} <-> {b}"),
            FaultAction::Delay(a, b, ms) => write!(f, "delay {a} <-> {b} by {ms} ms"),
            FaultAction::CancelJob(j) => write!(f, "cancel job {j}"),
            FaultAction::Savepoint(j) => write!(f, "savepoint of job {j}"),
            FaultAction::StopWithSavepoint(j) => write!(f, "stop job {j} with a savepoint"),
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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCluster {
    taskmanagers: u32,
    slots: Spanned<u32>,
    heartbeat_interval_ms: Option<u64>,
    heartbeat_timeout_ms: Option<u64>,
    provider: Option<Spanned<String>>,
    placement: Option<Spanned<String>>,
    idle_timeout_ms: Option<u64>,
    buffer_records: Option<usize>,
    buffers_per_channel: Option<u32>,
    latency_ms: Option<u64>,
    jobmanagers: Option<u32>,
    lease_ms: Option<u64>,
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
}

/// Reads and checks a scenario file.
pub fn load(path: &Path) -> Result<Scenario, JobFileError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| JobFileError {
        file: file.clone(),
        line: 0,
        column: 0,
        message: format!("cannot read the scenario: {e}"),
        help: "check the path".into(),
        snippet: None,
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse(&Source { file: &file, text: &text, base_dir: base }, path)
}

/// Parses scenario text.
pub fn parse(src: &Source<'_>, path: &Path) -> Result<Scenario, JobFileError> {
    let raw: RawScenario = toml::from_str(src.text).map_err(|e| src.toml_error(&e))?;
    let c = &raw.cluster;
    if *c.slots.get_ref() == 0 {
        return Err(src.error_at(c.slots.span(), "a TaskManager needs at least one slot", "set slots >= 1"));
    }
    let provider = match c.provider.as_ref().map(|p| (p.get_ref().as_str(), p.span())) {
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
    let placement = match c.placement.as_ref().map(|p| (p.get_ref().as_str(), p.span())) {
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
        taskmanagers: c.taskmanagers,
        slots: *c.slots.get_ref(),
        heartbeat_interval_ms: c.heartbeat_interval_ms.unwrap_or(1_000).max(1),
        heartbeat_timeout_ms: c.heartbeat_timeout_ms.unwrap_or(5_000).max(1),
        provider,
        placement,
        idle_timeout_ms: c.idle_timeout_ms.unwrap_or(0),
        buffer_records: c.buffer_records.unwrap_or(64).max(1),
        buffers_per_channel: c.buffers_per_channel.unwrap_or(2).max(1),
        latency_ms: c.latency_ms.unwrap_or(1),
        jobmanagers: c.jobmanagers.unwrap_or(1).max(1),
        lease_ms: c.lease_ms.unwrap_or(3_000).max(10),
    };
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
                return Err(src.error_at(f.span(), "a job has both `file` and `job`", "keep one of them"));
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
            && !jobs.iter().any(|sj: &ScenarioJob| &sj.graph.job_name == r.get_ref())
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
        });
    }
    let mut hosts: Vec<String> = cluster.jobmanager_hosts();
    hosts.push("client".into());
    if cluster.ha() {
        hosts.push("coordinator".into());
    }
    hosts.extend((1..=cluster.taskmanagers).map(|i| format!("taskmanager-{i}")));
    let mut faults = Vec::new();
    for f in &raw.faults {
        let host = |extra: &mut Vec<String>| -> Result<String, JobFileError> {
            let h = f.host.as_ref().ok_or_else(|| {
                src.error_at(f.action.span(), format!("`{}` needs a host", f.action.get_ref()), "add host = \"taskmanager-1\"")
            })?;
            if !hosts.contains(h.get_ref()) && !extra.contains(h.get_ref()) {
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
                        if !hosts.contains(h) && !h.starts_with("taskmanager-") {
                            return Err(src.error_at(
                                hs.span(),
                                format!("no host `{h}` in this scenario"),
                                format!("hosts are: {}", hosts.join(", ")),
                            ));
                        }
                    }
                    Ok((a.clone(), b.clone()))
                }
                _ => Err(src.error_at(hs.span(), "`hosts` must name two different hosts", "e.g. hosts = [\"jobmanager\", \"taskmanager-1\"]")),
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
            "crash" => FaultAction::Crash(host(&mut started)?),
            "restart" => FaultAction::Restart(host(&mut started)?),
            "start" => {
                let h = f.host.as_ref().ok_or_else(|| {
                    src.error_at(f.action.span(), "`start` needs the new host's name", "add host = \"taskmanager-4\"")
                })?;
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
                    src.error_at(f.action.span(), "`delay` needs delay_ms", "add delay_ms = 200")
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
                    return Err(src.error_at(j.span(), format!("no job named `{}`", j.get_ref()), "use a job's `name`"));
                }
                let name = j.get_ref().clone();
                match f.action.get_ref().as_str() {
                    "cancel" => FaultAction::CancelJob(name),
                    "savepoint" => FaultAction::Savepoint(name),
                    _ => FaultAction::StopWithSavepoint(name),
                }
            }
            other => {
                return Err(src.error_at(
                    f.action.span(),
                    format!("unknown fault action `{other}`"),
                    "actions are: crash, restart, start, partition, repair, delay, cancel, savepoint, stop",
                ));
            }
        };
        faults.push(Fault { at_ms: f.at_ms, action });
    }
    faults.sort_by_key(|f| f.at_ms);
    let mut expect = BTreeMap::new();
    for (job, status) in &raw.expect {
        let ok = ["FINISHED", "FAILED", "CANCELED", "RUNNING"];
        if !ok.contains(&status.get_ref().as_str()) {
            return Err(src.error_at(status.span(), format!("unknown status `{}`", status.get_ref()), format!("expect one of: {}", ok.join(", "))));
        }
        if !jobs.iter().any(|j| &j.graph.job_name == job) {
            return Err(src.error_at(status.span(), format!("no job named `{job}` to expect"), "use a job's `name`"));
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
    })
}
