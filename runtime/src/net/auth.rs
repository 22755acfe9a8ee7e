//! The cluster secret: who may join, drive or read a cluster.
//!
//! Flink leaves this off by default (`security.ssl.internal.enabled`,
//! `security.ssl.rest.authentication-enabled` and a shared cookie are
//! opt-in); mini-flink turns it on by default. Every process of a cluster
//! knows one [`Secret`], read from a file only its owner can read (the
//! first JobManager or coordinator creates it, see [`load_or_create`]).
//! The secret never crosses the wire: each connection's handshake
//! ([`super::frame`]) exchanges fresh nonces and each side proves it knows
//! the secret with an HMAC-SHA256 over both nonces ([`Secret::proof`]),
//! checked in constant time. REST wants `Authorization: Bearer TOKEN`, the
//! token an HMAC of the secret too ([`Secret::rest_token`]), so it can be
//! shown and typed without giving the secret away.
//!
//! In the simulator the secret is drawn from the scenario's seed and the
//! nonces from each host's seeded generator ([`Auth::simulated`]): the same
//! handshake runs on virtual hosts, deterministically.
//!
//! In: a secret file (or a seed). Out: an [`Auth`] that the transport
//! seam ([`super::Network::auth`]) hands to every handshake.

use crate::rng::SeededRng;
use ring::hmac;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The environment variable naming the secret file (`--secret-file`).
pub const SECRET_FILE_ENV: &str = "MINI_FLINK_SECRET_FILE";

/// How long an accepted connection may take to prove itself before it is
/// dropped (a silent peer must not hold a connection slot).
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Length of a nonce, in bytes.
pub const NONCE_LEN: usize = 32;

/// Why the secret could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// No `--secret-file`, no `MINI_FLINK_SECRET_FILE`, and no home folder.
    #[error(
        "no place for the cluster secret: neither --secret-file, {SECRET_FILE_ENV}, \
         XDG_CONFIG_HOME nor HOME is set"
    )]
    NoDefaultPath,
    /// The file is missing (and this process does not create one).
    #[error(
        "no cluster secret at {0}: start the JobManager first on this machine, or copy its \
         secret file here and pass --secret-file PATH (or set {SECRET_FILE_ENV})"
    )]
    Missing(PathBuf),
    /// Reading or creating the file failed.
    #[error("cannot {what} the cluster secret {path}: {source}")]
    Io {
        /// "read", "create".
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Others may read the file: it is not a secret any more.
    #[error(
        "the cluster secret {path} is readable by others (mode {mode:o}): run `chmod 600 {path}`"
    )]
    TooOpen {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file holds too little to be a secret.
    #[error("the cluster secret {0} is empty or shorter than 16 characters")]
    TooShort(PathBuf),
}

/// A cluster's shared secret, as an HMAC key.
pub struct Secret {
    key: hmac::Key,
    /// Where it came from, for error messages ("/home/ada/.config/mini-flink/secret").
    source: String,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secret")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl Secret {
    /// A secret from its bytes; `source` says where it came from.
    pub fn from_bytes(bytes: &[u8], source: impl Into<String>) -> Secret {
        Secret {
            key: hmac::Key::new(hmac::HMAC_SHA256, bytes),
            source: source.into(),
        }
    }

    /// The simulator's secret: 32 bytes drawn from the scenario's seed.
    pub fn from_seed(seed: u64) -> Secret {
        let mut rng = SeededRng::new(seed ^ 0x5EC2_E7C1_u64);
        let bytes: Vec<u8> = (0..4).flat_map(|_| rng.next_u64().to_be_bytes()).collect();
        Secret::from_bytes(&bytes, "the simulation's seed")
    }

