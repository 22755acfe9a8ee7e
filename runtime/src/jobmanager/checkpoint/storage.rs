//! Checkpoint storage: where completed checkpoints and savepoints live.
//!
//! Flink writes checkpoints to a durable file system (`state.checkpoints.dir`,
//! S3, HDFS) so that they outlive the processes that took them. Here a
//! [`CheckpointStorage`] is a small key-value interface: a directory for
//! real processes ([`DirStorage`]), and an in-memory map shared by all
//! simulated hosts ([`MemoryStorage`]), which plays the durable file system
//! that survives any host crash.
//!
//! Every file is *sealed* ([`seal`]): a header with a magic number, the
//! payload's length and its CRC-32, so that a torn write (a file cut short)
//! or a corrupted one is recognised when it is read ([`unseal`], [`load`])
//! instead of being restored from. A directory writes through a temporary
//! file, fsyncs it, renames it into place and fsyncs the directory, so a
//! crash leaves the old file or the new one, never half of one.
//!
//! The simulator's store can be broken on purpose
//! ([`MemoryStorage::corrupt`], [`MemoryStorage::fail_writes`]), to show
//! (and test) what a JobManager does with a checkpoint it cannot trust.

use super::snapshot::StoredCheckpoint;
use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The first bytes of every checkpoint and savepoint file.
pub const MAGIC: [u8; 4] = *b"MFCK";

/// Header: magic, payload length (u64, big-endian), CRC-32 of the payload.
pub const HEADER: usize = 4 + 8 + 4;

/// Why a stored file cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Corrupt {
    /// Too short for a header, or another kind of file.
    #[error("it is not a mini-flink checkpoint file (no `MFCK` header)")]
    NoHeader,
    /// Shorter (or longer) than its header says: a torn write.
    #[error("it is torn: {have} bytes of the {want} its header announces")]
    Torn {
        /// Payload bytes present.
        have: u64,
        /// Payload bytes announced.
        want: u64,
    },
    /// The bytes are not the ones written.
    #[error("its checksum does not match (CRC-32 {stored:08x} stored, {actual:08x} read)")]
    Checksum {
        /// The CRC in the header.
        stored: u32,
        /// The CRC of what was read.
        actual: u32,
    },
}

/// The payload with its header.
pub fn seal(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&(payload.len() as u64).to_be_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// The payload of a sealed file, once its length and checksum match.
pub fn unseal(bytes: &[u8]) -> Result<&[u8], Corrupt> {
    if bytes.len() < HEADER || bytes[..4] != MAGIC {
        return Err(Corrupt::NoHeader);
    }
    let want = u64::from_be_bytes(bytes[4..12].try_into().map_err(|_| Corrupt::NoHeader)?);
    let stored = u32::from_be_bytes(bytes[12..16].try_into().map_err(|_| Corrupt::NoHeader)?);
    let payload = &bytes[HEADER..];
    if payload.len() as u64 != want {
        return Err(Corrupt::Torn {
            have: payload.len() as u64,
            want,
        });
    }
    let actual = crc32fast::hash(payload);
    if actual != stored {
        return Err(Corrupt::Checksum { stored, actual });
    }
    Ok(payload)
}

/// Why a checkpoint could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Unreadable {
        /// Where.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// The file is damaged.
    #[error("{path} is damaged: {source}")]
    Corrupt {
        /// Where.
        path: String,
        /// How.
        source: Corrupt,
    },
    /// The file is intact but holds no checkpoint.
    #[error("{path} is not a checkpoint or savepoint: {source}")]
    NotACheckpoint {
        /// Where.
        path: String,
        /// Why.
        source: crate::net::frame::WireError,
    },
}

impl LoadError {
    /// Why, without the path (for a message that names it already).
    pub fn reason(&self) -> String {
        match self {
            LoadError::Unreadable { source, .. } => source.to_string(),
            LoadError::Corrupt { source, .. } => format!("it is damaged: {source}"),
            LoadError::NotACheckpoint { source, .. } => {
                format!("it is not a checkpoint or savepoint: {source}")
            }
        }
    }
}

/// Writes a checkpoint or savepoint, sealed.
pub fn store(
    storage: &dyn CheckpointStorage,
    path: &str,
    checkpoint: &StoredCheckpoint,
) -> io::Result<()> {
    storage.write(path, &seal(&crate::net::frame::encode(checkpoint)))
}

/// Reads a checkpoint or savepoint and checks it.
pub fn load(storage: &dyn CheckpointStorage, path: &str) -> Result<StoredCheckpoint, LoadError> {
    let described = || storage.describe(path.trim_start_matches("mem://"));
    let bytes = storage.read(path).map_err(|source| LoadError::Unreadable {
        path: described(),
        source,
    })?;
    let payload = unseal(&bytes).map_err(|source| LoadError::Corrupt {
        path: described(),
        source,
    })?;
    crate::net::frame::decode(payload).map_err(|source| LoadError::NotACheckpoint {
        path: described(),
        source,
    })
}

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
    /// How long (ms) the next checkpoint's write takes before it is
    /// durable; asked once per checkpoint. Real storage writes at once
    /// (its real time passes while it does); the simulator's may be slow.
    fn write_delay_ms(&self) -> u64 {
        0
    }
}

