//! The faults the simulator injects, and the control actions of a
//! scenario's timeline, as the event stream records them
//! ([`super::EventKind::FaultInjected`]).
//!
//! A leaf of [`crate::events`]: [`super::event`] carries these values and
//! this module imports nothing of it.

use serde::{Deserialize, Serialize};

/// A fault the simulator injected (or a control action of its timeline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// A host's process was killed.
    Crash {
        /// The host.
        host: String,
    },
    /// "Crash the busiest TaskManager", when none holds a slot: nothing crashes.
    NoBusiestTaskManager,
    /// A crashed host's process was started again (or a running one bounced).
    Restart {
        /// The host.
        host: String,
    },
    /// A new TaskManager host was started (an operator adding a machine).
    StartTaskManager {
        /// The host.
        host: String,
    },
    /// The network between two hosts was cut.
    Partition {
        /// One side.
        a: String,
        /// The other side.
        b: String,
    },
    /// A cut link was healed.
    Repair {
        /// One side.
        a: String,
        /// The other side.
        b: String,
    },
    /// The latency of a link was set.
    Delay {
        /// One side.
        a: String,
        /// The other side.
        b: String,
        /// The latency (ms).
        ms: u64,
    },
    /// A job was cancelled.
    CancelJob {
        /// The job's name.
        job: String,
    },
    /// A savepoint of a job was asked for.
    Savepoint {
        /// The job's name.
        job: String,
    },
    /// A job was stopped with a savepoint.
    StopWithSavepoint {
        /// The job's name.
        job: String,
    },
    /// The next `writes` writes to checkpoint storage fail.
    StorageWritesFail {
        /// How many.
        writes: u32,
    },
    /// The next `writes` checkpoints take `ms` each to be written.
    StorageWritesSlow {
        /// How many.
        writes: u32,
        /// How long each write takes (ms).
        ms: u64,
    },
    /// A file in checkpoint storage was damaged ("flip": a byte flipped,
    /// "tear": cut short).
    StorageDamaged {
        /// Which file.
        path: String,
        /// How.
        damage: String,
    },
}
