//! A task: one subtask of one operator chain, running on a TaskManager.
//!
//! Flink runs each deployed subtask of a job vertex as a `Task` in its own
//! thread; the `Task` reports its lifecycle (INITIALIZING, RUNNING, then
//! FINISHED or FAILED) and runs the `StreamTask` inside, whose
//! `OperatorChain` hands records from operator to operator by plain method
//! calls. Only the chain's ends touch the network stack
//! ([`crate::taskmanager::network`]): an `InputGate` over all input channels
//! and one `RecordWriter` per output edge. Here a task is a tokio task (one
//! per subtask, as Flink's thread), started by [`run_task`].
//!
//! | module | Flink class | what it does |
//! |---|---|---|
//! | [`run_task`] (here) | `Task` | lifecycle reports, channel release |
//! | [`environment`] | `RuntimeEnvironment`, `TaskManagerActions` | [`TaskContext`], [`TaskReport`], [`TaskControl`] |
//! | [`stream_task`] | `StreamTask` (`OneInputStreamTask`, `SourceStreamTask`) | the loop: input or source, chain, checkpoints, metrics |
//! | [`operator_chain`] | `OperatorChain` | builds and holds the chain's operators |
//! | [`stream_operator`] | `StreamOperator`, `ChainingOutput` | the operator interface; hands records operator to operator |
//! | [`operators`] | `StreamOperator` and the built-in operators | map, filter, flat_map, keyed reduce/sum/count, windows |
//! | `metrics` | `TaskIOMetricGroup` | periodic counters, back-pressure, channel traffic |
//! | [`barrier_handler`] | `CheckpointBarrierHandler` | aligned and unaligned barriers |
//! | [`source`] | `StreamSource`, a source's split | offsets, rate |
//! | [`sink`] | `DiscardingSink`, `PrintSinkFunction`, `TwoPhaseCommitSinkFunction` | sinks, pre-commit |
//!
//! - **In**: a [`TaskDeploymentDescriptor`] and a [`TaskContext`] from the TaskExecutor.
//! - **Out**: [`TaskReport`]s to the TaskExecutor until the task ends.

pub mod barrier_handler;
pub mod environment;
mod metrics;
pub mod operator_chain;
pub mod operators;
pub mod sink;
pub mod source;
pub mod stream_operator;
pub mod stream_task;

pub use environment::{TaskContext, TaskControl, TaskReport};
pub use stream_task::{StreamTask, TaskError};

use crate::events::TaskCounters;
use crate::rpc::{ChannelKey, TaskDeploymentDescriptor};
use crate::state::ExecutionState;
use crate::taskmanager::network::NetworkEnvironment;
use std::sync::Arc;

/// Runs a task to its end, reporting state changes to the TaskExecutor.
pub async fn run_task(tdd: TaskDeploymentDescriptor, mut tc: TaskContext) {
    let attempt = tdd.attempt;
    let _ = tc.reports.send(TaskReport::state(
        attempt,
        ExecutionState::Initializing,
        None,
        TaskCounters::default(),
    ));
    // Released however the task ends, also when it is cancelled (aborted).
    let mut inputs = ReleaseOnDrop {
        net: tc.net.clone(),
        keys: Vec::new(),
    };
    let (outcome, counters) = match StreamTask::setup(&tdd, &tc, &mut inputs.keys).await {
        Ok(mut runner) => {
            let r = runner.run(&tdd, &mut tc.control).await;
            (r, runner.counters)
        }
        Err(e) => (Err(e), TaskCounters::default()),
    };
    drop(inputs);
    let (state, cause) = match outcome {
        Ok(()) => (ExecutionState::Finished, None),
        Err(cause) => (ExecutionState::Failed, Some(cause.to_string())),
    };
    let _ = tc
        .reports
        .send(TaskReport::state(attempt, state, cause, counters));
}

/// Forgets a task's input channels when dropped, so buffers still on their
/// way for a cancelled task are dropped rather than kept.
struct ReleaseOnDrop {
    net: Arc<NetworkEnvironment>,
    keys: Vec<ChannelKey>,
}

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        self.net.release(&self.keys);
    }
}
