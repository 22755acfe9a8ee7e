//! Durable checkpoint storage (issue 15): every checkpoint file carries a
//! checksum, the last `num_retained` completed checkpoints are kept, and a
//! JobManager that takes over skips a damaged checkpoint for the one before
//! it (saying so with an event), so that a corrupted checkpoint never
//! corrupts a result.
//!
//! The runs are `scenarios/ha.toml` in the simulator: the leading
//! JobManager crashes at 3 s and the standby recovers the job. Just before
//! the crash, the newest checkpoint file is damaged in the simulator's
//! durable store, or its writes are made slow.

use runtime::events::EventKind;
use runtime::jobmanager::checkpoint::storage::Damage;
use sim::{Scenario, Simulation};
use std::path::Path;

/// scenarios/ha.toml, retaining `retained` checkpoints.
fn ha(retained: u32) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/ha.toml");
    let text = std::fs::read_to_string(&path).expect("scenarios/ha.toml");
    let text = text.replace(
        "[jobs.job.checkpointing]\ninterval_ms = 500\n",
        &format!("[jobs.job.checkpointing]\ninterval_ms = 500\nnum_retained = {retained}\n"),
    );
    assert!(
        text.contains("num_retained"),
        "ha.toml's checkpointing changed"
    );
    let src = runtime::jobfile::Source {
        file: "ha.toml",
        text: &text,
        base_dir: path.parent().expect("scenarios/"),
    };
    sim::scenario::parse(&src, &path).unwrap_or_else(|e| panic!("{e}"))
}

/// The checkpoint files in the store, by id.
fn checkpoint_files(sim: &Simulation<'_>) -> Vec<(u64, String)> {
    let mut v: Vec<(u64, String)> = sim
        .storage()
        .paths()
        .into_iter()
        .filter_map(|p| {
            let id = p.rsplit_once("/chk-")?.1.parse().ok()?;
            Some((id, p))
        })
        .collect();
    v.sort();
    v
}

/// Runs `s`, damaging the newest checkpoint just before the JobManager
/// crash at 3 s; returns the outcome, the files retained then, and which
/// file was damaged.
fn run_damaged(s: &Scenario, damage: Damage) -> (sim::Outcome, Vec<(u64, String)>, String) {
    let mut sim = Simulation::new(s, None);
    while sim.now_ms() < 2_999 {
        assert!(!sim.step().expect("step"), "the run ended before the crash");
    }
    let files = checkpoint_files(&sim);
    let (_, newest) = files.last().cloned().expect("checkpoints before 3 s");
    assert!(sim.storage().corrupt(&newest, damage));
    while !sim.step().expect("step") {}
    (sim.outcome(), files, newest)
}

fn recovered_from(o: &sim::Outcome) -> Vec<Option<u64>> {
    o.events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::JobRecovered {
                from_checkpoint, ..
            } => Some(from_checkpoint.map(|c| c.0)),
            _ => None,
        })
        .collect()
}

fn skipped(o: &sim::Outcome) -> Vec<(String, String, Option<String>)> {
    o.events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::CheckpointSkipped {
                path,
                cause,
                fallback,
                ..
            } => Some((path.clone(), cause.clone(), fallback.clone())),
            _ => None,
        })
        .collect()
}

/// Three retained, the newest with a flipped byte: the new leader says it
/// skips it, recovers from the one before, and the result equals the
/// fault-free run's.
#[test]
fn a_damaged_newest_checkpoint_falls_back_to_the_one_before() {
    let s = ha(3);
    let reference = sim::campaign::reference(&s).expect("fault-free run");
    let (o, files, damaged) = run_damaged(&s, Damage::Flip);
    assert_eq!(files.len(), 3, "three retained: {files:?}");
    let ids: Vec<u64> = files.iter().map(|(i, _)| *i).collect();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
    let (newest, previous) = (ids[2], ids[1]);
    let sk = skipped(&o);
    assert_eq!(sk.len(), 1, "{sk:?}");
    assert_eq!(sk[0].0, format!("mem://{damaged}"));
    assert!(sk[0].1.contains("checksum does not match"), "{}", sk[0].1);
    assert_eq!(
        sk[0].2.as_deref(),
        Some(format!("mem://{}", files[1].1).as_str())
    );
    assert_eq!(recovered_from(&o), [Some(previous)], "not from #{newest}");
    assert_eq!(
        sim::campaign::committed(&o),
        reference,
        "the output is exact"
    );
    // The new leader goes on numbering after the checkpoint it restored,
    // and retention keeps three.
    let after = o
        .events
        .iter()
        .filter(|e| e.host == "jobmanager-2")
        .find_map(|e| match &e.kind {
            EventKind::CheckpointCompleted { id, .. } => Some(id.0),
            _ => None,
        });
    assert_eq!(after, Some(previous + 1));
}

