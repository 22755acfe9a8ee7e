//! The arithmetic of Flink's metric answers: lists of metric names, picked
//! values (`?get=`), aggregations over subtasks (`?agg=min,max,avg,sum,skew`,
//! Flink's `AggregatingMetricsHandler`) and the percentile summaries of
//! `/checkpoints` and a vertex's `aggregated` block (Flink's
//! `StatsSummaryDto` and `MetricsAggregatedDto`).
//!
//! A leaf: it imports nothing of the REST endpoint. In: names and numbers.
//! Out: JSON in Flink's shapes.

use serde_json::{Map, Value, json};

/// `[{"id": name}, …]`: what a metrics URL without `get` answers.
pub fn names(names: &[&str]) -> Value {
    Value::Array(names.iter().map(|n| json!({ "id": n })).collect())
}

/// `[{"id", "value"}, …]` for the names asked for, values as text (as
/// Flink gives them); an unknown name is left out. Without `get`, the list
/// of names.
pub fn pick(get: &[String], all: &[&str], value: impl Fn(&str) -> Option<String>) -> Value {
    if get.is_empty() {
        return names(all);
    }
    Value::Array(
        get.iter()
            .filter_map(|g| value(g).map(|v| json!({ "id": g, "value": v })))
            .collect(),
    )
}

/// A number as Flink writes it: integral values without a fraction.
pub fn num(x: f64) -> Value {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 9.0e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

/// Min, max, avg, sum and skew of some values, the ones in `aggs` (all
/// when empty). Skew is Flink's: how far the max lies above the average,
/// in percent of the average (0 for an average of 0).
pub fn aggregate(values: &[f64], aggs: &[String]) -> Map<String, Value> {
    let mut o = Map::new();
    if values.is_empty() {
        return o;
    }
    let sum: f64 = values.iter().sum();
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let avg = sum / values.len() as f64;
    let skew = if avg == 0.0 {
        0.0
    } else {
        (max - avg) / avg * 100.0
    };
    for (name, v) in [
        ("min", min),
        ("max", max),
        ("avg", avg),
        ("sum", sum),
        ("skew", skew),
    ] {
        if aggs.is_empty() || aggs.iter().any(|a| a == name) {
            o.insert(name.into(), num(v));
        }
    }
    o
}

/// The `p`-th percentile (0..=100) of sorted values, interpolated
/// between neighbours as Flink's `Percentile` does.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    match sorted.len() {
        0 => 0.0,
        1 => sorted[0],
        n => {
            let pos = (p / 100.0 * (n as f64 + 1.0)).clamp(1.0, n as f64);
            let lo = pos.floor() as usize;
            let frac = pos - lo as f64;
            let a = sorted[lo - 1];
            let b = sorted[lo.min(n - 1)];
            a + frac * (b - a)
        }
    }
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// `{"min", "max", "avg", "p50", "p90", "p95", "p99", "p999"}` of the
/// checkpoints' statistics (all 0 without values, as Flink).
pub fn checkpoint_summary(values: &[f64]) -> Value {
    let s = sorted(values);
    let (min, max) = (
        s.first().copied().unwrap_or(0.0),
        s.last().copied().unwrap_or(0.0),
    );
    let avg = if s.is_empty() {
        0.0
    } else {
        (s.iter().sum::<f64>() / s.len() as f64).floor()
    };
    json!({
        "min": num(min), "max": num(max), "avg": num(avg),
        "p50": num(percentile(&s, 50.0)), "p90": num(percentile(&s, 90.0)),
        "p95": num(percentile(&s, 95.0)), "p99": num(percentile(&s, 99.0)),
        "p999": num(percentile(&s, 99.9)),
    })
}

/// `{"min", "max", "avg", "sum", "median", "p25", "p75", "p95"}` of
/// integral values (a vertex's `aggregated` block; Flink truncates).
pub fn subtask_summary(values: &[u64]) -> Value {
    let s = sorted(&values.iter().map(|v| *v as f64).collect::<Vec<_>>());
    let t = |x: f64| json!(x as u64);
    let sum: f64 = s.iter().sum();
    let avg = if s.is_empty() {
        0.0
    } else {
        sum / s.len() as f64
    };
    json!({
        "min": t(s.first().copied().unwrap_or(0.0)), "max": t(s.last().copied().unwrap_or(0.0)),
        "avg": t(avg), "sum": t(sum), "median": t(percentile(&s, 50.0)),
        "p25": t(percentile(&s, 25.0)), "p75": t(percentile(&s, 75.0)), "p95": t(percentile(&s, 95.0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_match_flinks_sample() {
        // From rest-samples/more/vertex-subtasks-metrics-agg.json.
        let o = aggregate(&[681.0, 688.0], &[]);
        assert_eq!(o["min"], json!(681));
        assert_eq!(o["max"], json!(688));
        assert_eq!(o["avg"], json!(684.5));
        assert_eq!(o["sum"], json!(1369));
        let skew = o["skew"].as_f64().expect("a number");
        assert!((skew - 0.5113221329437546).abs() < 1e-12, "{skew}");
        let only = aggregate(&[2.0, 2.0], &["max".into(), "skew".into()]);
        assert_eq!(Value::Object(only), json!({"max": 2, "skew": 0}));
    }

    #[test]
    fn percentiles_interpolate_and_pick_asked_names() {
        let s = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&s, 50.0), 2.5);
        assert_eq!(percentile(&s, 99.9), 4.0);
        assert_eq!(percentile(&[7.0], 10.0), 7.0);
        let v = pick(&["a".into(), "nope".into()], &["a"], |n| {
            (n == "a").then(|| "1".into())
        });
        assert_eq!(v, json!([{"id": "a", "value": "1"}]));
        assert_eq!(
            pick(&[], &["a", "b"], |_| None),
            json!([{"id": "a"}, {"id": "b"}])
        );
    }
}
