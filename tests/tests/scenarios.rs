//! Every scenario in `scenarios/`, run in the simulator: its summary and its
//! event trace are snapshot-tested, its expectations must hold, and running
//! it twice with the same seed must give a byte-identical trace.

use std::path::{Path, PathBuf};

fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("scenarios/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scenarios found in {}", dir.display());
    files
}

fn run(path: &Path, seed: Option<u64>) -> (sim::Scenario, u64, sim::Outcome) {
    let s = sim::load(path).unwrap_or_else(|e| panic!("{e}"));
    let simulation = sim::Simulation::new(&s, seed);
    let seed = simulation.seed();
    let o = simulation
        .run()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (s, seed, o)
}

/// Summary and trace of every scenario, snapshot-tested; expectations hold.
#[test]
fn every_scenario_matches_its_snapshot() {
    for path in scenario_files() {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let (s, seed, o) = run(&path, None);
        assert!(
            o.failed_expectations.is_empty(),
            "{name}: {:?}",
            o.failed_expectations
        );
        assert!(!o.timed_out, "{name}: the scenario hit its duration");
        insta::assert_snapshot!(
            format!("{name}-summary"),
            sim::summary::summary(&s, seed, &o)
        );
        insta::assert_snapshot!(
            format!("{name}-trace"),
            sim::summary::trace_jsonl(&o.events)
        );
    }
}

/// Same scenario, same seed: byte-identical traces. Another seed may differ
/// (and for a scenario with random routing it does).
#[test]
fn same_seed_same_trace() {
    for path in scenario_files() {
        let (_, _, a) = run(&path, None);
        let (_, _, b) = run(&path, None);
        assert_eq!(
            sim::summary::trace_jsonl(&a.events),
            sim::summary::trace_jsonl(&b.events),
            "{} is not deterministic",
            path.display()
        );
    }
    let session = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/session.toml");
    let (_, _, a) = run(&session, Some(1));
    let (_, _, b) = run(&session, Some(2));
    assert_ne!(
        sim::summary::trace_jsonl(&a.events),
        sim::summary::trace_jsonl(&b.events),
        "a different seed should be able to change the trace"
    );
}
