//! Identifiers shared by every component (Flink's `ResourceID`,
//! `AllocationID`, the checkpoint id, the leader's fencing token, a
//! subtask's index and its `ExecutionVertexID`), as newtypes so that one is
//! never passed for another.
//!
//! A leaf: the gateways ([`crate::rpc`]), the event stream
//! ([`crate::events`]) and the roles import these; they import nothing.
//! Job and vertex ids live with the graphs ([`crate::graph`]).

use serde::{Deserialize, Serialize};
use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

/// A TaskManager's identity (Flink's `ResourceID`); its host name here.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ResourceId(String);

impl ResourceId {
    /// The id of a TaskManager with this name.
    pub fn new(name: impl Into<String>) -> Self {
        ResourceId(name.into())
    }
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for ResourceId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for ResourceId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ResourceId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<String> for ResourceId {
    fn from(s: String) -> Self {
        ResourceId(s)
    }
}

impl From<&str> for ResourceId {
    fn from(s: &str) -> Self {
        ResourceId(s.to_string())
    }
}

impl From<&String> for ResourceId {
    fn from(s: &String) -> Self {
        ResourceId(s.clone())
    }
}

impl PartialEq<str> for ResourceId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for ResourceId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for ResourceId {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One slot allocation (Flink's `AllocationID`), from a counter on the
/// ResourceManager; printed `alloc-N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AllocationId(pub u64);

impl fmt::Display for AllocationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "alloc-{}", self.0)
    }
}

/// An allocation id that is not `alloc-N`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an allocation id (alloc-N)")]
pub struct BadAllocationId(String);

impl FromStr for AllocationId {
    type Err = BadAllocationId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.strip_prefix("alloc-")
            .and_then(|n| n.parse().ok())
            .map(AllocationId)
            .ok_or_else(|| BadAllocationId(s.to_string()))
    }
}

/// A leader's fencing token: an epoch that grows with every newly elected
/// JobManager (Flink's `JobMasterId`/`ResourceManagerId` fencing and
/// ZooKeeper's epoch). Messages stamped with an older token come from a
/// deposed leader and are refused. 0 means: no high availability.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct FencingToken(pub u64);

impl FencingToken {
    /// The token of a cluster without high availability.
    pub const NONE: FencingToken = FencingToken(0);

    /// The token of the leader elected after this one.
    pub fn next(self) -> FencingToken {
        FencingToken(self.0 + 1)
    }
}

impl fmt::Display for FencingToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A checkpoint's id (Flink's `checkpointId`): 1, 2, 3, … per job, going on
/// from the checkpoint a job was restored from. Savepoints take ids from the
/// same sequence.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct CheckpointId(pub u64);

impl CheckpointId {
    /// The id after this one.
    pub fn next(self) -> CheckpointId {
        CheckpointId(self.0 + 1)
    }
}

impl fmt::Display for CheckpointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A subtask's index within its job vertex, `0..parallelism` (Flink's
/// `subtaskIndex`); printed as the bare number. Subtask `k` of every chain in
/// a slot sharing group runs in the group's slot `k`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SubtaskIndex(pub u32);

impl SubtaskIndex {
    /// Every subtask of a vertex with this parallelism, in order.
    pub fn all(parallelism: u32) -> impl Iterator<Item = SubtaskIndex> {
        (0..parallelism).map(SubtaskIndex)
    }
}

impl fmt::Display for SubtaskIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One subtask of one job vertex (Flink's `ExecutionVertexID`): what the
/// JobMaster keys its executions by, and a checkpoint its subtask states.
/// It outlives attempts: a restart makes a new `Execution` of the same
/// vertex. Printed as Flink prints it, `vertex_subtask` (`2_0`). Ordered by
/// vertex, then subtask; encoded (postcard) exactly as the pair
/// `(vertex, subtask)` it replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ExecutionVertexId {
    /// The job vertex: its index in the JobGraph (declaration order).
    pub vertex: u32,
    /// The subtask, `0..parallelism`.
    pub subtask: SubtaskIndex,
}

impl ExecutionVertexId {
    /// Subtask `subtask` of job vertex `vertex`.
    pub fn new(vertex: u32, subtask: u32) -> Self {
        ExecutionVertexId {
            vertex,
            subtask: SubtaskIndex(subtask),
        }
    }

    /// The job vertex's index, for indexing the JobGraph.
    pub fn vertex_index(&self) -> usize {
        self.vertex as usize
    }
}

impl fmt::Display for ExecutionVertexId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.vertex, self.subtask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Allocation ids read back what they print.
    #[test]
    fn allocation_ids_round_trip() {
        let a = AllocationId(7);
        assert_eq!(a.to_string().parse::<AllocationId>(), Ok(a));
        assert!("7".parse::<AllocationId>().is_err());
    }

    /// A resource id compares with the name it wraps.
    #[test]
    fn resource_ids_compare_with_names() {
        let r = ResourceId::from("taskmanager-1");
        assert!(r == "taskmanager-1");
        assert_eq!(r.as_str(), "taskmanager-1");
    }

    /// An execution vertex id prints as Flink's `vertex_subtask`, and
    /// encodes on the wire and in checkpoint files as the pair it replaced.
    #[test]
    fn execution_vertex_ids_print_and_encode_like_pairs() {
        let id = ExecutionVertexId::new(2, 1);
        assert_eq!(id.to_string(), "2_1");
        assert_eq!(
            postcard::to_allocvec(&id).ok(),
            postcard::to_allocvec(&(2u32, 1u32)).ok()
        );
        assert!(ExecutionVertexId::new(1, 5) < ExecutionVertexId::new(2, 0));
    }
}
