//! Real-TCP fault tolerance: checkpoints, failover and savepoints across
//! real processes.
//!
//! What `scenarios/failover.toml` and `scenarios/savepoint.toml` show on
//! simulated hosts, checked here with `mini-flink` processes on localhost:
//!
//! - a TaskManager running a checkpointed job is killed with SIGKILL
//!   (`kill -9`); the JobManager notices the missing heartbeats, restarts the
//!   job on the other TaskManagers from its latest completed checkpoint, and
//!   the collect sink's committed output is exactly what one run without the
//!   crash gives: every per-key update once, none lost, none twice;
//! - `mini-flink savepoint`, `mini-flink stop` and `mini-flink run
//!   --from-savepoint`: a job stopped with a savepoint and resumed from it
//!   commits, over both runs, exactly the updates of one uninterrupted run.
//!
//! The job (`tests/data/real_tcp_checkpointed.toml`) is a keyed count over a
//! rate-limited `generator` source, so that it runs for several seconds; the
//! expected counts are computed here from [`generator_record`], the
//! function that defines the generator's records.
//!
//! Every process is killed when a test ends, also when it fails, and every
//! wait has a deadline. Output is kept in a temporary folder when a test
//! fails (its path is printed) and shown in the failure message.

mod exactly_once_support;
mod real_tcp_support;

use exactly_once_support::{check_exactly_once, expected_sums, generator_of};
use real_tcp_support::{Cluster, fetch_result, printed_counts, submitted_job_id, workspace};
use runtime::operators::Value;
use runtime::state::JobStatus;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

/// The tests of this file run one at a time: each starts a whole cluster,
/// and two at once on a small machine only make heartbeats late.
static ONE_CLUSTER_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Takes [`ONE_CLUSTER_AT_A_TIME`] (also after another test failed holding it).
fn one_cluster_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_CLUSTER_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The job both tests run.
fn job_file() -> PathBuf {
    workspace().join("tests/data/real_tcp_checkpointed.toml")
}

/// Events of one job among the JobManager's events.
fn of_job<'a>(
    events: &'a [serde_json::Value],
    job: &'a str,
    kind: &'a str,
) -> impl Iterator<Item = &'a serde_json::Value> + 'a {
    events
        .iter()
        .filter(move |e| e["event"] == kind && e["job"] == job)
}

/// Whether the job reached a terminal status in these events.
fn ended(events: &[serde_json::Value], job: &str) -> bool {
    of_job(events, job, "JobStatusChanged")
        .any(|e| matches!(e["to"].as_str(), Some("FINISHED" | "FAILED" | "CANCELED")))
}

