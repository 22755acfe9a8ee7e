//! Smoke test of the attached TUI in a real terminal (tmux): the `tui`
//! binary, `--attach`ed to a real mini-flink cluster of processes on
//! 127.0.0.1, shows both TaskManagers and the running job; `x` then `y`
//! cancels the job (checked over REST); killing the JobManager marks the
//! screen STALE without ending the TUI; `q` quits and leaves the terminal.
//! Skipped, with the reason printed, where tmux is not installed.

mod real_tcp_support;

use real_tcp_support::{Cluster, http_get};
use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> Option<std::process::Output> {
    Command::new("tmux").args(args).output().ok()
}

/// A tmux session, killed when the test ends (also when it fails).
struct Session(String);

impl Drop for Session {
    fn drop(&mut self) {
        let _ = tmux(&["kill-session", "-t", &self.0]);
    }
}

impl Session {
    fn screen(&self) -> String {
        tmux(&["capture-pane", "-p", "-t", &self.0])
            .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
            .unwrap_or_default()
    }

    /// Waits until the screen satisfies `ready`; the last screen seen.
    fn wait_for(&self, limit: Duration, ready: impl Fn(&str) -> bool) -> (bool, String) {
        let deadline = Instant::now() + limit;
        loop {
            let s = self.screen();
            if ready(&s) {
                return (true, s);
            }
            if Instant::now() > deadline {
                return (false, s);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn keys(&self, keys: &str) {
        let sent = tmux(&["send-keys", "-t", &self.0, keys]).expect("tmux send-keys runs");
        assert!(sent.status.success(), "send-keys {keys}");
    }
}

#[test]
fn attached_tui_shows_the_cluster_cancels_and_survives_the_jobmanager() {
    if tmux(&["-V"]).is_none_or(|o| !o.status.success()) {
        eprintln!("skipped: tmux is not installed (apt-get install tmux to run this test)");
        return;
    }
    let tui =
        mini_flink_tests::real_process::workspace_binary("tui").unwrap_or_else(|e| panic!("{e}"));
    let mut cluster = Cluster::new("tui-attach-tmux");
    let (_, rest, jid) = cluster.attach_scene();

    let name = format!("mini-flink-tui-attach-{}", std::process::id());
    let session = Session(name.clone());
    let started = tmux(&[
        "new-session",
        "-d",
        "-s",
        &name,
        "-x",
        "120",
        "-y",
        "40",
        &format!(
            "{} --attach http://{rest} --refresh 200",
            tui.to_string_lossy()
        ),
    ])
    .expect("tmux runs");
    assert!(
        started.status.success(),
        "tmux new-session: {}",
        String::from_utf8_lossy(&started.stderr)
    );

    let (ok, screen) = session.wait_for(Duration::from_secs(30), |s| {
        s.contains("tm-1")
            && s.contains("tm-2")
            && s.contains("tui-attach")
            && s.contains("RUNNING")
    });
    assert!(
        ok,
        "both TaskManagers and the running job on screen:\n{screen}\n{}",
        cluster.logs()
    );

    session.keys("x");
    let (ok, screen) = session.wait_for(Duration::from_secs(10), |s| s.contains("y: yes"));
    assert!(ok, "x asks first:\n{screen}");
    session.keys("y");
    let deadline = Instant::now() + Duration::from_secs(30);
    let canceled = loop {
        match http_get(&rest, &format!("/jobs/{jid}/status")) {
            Ok((200, v)) if v["status"] == "CANCELED" => break true,
            _ if Instant::now() > deadline => break false,
            _ => std::thread::sleep(Duration::from_millis(200)),
        }
    };
    assert!(
        canceled,
        "cancelled from the TUI:\n{}\n{}",
        session.screen(),
        cluster.logs()
    );
    let (ok, screen) = session.wait_for(Duration::from_secs(15), |s| s.contains("CANCELED"));
    assert!(ok, "the TUI shows the job CANCELED:\n{screen}");

    cluster.kill("jobmanager");
    let (ok, screen) = session.wait_for(Duration::from_secs(30), |s| s.contains("STALE"));
    assert!(ok, "the lost JobManager is shown as STALE:\n{screen}");
    assert!(
        tmux(&["has-session", "-t", &name]).is_some_and(|o| o.status.success()),
        "the TUI keeps running without its JobManager"
    );

    session.keys("q");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut ended = false;
    while Instant::now() < deadline {
        if tmux(&["has-session", "-t", &name]).is_some_and(|o| !o.status.success()) {
            ended = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(ended, "q quits the attached TUI:\n{}", session.screen());
}