/// One retained (Flink's default), torn: nothing older to fall back to, so
/// the job starts again from its beginning, and its output is still exact
/// (the committed output goes back with the state).
#[test]
fn a_torn_only_checkpoint_starts_the_job_again() {
    let s = ha(1);
    let reference = sim::campaign::reference(&s).expect("fault-free run");
    let (o, files, _) = run_damaged(&s, Damage::Tear);
    assert_eq!(files.len(), 1, "one retained: {files:?}");
    let sk = skipped(&o);
    assert_eq!(sk.len(), 1, "{sk:?}");
    assert!(sk[0].1.contains("torn"), "{}", sk[0].1);
    assert_eq!(sk[0].2, None);
    assert_eq!(recovered_from(&o), [None]);
    assert_eq!(sim::campaign::committed(&o), reference);
}

/// Without damage the new leader recovers from the newest, and only the
/// retained number of files stay in the store.
#[test]
fn retention_keeps_the_newest() {
    let s = ha(2);
    let mut sim = Simulation::new(&s, None);
    while sim.now_ms() < 2_999 {
        sim.step().expect("step");
    }
    let files = checkpoint_files(&sim);
    assert_eq!(files.len(), 2, "{files:?}");
    let newest = files[1].0;
    while !sim.step().expect("step") {}
    let o = sim.outcome();
    assert!(skipped(&o).is_empty());
    assert_eq!(recovered_from(&o), [Some(newest)]);
}

/// `num_retained` out of range is refused where it is written.
#[test]
fn num_retained_is_checked() {
    let text = "name = \"j\"\n[checkpointing]\ninterval_ms = 100\nnum_retained = 0\n[[operators]]\nid = \"s\"\nkind = \"generator\"\n[[operators]]\nid = \"k\"\nkind = \"discard\"\ninput = \"s\"\n";
    let e = runtime::jobfile::parse_job(&runtime::jobfile::Source {
        file: "j.toml",
        text,
        base_dir: Path::new("."),
    })
    .expect_err("0 retained is refused")
    .to_string();
    assert!(
        e.contains("j.toml:4") && e.contains("cannot retain 0"),
        "{e}"
    );
}

/// A JobManager that takes over goes on counting the job's restarts from
/// where the old leader stopped: the busiest TaskManager crashes at 0.9 s
/// (jobmanager-1 schedules a restart), the leader at 3 s; the job's
/// result, from jobmanager-2, counts that restart.
#[test]
fn a_new_leader_goes_on_counting_restarts() {
    let mut s = ha(1);
    // The leader notices the TaskManager gone after its heartbeat timeout
    // (1 s here), restarts the job, and dies itself at 3 s.
    s.cluster.heartbeat_timeout_ms = 1_000;
    s.cluster.heartbeat_interval_ms = 200;
    s.faults.insert(
        0,
        sim::scenario::Fault::at(900, sim::scenario::FaultAction::CrashBusiest),
    );
    let o = Simulation::new(&s, None).run().expect("run");
    let restarted_by = |host: &str| {
        o.events
            .iter()
            .filter(|e| e.host == host && matches!(e.kind, EventKind::RestartScheduled { .. }))
            .count() as u32
    };
    let first = restarted_by("jobmanager-1");
    assert!(
        first >= 1,
        "the crash restarted the job: {:#?}",
        o.events
            .iter()
            .filter(|e| matches!(
                e.kind,
                EventKind::Restarted { .. }
                    | EventKind::FaultInjected { .. }
                    | EventKind::TaskManagerLost { .. }
                    | EventKind::RestartScheduled { .. }
            ))
            .collect::<Vec<_>>()
    );
    let second = restarted_by("jobmanager-2");
    let r = o.jobs[0].result.as_ref().expect("a result");
    assert_eq!(r.status, runtime::state::JobStatus::Finished);
    assert_eq!(
        r.restarts,
        first + second,
        "restarts counted over both leaders"
    );
}

