//! Snapshots: what a checkpoint holds (Flink's `TaskStateSnapshot`,
//! `OperatorSubtaskState` and the checkpoint metadata file).
//!
//! On a checkpoint barrier each task records its chained operators' state
//! (keyed state, windows) and, for a source, its read position (offset):
//! a [`TaskSnapshot`], encoded and sent to the JobMaster's
//! [`CheckpointCoordinator`](super::coordinator::CheckpointCoordinator) in
//! the acknowledgement. A completed checkpoint is written to checkpoint
//! storage as a [`StoredCheckpoint`]: every subtask's snapshot plus what the
//! sinks had committed, which is what a restart, a savepoint resume and a
//! new leader read back.

use crate::ids::{CheckpointId, ExecutionVertexId};
use crate::operators::Value;
use serde::{Deserialize, Serialize};

/// State of one operator in a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorSnapshot {
    /// A source's next offset (the record it will emit next).
    pub source_offset: Option<u64>,
    /// Keyed state: key → accumulator.
    pub keyed: Vec<(Value, i64)>,
    /// Window state: window start → key → count.
    pub windows: Vec<(u64, Vec<(Value, i64)>)>,
}

/// One subtask's part of a checkpoint: its chained operators' states.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSnapshot {
    /// One per chained operator, in chain order.
    pub operators: Vec<OperatorSnapshot>,
    /// Unaligned checkpoints: records that were in flight towards this task
    /// when it snapshotted (received after its first barrier on channels
    /// whose barrier had not arrived); processed first on restore.
    #[serde(default)]
    pub input_channel_state: Vec<Value>,
    /// Unaligned checkpoints: records the barrier overtook in this task's
    /// output buffers, per (edge, consumer subtask); sent first on restore.
    #[serde(default)]
    pub output_channel_state: Vec<(u32, u32, Vec<Value>)>,
}

impl TaskSnapshot {
    /// Encodes for the wire and for storage.
    pub fn encode(&self) -> Vec<u8> {
        crate::net::frame::encode(self)
    }
    /// Decodes; `None` on corrupt bytes.
    pub fn decode(bytes: &[u8]) -> Option<TaskSnapshot> {
        crate::net::frame::decode(bytes).ok()
    }
}

/// A completed checkpoint or savepoint as written to checkpoint storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCheckpoint {
    /// The job's name.
    pub job_name: String,
    /// Checkpoint id.
    pub id: CheckpointId,
    /// Whether it is a savepoint.
    pub savepoint: bool,
    /// The job vertices it has state for: (id, parallelism), in vertex order.
    pub vertices: Vec<(crate::graph::JobVertexId, u32)>,
    /// Each subtask's encoded [`TaskSnapshot`], by subtask (encoded as the
    /// pair (vertex index, subtask), as files written before it was a type).
    pub states: Vec<(ExecutionVertexId, Vec<u8>)>,
    /// The sinks' output committed up to this checkpoint (what a new
    /// leader shows as the job's result so far).
    pub committed: Vec<Value>,
}

/// Why a checkpoint's state does not fit a job graph.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateMismatch {
    /// A different number of job vertices.
    #[error("the savepoint has state for {stored} job vertices, the job has {job}")]
    VertexCount {
        /// Vertices in the checkpoint.
        stored: usize,
        /// Vertices in the job.
        job: usize,
    },
    /// A job vertex whose id is not in the checkpoint.
    #[error(
        "job vertex {number} (\"{name}\") is not in the savepoint (its operators or their ids changed)"
    )]
    MissingVertex {
        /// 1-based position of the vertex.
        number: usize,
        /// Its name.
        name: String,
    },
    /// Same vertex, other parallelism.
    #[error(
        "job vertex \"{name}\" has parallelism {job}, the savepoint was taken at {stored} (rescaling is not supported)"
    )]
    Parallelism {
        /// The vertex.
        name: String,
        /// Its parallelism in the job.
        job: u32,
        /// Its parallelism in the checkpoint.
        stored: u32,
    },
}

impl StoredCheckpoint {
    /// Whether this state fits a job graph: same chains, same parallelism.
    pub fn check_fits(&self, jg: &crate::graph::JobGraph) -> Result<(), StateMismatch> {
        let want: Vec<(crate::graph::JobVertexId, u32)> =
            jg.vertices().map(|v| (v.id, v.parallelism)).collect();
        if want.len() != self.vertices.len() {
            return Err(StateMismatch::VertexCount {
                stored: self.vertices.len(),
                job: want.len(),
            });
        }
        for (i, ((a, pa), (b, pb))) in want.iter().zip(&self.vertices).enumerate() {
            if a != b {
                return Err(StateMismatch::MissingVertex {
                    number: i + 1,
                    name: jg.vertex(i).name.clone(),
                });
            }
            if pa != pb {
                return Err(StateMismatch::Parallelism {
                    name: jg.vertex(i).name.clone(),
                    job: *pa,
                    stored: *pb,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Snapshots survive the wire.
    #[test]
    fn snapshot_round_trip() {
        let s = TaskSnapshot {
            operators: vec![OperatorSnapshot {
                source_offset: Some(42),
                keyed: vec![(Value::Str("to".into()), 3)],
                windows: vec![],
            }],
            input_channel_state: vec![Value::Int(1)],
            output_channel_state: vec![(0, 1, vec![Value::Int(2)])],
        };
        assert_eq!(TaskSnapshot::decode(&s.encode()), Some(s));
    }
}