/// The number in a "Restarts: N" line of `mini-flink run`'s output.
fn printed_restarts(stdout: &str) -> u32 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("Restarts: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// The checkpoint directory as the JobManager prints it (absolute).
fn printed_checkpoint_dir(cluster: &Cluster) -> PathBuf {
    let dir = cluster.wait_for_line(
        "jobmanager",
        "Checkpoints and savepoints go to ",
        Duration::from_secs(10),
    );
    PathBuf::from(dir)
}

/// The TaskManager hosting a checkpointed job (all its subtasks: slots fill
/// one TaskManager first) is killed with SIGKILL; the job restarts on
/// another from its latest checkpoint, and what its collect sink committed
/// is exactly one run's output: every update once.
#[test]
fn killed_taskmanager_loses_and_duplicates_nothing() {
    kill_a_taskmanager_under_a_job(false);
}

/// As [`killed_taskmanager_loses_and_duplicates_nothing`], with the job
/// spread over two TaskManagers (`--spread`): the keyed exchange crosses
/// processes, one of them is killed, and the subtasks on the survivor are
/// cancelled and restarted with the others.
#[test]
fn killed_taskmanager_of_a_spread_job_loses_and_duplicates_nothing() {
    kill_a_taskmanager_under_a_job(true);
}

/// Runs the checkpointed job on three TaskManagers, kills the one running
/// most of its subtasks once checkpoints completed, and checks recovery
/// and exactly-once output.
fn kill_a_taskmanager_under_a_job(spread: bool) {
    let _one = one_cluster_at_a_time();
    let job = job_file();
    let job_arg = job.to_string_lossy().into_owned();
    let (keys, count) = generator_of(&job);
    let expected = expected_sums(keys, count);

    let mut cluster = Cluster::new(if spread {
        "real-tcp-failover-spread"
    } else {
        "real-tcp-failover"
    });
    let checkpoints = cluster.dir.join("checkpoints");
    let checkpoints_arg = checkpoints.to_string_lossy().into_owned();
    // Fast failure detection: a TaskManager silent for 1.5 s is lost.
    let mut args = vec![
        "--heartbeat-interval-ms",
        "200",
        "--heartbeat-timeout-ms",
        "1500",
        "--checkpoint-dir",
        &checkpoints_arg,
    ];
    if spread {
        args.push("--spread");
    }
    let addr = cluster.start_jobmanager(&args);
    let checkpoint_dir = printed_checkpoint_dir(&cluster);
    assert_eq!(
        checkpoint_dir,
        std::fs::canonicalize(&checkpoints).expect("the JobManager created its checkpoint dir"),
    );
    let tms = ["tm-1", "tm-2", "tm-3"];
    cluster.start_taskmanagers(&addr, &tms, 2);

    cluster.spawn("run", &["run", &job_arg, "--jobmanager", &addr]);
    let job_id = cluster.wait_for_line(
        "run",
        "Job has been submitted with JobID ",
        Duration::from_secs(30),
    );

    // Kill only once checkpoints have completed, so the restart has state
    // to go back to (and output has been committed that must not repeat).
    let events = cluster.wait_for_events(
        "jobmanager",
        Duration::from_secs(60),
        "two completed checkpoints",
        |evs| ended(evs, &job_id) || of_job(evs, &job_id, "CheckpointCompleted").count() >= 2,
    );
    assert!(
        !ended(&events, &job_id),
        "the job ended before a TaskManager could be killed under it\n{}",
        cluster.logs()
    );
    // Where each subtask runs now: its latest deployment.
    let mut placed: BTreeMap<(String, u64), String> = BTreeMap::new();
    for e in of_job(&events, &job_id, "TaskDeployed") {
        placed.insert(
            (
                e["vertex"].as_str().unwrap_or_default().to_string(),
                e["subtask"].as_u64().unwrap_or_default(),
            ),
            e["resource_id"].as_str().unwrap_or_default().to_string(),
        );
    }
    let mut load: BTreeMap<&str, usize> = BTreeMap::new();
    for rid in placed.values() {
        *load.entry(rid.as_str()).or_default() += 1;
    }
    let victim = load
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(rid, _)| rid.to_string())
        .unwrap_or_else(|| panic!("no task of the job was deployed\n{}", cluster.logs()));
    assert!(
        tms.contains(&victim.as_str()),
        "tasks run on {victim}, not one of this test's TaskManagers"
    );
    // Slots fill one TaskManager first, or with --spread go to two (unless
    // a restart before the kill, on a very slow machine, moved subtasks).
    let restarts_before = of_job(&events, &job_id, "Restarted").count();
    if restarts_before == 0 {
        assert_eq!(
            load.len(),
            if spread { 2 } else { 1 },
            "the job's subtasks should run on {} TaskManager(s): {load:?}",
            if spread { 2 } else { 1 }
        );
    }
    let deployed_before = of_job(&events, &job_id, "TaskDeployed").count();
    cluster.kill(&victim);

    // The JobManager notices (heartbeat timeout), restarts the job.
    let events = cluster.wait_for_events(
        "jobmanager",
        Duration::from_secs(60),
        &format!("{victim} lost and the job restarted"),
        |evs| {
            evs.iter()
                .any(|e| e["event"] == "TaskManagerLost" && e["resource_id"] == victim.as_str())
                && of_job(evs, &job_id, "Restarted").count() > restarts_before
        },
    );
    let restarted = of_job(&events, &job_id, "Restarted")
        .nth(restarts_before)
        .expect("waited for it");
    assert!(
        restarted["from_checkpoint"].as_u64().is_some(),
        "the restart should go back to a completed checkpoint: {restarted}"
    );

    let (status, stdout) = cluster.wait_for_exit("run", Duration::from_secs(180));
    assert!(
        status.success(),
        "`mini-flink run` failed ({status})\n{}",
        cluster.logs()
    );
    assert!(stdout.contains(") FINISHED"), "{stdout}");
    assert!(
        printed_restarts(&stdout) >= 1,
        "`run` should report the restart\n{stdout}"
    );
    assert!(stdout.contains("Checkpoints completed: "), "{stdout}");
    assert_eq!(
        printed_counts(&stdout),
        expected,
        "final sums differ\n{}",
        cluster.logs()
    );
    assert!(
        stdout.contains(&format!("({count} updates received)")),
        "expected exactly {count} updates: none lost, none twice\n{stdout}"
    );

    // Nothing after the kill ran on the dead TaskManager.
    let events = cluster.events("jobmanager");
    let after_kill: Vec<&serde_json::Value> = of_job(&events, &job_id, "TaskDeployed")
        .skip(deployed_before)
        .collect();
    assert!(!after_kill.is_empty(), "no task was redeployed");
    for e in after_kill {
        assert_ne!(
            e["resource_id"].as_str(),
            Some(victim.as_str()),
            "a task was redeployed on the killed TaskManager: {e}"
        );
    }

    // The committed updates themselves, one by one.
    let result = fetch_result(&addr, &job_id);
    assert!(result.restarts >= 1, "restarts: {}", result.restarts);
    assert!(result.checkpoints_completed >= 2);
    if let Err(e) = check_exactly_once(&result.collected, &expected) {
        panic!(
            "the committed output is not exactly-once: {e}\n{}",
            cluster.logs()
        );
    }
    // Completed checkpoints were written to the checkpoint directory.
    let written = std::fs::read_dir(checkpoint_dir.join("checkpoints").join(&job_id))
        .map(|d| d.count())
        .unwrap_or(0);
    assert!(
        written >= 1,
        "no checkpoint file under {}",
        checkpoint_dir.display()
    );
}

