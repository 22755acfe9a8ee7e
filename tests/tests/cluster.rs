//! The cluster's behaviour in the simulator, checked on the event stream:
//! failure detection, the two resource providers, back-pressure, and a
//! wordcount's result against a count computed here.

use runtime::events::{Event, EventKind};
use runtime::operators::{OperatorKind, Value};
use runtime::state::JobStatus;
use std::collections::BTreeMap;
use std::path::Path;

fn scenario(name: &str) -> sim::Scenario {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../scenarios/{name}.toml"));
    sim::load(&p).unwrap_or_else(|e| panic!("{e}"))
}

fn run(s: &sim::Scenario) -> sim::Outcome {
    sim::Simulation::new(s, None)
        .run()
        .expect("simulation runs")
}

fn first(events: &[Event], f: impl Fn(&EventKind) -> bool) -> Option<&Event> {
    events.iter().find(|e| f(&e.kind))
}

/// A crashed TaskManager is noticed only through the heartbeat timeout; its
/// slots are released and the job fails with that cause.
#[test]
fn taskmanager_crash_is_detected_by_heartbeat_timeout() {
    let s = scenario("tm-crash");
    let o = run(&s);
    let crash = first(&o.events, |k| matches!(k, EventKind::FaultInjected { .. })).expect("fault");
    let timeout = first(
        &o.events,
        |k| matches!(k, EventKind::HeartbeatTimeout { peer, .. } if peer == "taskmanager-1"),
    )
    .expect("heartbeat timeout for taskmanager-1");
    let hb = &s.cluster;
    assert!(
        timeout.t >= crash.t + hb.heartbeat_timeout_ms - hb.heartbeat_interval_ms,
        "detected at {} ms, crash at {} ms: too early for a {} ms timeout",
        timeout.t,
        crash.t,
        hb.heartbeat_timeout_ms
    );
    let freed = o
        .events
        .iter()
        .filter(|e| {
            e.t >= timeout.t
                && matches!(&e.kind, EventKind::SlotFreed { resource_id, .. } if resource_id == "taskmanager-1")
        })
        .count();
    assert_eq!(freed, 2, "both slots of taskmanager-1 are released");
    let r = o.jobs[0].result.as_ref().expect("job result");
    assert_eq!(r.status, JobStatus::Failed);
    assert_eq!(
        r.cause.as_deref(),
        Some("Heartbeat of TaskManager with id taskmanager-1 timed out.")
    );
    assert!(r.ended_at.unwrap() >= timeout.t);
}

/// Standalone: requests the cluster cannot serve wait until a TaskManager
/// registers; then they are served and the job runs.
#[test]
fn standalone_requests_wait_for_a_taskmanager() {
    let s = scenario("scale-out");
    let o = run(&s);
    let pending = first(&o.events, |k| {
        matches!(k, EventKind::SlotRequestPending { .. })
    })
    .expect("a request waits");
    let tm2 = first(&o.events, |k| {
        matches!(k, EventKind::TaskManagerRegistered { resource_id, .. } if resource_id == "taskmanager-2")
    })
    .expect("taskmanager-2 registers");
    assert!(pending.t < tm2.t);
    assert!(
        !o.events
            .iter()
            .any(|e| matches!(e.kind, EventKind::WorkerRequested { .. })),
        "a standalone ResourceManager never starts TaskManagers"
    );
    let first_deploy = first(&o.events, |k| matches!(k, EventKind::TaskDeployed { .. })).unwrap();
    assert!(
        first_deploy.t >= tm2.t,
        "nothing deploys before all slots are there"
    );
    let r = o.jobs[0].result.as_ref().unwrap();
    assert_eq!(r.status, JobStatus::Finished);
    assert!(r.running_at.unwrap() >= tm2.t);
}

