//! Real processes under chaos (issue 15): a coordinator, two JobManagers
//! and three TaskManagers on 127.0.0.1 run a checkpointed keyed count,
//! while a random TaskManager (three times in four one that runs a task of
//! the job) or the leading JobManager is killed with SIGKILL, again and
//! again, at random moments, ten times in a row. Each
//! killed process is started again at once (the same TaskManager id; a
//! JobManager comes back as the standby). The committed output must be
//! exact: every per-key update once, none lost, none twice.
//!
//! It prints what it killed and how long each recovery took (from the kill
//! until the job ran again). The documented command (README, "Fault
//! campaigns"):
//!
//! ```sh
//! CHAOS_SEED=7 CHAOS_KILLS=10 cargo test -p mini-flink-tests --test real_tcp_chaos -- --nocapture
//! ```
//!
//! `CHAOS_SEED` picks the victims and moments (default: from the clock,
//! printed so a failing run can be told apart); `CHAOS_KILLS` how many
//! kills (default 10).

mod exactly_once_support;
mod real_tcp_support;

use exactly_once_support::{expected_sums, generator_of};
use real_tcp_support::{Cluster, free_port, workspace};
use runtime::rng::SeededRng;
use serde_json::Value;
use std::time::{Duration, Instant};

/// A JobManager's `--events` of one job and kind, over all its processes.
fn count(cluster: &Cluster, procs: &[String], job: &str, kind: &str, to: Option<&str>) -> usize {
    procs
        .iter()
        .flat_map(|p| cluster.events(p))
        .filter(|e| e["event"] == kind && e["job"].as_str() == Some(job))
        .filter(|e| to.is_none_or(|t| e["to"] == t))
        .count()
}

/// The leader elections so far, as the coordinator reports them.
fn elections(cluster: &Cluster, _procs: &[String]) -> Vec<Value> {
    let mut v: Vec<Value> = cluster
        .events("coordinator")
        .into_iter()
        .filter(|e| e["event"] == "LeaderElected")
        .collect();
    v.sort_by_key(|e| e["token"].as_u64());
    v
}

/// The TaskManagers the job's subtasks were last deployed to.
fn busy_taskmanagers(cluster: &Cluster, procs: &[String], job: &str) -> Vec<String> {
    let mut last = std::collections::BTreeMap::new();
    for e in procs.iter().flat_map(|p| cluster.events(p)) {
        if e["event"] == "TaskDeployed" && e["job"].as_str() == Some(job) {
            let key = (e["vertex_index"].as_u64(), e["subtask"].as_u64());
            if let Some(tm) = e["resource_id"].as_str() {
                last.insert(key, tm.to_string());
            }
        }
    }
    let mut tms: Vec<String> = last.into_values().collect();
    tms.sort();
    tms.dedup();
    tms
}

struct Jm {
    /// "jobmanager-1" or "jobmanager-2".
    host: &'static str,
    bind: String,
    /// The current process's name ("jobmanager-1", "jobmanager-1~2", …).
    proc: String,
    /// Its pid: a JobManager with HA is named `jobmanager-PID` in events.
    pid: u32,
    lives: u32,
}

