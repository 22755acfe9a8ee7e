//! Checkpoint storage: where completed checkpoints and savepoints live.
//!
//! Flink writes checkpoints to a durable file system (`state.checkpoints.dir`,
//! S3, HDFS) so that they outlive the processes that took them. Here a
//! [`CheckpointStorage`] is a small key-value interface: a directory for
//! real processes ([`DirStorage`]), and an in-memory map shared by all
//! simulated hosts ([`MemoryStorage`]), which plays the durable file system
//! that survives any host crash.

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Durable storage of checkpoint and savepoint files.
pub trait CheckpointStorage: Send + Sync + 'static {
    /// Writes a file (replacing it).
    fn write(&self, path: &str, bytes: &[u8]) -> io::Result<()>;
    /// Reads a file.
    fn read(&self, path: &str) -> io::Result<Vec<u8>>;
    /// Where a path is, for people ("/tmp/ckpt/savepoints/x" or "mem://...").
    fn describe(&self, path: &str) -> String;
    /// Removes a file (a checkpoint superseded by a newer one).
    fn delete(&self, path: &str) -> io::Result<()>;
}

/// Storage in memory, shared by clones (the simulator's durable store).
#[derive(Debug, Clone, Default)]
pub struct MemoryStorage {
    files: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
}

impl MemoryStorage {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
    /// Every path stored, in order.
    pub fn paths(&self) -> Vec<String> {
        self.files
            .lock()
            .map(|f| f.keys().cloned().collect())
            .unwrap_or_default()
    }
}

impl CheckpointStorage for MemoryStorage {
    fn write(&self, path: &str, bytes: &[u8]) -> io::Result<()> {
        self.files
            .lock()
            .map_err(|_| io::Error::other("storage lock poisoned"))?
            .insert(path.to_string(), bytes.to_vec());
        Ok(())
    }
    fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        self.files
            .lock()
            .map_err(|_| io::Error::other("storage lock poisoned"))?
            .get(path.trim_start_matches("mem://"))
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no file {path}")))
    }
    fn describe(&self, path: &str) -> String {
        format!("mem://{path}")
    }
    fn delete(&self, path: &str) -> io::Result<()> {
        self.files
            .lock()
            .map_err(|_| io::Error::other("storage lock poisoned"))?
            .remove(path.trim_start_matches("mem://"));
        Ok(())
    }
}

/// Storage in a directory (real processes; `--checkpoint-dir`).
#[derive(Debug, Clone)]
pub struct DirStorage {
    root: PathBuf,
}

impl DirStorage {
    /// Storage under `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirStorage { root: root.into() }
    }

    fn full(&self, path: &str) -> PathBuf {
        let p = std::path::Path::new(path);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.root.join(path)
        }
    }
}

impl CheckpointStorage for DirStorage {
    fn write(&self, path: &str, bytes: &[u8]) -> io::Result<()> {
        let full = self.full(path);
        if let Some(dir) = full.parent() {
            std::fs::create_dir_all(dir)?;
        }
        // Write, sync, then rename, so a crash never leaves half a checkpoint.
        let tmp = full.with_extension("tmp");
        {
            use std::io::Write as _;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &full)
    }
    fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        std::fs::read(self.full(path))
    }
    fn describe(&self, path: &str) -> String {
        self.full(path).display().to_string()
    }
    fn delete(&self, path: &str) -> io::Result<()> {
        std::fs::remove_file(self.full(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What is written can be read back, in both stores.
    #[test]
    fn write_then_read() {
        let m = MemoryStorage::new();
        m.write("savepoints/a", b"xyz").unwrap();
        assert_eq!(m.read("savepoints/a").unwrap(), b"xyz");
        assert_eq!(m.read("mem://savepoints/a").unwrap(), b"xyz");
        assert!(m.read("nope").is_err());
        let dir = std::env::temp_dir().join(format!("mini-flink-storage-{}", std::process::id()));
        let d = DirStorage::new(&dir);
        d.write("checkpoints/j/chk-1", b"abc").unwrap();
        assert_eq!(d.read("checkpoints/j/chk-1").unwrap(), b"abc");
        let _ = std::fs::remove_dir_all(dir);
    }
}
