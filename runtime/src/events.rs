//! The event stream: how everything that happens in a cluster is observed.
//!
//! Flink exposes its state through REST, metrics and logs; mini-flink puts
//! every state change on one stream of [`Event`]s, each stamped with the
//! (virtual) time and the host it happened on. The simulator's trace, the
//! snapshot tests, the TUI and the book's pictures all read this one stream
//! and re-derive nothing on their own. Components emit through
//! [`HostCtx::emit`]; where events go is the host's [`EventSink`].

use crate::net::NetworkRef;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

/// One observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Milliseconds since the cluster's epoch (virtual time in the simulator).
    pub t: u64,
    /// The host it happened on ("jobmanager", "taskmanager-2", "client").
    pub host: String,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// Per-subtask counters, as Flink's task metrics (`numRecordsIn`, …).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskCounters {
    /// Records read from input channels.
    pub records_in: u64,
    /// Records written to output channels (and sinks).
    pub records_out: u64,
    /// Bytes read from remote channels.
    pub bytes_in: u64,
    /// Bytes written (serialized size of records sent).
    pub bytes_out: u64,
    /// Milliseconds spent waiting for output capacity (back-pressured).
    pub backpressured_ms: u64,
    /// Milliseconds spent waiting for input (idle).
    pub idle_ms: u64,
}

