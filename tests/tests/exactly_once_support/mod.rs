//! Exactly-once checks shared by the real-process tests of a checkpointed
//! keyed count (`tests/data/real_tcp_checkpointed.toml`): the job's
//! generator, the final sums it must give, and the check that committed
//! rolling-sum updates hold every record exactly once.

#![allow(dead_code)]

use runtime::jobfile::load_job_file;
use runtime::operators::{OperatorKind, Value, generator_record};
use std::collections::BTreeMap;
use std::path::Path;

/// The job's generator: (keys, count). The job must be the shape this
/// file checks: checkpointed, a generator, a keyed sum into a collect sink.
pub fn generator_of(job: &Path) -> (u64, u64) {
    let g = load_job_file(job).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        g.checkpoint_interval_ms.is_some(),
        "{}: the job must take checkpoints",
        job.display()
    );
    let kinds: Vec<&OperatorKind> = g.nodes().map(|n| &n.kind).collect();
    assert!(
        kinds.iter().any(|k| matches!(k, OperatorKind::Sum))
            && kinds
                .iter()
                .any(|k| matches!(k, OperatorKind::Collect { .. })),
        "{}: the job must sum into a collect sink",
        job.display()
    );
    let generators: Vec<(u64, u64, u64)> = kinds
        .iter()
        .filter_map(|k| match k {
            OperatorKind::Generator { keys, count, rate } => Some((*keys, *count, *rate)),
            _ => None,
        })
        .collect();
    match generators[..] {
        [(keys, count, rate)] if rate > 0 => (keys, count),
        _ => panic!(
            "{}: the job must have one rate-limited generator source",
            job.display()
        ),
    }
}

/// The final sum of every key: how many of the generator's `count`
/// records have it (each record is `(key, 1)`).
pub fn expected_sums(keys: u64, count: u64) -> BTreeMap<String, i64> {
    let mut sums = BTreeMap::new();
    for i in 0..count {
        match generator_record(i, keys) {
            Value::Pair(k, n) => *sums.entry(k.to_string()).or_insert(0) += n,
            v => panic!("the generator made {v}, not a pair"),
        }
    }
    sums
}

/// Checks committed rolling-sum updates against the expected final sums:
/// since every record adds 1, the updates of a key must be exactly
/// 1, 2, …, n in order. A record lost, or delivered twice (a replay after
/// a restart that was already committed), breaks the sequence.
pub fn check_exactly_once(
    updates: &[Value],
    expected: &BTreeMap<String, i64>,
) -> Result<(), String> {
    let mut last: BTreeMap<String, i64> = BTreeMap::new();
    for (i, u) in updates.iter().enumerate() {
        let Value::Pair(k, n) = u else {
            return Err(format!("update {i} is {u}, not a (key,sum) pair"));
        };
        let key = k.to_string();
        let prev = last.entry(key.clone()).or_insert(0);
        if *n != *prev + 1 {
            return Err(format!(
                "update {i}: key {key} went from {prev} to {n} (a duplicate or a lost record)"
            ));
        }
        *prev = *n;
    }
    if &last != expected {
        let diff: Vec<String> = expected
            .iter()
            .filter(|(k, n)| last.get(*k) != Some(n))
            .map(|(k, n)| format!("{k}: {} of {n}", last.get(k).copied().unwrap_or(0)))
            .collect();
        return Err(format!("final sums differ: {}", diff.join(", ")));
    }
    Ok(())
}
