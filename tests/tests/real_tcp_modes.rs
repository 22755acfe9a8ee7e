//! Application and job clusters with real processes: `mini-flink
//! run-application` runs an application's main() on the JobManager it
//! starts, `mini-flink run-job-cluster` starts a cluster for one job; both
//! start TaskManager processes on demand and leave nothing running after.

mod real_tcp_support;

use real_tcp_support::{mini_flink_binary, wait_until, workspace};
use std::process::{Command, Stdio};
use std::time::Duration;

fn run(args: &[&str]) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!(
        "mini-flink-modes-{}-{}",
        std::process::id(),
        args[0]
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let out = dir.join("stdout");
    let mut child = Command::new(mini_flink_binary())
        .args(args)
        .current_dir(workspace())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("stdout file"))
        .stderr(Stdio::null())
        .spawn()
        .expect("start mini-flink");
    let status = wait_until(&mut child, Duration::from_secs(120));
    if status.is_none() {
        let _ = child.kill();
    }
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    (status.is_some_and(|s| s.success()), text)
}

/// The pids of the TaskManager processes a run says it started.
fn started_pids(stdout: &str) -> Vec<u32> {
    stdout
        .lines()
        .filter_map(|l| l.split("(pid ").nth(1))
        .filter_map(|rest| rest.split(',').next()?.trim().parse().ok())
        .collect()
}

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false)
}

/// main() on the JobManager: both jobs of the application finish, in
/// order, and the cluster (TaskManager processes included) is gone after.
#[test]
fn application_cluster_runs_main_on_the_jobmanager() {
    let (ok, out) = run(&["run-application", "scenarios/apps/nightly.toml"]);
    assert!(ok, "{out}");
    assert!(out.contains("runs on the JobManager"), "{out}");
    assert!(out.contains("\"wordcount\": FINISHED"), "{out}");
    assert!(out.contains("\"union\": FINISHED"), "{out}");
    assert!(out.contains("Application SUCCEEDED"), "{out}");
    let pids = started_pids(&out);
    assert!(
        !pids.is_empty(),
        "the active ResourceManager started TaskManagers\n{out}"
    );
    for pid in pids {
        assert!(
            !alive(pid),
            "TaskManager process {pid} still runs after the application"
        );
    }
}

/// A job cluster: started for the job, torn down after it; main() stays
/// on the client.
#[test]
fn job_cluster_serves_one_job_and_goes_away() {
    let (ok, out) = run(&["run-job-cluster", "scenarios/jobs/wordcount.toml"]);
    assert!(ok, "{out}");
    assert!(out.contains("main() ran here, on the client"), "{out}");
    assert!(
        out.contains("Job FINISHED; tearing the job cluster down"),
        "{out}"
    );
    for pid in started_pids(&out) {
        assert!(
            !alive(pid),
            "TaskManager process {pid} still runs after the job"
        );
    }
}
