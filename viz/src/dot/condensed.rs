//! The condensed (logical) view: Flink's StreamGraph.
//!
//! The top half of the figure in Flink's "Tasks and Operator Chains": every
//! operator of the program is one node showing its name and parallelism, and
//! every StreamEdge is an arrow labelled with its partitioning (`FORWARD`,
//! `HASH(f0)`, `REBALANCE`, …). Chaining has not happened yet in this view,
//! so chained operators stay separate nodes; the edges chaining fused are
//! drawn bold so the student can see which ones will vanish into a task.

use graphviz_rust::dot_generator::{attr, id, stmt};
use graphviz_rust::dot_structures::{Attribute, Graph, GraphAttributes, Id, Stmt};

use super::build::{digraph, edge, label, node};
use crate::model::Dataflow;

/// The condensed view of `df` as a graph.
pub fn graph(df: &Dataflow) -> Graph {
    let mut g = digraph(
        "condensed",
        &[df.name.as_str(), "condensed view (StreamGraph)"],
        "LR",
        vec![],
    );
    g.add_stmt(stmt!(GraphAttributes::Node(vec![attr!(
        "shape", "ellipse"
    )])));
    for (i, op) in df.operators.iter().enumerate() {
        let p = format!("p={}", op.parallelism);
        g.add_stmt(node(format!("op{i}"), vec![label(&[op.name.as_str(), &p])]));
    }
    for e in &df.operator_edges {
        let mut attrs = vec![label(&[&e.partitioning])];
        if e.chained {
            attrs.push(attr!("style", "bold"));
        }
        g.add_stmt(edge(format!("op{}", e.from), format!("op{}", e.to), attrs));
    }
    g
}