/// Everything that can happen, with what a reader needs to explain it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event")]
pub enum EventKind {
    /// A host's process started (or restarted).
    HostStarted {
        /// "jobmanager", "taskmanager" or "client".
        role: String,
    },
    /// A TaskManager registered at the ResourceManager.
    TaskManagerRegistered {
        /// Its resource id.
        resource_id: String,
        /// Number of slots it offers.
        slots: u32,
        /// Where other TaskManagers reach its data port.
        data_addr: String,
    },
    /// A TaskManager is gone (heartbeat timeout or shutdown); its slots with it.
    TaskManagerLost {
        /// Its resource id.
        resource_id: String,
        /// Why.
        cause: String,
    },
    /// No heartbeat from a peer within the timeout.
    HeartbeatTimeout {
        /// Whose heartbeats stopped.
        peer: String,
        /// Timeout in ms.
        timeout_ms: u64,
    },
    /// The active ResourceManager asked the environment for a new TaskManager.
    WorkerRequested {
        /// The resource id it will have.
        resource_id: String,
        /// Why (pending slot requests).
        pending_requests: usize,
    },
    /// An idle TaskManager was released by the active ResourceManager.
    WorkerReleased {
        /// Its resource id.
        resource_id: String,
    },
    /// A JobMaster asked the ResourceManager for a slot.
    SlotRequested {
        /// Job.
        job: String,
        /// The allocation the slot will carry.
        allocation: String,
        /// The slot sharing group it is for.
        group: String,
    },
    /// A slot request waits: no free slot anywhere.
    SlotRequestPending {
        /// Job.
        job: String,
        /// The waiting allocation.
        allocation: String,
    },
    /// The SlotManager matched a request with a free slot.
    SlotAllocated {
        /// Job.
        job: String,
        /// Allocation id.
        allocation: String,
        /// TaskManager.
        resource_id: String,
        /// Slot index on it.
        slot: u32,
    },
    /// A TaskManager offered an allocated slot to the job's JobMaster.
    SlotOffered {
        /// Job.
        job: String,
        /// Allocation id.
        allocation: String,
        /// TaskManager.
        resource_id: String,
        /// Slot index.
        slot: u32,
    },
    /// A slot became free again.
    SlotFreed {
        /// Allocation id it had.
        allocation: String,
        /// TaskManager.
        resource_id: String,
        /// Slot index.
        slot: u32,
    },
    /// The Dispatcher accepted a job.
    JobSubmitted {
        /// Job id.
        job: String,
        /// Job name.
        name: String,
        /// Job vertices (chains).
        vertices: usize,
        /// Slots it needs.
        slots: u32,
    },
    /// A job changed status.
    JobStatusChanged {
        /// Job id.
        job: String,
        /// Job name.
        name: String,
        /// Old status.
        from: String,
        /// New status.
        to: String,
        /// Why, for failures.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<String>,
    },
    /// A subtask was deployed into a slot.
    TaskDeployed {
        /// Job id.
        job: String,
        /// Vertex (chain) name.
        vertex: String,
        /// Subtask index.
        subtask: u32,
        /// Parallelism of the vertex.
        parallelism: u32,
        /// Execution attempt.
        attempt: u32,
        /// TaskManager.
        resource_id: String,
        /// Slot index.
        slot: u32,
    },
    /// A subtask changed execution state.
    TaskStateChanged {
        /// Job id.
        job: String,
        /// Vertex (chain) name.
        vertex: String,
        /// Subtask index.
        subtask: u32,
        /// Execution attempt.
        attempt: u32,
        /// Old state.
        from: String,
        /// New state.
        to: String,
        /// Why, for failures.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<String>,
    },
    /// Counters of one subtask, emitted periodically while it runs and once at the end.
    TaskMetrics {
        /// Job id.
        job: String,
        /// Vertex (chain) name.
        vertex: String,
        /// Subtask index.
        subtask: u32,
        /// Counters so far.
        counters: TaskCounters,
        /// Share of the last interval spent back-pressured, 0..=1000 per mille.
        backpressure_permille: u32,
    },
    /// Records and bytes sent on one channel since the last report.
    ChannelTraffic {
        /// Job id.
        job: String,
        /// Job edge index.
        edge: usize,
        /// Producer subtask.
        from: u32,
        /// Consumer subtask.
        to: u32,
        /// Records in the interval.
        records: u64,
        /// Bytes in the interval.
        bytes: u64,
        /// Whether the channel crosses TaskManagers.
        remote: bool,
    },
    /// A data connection between two TaskManagers was opened.
    DataConnectionOpened {
        /// Consumer side (who dialled).
        from: String,
        /// Producer side.
        to: String,
    },
    /// A control connection broke.
    ConnectionLost {
        /// The peer.
        peer: String,
        /// Why.
        cause: String,
    },
    /// The CheckpointCoordinator triggered a checkpoint at the sources.
    CheckpointTriggered {
        /// Job id.
        job: String,
        /// Checkpoint id.
        id: u64,
        /// Whether it is a savepoint.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        savepoint: bool,
    },
    /// A subtask took its snapshot and acknowledged.
    CheckpointAcknowledged {
        /// Job id.
        job: String,
        /// Checkpoint id.
        id: u64,
        /// Vertex (chain) name.
        vertex: String,
        /// Subtask index.
        subtask: u32,
        /// Snapshot size in bytes.
        size: u64,
        /// Time the subtask spent aligning barriers (ms).
        alignment_ms: u64,
    },
    /// Every subtask acknowledged: the checkpoint is complete and stored.
    CheckpointCompleted {
        /// Job id.
        job: String,
        /// Checkpoint id.
        id: u64,
        /// From trigger to completion (ms).
        duration_ms: u64,
        /// Total state size (bytes).
        size: u64,
        /// Longest alignment of any subtask (ms).
        alignment_ms: u64,
        /// Acknowledgements (= subtasks).
        acks: u32,
    },
    /// A savepoint completed and was written to checkpoint storage.
    SavepointCompleted {
        /// Job id.
        job: String,
        /// Checkpoint id.
        id: u64,
        /// Where it is.
        path: String,
        /// Whether the job stops after it.
        stop: bool,
    },
    /// A checkpoint was given up.
    CheckpointAborted {
        /// Job id.
        job: String,
        /// Checkpoint id.
        id: u64,
        /// Why.
        cause: String,
    },
    /// After a failure, these vertices' subtasks are cancelled and will be
    /// redeployed after the restart strategy's delay.
    RestartScheduled {
        /// Job id.
        job: String,
        /// Job name.
        name: String,
        /// The vertices that restart (all of them for `full` failover).
        vertices: Vec<String>,
        /// Delay before redeploying (ms).
        delay_ms: u64,
        /// What failed.
        cause: String,
    },
    /// The restarting vertices are redeployed, from a checkpoint or from scratch.
    Restarted {
        /// Job id.
        job: String,
        /// Job name.
        name: String,
        /// The vertices redeployed.
        vertices: Vec<String>,
        /// New attempt number.
        attempt: u32,
        /// The checkpoint their state comes from.
        from_checkpoint: Option<u64>,
    },
    /// A JobManager won the leader election.
    LeaderElected {
        /// The new leader's host.
        leader: String,
        /// Its fencing token.
        token: u64,
    },
    /// A JobManager lost its leadership (its lease ran out).
    LeaderLost {
        /// The deposed leader.
        leader: String,
        /// Its (now stale) token.
        token: u64,
        /// Why.
        cause: String,
    },
    /// A message from a deposed leader was refused.
    FencedMessageRejected {
        /// Who refused it.
        at: String,
        /// The sender's token.
        token: u64,
        /// The current leader's token.
        current: u64,
        /// What it was.
        what: String,
    },
    /// A new leader took over the jobs of its predecessor.
    JobRecovered {
        /// Job id.
        job: String,
        /// Job name.
        name: String,
        /// The checkpoint it resumes from.
        from_checkpoint: Option<u64>,
    },
    /// A process is being launched; it takes `startup_ms` before it runs
    /// (a JVM starting, a container being scheduled). `HostStarted` follows.
    HostLaunching {
        /// "jobmanager" or "taskmanager".
        role: String,
        /// Start-up time (ms).
        startup_ms: u64,
    },
    /// The client deploys a cluster of its own: a job cluster for one job,
    /// or an application cluster for one application (Flink's
    /// `ClusterDescriptor.deployJobCluster` / `deployApplicationCluster`).
    ClusterDeploying {
        /// The cluster's name ("job1", "app2"); its hosts start with it.
        cluster: String,
        /// "job" or "application".
        mode: String,
        /// Its JobManager's host.
        jobmanager: String,
        /// The jobs it is for (an application's, in order).
        jobs: Vec<String>,
    },
    /// A job or application cluster was shut down: every process of it stops.
    ClusterTornDown {
        /// The cluster's name.
        cluster: String,
        /// The hosts that were still running and are stopped now.
        hosts: Vec<String>,
        /// Why.
        reason: String,
    },
    /// A program's `main` starts: the host of this event is where it runs
    /// (the client, or the JobManager in application mode).
    ApplicationStarted {
        /// Application name.
        name: String,
        /// The jobs `main` will submit, in order.
        jobs: Vec<String>,
        /// "sequential" or "parallel".
        order: String,
    },
    /// A program's `main` returned: all its jobs ended, or one did not
    /// finish and `main` stopped there.
    ApplicationFinished {
        /// Application name.
        name: String,
        /// Jobs that FINISHED.
        finished: usize,
        /// Jobs `main` has.
        jobs: usize,
        /// Why `main` stopped early, if it did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<String>,
    },
    /// The simulator injected a fault.
    FaultInjected {
        /// Human-readable description.
        fault: String,
    },
}

