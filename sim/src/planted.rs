//! Planted bugs: checkpoint storage that lies, on purpose, so that a fault
//! campaign has something to find (`[debug] planted_bug` in a scenario).
//!
//! In Flink a completed checkpoint is only as good as what reached the
//! durable store (`state.checkpoints.dir`): a JobManager that acknowledged
//! a checkpoint before its state was stored would recover, after a
//! failover, from state that does not match the output its sinks
//! committed. [`PlantedStorage`] plays that: it stores each checkpoint with
//! the state (or the committed output) of the checkpoint before. A new
//! leader reads it back, and the campaign's verdict must call the run
//! invalid. Only the simulator reads the switch; no course scenario sets it.

use crate::scenario::PlantedBug;
use runtime::jobmanager::checkpoint::snapshot::StoredCheckpoint;
use runtime::jobmanager::checkpoint::storage::{CheckpointStorage, MemoryStorage, seal, unseal};
use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex};

/// The simulator's checkpoint storage with a bug planted in its writes.
#[derive(Debug, Clone)]
pub struct PlantedStorage {
    inner: MemoryStorage,
    bug: PlantedBug,
    /// The last checkpoint written per job directory, as it was meant.
    previous: Arc<Mutex<BTreeMap<String, StoredCheckpoint>>>,
}

impl PlantedStorage {
    /// `inner` with `bug` planted.
    pub fn new(inner: MemoryStorage, bug: PlantedBug) -> Self {
        PlantedStorage {
            inner,
            bug,
            previous: Arc::default(),
        }
    }
}

impl CheckpointStorage for PlantedStorage {
    fn write(&self, path: &str, bytes: &[u8]) -> io::Result<()> {
        let dir = match path.rsplit_once("/chk-") {
            Some((dir, _)) if path.starts_with("checkpoints/") => dir.to_string(),
            _ => return self.inner.write(path, bytes),
        };
        let Some(meant) = unseal(bytes)
            .ok()
            .and_then(|p| runtime::net::frame::decode::<StoredCheckpoint>(p).ok())
        else {
            return self.inner.write(path, bytes);
        };
        let mut previous = self
            .previous
            .lock()
            .map_err(|_| io::Error::other("planted storage lock poisoned"))?;
        let mut stored = meant.clone();
        if let Some(before) = previous.get(&dir) {
            match self.bug {
                PlantedBug::StaleState => stored.states = before.states.clone(),
                PlantedBug::StaleCommit => stored.committed = before.committed.clone(),
            }
        }
        previous.insert(dir, meant);
        self.inner
            .write(path, &seal(&runtime::net::frame::encode(&stored)))
    }
    fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        self.inner.read(path)
    }
    fn describe(&self, path: &str) -> String {
        self.inner.describe(path)
    }
    fn delete(&self, path: &str) -> io::Result<()> {
        self.inner.delete(path)
    }
}
