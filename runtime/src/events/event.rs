//! The event types: one [`Event`] per observation, its [`EventKind`], and
//! the values events carry ([`TaskCounters`], [`Role`], [`ClusterMode`],
//! [`Fault`]).
//!
//! A leaf of [`crate::events`]: the sinks ([`super::sink`]) and the
//! explanations ([`super::explain`]) import these types, and these import
//! neither. In: ids and lifecycle states from the components that emit.
//! Out: serde-serialisable values (the JSON trace).

pub use super::fault::Fault;
use crate::graph::JobId;
use crate::ids::{AllocationId, CheckpointId, FencingToken, ResourceId, SubtaskIndex};
use crate::state::{ExecutionState, JobStatus};
use serde::{Deserialize, Serialize};

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
        /// What the process is.
        role: Role,
    },
    /// A TaskManager registered at the ResourceManager.
    TaskManagerRegistered {
        /// Its resource id.
        resource_id: ResourceId,
        /// Number of slots it offers.
        slots: u32,
        /// Where other TaskManagers reach its data port.
        data_addr: String,
    },
    /// The ResourceManager declined a TaskManager's registration (a cap was
    /// reached; Flink's `RegistrationResponse.Decline`): it is not part of
    /// the cluster and tries again later.
    TaskManagerDeclined {
        /// Its resource id.
        resource_id: ResourceId,
        /// Why.
        reason: String,
    },
    /// A TaskManager is gone (heartbeat timeout or shutdown); its slots with it.
    TaskManagerLost {
        /// Its resource id.
        resource_id: ResourceId,
        /// Why.
        cause: String,
    },
    /// No heartbeat from a peer within the timeout.
    HeartbeatTimeout {
        /// Whose heartbeats stopped.
        peer: ResourceId,
        /// Timeout in ms.
        timeout_ms: u64,
    },
    /// The active ResourceManager asked the environment for a new TaskManager.
    WorkerRequested {
        /// The resource id it will have.
        resource_id: ResourceId,
        /// Why (pending slot requests).
        pending_requests: usize,
    },
    /// An idle TaskManager was released by the active ResourceManager.
    WorkerReleased {
        /// Its resource id.
        resource_id: ResourceId,
    },
    /// A JobMaster asked the ResourceManager for a slot.
    SlotRequested {
        /// Job.
        #[serde(with = "as_text")]
        job: JobId,
        /// The allocation the slot will carry.
        #[serde(with = "as_text")]
        allocation: AllocationId,
        /// The slot sharing group it is for.
        group: String,
    },
    /// A slot request waits: no free slot anywhere.
    SlotRequestPending {
        /// Job.
        #[serde(with = "as_text")]
        job: JobId,
        /// The waiting allocation.
        #[serde(with = "as_text")]
        allocation: AllocationId,
    },
    /// The SlotManager matched a request with a free slot.
    SlotAllocated {
        /// Job.
        #[serde(with = "as_text")]
        job: JobId,
        /// Allocation id.
        #[serde(with = "as_text")]
        allocation: AllocationId,
        /// TaskManager.
        resource_id: ResourceId,
        /// Slot index on it.
        slot: u32,
    },
    /// A TaskManager offered an allocated slot to the job's JobMaster.
    SlotOffered {
        /// Job.
        #[serde(with = "as_text")]
        job: JobId,
        /// Allocation id.
        #[serde(with = "as_text")]
        allocation: AllocationId,
        /// TaskManager.
        resource_id: ResourceId,
        /// Slot index.
        slot: u32,
    },
    /// A slot became free again.
    SlotFreed {
        /// Allocation id it had.
        #[serde(with = "as_text")]
        allocation: AllocationId,
        /// TaskManager.
        resource_id: ResourceId,
        /// Slot index.
        slot: u32,
    },
    /// The Dispatcher accepted a job.
    JobSubmitted {
        /// Job id.
        #[serde(with = "as_text")]
        job: JobId,
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
        #[serde(with = "as_text")]
        job: JobId,
        /// Job name.
        name: String,
        /// Old status.
        #[serde(with = "as_text")]
        from: JobStatus,
        /// New status.
        #[serde(with = "as_text")]
        to: JobStatus,
        /// Why, for failures.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<String>,
    },
    /// A subtask was deployed into a slot.
    TaskDeployed {
        /// Job id.
        #[serde(with = "as_text")]
        job: JobId,
        /// Vertex (chain) name.
        vertex: String,
        /// Vertex index in the JobGraph.
        vertex_index: u32,
        /// Subtask index.
        subtask: SubtaskIndex,
        /// Parallelism of the vertex.
        parallelism: u32,
        /// Execution attempt.
        attempt: u32,
        /// TaskManager.
        resource_id: ResourceId,
        /// Slot index.
        slot: u32,
    },
    /// A subtask changed execution state.
    TaskStateChanged {
        /// Job id.
        #[serde(with = "as_text")]
        job: JobId,
        /// Vertex (chain) name.
        vertex: String,
        /// Vertex index in the JobGraph.
        vertex_index: u32,
        /// Subtask index.
        subtask: SubtaskIndex,
        /// Execution attempt.
        attempt: u32,
        /// Old state.
        #[serde(with = "as_text")]
        from: ExecutionState,
        /// New state.
        #[serde(with = "as_text")]
        to: ExecutionState,
        /// Why, for failures.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<String>,
    },
    /// Counters of one subtask, emitted periodically while it runs and once at the end.
    TaskMetrics {
        /// Job id.
        #[serde(with = "as_text")]
        job: JobId,
        /// Vertex (chain) name.
        vertex: String,
        /// Vertex index in the JobGraph.
        vertex_index: u32,
        /// Subtask index.
        subtask: SubtaskIndex,
        /// Counters so far.
        counters: TaskCounters,
        /// Share of the last interval spent back-pressured, 0..=1000 per mille.
        backpressure_permille: u32,
    },
    /// Records and bytes sent on one channel since the last report.
    ChannelTraffic {
        /// Job id.
        #[serde(with = "as_text")]
        job: JobId,
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
        from: ResourceId,
        /// Producer side.
        to: ResourceId,
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
        #[serde(with = "as_text")]
        job: JobId,
        /// Checkpoint id.
        id: CheckpointId,
        /// Whether it is a savepoint.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        savepoint: bool,
    },
    /// A subtask took its snapshot and acknowledged.
    CheckpointAcknowledged {
        /// Job id.
        #[serde(with = "as_text")]
        job: JobId,
        /// Checkpoint id.
        id: CheckpointId,
        /// Vertex (chain) name.
        vertex: String,
        /// Vertex index in the JobGraph.
        vertex_index: u32,
        /// Subtask index.
        subtask: SubtaskIndex,
        /// Snapshot size in bytes.
        size: u64,
        /// Time the subtask spent aligning barriers (ms).
        alignment_ms: u64,
    },
    /// Every subtask acknowledged: the checkpoint is complete and stored.
    CheckpointCompleted {
        /// Job id.
        #[serde(with = "as_text")]
        job: JobId,
        /// Checkpoint id.
        id: CheckpointId,
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
        #[serde(with = "as_text")]
        job: JobId,
        /// Checkpoint id.
        id: CheckpointId,
        /// Where it is.
        path: String,
        /// Whether the job stops after it.
        stop: bool,
    },
    /// A checkpoint was given up.
    CheckpointAborted {
        /// Job id.
        #[serde(with = "as_text")]
        job: JobId,
        /// Checkpoint id.
        id: CheckpointId,
        /// Why.
        cause: String,
    },
    /// A retained checkpoint could not be restored from (damaged, torn,
    /// unreadable): recovery falls back to the one before it.
    CheckpointSkipped {
        /// Job id.
        #[serde(with = "as_text")]
        job: JobId,
        /// Where it is.
        path: String,
        /// What is wrong with it.
        cause: String,
        /// What recovery uses instead: an older checkpoint's path, or
        /// `None` (the job's savepoint, or its start).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fallback: Option<String>,
    },
    /// After a failure, these vertices' subtasks are cancelled and will be
    /// redeployed after the restart strategy's delay.
    RestartScheduled {
        /// Job id.
        #[serde(with = "as_text")]
        job: JobId,
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
        #[serde(with = "as_text")]
        job: JobId,
        /// Job name.
        name: String,
        /// The vertices redeployed.
        vertices: Vec<String>,
        /// New attempt number.
        attempt: u32,
        /// The checkpoint their state comes from.
        from_checkpoint: Option<CheckpointId>,
    },
    /// A JobManager won the leader election.
    LeaderElected {
        /// The new leader's host.
        leader: String,
        /// Its fencing token.
        token: FencingToken,
    },
    /// A JobManager lost its leadership (its lease ran out).
    LeaderLost {
        /// The deposed leader.
        leader: String,
        /// Its (now stale) token.
        token: FencingToken,
        /// Why.
        cause: String,
    },
    /// A message from a deposed leader was refused.
    FencedMessageRejected {
        /// Who refused it.
        at: String,
        /// The sender's token.
        token: FencingToken,
        /// The current leader's token.
        current: FencingToken,
        /// What it was.
        what: String,
    },
    /// A new leader took over the jobs of its predecessor.
    JobRecovered {
        /// Job id.
        #[serde(with = "as_text")]
        job: JobId,
        /// Job name.
        name: String,
        /// The checkpoint it resumes from.
        from_checkpoint: Option<CheckpointId>,
    },
    /// A process is being launched; it takes `startup_ms` before it runs
    /// (a JVM starting, a container being scheduled). `HostStarted` follows.
    HostLaunching {
        /// What the process is.
        role: Role,
        /// Start-up time (ms).
        startup_ms: u64,
    },
    /// The client deploys a cluster of its own: a job cluster for one job,
    /// or an application cluster for one application (Flink's
    /// `ClusterDescriptor.deployJobCluster` / `deployApplicationCluster`).
    ClusterDeploying {
        /// The cluster's name ("job1", "app2"); its hosts start with it.
        cluster: String,
        /// A job or an application cluster.
        mode: ClusterMode,
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
        /// One after another, or all at once.
        order: crate::job_config::JobOrder,
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
        /// What was done.
        fault: Fault,
    },
}

/// What a host's process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A JobManager (the master).
    JobManager,
    /// A TaskManager (a worker).
    TaskManager,
    /// The client (the program's side).
    Client,
    /// The HA coordinator (ZooKeeper's part).
    Coordinator,
}

impl Role {
    /// As the trace and the prose spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::JobManager => "jobmanager",
            Role::TaskManager => "taskmanager",
            Role::Client => "client",
            Role::Coordinator => "coordinator",
        }
    }
}

/// Which kind of per-purpose cluster the client deploys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClusterMode {
    /// A cluster for one job (job mode).
    Job,
    /// A cluster for one application, whose `main` runs on it.
    Application,
}

impl ClusterMode {
    /// "job" or "application".
    pub fn as_str(self) -> &'static str {
        match self {
            ClusterMode::Job => "job",
            ClusterMode::Application => "application",
        }
    }
}

/// Ids and states in the JSON trace as Flink prints them, read back with
/// `FromStr`.
mod as_text {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use std::fmt::Display;
    use std::str::FromStr;

    pub fn serialize<T: Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        let s = String::deserialize(d)?;
        s.parse().map_err(D::Error::custom)
    }
}
