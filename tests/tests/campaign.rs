//! The fault campaign inside the test suite: failover.toml under 50 random
//! fault schedules, every one of which must end FINISHED with exactly the
//! fault-free output (no record lost, none counted twice). The README says
//! how to run 10,000.

use std::path::Path;

/// 50 seeds of random TaskManager crashes, partitions and slow links.
#[test]
fn failover_campaign_50_seeds_exactly_once() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/failover.toml");
    let s = sim::load(&p).unwrap_or_else(|e| panic!("{e}"));
    let reference = sim::campaign::reference(&s).expect("fault-free run");
    assert!(
        reference.iter().all(|r| !r.is_empty()),
        "the fault-free run commits output"
    );
    let reports: Vec<_> = (1..=50)
        .map(|seed| sim::campaign::check_seed(&s, seed, &reference))
        .collect();
    let summary = sim::campaign::summary("scenarios/failover.toml", &reports);
    eprintln!("{summary}");
    assert!(reports.iter().all(|r| r.failure.is_none()), "{summary}");
    assert!(
        reports.iter().map(|r| r.recoveries).sum::<usize>() >= 25,
        "the schedules must actually make the job recover: {summary}"
    );
}

/// Different seeds draw different schedules, and a seed always the same one.
#[test]
fn fault_schedules_are_a_function_of_the_seed() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/failover.toml");
    let s = sim::load(&p).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        sim::campaign::fault_schedule(&s, 3),
        sim::campaign::fault_schedule(&s, 3)
    );
    assert_ne!(
        sim::campaign::fault_schedule(&s, 3),
        sim::campaign::fault_schedule(&s, 4)
    );
}

/// 50 seeds on ha.toml: leader crashes, leaders cut off from the
/// coordinator, TaskManager crashes and partitions; the job must finish with
/// exactly the fault-free output every time.
#[test]
fn ha_campaign_50_seeds_exactly_once() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/ha.toml");
    let s = sim::load(&p).unwrap_or_else(|e| panic!("{e}"));
    assert!(s.cluster.ha());
    let reference = sim::campaign::reference(&s).expect("fault-free run");
    let reports: Vec<_> = (1..=50)
        .map(|seed| sim::campaign::check_seed(&s, seed, &reference))
        .collect();
    let summary = sim::campaign::summary("scenarios/ha.toml", &reports);
    eprintln!("{summary}");
    assert!(reports.iter().all(|r| r.failure.is_none()), "{summary}");
    assert!(
        reports.iter().map(|r| r.recoveries).sum::<usize>() >= 25,
        "the schedules must actually make jobs recover: {summary}"
    );
}

/// 20 seeds with unaligned checkpoints under back-pressure: restoring
/// in-flight data must neither lose nor repeat a record.
#[test]
fn unaligned_failover_campaign_20_seeds_exactly_once() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/failover-unaligned.toml");
    let s = sim::load(&p).unwrap_or_else(|e| panic!("{e}"));
    let reference = sim::campaign::reference(&s).expect("fault-free run");
    let reports: Vec<_> = (1..=20)
        .map(|seed| sim::campaign::check_seed(&s, seed, &reference))
        .collect();
    let summary = sim::campaign::summary("scenarios/failover-unaligned.toml", &reports);
    assert!(reports.iter().all(|r| r.failure.is_none()), "{summary}");
}