/// Storage in memory, shared by clones (the simulator's durable store).
#[derive(Debug, Clone, Default)]
pub struct MemoryStorage {
    files: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
    /// Writes still to fail (a full or broken disk).
    failing_writes: Arc<Mutex<u32>>,
    /// Checkpoint writes still to be slow, and how slow (ms).
    slow_writes: Arc<Mutex<(u32, u64)>>,
}

/// How [`MemoryStorage::corrupt`] damages a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    /// One byte of the payload flipped (bit rot, a bad disk).
    Flip,
    /// Half its payload cut off (a write torn by a crash).
    Tear,
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
    /// Damages a stored file; whether there was one.
    pub fn corrupt(&self, path: &str, damage: Damage) -> bool {
        let Ok(mut files) = self.files.lock() else {
            return false;
        };
        let Some(bytes) = files.get_mut(path.trim_start_matches("mem://")) else {
            return false;
        };
        match damage {
            Damage::Flip => {
                let i = bytes.len().saturating_sub(1).max(HEADER.min(bytes.len()));
                if let Some(b) = bytes.get_mut(i) {
                    *b ^= 0x5A;
                }
            }
            Damage::Tear => {
                let keep = if bytes.len() > HEADER {
                    HEADER + (bytes.len() - HEADER) / 2
                } else {
                    bytes.len() / 2
                };
                bytes.truncate(keep);
            }
        }
        true
    }
    /// Makes the next `n` writes fail.
    pub fn fail_writes(&self, n: u32) {
        if let Ok(mut f) = self.failing_writes.lock() {
            *f = n;
        }
    }
    /// Makes the next `n` checkpoint writes take `ms` each (a slow or
    /// overloaded disk, a distant object store).
    pub fn slow_writes(&self, n: u32, ms: u64) {
        if let Ok(mut f) = self.slow_writes.lock() {
            *f = (n, ms);
        }
    }
}

impl CheckpointStorage for MemoryStorage {
    fn write(&self, path: &str, bytes: &[u8]) -> io::Result<()> {
        if let Ok(mut f) = self.failing_writes.lock()
            && *f > 0
        {
            *f -= 1;
            return Err(io::Error::other(
                "injected storage failure: the write failed",
            ));
        }
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
    fn write_delay_ms(&self) -> u64 {
        match self.slow_writes.lock() {
            Ok(mut f) if f.0 > 0 => {
                f.0 -= 1;
                f.1
            }
            _ => 0,
        }
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
        std::fs::rename(&tmp, &full)?;
        // The rename itself is durable once the directory is synced.
        if let Some(dir) = full.parent()
            && let Ok(d) = std::fs::File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(())
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

    /// A sealed file opens; one cut short, with a flipped byte, or of
    /// another kind says which.
    #[test]
    fn sealed_files() {
        let sealed = seal(b"state");
        assert_eq!(unseal(&sealed), Ok(&b"state"[..]));
        assert_eq!(
            unseal(&sealed[..sealed.len() - 2]),
            Err(Corrupt::Torn { have: 3, want: 5 })
        );
        let mut flipped = sealed.clone();
        flipped[HEADER + 1] ^= 1;
        assert!(matches!(unseal(&flipped), Err(Corrupt::Checksum { .. })));
        assert_eq!(unseal(b"postcard bytes"), Err(Corrupt::NoHeader));
        assert_eq!(unseal(b""), Err(Corrupt::NoHeader));
        assert!(unseal(&seal(b"")).is_ok());
    }

    /// A checkpoint written is loaded back; damaged, it is refused with
    /// the reason, and a failing write fails.
    #[test]
    fn store_load_and_damage() {
        let m = MemoryStorage::new();
        let c = StoredCheckpoint {
            job_name: "j".into(),
            id: crate::ids::CheckpointId(3),
            savepoint: false,
            vertices: vec![],
            states: vec![],
            committed: vec![crate::operators::Value::Int(7)],
        };
        store(&m, "checkpoints/j/chk-3", &c).unwrap();
        assert_eq!(load(&m, "checkpoints/j/chk-3").unwrap(), c);
        assert!(m.corrupt("mem://checkpoints/j/chk-3", Damage::Flip));
        let e = load(&m, "checkpoints/j/chk-3").unwrap_err().to_string();
        assert!(
            e.contains("mem://checkpoints/j/chk-3 is damaged: its checksum"),
            "{e}"
        );
        store(&m, "checkpoints/j/chk-3", &c).unwrap();
        m.corrupt("checkpoints/j/chk-3", Damage::Tear);
        let e = load(&m, "checkpoints/j/chk-3").unwrap_err().to_string();
        assert!(e.contains("torn"), "{e}");
        m.fail_writes(1);
        assert!(store(&m, "x", &c).is_err());
        assert!(store(&m, "x", &c).is_ok());
        assert!(matches!(
            load(&m, "nope"),
            Err(LoadError::Unreadable { .. })
        ));
    }
}
