//! Real `mini-flink` processes: where the binary is, built when needed,
//! and waiting for a child with a deadline. Shared by the real-TCP tests
//! (`tests/tests/real_tcp_support/`) and the book's chapter on running
//! for real (`book::chapters::ch08`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The workspace root (this crate lives in `tests/`).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The `mini-flink` binary (see [`workspace_binary`]).
pub fn mini_flink_binary() -> Result<PathBuf, String> {
    workspace_binary("mini-flink")
}

/// The binary `name` of a workspace package (`mini-flink`, `tui`, `sim`)
/// in the target folder this executable runs from
/// (`target/<profile>/deps/real_tcp-…` or `target/<profile>/book` →
/// `target/<profile>/NAME`).
///
/// Cargo builds a package's binaries only for that package's own tests, so
/// it is built here (a no-op when up to date), which also keeps it from
/// being stale after the runtime changed. It is built with the workspace's
/// test targets selected, so that Cargo resolves the same features as
/// `cargo test --workspace` did and reuses every library that build made
/// (`-p runtime` alone resolves fewer features and rebuilds the world: five
/// minutes on a clean 2-core CI machine).
pub fn workspace_binary(name: &str) -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let mut profile_dir = exe
        .parent()
        .ok_or("this executable lives in no folder")?
        .to_path_buf();
    if profile_dir.file_name().is_some_and(|n| n == "deps") {
        profile_dir.pop();
    }
    let bin = profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let target_dir = profile_dir
        .parent()
        .ok_or("target/<profile> has no parent")?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(workspace())
        .args([
            "build",
            "--quiet",
            "--workspace",
            "--tests",
            "--bin",
            name,
            "--target-dir",
        ])
        .arg(target_dir);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    let build_cmd = format!("`cargo build --workspace --tests --bin {name}`");
    match build.stdin(Stdio::null()).spawn() {
        Ok(mut child) => match wait_until(&mut child, Duration::from_secs(600)) {
            Some(s) if s.success() => {}
            Some(s) => return Err(format!("{build_cmd} failed ({s})")),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{build_cmd} did not finish within 10 minutes"));
            }
        },
        Err(e) if bin.exists() => {
            eprintln!(
                "cannot run cargo ({e}); using the existing {}",
                bin.display()
            );
        }
        Err(e) => {
            return Err(format!(
                "cannot run cargo to build {} ({e}); build it with `cargo build --bin {name}`",
                bin.display()
            ));
        }
    }
    if !bin.exists() {
        return Err(format!(
            "{} is missing; build it with `cargo build --bin {name}`",
            bin.display()
        ));
    }
    Ok(bin)
}

/// Waits for a child with a deadline; `None` if it is still running.
pub fn wait_until(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => return None,
        }
    }
}

/// The cluster secret real processes started by a test use: the one at
/// `--secret-file`'s default (`MINI_FLINK_SECRET_FILE`, else the user's
/// well-known path), created if no JobManager made it yet (the creation
/// is race-free, so parallel tests agree on one).
pub fn secret() -> Result<runtime::net::auth::Secret, String> {
    let path = runtime::net::auth::secret_path(None).map_err(|e| e.to_string())?;
    runtime::net::auth::load_or_create(&path)
        .map(|(s, _)| s)
        .map_err(|e| e.to_string())
}

/// A client's transport seam for talking to real processes: TCP with
/// [`secret`].
pub fn client_network() -> Result<runtime::net::NetworkRef, String> {
    Ok(std::sync::Arc::new(runtime::net::TcpNetwork::new(
        runtime::net::auth::Auth::with_secret(secret()?),
    )))
}

/// The REST bearer token of real processes started by a test (see [`secret`]).
pub fn rest_token() -> Result<String, String> {
    Ok(secret()?.rest_token())
}
