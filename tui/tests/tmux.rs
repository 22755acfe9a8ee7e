//! Smoke test of the real binary in a real terminal (tmux): the cluster
//! appears with its TaskManagers and slots, and `q` quits and leaves.
//! Skipped, with the reason printed, where tmux is not installed.

use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> Option<std::process::Output> {
    Command::new("tmux").args(args).output().ok()
}

struct Session(String);

impl Drop for Session {
    fn drop(&mut self) {
        let _ = tmux(&["kill-session", "-t", &self.0]);
    }
}

#[test]
fn shows_taskmanagers_and_quits_with_q() {
    if tmux(&["-V"]).is_none_or(|o| !o.status.success()) {
        eprintln!("skipped: tmux is not installed (apt-get install tmux to run this test)");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_tui");
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/session.toml");
    let name = format!("mini-flink-tui-smoke-{}", std::process::id());
    let session = Session(name.clone());
    let started = tmux(&[
        "new-session",
        "-d",
        "-s",
        &name,
        "-x",
        "100",
        "-y",
        "30",
        &format!("{bin} {scenario}"),
    ])
    .expect("tmux runs");
    assert!(
        started.status.success(),
        "tmux new-session: {}",
        String::from_utf8_lossy(&started.stderr)
    );

    let capture = || {
        tmux(&["capture-pane", "-p", "-t", &name])
            .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
            .unwrap_or_default()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut screen = String::new();
    while Instant::now() < deadline {
        screen = capture();
        if screen.contains("taskmanager-1") && screen.contains("taskmanager-3") {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        screen.contains("taskmanager-1"),
        "no TaskManager on screen:\n{screen}"
    );
    assert!(
        screen.contains("free") || screen.contains('●') || screen.contains('○'),
        "no slots on screen:\n{screen}"
    );
    assert!(screen.contains("Jobs"), "no jobs panel:\n{screen}");

    let sent = tmux(&["send-keys", "-t", &name, "q"]).expect("send-keys");
    assert!(sent.status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut ended = false;
    while Instant::now() < deadline {
        if tmux(&["has-session", "-t", &name]).is_some_and(|o| !o.status.success()) {
            ended = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(ended, "q did not end the program:\n{}", capture());
    drop(session);
}
