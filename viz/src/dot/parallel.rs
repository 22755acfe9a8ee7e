//! The parallel view: Flink's ExecutionGraph.
//!
//! The bottom half of the figure in Flink's "Tasks and Operator Chains": the
//! JobMaster expands each JobVertex into one ExecutionVertex per subtask,
//! and each JobEdge into channels between producer and consumer subtasks
//! (a pointwise edge wires subtask *i* to *i*, an all-to-all edge wires every
//! producer to every consumer). Each subtask is one node, labelled like
//! Flink's task name (`Split -> Pair (1/2)`) with a line per chained
//! operator; the subtasks of a JobVertex share a box. Every channel is an
//! arrow; each JobEdge has its own colour and names its ship strategy once,
//! on its first channel, so the crossing lines of a shuffle stay readable.

use super::{CLUSTER_STYLE, DotWriter, operator_name, quote, quote_lines};
use crate::model::Dataflow;

/// Colours for the channels of successive job edges, cycled.
const PALETTE: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];

/// The parallel view of `df` as DOT.
pub fn render(df: &Dataflow) -> String {
    let mut w = DotWriter::digraph(
        "parallel",
        df,
        "parallel view (ExecutionGraph: one node per subtask)",
        ", ranksep=1.2",
    );
    w.line("node [shape=box, style=\"rounded,filled\", fillcolor=white];");
    for (vi, v) in df.vertices.iter().enumerate() {
        w.open(&format!("subgraph cluster_v{vi}"));
        let p = format!("p={}", v.parallelism);
        w.line(&format!("label={};", quote_lines(&[&v.name, &p])));
        w.line(CLUSTER_STYLE);
        for s in 0..v.parallelism {
            w.line(&format!(
                "v{vi}_s{s} [label={}];",
                quote_lines(&subtask_label(df, vi, s))
            ));
        }
        w.close();
    }
    for (k, e) in df.vertex_edges.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        for (c, &(from, to)) in e.channels.iter().enumerate() {
            let label = if c == 0 {
                format!(", label={}, fontcolor=\"{color}\"", quote(&e.ship_strategy))
            } else {
                String::new()
            };
            w.line(&format!(
                "v{}_s{from} -> v{}_s{to} [color=\"{color}\"{label}];",
                e.from, e.to
            ));
        }
    }
    w.finish()
}

/// The lines of a subtask's label: Flink's task name
/// (`Source: words -> Split (1/2)`) broken after each arrow, with the
/// 1-based subtask index and parallelism on a line of their own.
fn subtask_label(df: &Dataflow, vi: usize, subtask: u32) -> Vec<String> {
    let v = &df.vertices[vi];
    let n = v.operators.len();
    let mut lines: Vec<String> = v
        .operators
        .iter()
        .enumerate()
        .map(|(i, &op)| {
            let arrow = if i + 1 < n { " ->" } else { "" };
            format!("{}{arrow}", operator_name(df, op))
        })
        .collect();
    lines.push(format!("({}/{})", subtask + 1, v.parallelism));
    lines
}
