//! The condensed (logical) view: Flink's StreamGraph.
//!
//! The top half of the figure in Flink's "Tasks and Operator Chains": every
//! operator of the program is one node showing its name and parallelism, and
//! every StreamEdge is an arrow labelled with its partitioning (`FORWARD`,
//! `HASH(f0)`, `REBALANCE`, …). Chaining has not happened yet in this view,
//! so chained operators stay separate nodes; the edges chaining fused are
//! drawn bold so the student can see which ones will vanish into a task.

use super::{DotWriter, quote, quote_lines};
use crate::model::Dataflow;

/// The condensed view of `df` as DOT.
pub fn render(df: &Dataflow) -> String {
    let mut w = DotWriter::digraph("condensed", df, "condensed view (StreamGraph)", "");
    w.line("node [shape=ellipse];");
    for (i, op) in df.operators.iter().enumerate() {
        let p = format!("p={}", op.parallelism);
        w.line(&format!("op{i} [label={}];", quote_lines(&[&op.name, &p])));
    }
    for e in &df.operator_edges {
        let style = if e.chained { ", style=bold" } else { "" };
        w.line(&format!(
            "op{} -> op{} [label={}{style}];",
            e.from,
            e.to,
            quote(&e.partitioning)
        ));
    }
    w.finish()
}