/// Active: the ResourceManager starts TaskManagers for pending requests and
/// stops them once idle.
#[test]
fn active_resourcemanager_starts_and_releases_taskmanagers() {
    let s = scenario("active-rm");
    assert_eq!(s.cluster.taskmanagers, 0);
    let o = run(&s);
    let requested: Vec<&str> = o
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::WorkerRequested { resource_id, .. } => Some(resource_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(requested, ["taskmanager-1", "taskmanager-2"]);
    for tm in requested {
        let reg = first(&o.events, |k| {
            matches!(k, EventKind::TaskManagerRegistered { resource_id, .. } if resource_id == tm)
        })
        .expect("the started TaskManager registers");
        let rel = first(
            &o.events,
            |k| matches!(k, EventKind::WorkerReleased { resource_id } if resource_id == tm),
        )
        .expect("and is released when idle");
        assert!(rel.t >= reg.t + s.cluster.idle_timeout_ms);
    }
    assert_eq!(
        o.jobs[0].result.as_ref().unwrap().status,
        JobStatus::Finished
    );
}

/// A slow sink back-pressures the source: the source's rate drops to the
/// sink's pace and its back-pressure metric is high; without the slow sink
/// the same job is fast and not back-pressured. No record is lost.
#[test]
fn slow_sink_backpressures_the_source() {
    let slow = scenario("slow-sink");
    let mut fast = slow.clone();
    for n in fast.jobs[0].graph.nodes_mut() {
        if let OperatorKind::Discard { rate } = &mut n.kind {
            *rate = 0;
        }
    }
    let rate_and_bp = |o: &sim::Outcome| {
        let r = o.jobs[0].result.as_ref().unwrap();
        assert_eq!(r.status, JobStatus::Finished);
        let src = &r.vertices[0];
        assert!(src.name.starts_with("Source"));
        let secs = (r.ended_at.unwrap() - r.running_at.unwrap()).max(1) as f64 / 1000.0;
        assert_eq!(r.vertices[1].counters.records_in, 20_000, "no record lost");
        (
            src.counters.records_out as f64 / secs,
            src.backpressure_permille,
        )
    };
    let (slow_rate, slow_bp) = rate_and_bp(&run(&slow));
    let (fast_rate, fast_bp) = rate_and_bp(&run(&fast));
    assert!(
        slow_rate * 3.0 < fast_rate,
        "source rate with a slow sink {slow_rate:.0}/s should be far below {fast_rate:.0}/s"
    );
    assert!(
        slow_rate < 2_500.0,
        "two sink subtasks at 1000/s each bound the source: {slow_rate:.0}/s"
    );
    assert!(
        slow_bp >= 700,
        "source back-pressured {slow_bp}‰ with a slow sink"
    );
    assert!(
        fast_bp <= 200,
        "source back-pressured {fast_bp}‰ without it"
    );
}

/// The wordcount of `session.toml` counts exactly what a direct count of its
/// input text gives.
#[test]
fn wordcount_result_equals_a_direct_count() {
    let s = scenario("session");
    let job = s
        .jobs
        .iter()
        .find(|j| j.graph.job_name == "wordcount")
        .expect("session.toml runs a wordcount");
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for n in job.graph.nodes() {
        if let OperatorKind::Words { lines } = &n.kind {
            for line in lines {
                let lower = line.to_lowercase();
                for w in lower
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                {
                    *expected.entry(w.to_string()).or_default() += 1;
                }
            }
        }
    }
    assert!(expected.len() > 10, "the text has some words");
    let o = run(&s);
    let r = o
        .jobs
        .iter()
        .find(|j| j.name == "wordcount")
        .and_then(|j| j.result.as_ref())
        .unwrap();
    assert_eq!(r.status, JobStatus::Finished);
    let mut got: BTreeMap<String, i64> = BTreeMap::new();
    for v in &r.collected {
        match v {
            Value::Pair(k, n) => match k.to_value() {
                Value::Str(w) => {
                    got.insert(w.to_string(), *n);
                }
                other => panic!("unexpected key {other}"),
            },
            other => panic!("unexpected record {other}"),
        }
    }
    assert_eq!(got, expected);
    let updates: i64 = expected.values().sum();
    assert_eq!(
        r.collected.len() as i64,
        updates,
        "one rolling update per word"
    );
}

/// Stop-with-savepoint, then resume: the two runs together commit exactly
/// what one uninterrupted run commits, and the second run starts from the
/// savepoint (its checkpoint numbering goes on).
#[test]
fn stop_with_savepoint_and_resume_is_exactly_once() {
    let s = scenario("savepoint");
    let o = run(&s);
    assert_eq!(o.jobs.len(), 2);
    let first = o.jobs[0].result.as_ref().expect("first run");
    let second = o.jobs[1].result.as_ref().expect("resumed run");
    assert_eq!(
        first.status,
        JobStatus::Finished,
        "stop-with-savepoint finishes the job"
    );
    assert_eq!(first.savepoints.len(), 1);
    assert_eq!(second.status, JobStatus::Finished);
    assert_eq!(second.restored_from.as_ref(), first.savepoints.last());
    assert!(second.latest_checkpoint > first.latest_checkpoint);
    // The same program without the stop.
    let mut whole = s.clone();
    whole.faults.clear();
    whole.jobs.truncate(1);
    let w = run(&whole);
    let mut expected = w.jobs[0].result.as_ref().unwrap().collected.clone();
    let mut got = first.collected.clone();
    got.extend(second.collected.iter().cloned());
    expected.sort();
    got.sort();
    assert!(!first.collected.is_empty() && !second.collected.is_empty());
    assert_eq!(
        got, expected,
        "nothing lost, nothing twice across stop and resume"
    );
}

/// With high availability, the leader's crash hands the job to the standby,
/// which recovers it from the latest checkpoint; the output is exact.
#[test]
fn leader_crash_is_survived_by_the_standby() {
    let s = scenario("ha");
    let o = run(&s);
    let leaders: Vec<(&str, u64)> = o
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::LeaderElected { leader, token } => Some((leader.as_str(), token.0)),
            _ => None,
        })
        .collect();
    assert_eq!(leaders, [("jobmanager-1", 1), ("jobmanager-2", 2)]);
    let recovered = first(&o.events, |k| matches!(k, EventKind::JobRecovered { .. }))
        .expect("the new leader recovers the job");
    assert_eq!(recovered.host, "jobmanager-2");
    assert!(matches!(
        recovered.kind,
        EventKind::JobRecovered {
            from_checkpoint: Some(_),
            ..
        }
    ));
    let r = o.jobs[0].result.as_ref().unwrap();
    assert_eq!(r.status, JobStatus::Finished);
    let mut clean = s.clone();
    clean.faults.clear();
    let c = run(&clean);
    let mut want = c.jobs[0].result.as_ref().unwrap().collected.clone();
    let mut got = r.collected.clone();
    want.sort();
    got.sort();
    assert_eq!(got, want);
}

