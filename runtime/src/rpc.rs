//! The gateways: typed message sets between the components.
//!
//! Flink's components talk through RPC gateways (`ResourceManagerGateway`,
//! `JobMasterGateway`, `TaskExecutorGateway`, `DispatcherGateway`). Here each
//! gateway is an enum of messages sent as frames ([`crate::net::frame`]):
//!
//! - TaskManager → JobManager: [`FromTaskManager`] (registration and
//!   heartbeats for the ResourceManager; slot offers and task states for a
//!   JobMaster, addressed by job id).
//! - JobManager → TaskManager: [`ToTaskManager`] (the TaskExecutorGateway).
//! - Client ↔ Dispatcher: [`ClientRequest`] / [`ClientResponse`].
//! - TaskManager ↔ TaskManager: [`DataMessage`] (the data plane).
//!
//! Every task message carries its [`ExecutionAttemptId`] and every channel
//! its [`ChannelKey`] (with the job's attempt generation), so messages of an
//! attempt that was already replaced are recognised and dropped.

use crate::events::TaskCounters;
use crate::graph::{JobGraph, JobId, Partitioner};
use crate::operators::Value;
use crate::state::{ExecutionState, JobStatus};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::ids::ExecutionVertexId;
pub use crate::ids::{AllocationId, CheckpointId, FencingToken, ResourceId};

/// One attempt to run one subtask (Flink's `ExecutionAttemptID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ExecutionAttemptId {
    /// The job.
    pub job: JobId,
    /// Job vertex index.
    pub vertex: u32,
    /// Subtask index.
    pub subtask: u32,
    /// Attempt number (0 first; grows with every restart of the job).
    pub attempt: u32,
}

impl ExecutionAttemptId {
    /// Attempt `attempt` of subtask `of` of a job.
    pub fn new(job: JobId, of: ExecutionVertexId, attempt: u32) -> Self {
        ExecutionAttemptId {
            job,
            vertex: of.vertex,
            subtask: of.subtask.0,
            attempt,
        }
    }

    /// The subtask it is an attempt of.
    pub fn execution_vertex(&self) -> ExecutionVertexId {
        ExecutionVertexId::new(self.vertex, self.subtask)
    }
}

impl fmt::Display for ExecutionAttemptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}[{}]#{}", self.vertex, self.subtask, self.attempt)
    }
}

/// One channel of the data plane: a producer subtask's subpartition for one consumer subtask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ChannelKey {
    /// The job.
    pub job: JobId,
    /// Job attempt generation (stale generations are dropped).
    pub attempt: u32,
    /// Job edge index.
    pub edge: u32,
    /// Producer subtask.
    pub from: u32,
    /// Consumer subtask.
    pub to: u32,
}

/// A slot's state in a slot report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotStatus {
    /// Slot index on the TaskManager.
    pub slot: u32,
    /// The allocation holding it, if any, and for which job.
    pub allocation: Option<(AllocationId, JobId)>,
}

/// A slot offered to a JobMaster (Flink's `SlotOffer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotOffer {
    /// Allocation id.
    pub allocation: AllocationId,
    /// Slot index.
    pub slot: u32,
}

/// Where a subtask runs, for its peers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// TaskManager.
    pub resource_id: ResourceId,
    /// Its data address.
    pub data_addr: String,
}

/// One input of a task: the channels of one job edge it reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputGateDescriptor {
    /// Job edge index.
    pub edge: u32,
    /// Producer subtasks and where they run.
    pub channels: Vec<(u32, Location)>,
}

/// One output of a task: the channels of one job edge it writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultPartitionDescriptor {
    /// Job edge index.
    pub edge: u32,
    /// How records are distributed.
    pub partitioner: Partitioner,
    /// Parallelism of the consumer vertex (for key groups).
    pub consumer_parallelism: u32,
    /// Consumer subtasks and where they run, in subtask order.
    pub channels: Vec<(u32, Location)>,
}

/// Everything a TaskManager needs to run one subtask (Flink's `TaskDeploymentDescriptor`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskDeploymentDescriptor {
    /// The attempt.
    pub attempt: ExecutionAttemptId,
    /// The slot it goes into.
    pub allocation: AllocationId,
    /// The job graph (operators of the chain are looked up in it).
    pub job_graph: JobGraph,
    /// Parallelism of the vertex.
    pub parallelism: u32,
    /// Inputs, one gate per job edge.
    pub inputs: Vec<InputGateDescriptor>,
    /// Outputs, one partition per job edge.
    pub outputs: Vec<ResultPartitionDescriptor>,
    /// Whether the job takes checkpoints (sinks then commit transactionally).
    pub checkpointing: bool,
    /// State to start from: the task's part of the latest completed
    /// checkpoint (postcard-encoded [`crate::jobmanager::checkpoint::snapshot::TaskSnapshot`]).
    pub restore: Option<Vec<u8>>,
}