/// (time, id) of every completed checkpoint.
fn completions(o: &sim::Outcome) -> Vec<(u64, u64)> {
    o.events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::CheckpointCompleted { id, .. } => Some((e.t, id.0)),
            _ => None,
        })
        .collect()
}

/// When checkpoint `id` was last acknowledged before `until` (ms).
fn last_ack(o: &sim::Outcome, id: u64, until: u64) -> Option<u64> {
    o.events
        .iter()
        .filter(|e| e.t < until)
        .filter_map(|e| match &e.kind {
            EventKind::CheckpointAcknowledged { id: i, .. } if i.0 == id => Some(e.t),
            _ => None,
        })
        .max()
}

/// A slow storage write (the `slow-writes` fault): the fully acknowledged
/// checkpoint completes only when its write is done, no checkpoint is
/// triggered meanwhile, and the output stays exact.
#[test]
fn a_slow_write_holds_the_checkpoint_back() {
    let s = ha(1);
    let reference = sim::campaign::reference(&s).expect("fault-free run");
    let mut sim = Simulation::new(&s, None);
    while sim.now_ms() < 1_000 {
        assert!(!sim.step().expect("step"), "the run ended early");
    }
    sim.storage().slow_writes(1, 1_500);
    while !sim.step().expect("step") {}
    let o = sim.outcome();
    let (done_at, slow) = completions(&o)
        .into_iter()
        .find(|&(t, _)| t > 1_000)
        .expect("a checkpoint completed after 1 s");
    let acked_at = last_ack(&o, slow, done_at).expect("its acknowledgements");
    assert!(
        done_at >= acked_at + 1_500,
        "checkpoint {slow}: acknowledged at {acked_at} ms, completed at {done_at} ms"
    );
    let triggered_meanwhile: Vec<u64> = o
        .events
        .iter()
        .filter(|e| e.t > acked_at && e.t < done_at)
        .filter_map(|e| match &e.kind {
            EventKind::CheckpointTriggered { id, .. } => Some(id.0),
            _ => None,
        })
        .collect();
    assert!(triggered_meanwhile.is_empty(), "{triggered_meanwhile:?}");
    assert_eq!(
        sim::campaign::committed(&o),
        reference,
        "the output is exact"
    );
}

/// The leader crashes (at 3 s, as ha.toml has it) while a fully
/// acknowledged checkpoint is still being written: that checkpoint never
/// completes, the new leader recovers from the one before, and the output
/// is exact.
#[test]
fn a_crash_during_a_slow_write_recovers_from_the_one_before() {
    let s = ha(1);
    let reference = sim::campaign::reference(&s).expect("fault-free run");
    let mut sim = Simulation::new(&s, None);
    while sim.now_ms() < 2_300 {
        assert!(!sim.step().expect("step"), "the run ended early");
    }
    sim.storage().slow_writes(1, 5_000);
    while !sim.step().expect("step") {}
    let o = sim.outcome();
    let before: Vec<u64> = completions(&o)
        .into_iter()
        .filter(|&(t, _)| t <= 2_300)
        .map(|(_, id)| id)
        .collect();
    let previous = *before.last().expect("checkpoints before 2.3 s");
    let slow = previous + 1;
    // (The new leader numbers on from the checkpoint it restored, so it
    // takes a checkpoint `slow` of its own later: look before the crash.)
    assert!(
        last_ack(&o, slow, 3_000).is_some_and(|t| t > 2_300),
        "checkpoint {slow} is acknowledged before the crash"
    );
    assert!(
        !completions(&o)
            .iter()
            .any(|&(t, id)| id == slow && t <= 3_000),
        "checkpoint {slow} completed though its write had not ended"
    );
    assert_eq!(recovered_from(&o), [Some(previous)]);
    assert_eq!(
        sim::campaign::committed(&o),
        reference,
        "the output is exact"
    );
}
