//! What a client shows of a job: its result and the list of jobs, as text.
//!
//! Flink's CLI prints a job's status, its accumulators and, for a collect
//! sink, its records; its `flink list` prints a table of jobs. These
//! functions do the same for a [`JobResult`] and a list of
//! [`JobOverview`]s, so that every client (the `mini-flink` binary, the
//! simulator, a test) says it in the same words.
//!
//! In: what [`super::ClusterClient`] fetched, and the JobGraph a client
//! compiled (to know whether its collected records are rolling updates).
//! Out: `String`s, ready to print.

use crate::graph::JobGraph;
use crate::operators::{Key, OperatorKind, Value};
use crate::rpc::{JobOverview, JobResult};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// How many non-aggregated collected records a result shows before
/// summarising the rest.
pub const MAX_PRINTED_RECORDS: usize = 50;

/// Whether every `collect` sink reads straight from a keyed rolling
/// aggregation (sum, count, reduce): its records are then updates
/// `(key, value so far)`, and the last one per key is the answer.
pub fn collects_rolling_aggregates(jg: &JobGraph) -> bool {
    let g = &jg.stream_graph;
    let mut any = false;
    for (i, n) in g.nodes().enumerate() {
        if !matches!(n.kind, OperatorKind::Collect { .. }) {
            continue;
        }
        any = true;
        let all_rolling = g.edges().filter(|e| e.target == i).all(|e| {
            matches!(
                g.node(e.source).kind,
                OperatorKind::Sum | OperatorKind::Count | OperatorKind::Reduce(_)
            )
        });
        if !all_rolling {
            return false;
        }
    }
    any
}

/// Formats milliseconds as seconds.
pub fn secs(ms: u64) -> String {
    format!("{:.3} s", ms as f64 / 1000.0)
}

/// ": CAUSE" when the job has a failure cause, else nothing.
pub fn cause_suffix(r: &JobResult) -> String {
    r.cause
        .as_deref()
        .map(|c| format!(": {c}"))
        .unwrap_or_default()
}