/// A checkpoint barrier, injected by sources and flowing with the records
/// (Flink's `CheckpointBarrier`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointBarrier {
    /// Checkpoint id (grows per job).
    pub id: CheckpointId,
    /// When it was triggered (ms).
    pub timestamp: u64,
    /// Whether it is a savepoint (always aligned).
    pub savepoint: bool,
}

/// How records reached a `collect` sink become visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Txn {
    /// At once (no checkpointing: at-least-once at best).
    Immediate,
    /// Pre-committed with this checkpoint; visible when it completes.
    Checkpoint(CheckpointId),
    /// Pre-committed at the end of input; visible when the job finishes.
    Final,
}

/// TaskManager → JobManager (ResourceManagerGateway and JobMasterGateway).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FromTaskManager {
    /// Register at the ResourceManager (`registerTaskExecutor`).
    Register {
        /// Identity.
        resource_id: ResourceId,
        /// Data address for other TaskManagers.
        data_addr: String,
        /// Number of slots.
        slots: u32,
    },
    /// Answer to a heartbeat request, with the slot report.
    Heartbeat {
        /// Slot states.
        slots: Vec<SlotStatus>,
    },
    /// Offer allocated slots to a job's JobMaster (`offerSlots`).
    OfferSlots {
        /// The job.
        job: JobId,
        /// The offers.
        offers: Vec<SlotOffer>,
    },
    /// A slot became free (`notifySlotAvailable`).
    SlotFreed {
        /// Its old allocation.
        allocation: AllocationId,
        /// Slot index.
        slot: u32,
    },
    /// A task changed state (`updateTaskExecutionState`).
    TaskState {
        /// The attempt.
        attempt: ExecutionAttemptId,
        /// New state.
        state: ExecutionState,
        /// Failure cause.
        cause: Option<String>,
        /// Counters so far.
        counters: TaskCounters,
    },
    /// Counters of a running task (Flink's metric reporting).
    TaskMetrics {
        /// The attempt.
        attempt: ExecutionAttemptId,
        /// Counters so far.
        counters: TaskCounters,
    },
    /// Records reached a `collect` sink (Flink's collect sink coordinator).
    Collected {
        /// The attempt.
        attempt: ExecutionAttemptId,
        /// Which transaction they belong to.
        txn: Txn,
        /// The records.
        records: Vec<Value>,
    },
    /// A task took its snapshot for a checkpoint (`acknowledgeCheckpoint`).
    AcknowledgeCheckpoint {
        /// The attempt.
        attempt: ExecutionAttemptId,
        /// Checkpoint id.
        checkpoint: CheckpointId,
        /// The task's state (postcard-encoded `TaskSnapshot`).
        state: Vec<u8>,
        /// Time spent aligning barriers (ms).
        alignment_ms: u64,
    },
    /// The TaskManager is leaving (it was told to shut down): the
    /// ResourceManager treats it as lost at once and releases its slots,
    /// instead of waiting for its heartbeats to time out (Flink's
    /// `disconnectTaskManager`).
    Disconnect {
        /// Why it leaves.
        cause: String,
    },
}

/// JobManager → TaskManager (TaskExecutorGateway).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ToTaskManager {
    /// Registration accepted by the leader with this fencing token.
    Registered {
        /// The leader's fencing token (0 without high availability).
        token: FencingToken,
    },
    /// Heartbeat request; answered by [`FromTaskManager::Heartbeat`].
    HeartbeatRequest,
    /// Allocate a slot for a job and offer it to the job's JobMaster (`requestSlot`).
    RequestSlot {
        /// Slot index.
        slot: u32,
        /// The allocation.
        allocation: AllocationId,
        /// The job.
        job: JobId,
    },
    /// Offered slots the JobMaster accepted.
    SlotsAccepted {
        /// The job.
        job: JobId,
        /// Accepted allocations.
        allocations: Vec<AllocationId>,
    },
    /// Deploy a task (`submitTask`).
    SubmitTask(Box<TaskDeploymentDescriptor>),
    /// Inject a checkpoint barrier at a source task (`triggerCheckpoint`);
    /// with `stop`, the source ends after it (stop-with-savepoint).
    TriggerCheckpoint {
        /// The source attempt.
        attempt: ExecutionAttemptId,
        /// The barrier.
        barrier: CheckpointBarrier,
        /// Stop the source after the barrier.
        stop: bool,
    },
    /// Cancel a task (`cancelTask`).
    CancelTask {
        /// The attempt.
        attempt: ExecutionAttemptId,
    },
    /// Free a slot (`freeSlot`).
    FreeSlot {
        /// The allocation.
        allocation: AllocationId,
    },
    /// The ResourceManager no longer needs this TaskManager: exit.
    Shutdown,
    /// The ResourceManager declined the registration (Flink's
    /// `RegistrationResponse.Decline`): the TaskManager is not part of the
    /// cluster, logs why and tries again after a delay.
    Declined {
        /// Why, e.g. "the number of TaskManagers is 1001, over the cap of 1000".
        reason: String,
    },
}