#[test]
fn ten_kills_in_a_row_lose_and_duplicate_nothing() {
    let seed: u64 = std::env::var("CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(1)
        });
    let kills: u32 = std::env::var("CHAOS_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    println!("chaos: seed {seed}, {kills} kills (CHAOS_SEED={seed} replays the choices)");
    let mut rng = SeededRng::new(seed);

    let job = workspace().join("tests/data/real_tcp_chaos.toml");
    let job_arg = job.to_string_lossy().into_owned();
    let (keys, n) = generator_of(&job);
    let expected = expected_sums(keys, n);
    let mut cluster = Cluster::new("real-tcp-chaos");
    let checkpoints = cluster.dir.join("checkpoints");
    let checkpoints = checkpoints.to_string_lossy().into_owned();
    let coordinator = format!("127.0.0.1:{}", free_port());
    cluster.spawn(
        "coordinator",
        &["coordinator", "--bind", &coordinator, "--events"],
    );
    cluster.wait_for_line(
        "coordinator",
        "Coordinator listening on ",
        Duration::from_secs(30),
    );
    let jm_args = |bind: &str| -> Vec<String> {
        [
            "jobmanager",
            "--bind",
            bind,
            "--ha",
            &coordinator,
            "--lease-ms",
            "1000",
            "--heartbeat-interval-ms",
            "200",
            "--heartbeat-timeout-ms",
            "1000",
            "--checkpoint-dir",
            &checkpoints,
            "--events",
            "--rest-bind",
            &format!("127.0.0.1:{}", free_port()),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let mut jms = vec![
        Jm {
            host: "jobmanager-1",
            bind: format!("127.0.0.1:{}", free_port()),
            proc: "jobmanager-1".into(),
            pid: 0,
            lives: 1,
        },
        Jm {
            host: "jobmanager-2",
            bind: format!("127.0.0.1:{}", free_port()),
            proc: "jobmanager-2".into(),
            pid: 0,
            lives: 1,
        },
    ];
    let mut jm_procs: Vec<String> = Vec::new();
    // The first one leads once it says so; the other stands by.
    for jm in &mut jms {
        let args = jm_args(&jm.bind);
        jm.pid = cluster
            .spawn(
                &jm.proc,
                &args.iter().map(String::as_str).collect::<Vec<_>>(),
            )
            .id();
        jm_procs.push(jm.proc.clone());
        if jm.host == "jobmanager-1" {
            cluster.wait_for_line(
                &jm.proc,
                "JobManager listening on ",
                Duration::from_secs(30),
            );
        }
    }
    let tm_args = |id: &str| -> Vec<String> {
        [
            "taskmanager",
            "--ha",
            &coordinator,
            "--lease-ms",
            "1000",
            "--slots",
            "2",
            "--id",
            id,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let mut tms: Vec<(String, String, u32)> = ["tm-1", "tm-2", "tm-3"]
        .iter()
        .map(|id| (id.to_string(), id.to_string(), 1))
        .collect();
    for (id, proc, _) in &tms {
        let args = tm_args(id);
        cluster.spawn(proc, &args.iter().map(String::as_str).collect::<Vec<_>>());
    }
    let leader = format!("ha://{coordinator}");
    cluster.spawn("run", &["run", &job_arg, "--jobmanager", &leader]);
    let jid = cluster.wait_for_line(
        "run",
        "Job has been submitted with JobID ",
        Duration::from_secs(30),
    );
    let running =
        |c: &Cluster, procs: &[String]| count(c, procs, &jid, "JobStatusChanged", Some("RUNNING"));
    let ended = |c: &Cluster, procs: &[String]| {
        procs.iter().flat_map(|p| c.events(p)).any(|e| {
            e["event"] == "JobStatusChanged"
                && e["job"].as_str() == Some(jid.as_str())
                && ["FINISHED", "FAILED", "CANCELED"].contains(&e["to"].as_str().unwrap_or(""))
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while running(&cluster, &jm_procs) == 0 {
        assert!(
            Instant::now() < deadline,
            "the job never ran\n{}",
            cluster.logs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let mut recoveries = Vec::new();
    for k in 1..=kills {
        // A random moment: after a first checkpoint of this run, then
        // 0–800 ms.
        let done = count(&cluster, &jm_procs, &jid, "CheckpointCompleted", None);
        let deadline = Instant::now() + Duration::from_secs(30);
        while count(&cluster, &jm_procs, &jid, "CheckpointCompleted", None) == done {
            assert!(
                !ended(&cluster, &jm_procs),
                "the job ended after {} kills; make it longer",
                k - 1
            );
            assert!(
                Instant::now() < deadline,
                "no checkpoint since the last recovery\n{}",
                cluster.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(rng.below(800)));
        assert!(
            !ended(&cluster, &jm_procs),
            "the job ended after {} kills: make tests/data/real_tcp_chaos.toml longer",
            k - 1
        );
        let before_running = running(&cluster, &jm_procs);
        let before_elections = elections(&cluster, &jm_procs).len();
        let leader_host = elections(&cluster, &jm_procs)
            .last()
            .and_then(|e| e["leader"].as_str().map(str::to_string))
            .expect("a leader was elected");
        let kill_leader = rng.below(2) == 0;
        let t0 = Instant::now();
        let victim = if kill_leader {
            let jm = jms
                .iter_mut()
                .find(|j| format!("jobmanager-{}", j.pid) == leader_host)
                .unwrap_or_else(|| panic!("the leader {leader_host} is not ours"));
            cluster.kill(&jm.proc);
            jm.lives += 1;
            jm.proc = format!("{}~{}", jm.host, jm.lives);
            let args = jm_args(&jm.bind);
            jm.pid = cluster
                .spawn(
                    &jm.proc,
                    &args.iter().map(String::as_str).collect::<Vec<_>>(),
                )
                .id();
            jm_procs.push(jm.proc.clone());
            format!("the leader ({})", jm.host)
        } else {
            // Mostly one that runs a task of the job, sometimes any.
            let busy = busy_taskmanagers(&cluster, &jm_procs, &jid);
            let pick_busy = !busy.is_empty() && rng.below(4) != 0;
            let i = if pick_busy {
                let b = &busy[rng.below(busy.len() as u64) as usize];
                tms.iter().position(|(id, _, _)| id == b).unwrap_or(0)
            } else {
                rng.below(tms.len() as u64) as usize
            };
            let (id, proc, lives) = &mut tms[i];
            cluster.kill(proc);
            *lives += 1;
            *proc = format!("{id}~{lives}");
            let args = tm_args(id);
            cluster.spawn(proc, &args.iter().map(String::as_str).collect::<Vec<_>>());
            format!("TaskManager {id}")
        };
        // Recovered: the job runs again (a new leader recovered it, or the
        // leader restarted it); a TaskManager without a task of the job
        // is only lost and registers again.
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut quiet_since: Option<Instant> = None;
        let took = loop {
            if running(&cluster, &jm_procs) > before_running {
                break Some(t0.elapsed());
            }
            if ended(&cluster, &jm_procs) {
                break None;
            }
            if !kill_leader {
                // No restart within 3 heartbeat timeouts: it held no task.
                let q = *quiet_since.get_or_insert_with(Instant::now);
                if q.elapsed() > Duration::from_secs(3) {
                    break None;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no recovery within 60 s after killing {victim}\n{}",
                cluster.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        if kill_leader {
            assert!(
                elections(&cluster, &jm_procs).len() > before_elections,
                "a new leader after killing {victim}"
            );
        }
        match took {
            Some(d) => {
                println!(
                    "kill {k:>2}: {victim:<26} recovered in {:>5} ms",
                    d.as_millis()
                );
                recoveries.push(d);
            }
            None => {
                println!("kill {k:>2}: {victim:<26} held no task of the job: nothing to recover")
            }
        }
    }

    cluster.assert_run_exact("run", Duration::from_secs(240), &expected, n);
    if !recoveries.is_empty() {
        let total: Duration = recoveries.iter().sum();
        let max = recoveries.iter().max().copied().unwrap_or_default();
        println!(
            "chaos: {} recoveries, {} ms on average, {} ms the longest; output exact ({n} updates)",
            recoveries.len(),
            total.as_millis() / recoveries.len() as u128,
            max.as_millis()
        );
    }
}
