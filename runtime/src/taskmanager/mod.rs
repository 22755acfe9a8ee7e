//! The TaskManager: a worker process that offers task slots, runs the tasks
//! deployed into them, and exchanges their data with other TaskManagers.
//!
//! The layout follows Flink's packages: `flink-runtime`'s `taskexecutor`
//! (the TaskExecutor and its slot table), `taskmanager` (the `Task`) and
//! `io/network` (the shuffle), and `flink-streaming-java`'s `runtime/tasks`
//! (the `StreamTask`, its `OperatorChain` and operators).
//!
//! | module | Flink class | what it does |
//! |---|---|---|
//! | [`task_executor`] | `TaskExecutor` | session with the ResourceManager; slots; deploy and cancel tasks |
//! | [`registration`] | `TaskExecutorToResourceManagerConnection` | find the leader, connect, register; `Declined` waits |
//! | [`slot_table`] | `TaskSlotTable`, `TaskSlot` | which slot belongs to which job, with its lifecycle |
//! | [`task`] | `Task`, `StreamTask`, `OperatorChain`, `StreamOperator`, `CheckpointBarrierHandler` | one subtask's loop |
//! | [`network`] | `NettyShuffleEnvironment`, `ResultPartition`, `RecordWriter`, `InputGate`, channels | the data plane |
//!
//! - **In**: a [`crate::config::TaskManagerConfig`]; messages from the
//!   JobManager; data connections from other TaskManagers.
//! - **Out**: registration, heartbeats, slot offers, task states and
//!   checkpoint acknowledgements to the JobManager; data to other
//!   TaskManagers; events.

pub mod network;
pub mod registration;
pub mod slot_table;
pub mod task;
pub mod task_executor;

pub use task_executor::{TaskManagerError, run_taskmanager};