/// What a client prints about a finished job: status, cause, per-vertex
/// records in and out, and the collected result. With `rolling`, pairs are
/// updates of keyed rolling aggregations and only the last one per key is
/// shown, sorted by key.
pub fn result_text(r: &JobResult, rolling: bool) -> String {
    let mut s = String::new();
    let took = r
        .ended_at
        .map(|e| format!(" in {}", secs(e.saturating_sub(r.submitted_at))))
        .unwrap_or_default();
    let _ = writeln!(s, "Job {} (\"{}\") {}{took}", r.id, r.name, r.status);
    if let Some(cause) = &r.cause {
        let _ = writeln!(s, "Cause: {cause}");
    }
    if r.restarts > 0 {
        let _ = writeln!(s, "Restarts: {}", r.restarts);
    }
    if let Some(path) = &r.restored_from {
        let _ = writeln!(s, "Restored from savepoint: {path}");
    }
    if r.checkpoints_completed > 0 {
        let latest = r
            .latest_checkpoint
            .map(|c| format!(" (latest: checkpoint {c})"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "Checkpoints completed: {}{latest}",
            r.checkpoints_completed
        );
    }
    for path in &r.savepoints {
        let _ = writeln!(s, "Savepoint taken: {path}");
    }
    if !r.vertices.is_empty() {
        s.push('\n');
        let _ = writeln!(s, "Vertices (records in / out, summed over subtasks):");
        let width = r.vertices.iter().map(|v| v.name.len()).max().unwrap_or(0);
        for v in &r.vertices {
            let _ = writeln!(
                s,
                "  {:<width$}  p={:<3} in {:>10}  out {:>10}",
                v.name, v.parallelism, v.counters.records_in, v.counters.records_out
            );
        }
    }
    if r.collected.is_empty() {
        return s;
    }
    s.push('\n');
    collected_text(&mut s, &r.collected, rolling);
    s
}

/// The collected records: the last update per key when `rolling` (and
/// every record is a pair), else the first [`MAX_PRINTED_RECORDS`].
fn collected_text(s: &mut String, collected: &[Value], rolling: bool) {
    let pairs: Option<Vec<(&Key, i64)>> = collected
        .iter()
        .map(|v| match v {
            Value::Pair(k, n) => Some((k, *n)),
            _ => None,
        })
        .collect();
    match pairs {
        Some(pairs) if rolling => {
            let mut last: BTreeMap<&Key, i64> = BTreeMap::new();
            for (k, n) in pairs {
                last.insert(k, n);
            }
            let _ = writeln!(
                s,
                "Result: the final value of each of {} keys ({} updates received):",
                last.len(),
                collected.len()
            );
            for (k, n) in last {
                let _ = writeln!(s, "  ({k},{n})");
            }
        }
        _ => {
            let _ = writeln!(s, "Result: {} records collected:", collected.len());
            for v in collected.iter().take(MAX_PRINTED_RECORDS) {
                let _ = writeln!(s, "  {v}");
            }
            if collected.len() > MAX_PRINTED_RECORDS {
                let _ = writeln!(
                    s,
                    "  ... and {} more",
                    collected.len() - MAX_PRINTED_RECORDS
                );
            }
        }
    }
}

/// The table `flink list` prints: id, name and status of each job, or
/// "No jobs.".
pub fn jobs_text(jobs: &[JobOverview]) -> String {
    if jobs.is_empty() {
        return "No jobs.\n".to_string();
    }
    let mut s = String::new();
    let width = jobs.iter().map(|j| j.name.len()).max().unwrap_or(0).max(4);
    let _ = writeln!(s, "{:<32}  {:<width$}  STATUS", "JOB ID", "NAME");
    for j in jobs {
        let _ = writeln!(s, "{}  {:<width$}  {}", j.id, j.name, j.status);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::JobId;
    use crate::state::JobStatus;
    use std::path::Path;

    /// Compiles job-file text as `run` would.
    fn job(text: &str) -> JobGraph {
        let src = crate::jobfile::Source {
            file: "test.toml",
            text,
            base_dir: Path::new("."),
        };
        JobGraph::from_stream_graph(&crate::jobfile::parse_job(&src).unwrap())
    }

    const HEAD: &str = r#"
name = "t"
[[operators]]
id = "seq"
kind = "sequence"
args = { from = 1, to = 10 }
[[operators]]
id = "pair"
kind = "map"
fn = "key_mod"
args = { modulus = 3 }
input = "seq"
"#;

    /// Only a collect sink fed by a rolling aggregation is shown per key.
    #[test]
    fn rolling_aggregates_are_recognised() {
        let keyed = format!(
            "{HEAD}[[operators]]\nid = \"sum\"\nkind = \"sum\"\ninput = \"pair\"\n\
             partition = \"hash\"\nkey = \"f0\"\n\
             [[operators]]\nid = \"out\"\nkind = \"collect\"\ninput = \"sum\"\n"
        );
        assert!(collects_rolling_aggregates(&job(&keyed)));
        let plain =
            format!("{HEAD}[[operators]]\nid = \"out\"\nkind = \"collect\"\ninput = \"pair\"\n");
        assert!(!collects_rolling_aggregates(&job(&plain)));
        let no_collect =
            format!("{HEAD}[[operators]]\nid = \"out\"\nkind = \"discard\"\ninput = \"pair\"\n");
        assert!(!collects_rolling_aggregates(&job(&no_collect)));
    }

    fn result(collected: Vec<Value>) -> JobResult {
        JobResult {
            id: JobId(0xab),
            name: "t".into(),
            status: JobStatus::Finished,
            cause: None,
            collected,
            vertices: vec![],
            submitted_at: 1_000,
            running_at: Some(1_100),
            ended_at: Some(2_500),
            restarts: 0,
            checkpoints_completed: 0,
            latest_checkpoint: None,
            savepoints: vec![],
            restored_from: None,
        }
    }

    fn pair(k: &str, n: i64) -> Value {
        Value::pair(Value::text(k), n)
    }

    /// Rolling updates collapse to the last value per key, sorted by key.
    #[test]
    fn rolling_result_shows_last_update_per_key() {
        let r = result(vec![
            pair("b", 1),
            pair("a", 1),
            pair("b", 2),
            pair("a", 2),
            pair("b", 3),
        ]);
        let text = result_text(&r, true);
        assert!(text.contains("FINISHED in 1.500 s"), "{text}");
        assert!(
            text.ends_with(
                "Result: the final value of each of 2 keys (5 updates received):\n  (a,2)\n  (b,3)\n"
            ),
            "{text}"
        );
        // Not rolling: every record, in arrival order.
        let text = result_text(&r, false);
        assert!(
            text.contains("Result: 5 records collected:\n  (b,1)\n  (a,1)\n"),
            "{text}"
        );
    }

    /// Fault-tolerance facts are shown when there are any.
    #[test]
    fn result_shows_restarts_checkpoints_and_savepoints() {
        let plain = result_text(&result(vec![]), false);
        for absent in ["Restarts", "Checkpoints", "Savepoint", "Restored"] {
            assert!(!plain.contains(absent), "{plain}");
        }
        let mut r = result(vec![]);
        r.restarts = 2;
        r.checkpoints_completed = 7;
        r.latest_checkpoint = Some(crate::ids::CheckpointId(9));
        r.savepoints = vec!["/ckpt/savepoints/t/savepoint-ab-9".into()];
        r.restored_from = Some("/ckpt/savepoints/t/savepoint-ab-3".into());
        let text = result_text(&r, false);
        for line in [
            "Restarts: 2\n",
            "Restored from savepoint: /ckpt/savepoints/t/savepoint-ab-3\n",
            "Checkpoints completed: 7 (latest: checkpoint 9)\n",
            "Savepoint taken: /ckpt/savepoints/t/savepoint-ab-9\n",
        ] {
            assert!(text.contains(line), "{text}");
        }
    }

    /// Long plain results are cut after MAX_PRINTED_RECORDS lines.
    #[test]
    fn long_results_are_truncated() {
        let r = result((0..120).map(Value::Int).collect());
        let text = result_text(&r, false);
        assert_eq!(
            text.lines().filter(|l| l.starts_with("  ")).count(),
            MAX_PRINTED_RECORDS + 1
        );
        assert!(text.ends_with("  ... and 70 more\n"), "{text}");
    }
}