/// A record or control element on a channel (Flink's `StreamElement`s and events).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StreamElement {
    /// A data record.
    Record(Value),
    /// A checkpoint barrier.
    Barrier(CheckpointBarrier),
    /// The producer finished (`EndOfPartitionEvent`).
    EndOfPartition,
}

/// TaskManager ↔ TaskManager data plane (Flink's Netty messages).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DataMessage {
    /// Consumer → producer: start sending this subpartition, with initial credit.
    PartitionRequest {
        /// The channel.
        key: ChannelKey,
        /// Buffers the consumer can take.
        credit: u32,
    },
    /// Consumer → producer: more buffers may be sent (`AddCredit`).
    Credit {
        /// The channel.
        key: ChannelKey,
        /// How many.
        n: u32,
    },
    /// Producer → consumer: an unaligned checkpoint barrier, sent ahead of
    /// every queued buffer and without credit (a priority event).
    PriorityBarrier {
        /// The channel.
        key: ChannelKey,
        /// The barrier.
        barrier: CheckpointBarrier,
    },
    /// Producer → consumer: one buffer of elements (`BufferResponse`).
    Buffer {
        /// The channel.
        key: ChannelKey,
        /// The elements.
        elements: Vec<StreamElement>,
    },
}

/// A JobManager → TaskManager frame: the message and the sender's fencing
/// token, so a TaskManager can refuse a deposed leader's messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fenced {
    /// The leader's token (0 without high availability).
    pub token: FencingToken,
    /// The message.
    pub msg: ToTaskManager,
}

/// What the HA job graph store keeps per running job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    /// The submitted graph.
    pub job_graph: JobGraph,
    /// The savepoint it started from, if any.
    pub savepoint: Option<String>,
}

/// Summary of one job for lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobOverview {
    /// Id.
    pub id: JobId,
    /// Name.
    pub name: String,
    /// Status.
    pub status: JobStatus,
    /// When it was submitted (ms since the epoch).
    pub submitted_at: u64,
}

/// Per-vertex totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VertexMetrics {
    /// Vertex name.
    pub name: String,
    /// Parallelism.
    pub parallelism: u32,
    /// Summed counters.
    pub counters: TaskCounters,
    /// Highest back-pressure share of any subtask over the job (per mille).
    pub backpressure_permille: u32,
}

/// A job's outcome as the client sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobResult {
    /// Id.
    pub id: JobId,
    /// Name.
    pub name: String,
    /// Status (terminal when the job is done).
    pub status: JobStatus,
    /// Failure cause.
    pub cause: Option<String>,
    /// Records of `collect` sinks, in arrival order.
    pub collected: Vec<Value>,
    /// Per-vertex metrics.
    pub vertices: Vec<VertexMetrics>,
    /// Submission time (ms).
    pub submitted_at: u64,
    /// Time all tasks were RUNNING (ms), if they got there.
    pub running_at: Option<u64>,
    /// End time (ms), if terminal.
    pub ended_at: Option<u64>,
    /// Restarts so far.
    pub restarts: u32,
    /// Checkpoints completed.
    pub checkpoints_completed: u64,
    /// The latest completed checkpoint.
    pub latest_checkpoint: Option<CheckpointId>,
    /// Savepoints taken, oldest first (paths in checkpoint storage).
    pub savepoints: Vec<String>,
    /// The savepoint the job started from.
    pub restored_from: Option<String>,
}

// ANCHOR: client_request
/// Client → Dispatcher (DispatcherGateway).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ClientRequest {
    /// Submit a compiled job.
    Submit(Box<JobGraph>),
    /// List jobs.
    List,
    /// A job's current result.
    Result(JobId),
    /// Cancel a job.
    Cancel(JobId),
    /// Submit a compiled job that starts from a savepoint (its path).
    SubmitFromSavepoint(Box<JobGraph>, String),
    /// Take a savepoint; with `stop`, the job then finishes (stop-with-savepoint).
    Savepoint {
        /// The job.
        job: JobId,
        /// Stop the job after the savepoint.
        stop: bool,
    },
}
// ANCHOR_END: client_request

/// Dispatcher → client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ClientResponse {
    /// The job was accepted under this id.
    Submitted(JobId),
    /// All jobs.
    Jobs(Vec<JobOverview>),
    /// A job's result so far.
    Result(Box<JobResult>),
    /// Cancellation started.
    Cancelling,
    /// The savepoint was triggered; its path appears in the job's result.
    SavepointTriggered,
    /// The request failed.
    Error(String),
}
