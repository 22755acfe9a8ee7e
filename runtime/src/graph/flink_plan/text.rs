//! A dataflow read from a Flink plan, as text for people.
//!
//! The same reading as [`plan_text`](crate::graph::plan::plan_text) gives
//! of our own jobs: the job vertices (operator chains) with their
//! parallelism and slot sharing group, the chained operators head first,
//! each input with its ship strategy, distribution pattern and number of
//! subtask channels, and the slots the job needs. In: a
//! [`viz::Dataflow`]. Out: a string.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The dataflow as text: chains, parallelism, job edges, slots.
pub fn dataflow_text(df: &viz::Dataflow) -> String {
    let mut s = String::new();
    let subtasks: u32 = df.vertices.iter().map(|v| v.parallelism).sum();
    let _ = writeln!(s, "Job \"{}\"", df.name);
    let _ = writeln!(
        s,
        "  {} operators -> {} job vertices (tasks), {} subtasks",
        df.operators.len(),
        df.vertices.len(),
        subtasks
    );
    s.push('\n');
    // Each operator's depth in its chain, from the chained edges.
    let mut parent: BTreeMap<usize, usize> = BTreeMap::new();
    for e in df.operator_edges.iter().filter(|e| e.chained) {
        parent.insert(e.to, e.from);
    }
    let depth = |mut op: usize| {
        let mut d = 0;
        while let Some(&p) = parent.get(&op) {
            op = p;
            d += 1;
            if d > df.operators.len() {
                break;
            }
        }
        d
    };
    for (i, v) in df.vertices.iter().enumerate() {
        let _ = writeln!(
            s,
            "[{}] {}  (parallelism {}, slot sharing group \"{}\")",
            i + 1,
            v.name,
            v.parallelism,
            v.slot_sharing_group
        );
        for (k, &op) in v.operators.iter().enumerate() {
            let Some(o) = df.operators.get(op) else {
                continue;
            };
            let lead = if k == 0 { "chain:" } else { "      " };
            let indent = "   ".repeat(depth(op).saturating_sub(1));
            let branch = if k == 0 { "" } else { "+- " };
            let _ = writeln!(s, "    {lead} {indent}{branch}{} ({})", o.name, o.kind);
        }
        for (num, e) in df.vertex_edges.iter().filter(|e| e.to == i).enumerate() {
            let from = df.vertices.get(e.from).map_or("?", |u| u.name.as_str());
            let _ = writeln!(
                s,
                "    input {num}: from [{}] {from} via {} ({}, {} channel{})",
                e.from + 1,
                e.ship_strategy,
                e.distribution,
                e.channels.len(),
                if e.channels.len() == 1 { "" } else { "s" }
            );
        }
    }
    s.push('\n');
    let mut groups: BTreeMap<&str, u32> = BTreeMap::new();
    for v in &df.vertices {
        let p = groups.entry(v.slot_sharing_group.as_str()).or_default();
        *p = (*p).max(v.parallelism);
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(g, p)| format!("\"{g}\": {p}"))
        .collect();
    let _ = writeln!(
        s,
        "Slots needed: {} (highest parallelism per slot sharing group: {})",
        groups.values().sum::<u32>(),
        parts.join(", ")
    );
    s
}
