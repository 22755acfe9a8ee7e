//! What a REST answer reads and changes (the context Flink's handlers
//! get from their `RestfulGateway`): the roles of the JobManager, borrowed
//! for one answer, and the REST endpoint's own state.
//!
//! A leaf of [`rest`](super): every answer module imports it.
//!
//! In: borrowed roles and clock. Out: lookups (a job by its URL id) and
//! Flink's epoch timestamps.

use super::{RestConfig, RestReply};
use crate::graph::JobId;
use crate::ids::CheckpointId;
use crate::jobmanager::dispatcher::Dispatcher;
use crate::jobmanager::jobmaster::JobMaster;
use crate::jobmanager::resourcemanager::ResourceManager;
use std::collections::BTreeMap;

/// The REST endpoint's own state, kept by the event loop: what the roles
/// do not hold.
#[derive(Debug, Default)]
pub struct RestStore {
    /// Uploaded job files by jar id, in upload order.
    pub jars: BTreeMap<String, UploadedJar>,
    /// Savepoint triggers by request id.
    pub triggers: BTreeMap<String, SavepointTrigger>,
    /// Checkpoint triggers by request id.
    pub checkpoint_triggers: BTreeMap<String, CheckpointTrigger>,
    /// Uploads and triggers so far (their ids count up).
    pub counter: u64,
}

impl RestStore {
    /// A new deterministic id (32 hex digits, as Flink's `TriggerId`):
    /// the hash of the counter, what it names and what it is about (the
    /// same hash as the graphs' ids), so the simulator replays them.
    pub fn next_id(&mut self, what: &str, about: &str) -> String {
        self.counter += 1;
        JobId::from_parts(&["rest", what, about, &self.counter.to_string()]).to_string()
    }
}

/// A job file uploaded through `POST /jars/upload`.
#[derive(Debug, Clone)]
pub struct UploadedJar {
    /// The file's name as uploaded.
    pub name: String,
    /// When it was uploaded (cluster ms).
    pub uploaded_ms: u64,
    /// Its contents.
    pub contents: Vec<u8>,
    /// The programs in it (`entry` in `GET /jars`): the job's name, or
    /// the application's.
    pub entry: Vec<String>,
}

/// A savepoint (or stop-with-savepoint) triggered over REST.
#[derive(Debug, Clone)]
pub struct SavepointTrigger {
    /// The job.
    pub job: JobId,
    /// How many savepoints the job had when it was triggered: the next is
    /// this trigger's.
    pub savepoints_before: usize,
    /// Stop the job after it.
    pub stop: bool,
}

/// A checkpoint triggered over REST (`POST /jobs/:jid/checkpoints`).
#[derive(Debug, Clone)]
pub struct CheckpointTrigger {
    /// The job.
    pub job: JobId,
    /// The job's next checkpoint id when it was triggered: its checkpoint
    /// is the first one from here that is not a savepoint.
    pub from: CheckpointId,
}

/// What an answer may read and change.
pub struct Roles<'a> {
    /// The Dispatcher, with every JobMaster.
    pub dispatcher: &'a mut Dispatcher,
    /// The ResourceManager.
    pub rm: &'a ResourceManager,
    /// The REST endpoint's state.
    pub store: &'a mut RestStore,
    /// The endpoint's settings.
    pub cfg: &'a RestConfig,
    /// Now, in cluster ms.
    pub now_ms: u64,
}

impl Roles<'_> {
    /// A cluster time as Flink's epoch milliseconds.
    pub fn epoch(&self, t: u64) -> i64 {
        i64::try_from(self.cfg.epoch_ms.saturating_add(t)).unwrap_or(i64::MAX)
    }
    /// An optional cluster time as epoch ms, or Flink's `-1` for "not yet".
    pub fn epoch_or_minus_one(&self, t: Option<u64>) -> i64 {
        t.map_or(-1, |t| self.epoch(t))
    }
    /// The JobMaster of the job named in a URL.
    pub fn job(&self, jid: &str) -> Result<&JobMaster, RestReply> {
        JobId::parse(jid)
            .and_then(|id| self.dispatcher.jobs.get(&id))
            .ok_or_else(|| RestReply::unknown_job(jid))
    }
}