/// Under back-pressure, aligned checkpoints wait for the barrier behind
/// full buffers; unaligned ones overtake them and store the in-flight
/// records instead: much shorter checkpoints, larger state, same result.
#[test]
fn unaligned_checkpoints_are_faster_under_backpressure() {
    let s = scenario("backpressure");
    let o = run(&s);
    let stats = |name: &str| {
        let r = o
            .jobs
            .iter()
            .find(|j| j.name == name)
            .and_then(|j| j.result.as_ref())
            .unwrap();
        let id = r.id;
        let mut d: Vec<(u64, u64)> = o
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::CheckpointCompleted {
                    job,
                    duration_ms,
                    size,
                    ..
                } if *job == id => Some((*duration_ms, *size)),
                _ => None,
            })
            .collect();
        assert!(d.len() >= 3, "{name} takes checkpoints");
        d.sort();
        let median = d[d.len() / 2].0;
        let mut out = r.collected.clone();
        out.sort();
        (median, d.iter().map(|x| x.1).max().unwrap(), out)
    };
    let (aligned_ms, aligned_size, aligned_out) = stats("aligned");
    let (unaligned_ms, unaligned_size, unaligned_out) = stats("unaligned");
    assert!(
        unaligned_ms * 5 < aligned_ms,
        "unaligned {unaligned_ms:?} ms vs aligned {aligned_ms:?} ms"
    );
    assert!(unaligned_size > aligned_size, "in-flight data is stored");
    assert_eq!(aligned_out, unaligned_out);
}
