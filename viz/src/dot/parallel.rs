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

use graphviz_rust::dot_generator::{attr, id, stmt};
use graphviz_rust::dot_structures::{Attribute, Graph, Id, Stmt};

use super::build::{
    PALETTE, cluster_style, digraph, edge, label, node, operator_name, rounded_boxes, subgraph,
};
use crate::model::Dataflow;

/// The parallel view of `df` as a graph.
pub fn graph(df: &Dataflow) -> Graph {
    let mut g = digraph(
        "parallel",
        &[
            df.name.as_str(),
            "parallel view (ExecutionGraph: one node per subtask)",
        ],
        "LR",
        vec![attr!("ranksep", 1.2)],
    );
    g.add_stmt(rounded_boxes());
    for (vi, v) in df.vertices.iter().enumerate() {
        let p = format!("p={}", v.parallelism);
        let mut stmts = vec![stmt!(label(&[v.name.as_str(), &p]))];
        stmts.extend(cluster_style());
        for s in 0..v.parallelism {
            stmts.push(node(
                format!("v{vi}_s{s}"),
                vec![label(&subtask_label(df, vi, s))],
            ));
        }
        g.add_stmt(subgraph(format!("cluster_v{vi}"), stmts));
    }
    for (k, e) in df.vertex_edges.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        for (c, &(from, to)) in e.channels.iter().enumerate() {
            let mut attrs = vec![attr!("color", esc color)];
            if c == 0 {
                attrs.push(label(&[&e.ship_strategy]));
                attrs.push(attr!("fontcolor", esc color));
            }
            g.add_stmt(edge(
                format!("v{}_s{from}", e.from),
                format!("v{}_s{to}", e.to),
                attrs,
            ));
        }
    }
    g
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