/// Where a host's events go.
pub trait EventSink: Send + Sync + 'static {
    /// Records one event.
    fn emit(&self, event: Event);
}

/// An in-memory, ordered log: the simulator's and the tests' sink.
#[derive(Debug, Clone, Default)]
pub struct EventLog {
    events: Arc<Mutex<Vec<Event>>>,
}

impl EventLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }
    /// A copy of all events so far.
    pub fn snapshot(&self) -> Vec<Event> {
        self.events.lock().map(|v| v.clone()).unwrap_or_default()
    }
    /// Events from index `from` on.
    pub fn since(&self, from: usize) -> Vec<Event> {
        self.events
            .lock()
            .map(|v| v.get(from..).map(<[Event]>::to_vec).unwrap_or_default())
            .unwrap_or_default()
    }
    /// Number of events so far.
    pub fn len(&self) -> usize {
        self.events.lock().map(|v| v.len()).unwrap_or(0)
    }
    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl EventSink for EventLog {
    fn emit(&self, event: Event) {
        if let Ok(mut v) = self.events.lock() {
            v.push(event);
        }
    }
}

/// Prints each event as a JSON line on standard error (real processes).
#[derive(Debug, Default, Clone, Copy)]
pub struct StderrEvents;

impl EventSink for StderrEvents {
    fn emit(&self, event: Event) {
        if let Ok(line) = serde_json::to_string(&event) {
            eprintln!("{line}");
        }
    }
}

/// Drops events.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEvents;

impl EventSink for NoEvents {
    fn emit(&self, _event: Event) {}
}

/// The time source of a host: milliseconds since the cluster's epoch.
pub trait Clock: Send + Sync + 'static {
    /// Now, in ms.
    fn now_ms(&self) -> u64;
}

/// `tokio::time` since a start instant: virtual under turmoil's paused
/// runtimes, real in real processes.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    start: tokio::time::Instant,
}

impl TokioClock {
    /// A clock starting now.
    pub fn start() -> Self {
        TokioClock {
            start: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }
}

/// What every component of a host is handed: its name, network, event
/// sink, clock and seed. Cloned freely.
#[derive(Clone)]
pub struct HostCtx {
    /// Host name (also the TaskManager's resource id).
    pub host: String,
    /// The transport seam.
    pub net: NetworkRef,
    /// Where events go.
    pub events: Arc<dyn EventSink>,
    /// Time source.
    pub clock: Arc<dyn Clock>,
    /// Seed for this host's random choices (shuffle partitioning).
    pub seed: u64,
}

impl HostCtx {
    /// Emits an event stamped with now and this host.
    pub fn emit(&self, kind: EventKind) {
        self.events.emit(Event {
            t: self.clock.now_ms(),
            host: self.host.clone(),
            kind,
        });
    }