/// `mini-flink savepoint` keeps the job running, `mini-flink stop` ends it
/// with a savepoint, and `mini-flink run --from-savepoint` continues it:
/// both runs together commit every update exactly once.
#[test]
fn stop_with_savepoint_and_resume() {
    let _one = one_cluster_at_a_time();
    let job = job_file();
    let job_arg = job.to_string_lossy().into_owned();
    let (keys, count) = generator_of(&job);
    let expected = expected_sums(keys, count);

    let mut cluster = Cluster::new("real-tcp-savepoint");
    let checkpoints = cluster.dir.join("checkpoints");
    let checkpoints_arg = checkpoints.to_string_lossy().into_owned();
    let addr = cluster.start_jobmanager(&["--checkpoint-dir", &checkpoints_arg]);
    let checkpoint_dir = printed_checkpoint_dir(&cluster);
    cluster.start_taskmanagers(&addr, &["tm-1", "tm-2"], 2);
    let timeout = Duration::from_secs(120);

    // Resuming from a savepoint that does not exist is refused clearly.
    let missing = checkpoint_dir.join("savepoints/no-such-savepoint");
    let missing_arg = missing.to_string_lossy().into_owned();
    let (status, _) = cluster.run(
        "run-missing",
        &[
            "run",
            &job_arg,
            "--from-savepoint",
            &missing_arg,
            "--jobmanager",
            &addr,
        ],
        timeout,
    );
    let err = cluster.read(&cluster.err_path("run-missing"));
    assert!(!status.success(), "resuming from {missing_arg} must fail");
    assert!(
        err.contains("cannot read the savepoint") && err.contains(&missing_arg),
        "{err}"
    );

    // The first run, detached.
    let (status, stdout) = cluster.run(
        "run-1",
        &["run", "--detached", &job_arg, "--jobmanager", &addr],
        timeout,
    );
    assert!(status.success(), "{}", cluster.logs());
    let job1 = submitted_job_id(&stdout).unwrap_or_else(|| panic!("no job id in {stdout}"));
    let events = cluster.wait_for_events(
        "jobmanager",
        Duration::from_secs(60),
        "two completed checkpoints",
        |evs| ended(evs, &job1) || of_job(evs, &job1, "CheckpointCompleted").count() >= 2,
    );
    assert!(
        !ended(&events, &job1),
        "the job ended before its savepoint\n{}",
        cluster.logs()
    );

    // A savepoint without stopping: the job goes on.
    let (status, stdout) = cluster.run(
        "savepoint",
        &["savepoint", &job1, "--jobmanager", &addr],
        timeout,
    );
    assert!(
        status.success(),
        "`mini-flink savepoint` failed\n{}",
        cluster.logs()
    );
    let savepoint_path = |stdout: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix("Savepoint completed. Path: "))
            .map(|p| PathBuf::from(p.trim()))
            .unwrap_or_else(|| panic!("no savepoint path in\n{stdout}"))
    };
    let first = savepoint_path(&stdout);
    assert!(
        first.starts_with(&checkpoint_dir) && first.is_file(),
        "{} should be a file in {}",
        first.display(),
        checkpoint_dir.display()
    );
    let r1 = fetch_result(&addr, &job1);
    assert!(
        !r1.status.is_terminal(),
        "a savepoint without --stop must not end the job: {}",
        r1.status
    );

    // Stop with a savepoint.
    let (status, stdout) = cluster.run("stop", &["stop", &job1, "--jobmanager", &addr], timeout);
    assert!(
        status.success(),
        "`mini-flink stop` failed\n{}",
        cluster.logs()
    );
    let second = savepoint_path(&stdout);
    assert_ne!(first, second);
    assert!(second.is_file(), "{} is no file", second.display());
    assert!(
        stdout.contains(&format!("Job {job1} is FINISHED.")),
        "{stdout}"
    );
    let r1 = fetch_result(&addr, &job1);
    assert_eq!(r1.status, JobStatus::Finished);
    let described: Vec<PathBuf> = r1.savepoints.iter().map(PathBuf::from).collect();
    assert_eq!(described, [first.clone(), second.clone()]);
    let n1 = r1.collected.len();
    assert!(
        0 < n1 && n1 < count as usize,
        "the first run should stop part-way, it committed {n1} of {count} updates"
    );

    // A finished job takes no savepoint; an id must be an id.
    let (status, _) = cluster.run(
        "savepoint-finished",
        &["savepoint", &job1, "--jobmanager", &addr],
        timeout,
    );
    let err = cluster.read(&cluster.err_path("savepoint-finished"));
    assert!(
        !status.success() && err.contains("already FINISHED"),
        "{err}"
    );
    let (status, _) = cluster.run(
        "stop-bad-id",
        &["stop", "nope", "--jobmanager", &addr],
        timeout,
    );
    let err = cluster.read(&cluster.err_path("stop-bad-id"));
    assert!(
        !status.success() && err.contains("is not a job id"),
        "{err}"
    );

    // Another job's savepoint does not fit the word count: refused clearly.
    let second_arg = second.to_string_lossy().into_owned();
    let other = workspace().join("tests/data/real_tcp_wordcount.toml");
    let (status, _) = cluster.run(
        "run-mismatch",
        &[
            "run",
            &other.to_string_lossy(),
            "-s",
            &second_arg,
            "--jobmanager",
            &addr,
        ],
        timeout,
    );
    let err = cluster.read(&cluster.err_path("run-mismatch"));
    assert!(
        !status.success() && err.contains("cannot resume from"),
        "{err}"
    );

    // Resume from the stop's savepoint.
    let (status, stdout) = cluster.run(
        "run-2",
        &["run", &job_arg, "-s", &second_arg, "--jobmanager", &addr],
        Duration::from_secs(180),
    );
    assert!(
        status.success(),
        "`mini-flink run -s` failed\n{}",
        cluster.logs()
    );
    assert!(stdout.contains(") FINISHED"), "{stdout}");
    assert!(
        stdout.contains(&format!("Restored from savepoint: {second_arg}")),
        "{stdout}"
    );
    assert_eq!(
        printed_counts(&stdout),
        expected,
        "the resumed run's final sums differ\n{}",
        cluster.logs()
    );
    let job2 = submitted_job_id(&stdout).unwrap_or_else(|| panic!("no job id in {stdout}"));
    assert_ne!(job1, job2);
    let r2 = fetch_result(&addr, &job2);
    assert_eq!(r2.restored_from.as_deref(), Some(second_arg.as_str()));
    assert!(
        stdout.contains(&format!("({} updates received)", count as usize - n1)),
        "the resumed run should commit the other {} updates\n{stdout}",
        count as usize - n1
    );
    // Both runs together: every update exactly once, in order per key.
    let both: Vec<Value> = r1.collected.iter().chain(&r2.collected).cloned().collect();
    if let Err(e) = check_exactly_once(&both, &expected) {
        panic!(
            "the two runs together are not exactly-once: {e}\n{}",
            cluster.logs()
        );
    }
}

