//! The cluster as the UI knows it: a fold of the event stream.
//!
//! Flink's web UI shows what the JobManager's REST API reports: the
//! TaskManagers and their slots, the jobs, their vertices and metrics. Here
//! all of that is one value, [`ClusterView`], built by folding
//! [`runtime::events::Event`]s one at a time with [`fold()`]. Nothing here reaches into the
//! runtime: a recorded trace folds to exactly the same view as a live run,
//! which is what makes replay and time travel possible (fold the first `n`
//! events again, and you see the cluster as it was after event `n`).
//!
//! The nouns are Flink's: a TaskManager offers task slots; the
//! ResourceManager's SlotManager allocates a slot to a job (an allocation);
//! the JobMaster deploys one subtask of each job vertex (operator chain)
//! into a slot (slot sharing), each an execution attempt with an
//! `ExecutionState`.
//!
//! | module | what it holds |
//! |---|---|
//! | [`view`] | [`ClusterView`]: TaskManagers and slots, jobs, vertices, subtasks |
//! | [`checkpoints`] | a job's checkpoint statistics and exception history |
//! | [`mod@fold`] | [`fold()`]: one event into the view, and which events are noise |

pub mod checkpoints;
pub mod fold;
pub mod view;

pub use checkpoints::{
    CheckpointRecord, CheckpointState, CheckpointStats, CompletedCheckpoint, ExceptionKind,
    ExceptionRecord,
};
pub use fold::{fold, fold_all, is_noise};
pub use view::{
    ChannelRate, ClusterView, JobView, SlotState, SlotTask, SlotView, SubtaskView, TaskManagerView,
    TmStatus, VertexView,
};

#[cfg(test)]
mod tests;
