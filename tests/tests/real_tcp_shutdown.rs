//! Real-TCP shutdown: SIGTERM stops a TaskManager and a JobManager cleanly.
//!
//! A `mini-flink taskmanager` process that gets SIGTERM (what `kill PID`,
//! systemd or Kubernetes send) while a job runs on it cancels its tasks,
//! tells the ResourceManager it is leaving and exits 0. The JobManager
//! then reports it lost at once, with the cause "the TaskManager shut
//! down", instead of after the heartbeat timeout (set to 30 s here, so
//! only the goodbye can explain a prompt loss); its slots are released and
//! the job restarts on the other TaskManager and finishes. Finally the
//! JobManager itself gets SIGTERM and exits 0.
//!
//! Every process is killed when the test ends, also when it fails, and
//! every wait has a deadline (see `real_tcp_support`).

mod real_tcp_support;

use real_tcp_support::{Cluster, workspace};
use std::time::{Duration, Instant};

/// The heartbeat timeout of this test's JobManager: far longer than the
/// loss of a TaskManager that says goodbye may take.
const HEARTBEAT_TIMEOUT_MS: u64 = 30_000;

/// SIGTERM a TaskManager under a running job: lost at once, exit 0.
#[test]
fn sigterm_stops_a_taskmanager_and_the_jobmanager_cleanly() {
    let job = workspace().join("tests/data/real_tcp_checkpointed.toml");
    let job_arg = job.to_string_lossy().into_owned();
    let mut cluster = Cluster::new("real-tcp-shutdown");
    let checkpoints = cluster.dir.join("checkpoints");
    let checkpoints_arg = checkpoints.to_string_lossy().into_owned();
    let timeout = HEARTBEAT_TIMEOUT_MS.to_string();
    let addr = cluster.start_jobmanager(&[
        "--heartbeat-interval-ms",
        "1000",
        "--heartbeat-timeout-ms",
        &timeout,
        "--checkpoint-dir",
        &checkpoints_arg,
    ]);
    cluster.start_taskmanagers(&addr, &["tm-1", "tm-2"], 2);
    cluster.spawn("run", &["run", &job_arg, "--jobmanager", &addr]);

    // Wait until the job's tasks run, and pick a TaskManager that runs some.
    let events = cluster.wait_for_events(
        "jobmanager",
        Duration::from_secs(60),
        "a task running",
        |evs| {
            evs.iter()
                .any(|e| e["event"] == "TaskStateChanged" && e["to"] == "RUNNING")
        },
    );
    let victim = events
        .iter()
        .find(|e| e["event"] == "TaskDeployed")
        .and_then(|e| e["resource_id"].as_str())
        .unwrap_or_else(|| panic!("no task was deployed\n{}", cluster.logs()))
        .to_string();

    let asked = Instant::now();
    cluster.terminate(&victim);
    let events = cluster.wait_for_events(
        "jobmanager",
        Duration::from_secs(20),
        &format!("{victim} lost"),
        |evs| {
            evs.iter()
                .any(|e| e["event"] == "TaskManagerLost" && e["resource_id"] == victim.as_str())
        },
    );
    let noticed = asked.elapsed();
    assert!(
        noticed < Duration::from_millis(HEARTBEAT_TIMEOUT_MS / 3),
        "the JobManager took {noticed:?} to notice, as if it waited for the heartbeat timeout\n{}",
        cluster.logs()
    );
    let lost = events
        .iter()
        .find(|e| e["event"] == "TaskManagerLost" && e["resource_id"] == victim.as_str())
        .expect("waited for it");
    assert!(
        lost.to_string().contains("the TaskManager shut down"),
        "the loss should give the TaskManager's own cause: {lost}"
    );
    assert!(
        !events
            .iter()
            .any(|e| e["event"] == "HeartbeatTimeout" && e["peer"] == victim.as_str()),
        "{victim} said goodbye: no heartbeat should have timed out\n{}",
        cluster.logs()
    );

    let (status, stdout) = cluster.wait_for_exit(&victim, Duration::from_secs(20));
    assert!(
        status.success(),
        "{victim} should exit 0 on SIGTERM, exited with {status}\n{}",
        cluster.logs()
    );
    assert!(stdout.contains("deregistered"), "{stdout}");

    // Its slots were released: the job restarts on the other TaskManager
    // and finishes.
    let (status, _) = cluster.wait_for_exit("run", Duration::from_secs(180));
    assert!(
        status.success(),
        "the job should finish on the remaining TaskManager\n{}",
        cluster.logs()
    );

    cluster.terminate("jobmanager");
    let (status, stdout) = cluster.wait_for_exit("jobmanager", Duration::from_secs(20));
    assert!(
        status.success(),
        "the JobManager should exit 0 on SIGTERM, exited with {status}\n{}",
        cluster.logs()
    );
    assert!(stdout.contains("JobManager stopped"), "{stdout}");
}