    /// Reads the secret file at `path` (which must exist and be private).
    pub fn load(path: &Path) -> Result<Secret, SecretError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(SecretError::Missing(path.to_path_buf()));
            }
            Err(source) => {
                return Err(SecretError::Io {
                    what: "read",
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path)
                .map_err(|source| SecretError::Io {
                    what: "read",
                    path: path.to_path_buf(),
                    source,
                })?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(SecretError::TooOpen {
                    path: path.to_path_buf(),
                    mode: mode & 0o777,
                });
            }
        }
        let text = text.trim();
        if text.len() < 16 {
            return Err(SecretError::TooShort(path.to_path_buf()));
        }
        Ok(Secret::from_bytes(
            text.as_bytes(),
            path.display().to_string(),
        ))
    }

    /// Where the secret came from (a path, or "the simulation's seed").
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The proof that the sender knows the secret: HMAC-SHA256 of `label`
    /// (which side is speaking) and the handshake's `transcript` (both
    /// hellos, with both nonces).
    pub fn proof(&self, label: &[u8], transcript: &[u8]) -> Vec<u8> {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(&(label.len() as u32).to_be_bytes());
        ctx.update(label);
        ctx.update(transcript);
        ctx.sign().as_ref().to_vec()
    }

    /// Checks a peer's proof, in constant time.
    pub fn verify(&self, label: &[u8], transcript: &[u8], proof: &[u8]) -> bool {
        let mut msg = Vec::with_capacity(4 + label.len() + transcript.len());
        msg.extend_from_slice(&(label.len() as u32).to_be_bytes());
        msg.extend_from_slice(label);
        msg.extend_from_slice(transcript);
        hmac::verify(&self.key, &msg, proof).is_ok()
    }

    /// The REST API's bearer token: an HMAC of a fixed label, in hex (32
    /// characters). Knowing it lets one drive the cluster over REST, not
    /// join it.
    pub fn rest_token(&self) -> String {
        let tag = hmac::sign(&self.key, b"mini-flink/1 rest-token");
        hex(&tag.as_ref()[..16])
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two byte strings in constant time (for tokens).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The secret file's default place, per user:
/// `$XDG_CONFIG_HOME/mini-flink/secret`, else `$HOME/.config/mini-flink/secret`.
pub fn default_secret_path() -> Result<PathBuf, SecretError> {
    let nonempty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(x) = nonempty("XDG_CONFIG_HOME") {
        return Ok(PathBuf::from(x).join("mini-flink").join("secret"));
    }
    match nonempty("HOME") {
        Some(h) => Ok(PathBuf::from(h)
            .join(".config")
            .join("mini-flink")
            .join("secret")),
        None => Err(SecretError::NoDefaultPath),
    }
}

/// The secret file to use: `explicit` (`--secret-file`), else
/// `MINI_FLINK_SECRET_FILE`, else [`default_secret_path`].
pub fn secret_path(explicit: Option<&Path>) -> Result<PathBuf, SecretError> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    match std::env::var_os(SECRET_FILE_ENV).filter(|v| !v.is_empty()) {
        Some(p) => Ok(PathBuf::from(p)),
        None => default_secret_path(),
    }
}

/// Reads the secret at `path`, creating a fresh random one first if there
/// is none; `true` when this call created it.
///
/// Creation is race-free: many JobManagers started at once (parallel
/// tests) each write a complete private temporary file beside `path` and
/// `hard_link` it into place, which fails for all but the first; every one
/// then reads whichever won. A reader never sees a half-written secret.
pub fn load_or_create(path: &Path) -> Result<(Secret, bool), SecretError> {
    match Secret::load(path) {
        Ok(s) => return Ok((s, false)),
        Err(SecretError::Missing(_)) => {}
        Err(e) => return Err(e),
    }
    let created = create(path).map_err(|source| SecretError::Io {
        what: "create",
        path: path.to_path_buf(),
        source,
    })?;
    Ok((Secret::load(path)?, created))
}