/// A free port on 127.0.0.1 (bound and released; the JobManagers with HA
/// need fixed ports, published as the leader's address).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// JobManager high availability over real processes: a coordinator, two
/// JobManagers campaigning through it, two TaskManagers and a client that
/// all follow the leader. The leading JobManager is killed (SIGKILL) once
/// checkpoints completed; the standby is elected, recovers the job from
/// its latest checkpoint, and the job finishes with exactly the expected
/// output.
#[test]
fn killed_leader_jobmanager_is_replaced_by_the_standby() {
    let _one = one_cluster_at_a_time();
    let job = job_file();
    let job_arg = job.to_string_lossy().into_owned();
    let (keys, count) = generator_of(&job);
    let expected = expected_sums(keys, count);
    let mut cluster = Cluster::new("real-tcp-ha");
    let checkpoints = cluster
        .dir
        .join("checkpoints")
        .to_string_lossy()
        .into_owned();
    let coordinator = format!("127.0.0.1:{}", free_port());
    cluster.spawn("coordinator", &["coordinator", "--bind", &coordinator]);
    cluster.wait_for_line(
        "coordinator",
        "Coordinator listening on ",
        Duration::from_secs(30),
    );
    let jm = |port: u16| format!("127.0.0.1:{port}");
    let (jm1, jm2) = (jm(free_port()), jm(free_port()));
    let ha_args = |bind: &str| -> Vec<String> {
        [
            "jobmanager",
            "--bind",
            bind,
            "--ha",
            &coordinator,
            "--lease-ms",
            "1500",
            "--heartbeat-interval-ms",
            "200",
            "--heartbeat-timeout-ms",
            "1500",
            "--checkpoint-dir",
            &checkpoints,
            "--events",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let a1 = ha_args(&jm1);
    cluster.spawn(
        "jobmanager-1",
        &a1.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    cluster.wait_for_line(
        "jobmanager-1",
        "JobManager listening on ",
        Duration::from_secs(30),
    );
    let a2 = ha_args(&jm2);
    cluster.spawn(
        "jobmanager-2",
        &a2.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    for tm in ["tm-1", "tm-2"] {
        cluster.spawn(
            tm,
            &[
                "taskmanager",
                "--ha",
                &coordinator,
                "--lease-ms",
                "1500",
                "--slots",
                "2",
                "--id",
                tm,
            ],
        );
    }
    let leader = format!("ha://{coordinator}");
    cluster.spawn("run", &["run", &job_arg, "--jobmanager", &leader]);
    let job_id = cluster.wait_for_line(
        "run",
        "Job has been submitted with JobID ",
        Duration::from_secs(30),
    );
    let events = cluster.wait_for_events(
        "jobmanager-1",
        Duration::from_secs(60),
        "two completed checkpoints",
        |evs| ended(evs, &job_id) || of_job(evs, &job_id, "CheckpointCompleted").count() >= 2,
    );
    assert!(
        !ended(&events, &job_id),
        "the job ended before the leader could be killed"
    );
    cluster.kill("jobmanager-1");

    let recovered = cluster.wait_for_events(
        "jobmanager-2",
        Duration::from_secs(60),
        "the standby recovers the job",
        |evs| of_job(evs, &job_id, "JobRecovered").count() > 0,
    );
    let r = of_job(&recovered, &job_id, "JobRecovered")
        .next()
        .expect("waited for it");
    assert!(r["from_checkpoint"].as_u64().is_some(), "{r}");

    cluster.assert_run_exact("run", Duration::from_secs(180), &expected, count);
}