    /// Now, in ms since the epoch.
    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }
}

impl std::fmt::Debug for HostCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostCtx").field("host", &self.host).finish()
    }
}

impl EventKind {
    /// Whether this is a periodic measurement rather than a state change
    /// (timelines usually leave these out).
    pub fn is_metric(&self) -> bool {
        matches!(
            self,
            EventKind::TaskMetrics { .. } | EventKind::ChannelTraffic { .. }
        )
    }

    /// The event in plain words, for timelines and the TUI's event log.
    pub fn describe(&self) -> String {
        match self {
            EventKind::HostStarted { role } => format!("{role} process started"),
            EventKind::TaskManagerRegistered {
                resource_id, slots, ..
            } => {
                format!("{resource_id} registered at the ResourceManager with {slots} slots")
            }
            EventKind::TaskManagerLost { resource_id, cause } => {
                format!("{resource_id} is lost ({cause}): its slots are released")
            }
            EventKind::HeartbeatTimeout { peer, timeout_ms } => {
                format!(
                    "{peer} missed heartbeats for {} s",
                    *timeout_ms as f64 / 1000.0
                )
            }
            EventKind::WorkerRequested {
                resource_id,
                pending_requests,
            } => format!(
                "active ResourceManager starts {resource_id} for {pending_requests} waiting slot request(s)"
            ),
            EventKind::WorkerReleased { resource_id } => {
                format!("active ResourceManager stops idle {resource_id}")
            }
            EventKind::SlotRequested {
                job,
                allocation,
                group,
            } => {
                format!(
                    "job {} asks for a slot ({allocation}, sharing group \"{group}\")",
                    short(job)
                )
            }
            EventKind::SlotRequestPending { job, allocation } => {
                format!(
                    "no free slot for job {} ({allocation}): the request waits",
                    short(job)
                )
            }
            EventKind::SlotAllocated {
                job,
                allocation,
                resource_id,
                slot,
            } => format!(
                "SlotManager gives slot {slot} of {resource_id} to job {} ({allocation})",
                short(job)
            ),
            EventKind::SlotOffered {
                job,
                resource_id,
                slot,
                ..
            } => {
                format!(
                    "{resource_id} offers slot {slot} to the JobMaster of job {}",
                    short(job)
                )
            }
            EventKind::SlotFreed {
                resource_id, slot, ..
            } => {
                format!("slot {slot} of {resource_id} is free again")
            }
            EventKind::JobSubmitted {
                job,
                name,
                vertices,
                slots,
            } => format!(
                "job \"{name}\" ({}) submitted: {vertices} job vertices (operator chains), needs {slots} slots",
                short(job)
            ),
            EventKind::JobStatusChanged {
                name, to, cause, ..
            } => match cause {
                Some(c) => format!("job \"{name}\" is {to}: {c}"),
                None => format!("job \"{name}\" is {to}"),
            },
            EventKind::TaskDeployed {
                vertex,
                subtask,
                parallelism,
                resource_id,
                slot,
                ..
            } => {
                format!(
                    "{vertex} ({}/{parallelism}) deployed to slot {slot} of {resource_id}",
                    subtask + 1
                )
            }
            EventKind::TaskStateChanged {
                vertex,
                subtask,
                to,
                cause,
                ..
            } => match cause {
                Some(c) => format!("{vertex} [{}] is {to}: {c}", subtask + 1),
                None => format!("{vertex} [{}] is {to}", subtask + 1),
            },
            EventKind::TaskMetrics {
                vertex,
                subtask,
                counters,
                backpressure_permille,
                ..
            } => format!(
                "{vertex} [{}]: {} records in, {} out, back-pressured {}%",
                subtask + 1,
                counters.records_in,
                counters.records_out,
                backpressure_permille / 10
            ),
            EventKind::ChannelTraffic {
                edge,
                from,
                to,
                records,
                bytes,
                remote,
                ..
            } => format!(
                "edge {edge} channel {from}->{to}: {records} records, {bytes} bytes{}",
                if *remote {
                    " over the network"
                } else {
                    " in memory"
                }
            ),
            EventKind::DataConnectionOpened { from, to } => {
                format!("{from} opened a data connection to {to}")
            }
            EventKind::ConnectionLost { peer, cause } => {
                format!("connection to {peer} lost: {cause}")
            }
            EventKind::FaultInjected { fault } => format!("FAULT: {fault}"),
            EventKind::HostLaunching { role, startup_ms } => format!(
                "{role} process launching: it needs {} s to start up",
                *startup_ms as f64 / 1000.0
            ),
            EventKind::ClusterDeploying {
                cluster,
                mode,
                jobmanager,
                jobs,
            } => format!(
                "client deploys {} cluster \"{cluster}\" for {}: launches {jobmanager}, \
                 whose active ResourceManager starts TaskManagers on demand",
                if mode == "application" {
                    "an application"
                } else {
                    "a job"
                },
                match jobs.as_slice() {
                    [one] => format!("job \"{one}\""),
                    many => format!("{} jobs ({})", many.len(), many.join(", ")),
                }
            ),
            EventKind::ClusterTornDown {
                cluster,
                hosts,
                reason,
            } => format!(
                "cluster \"{cluster}\" torn down ({reason}): {} stopped",
                if hosts.is_empty() {
                    "no process".to_string()
                } else {
                    hosts.join(", ")
                }
            ),
            EventKind::ApplicationStarted { name, jobs, order } => format!(
                "main() of application \"{name}\" runs here: it submits {} job(s) {} ({})",
                jobs.len(),
                if order == "parallel" {
                    "all at once"
                } else {
                    "one after another"
                },
                jobs.join(", ")
            ),
            EventKind::ApplicationFinished {
                name,
                finished,
                jobs,
                cause,
            } => match cause {
                Some(c) => format!(
                    "main() of application \"{name}\" stopped: {c} ({finished} of {jobs} jobs finished)"
                ),
                None => format!(
                    "main() of application \"{name}\" returned: {finished} of {jobs} jobs finished"
                ),
            },
            EventKind::LeaderElected { leader, token } => {
                format!("{leader} is elected JobManager leader (fencing token {token})")
            }
            EventKind::LeaderLost {
                leader,
                token,
                cause,
            } => {
                format!("{leader} lost its leadership (token {token}, {cause}): it stops serving")
            }
            EventKind::FencedMessageRejected {
                at,
                token,
                current,
                what,
            } => format!(
                "{at} refused a message from a deposed leader ({what}, token {token} < {current})"
            ),
            EventKind::JobRecovered {
                name,
                from_checkpoint,
                ..
            } => format!(
                "new leader recovers job \"{name}\" {}",
                match from_checkpoint {
                    Some(id) => format!("from checkpoint {id}"),
                    None => "from scratch (no checkpoint yet)".to_string(),
                }
            ),
            EventKind::CheckpointTriggered { job, id, savepoint } => format!(
                "{} {id} of job {} triggered: sources inject barriers",
                if *savepoint {
                    "savepoint"
                } else {
                    "checkpoint"
                },
                short(job)
            ),
            EventKind::CheckpointAcknowledged {
                id,
                vertex,
                subtask,
                size,
                alignment_ms,
                ..
            } => format!(
                "{vertex} [{}] acknowledged checkpoint {id} ({size} bytes, aligned in {alignment_ms} ms)",
                subtask + 1
            ),
            EventKind::CheckpointCompleted {
                job,
                id,
                duration_ms,
                size,
                acks,
                ..
            } => format!(
                "checkpoint {id} of job {} completed in {duration_ms} ms: {acks} subtasks, {size} bytes",
                short(job)
            ),
            EventKind::SavepointCompleted {
                job,
                id,
                path,
                stop,
            } => format!(
                "savepoint {id} of job {} written to {path}{}",
                short(job),
                if *stop {
                    ": the sources stop and the job finishes"
                } else {
                    ""
                }
            ),
            EventKind::CheckpointAborted { job, id, cause } => {
                format!("checkpoint {id} of job {} aborted: {cause}", short(job))
            }
            EventKind::RestartScheduled {
                name,
                vertices,
                delay_ms,
                cause,
                ..
            } => format!(
                "job \"{name}\": restarting {} in {delay_ms} ms after: {cause}",
                vertices.join(", ")
            ),
            EventKind::Restarted {
                name,
                vertices,
                attempt,
                from_checkpoint,
                ..
            } => format!(
                "job \"{name}\": {} redeployed (attempt {attempt}) {}",
                vertices.join(", "),
                match from_checkpoint {
                    Some(id) => format!("from checkpoint {id}"),
                    None => "from scratch (no checkpoint yet)".to_string(),
                }
            ),
        }
    }
}

/// The first 8 hex digits of an id, for prose.
fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}
