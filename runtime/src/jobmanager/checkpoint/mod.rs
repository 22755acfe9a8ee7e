//! Checkpoints on the JobManager's side (Flink's
//! `org.apache.flink.runtime.checkpoint` and `state` packages).
//!
//! - [`coordinator`]: the `CheckpointCoordinator` of one job: triggers
//!   barriers, collects acknowledgements, completes and stores checkpoints.
//! - [`snapshot`]: what a checkpoint holds: each subtask's `TaskSnapshot`,
//!   and the `StoredCheckpoint` written to storage.
//! - [`stats`]: checkpoint statistics for the REST API (counts, history).
//! - [`storage`]: where completed checkpoints and savepoints live (a
//!   directory, or memory in the simulator).
//!
//! The TaskManager side (barriers passing through tasks, alignment,
//! snapshots of operator state) is in [`crate::taskmanager`].

pub mod coordinator;
pub mod snapshot;
pub mod stats;
pub mod storage;