fn create(path: &Path) -> io::Result<bool> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)?;
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| io::Error::other("the OS gave no random bytes"))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "secret".into());
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        hex(&bytes[..4])
    ));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let written = opts.open(&tmp).and_then(|mut f| {
        f.write_all(format!("{}\n", hex(&bytes)).as_bytes())?;
        f.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Where a host's nonces come from.
enum Nonces {
    /// The OS (real processes).
    Os(ring::rand::SystemRandom),
    /// The host's seeded generator (simulated hosts: determinism).
    Seeded(Mutex<SeededRng>),
}

/// What a host's handshakes use: the secret (none: `--insecure`), its
/// nonces, and how long an accepted peer may take to prove itself.
/// Cheap to clone.
#[derive(Clone)]
pub struct Auth {
    secret: Option<Arc<Secret>>,
    nonces: Arc<Nonces>,
    handshake_timeout: Duration,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("secret", &self.secret)
            .field("handshake_timeout", &self.handshake_timeout)
            .finish()
    }
}

impl Auth {
    /// No authentication (`--insecure`): hellos only.
    pub fn insecure() -> Auth {
        Auth {
            secret: None,
            nonces: Arc::new(Nonces::Os(ring::rand::SystemRandom::new())),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// A real process's: the secret, nonces from the OS.
    pub fn with_secret(secret: Secret) -> Auth {
        Auth {
            secret: Some(Arc::new(secret)),
            ..Auth::insecure()
        }
    }

    /// A simulated host's: the secret, nonces from `host_seed`.
    pub fn simulated(secret: Arc<Secret>, host_seed: u64) -> Auth {
        Auth {
            secret: Some(secret),
            nonces: Arc::new(Nonces::Seeded(Mutex::new(SeededRng::new(
                host_seed ^ 0x4E0C_E5ED,
            )))),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// The same, with another handshake timeout.
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Auth {
        self.handshake_timeout = timeout;
        self
    }

    /// The secret, unless insecure.
    pub fn secret(&self) -> Option<&Secret> {
        self.secret.as_deref()
    }

    /// How long an accepted peer may take to prove itself.
    pub fn handshake_timeout(&self) -> Duration {
        self.handshake_timeout
    }

    /// A fresh nonce (empty when insecure: there is nothing to prove).
    pub fn nonce(&self) -> Vec<u8> {
        if self.secret.is_none() {
            return Vec::new();
        }
        let mut n = vec![0u8; NONCE_LEN];
        match &*self.nonces {
            Nonces::Os(rng) => {
                if ring::rand::SecureRandom::fill(rng, &mut n).is_err() {
                    // No OS randomness is a broken machine, not bad input.
                    panic!("the OS gave no random bytes for a nonce");
                }
            }
            Nonces::Seeded(rng) => {
                let mut rng = rng.lock().unwrap_or_else(|p| p.into_inner());
                for chunk in n.chunks_mut(8) {
                    chunk.copy_from_slice(&rng.next_u64().to_be_bytes()[..chunk.len()]);
                }
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A proof checks with the same secret, label and transcript only.
    #[test]
    fn proofs_bind_secret_label_and_transcript() {
        let a = Secret::from_bytes(b"0123456789abcdef", "a");
        let b = Secret::from_bytes(b"0123456789abcdeX", "b");
        let p = a.proof(b"connect", b"nonces");
        assert!(a.verify(b"connect", b"nonces", &p));
        assert!(!b.verify(b"connect", b"nonces", &p));
        assert!(!a.verify(b"accept", b"nonces", &p));
        assert!(!a.verify(b"connect", b"nonceX", &p));
        assert_eq!(a.rest_token().len(), 32);
        assert_ne!(a.rest_token(), b.rest_token());
    }

    /// Many creators at once: one file, private, read back the same by all.
    #[test]
    fn creation_is_race_free_and_private() {
        let dir = std::env::temp_dir().join(format!("mf-secret-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("sub").join("secret");
        let tokens: Vec<(String, bool)> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        let (secret, created) = load_or_create(&path).expect("create or read");
                        (secret.rest_token(), created)
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().expect("thread")).collect()
        });
        assert!(tokens.iter().all(|t| t.0 == tokens[0].0), "{tokens:?}");
        assert_eq!(tokens.iter().filter(|t| t.1).count(), 1, "{tokens:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path)
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            assert!(matches!(
                Secret::load(&path),
                Err(SecretError::TooOpen { .. })
            ));
        }
        let leftovers = std::fs::read_dir(dir.join("sub")).expect("dir").count();
        assert_eq!(leftovers, 1, "temporary files left behind");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Simulated nonces repeat with the seed; real ones do not repeat.
    #[test]
    fn nonces() {
        let s = Arc::new(Secret::from_seed(1));
        let a = Auth::simulated(s.clone(), 7).nonce();
        assert_eq!(a, Auth::simulated(s, 7).nonce());
        let real = Auth::with_secret(Secret::from_seed(1));
        assert_ne!(real.nonce(), real.nonce());
        assert!(Auth::insecure().nonce().is_empty());
    }
}
