//! What the attached app knows of its REST link: the poller's channels,
//! whether the last poll failed (stale), and the control waiting for `y`.
//!
//! A leaf of [`crate::attach`] that the app ([`crate::app`]) holds.

use super::source::{Attachment, Control};
use runtime::graph::JobId;

/// What the app knows of its REST link.
#[derive(Debug)]
pub struct AttachedState {
    /// The poller thread's channels.
    pub(crate) link: Attachment,
    /// Why the last poll failed, while polls fail: the screen shows the
    /// last good state, marked stale.
    pub stale: Option<String>,
    /// Successful polls so far.
    pub polls: u64,
    /// When the last poll succeeded (ms since attaching).
    pub last_poll_ms: u64,
    /// When the first poll was (what it found was there before).
    pub first_poll_ms: u64,
    /// What the last poll could not read (a job gone in between, …).
    pub warnings: Vec<String>,
    /// The JobManager's event stream (`GET /events`): `None` when the
    /// cluster serves none (Apache Flink: the log comes from polls), `Ok`
    /// while it streams, `Err` with why once it broke (polls carry the
    /// log until it is back).
    pub stream: Option<Result<(), String>>,
    /// Each job's duration (ms) at the last poll, as the JobManager said.
    pub durations: std::collections::BTreeMap<JobId, u64>,
    /// The control waiting for `y`: what, on which job (id, name).
    pub confirm: Option<(Control, JobId, String)>,
}

impl AttachedState {
    /// The REST address.
    pub fn url(&self) -> &str {
        &self.link.url
    }
    /// The poll interval (ms).
    pub fn refresh_ms(&self) -> u64 {
        self.link.refresh_ms
    }
    /// The cluster's `flink-version`.
    pub fn version(&self) -> Option<&str> {
        self.link.version.as_deref()
    }
}
