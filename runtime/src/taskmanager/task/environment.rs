//! The task's environment: what a task gets from its TaskManager and what
//! the two say to each other.
//!
//! Flink hands every `Task` a `RuntimeEnvironment` (the network stack, the
//! configuration, the gateways back to the TaskExecutor); a task reports
//! its state changes through `TaskManagerActions.updateTaskExecutionState`
//! and acknowledges checkpoints through its `CheckpointResponder`. Here
//! [`TaskContext`] is the environment, [`TaskReport`] everything a task
//! tells its TaskExecutor, [`TaskControl`] everything the TaskExecutor
//! tells a running task.
//!
//! - **In**: [`TaskControl`] from the TaskExecutor.
//! - **Out**: [`TaskReport`]s to the TaskExecutor, which turns them into
//!   messages to the JobMaster.

use crate::config::TaskManagerConfig;
use crate::events::{HostCtx, TaskCounters};
use crate::rpc::{CheckpointBarrier, ExecutionAttemptId, FromTaskManager};
use crate::state::ExecutionState;
use crate::taskmanager::network::NetworkEnvironment;
use std::sync::Arc;
use tokio::sync::mpsc;

/// What a task tells its TaskExecutor: a message for the JobMaster (its
/// state, its metrics, records for a collect sink, a checkpoint
/// acknowledgement), which the TaskExecutor forwards only while it still
/// runs that attempt.
#[derive(Debug)]
pub struct TaskReport {
    /// The attempt that reports.
    pub attempt: ExecutionAttemptId,
    /// A [`FromTaskManager::TaskState`], [`FromTaskManager::TaskMetrics`],
    /// [`FromTaskManager::Collected`] or
    /// [`FromTaskManager::AcknowledgeCheckpoint`] of that attempt.
    pub message: FromTaskManager,
}

impl TaskReport {
    /// A state change of `attempt`, with its counters so far.
    pub fn state(
        attempt: ExecutionAttemptId,
        state: ExecutionState,
        cause: Option<String>,
        counters: TaskCounters,
    ) -> Self {
        TaskReport {
            attempt,
            message: FromTaskManager::TaskState {
                attempt,
                state,
                cause,
                counters,
            },
        }
    }
}

/// What the TaskExecutor tells a running task.
#[derive(Debug, Clone, Copy)]
pub enum TaskControl {
    /// (Sources) inject this barrier; with `stop`, end after it.
    Trigger {
        /// The barrier.
        barrier: CheckpointBarrier,
        /// Stop after the barrier (stop-with-savepoint).
        stop: bool,
    },
}

/// Everything a task needs from its TaskManager.
pub struct TaskContext {
    /// The host.
    pub ctx: HostCtx,
    /// The network stack.
    pub net: Arc<NetworkEnvironment>,
    /// TaskManager settings.
    pub cfg: TaskManagerConfig,
    /// Reports to the TaskExecutor: the task sends, the TaskExecutor's
    /// session loop receives; sends after the TaskExecutor is gone are lost.
    pub reports: mpsc::UnboundedSender<TaskReport>,
    /// Commands from the TaskExecutor (checkpoint triggers for sources);
    /// closed when the TaskExecutor forgets the task.
    pub control: mpsc::UnboundedReceiver<TaskControl>,
}
