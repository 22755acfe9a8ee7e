//! The simulator's tick (`[cluster] tick_ms`): turmoil delivers messages
//! and polls every host once per tick. A coarser tick moves messages at
//! tick boundaries, so timings change, but what a job computes does not,
//! and a run is still deterministic.

use std::path::Path;

fn run_with_tick(tick_ms: Option<u64>) -> sim::Outcome {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/checkpointing.toml");
    let text = std::fs::read_to_string(&path).expect("scenarios/checkpointing.toml is readable");
    let text = match tick_ms {
        Some(t) => text.replacen("[cluster]\n", &format!("[cluster]\ntick_ms = {t}\n"), 1),
        None => text,
    };
    let file = std::env::temp_dir().join(format!(
        "sim-tick-{}-{}.toml",
        std::process::id(),
        tick_ms.unwrap_or(1)
    ));
    std::fs::write(&file, text).expect("the temp dir is writable");
    let s = sim::load(&file).unwrap_or_else(|e| panic!("{e}"));
    let _ = std::fs::remove_file(&file);
    assert_eq!(s.cluster.tick_ms, tick_ms.unwrap_or(1));
    sim::Simulation::new(&s, None)
        .run()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn collected(o: &sim::Outcome) -> Vec<String> {
    let mut all: Vec<String> = o
        .jobs
        .iter()
        .flat_map(|j| j.result.as_ref().expect("the job ended").collected.iter())
        .map(|v| format!("{v:?}"))
        .collect();
    all.sort();
    all
}

#[test]
fn a_coarser_tick_computes_the_same_and_stays_deterministic() {
    let fine = run_with_tick(None);
    let coarse = run_with_tick(Some(10));
    let again = run_with_tick(Some(10));
    assert!(
        fine.failed_expectations.is_empty(),
        "{:?}",
        fine.failed_expectations
    );
    assert!(
        coarse.failed_expectations.is_empty(),
        "{:?}",
        coarse.failed_expectations
    );
    assert!(!collected(&fine).is_empty(), "the job collects records");
    assert_eq!(
        collected(&fine),
        collected(&coarse),
        "same results at 10 ms ticks"
    );
    assert_eq!(
        sim::summary::trace_jsonl(&coarse.events),
        sim::summary::trace_jsonl(&again.events),
        "same seed, same tick: the same trace"
    );
    assert_ne!(
        sim::summary::trace_jsonl(&fine.events),
        sim::summary::trace_jsonl(&coarse.events),
        "the tick moves when messages arrive"
    );
}
