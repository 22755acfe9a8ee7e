//! The chained view: Flink's JobGraph.
//!
//! Operator chaining (done on the client) fuses operators that can run in
//! one thread into a JobVertex. Each JobVertex is drawn as one box (a DOT
//! `cluster`) titled with its chain name, the operators' names joined by
//! ` -> ` as Flink names a job vertex, and its parallelism. Its operators sit
//! inside, linked by bold chained edges (a method call, not a network hop).
//! The JobEdges between boxes are the only places records cross the network;
//! each is labelled with its ship strategy (`FORWARD`, `HASH`, …).

use super::{CLUSTER_STYLE, DotWriter, operator_name, quote, quote_lines};
use crate::model::{Dataflow, VertexEdge};

/// The chained view of `df` as DOT.
pub fn render(df: &Dataflow) -> String {
    // compound=true lets a job edge end on a box's border (ltail/lhead).
    let mut w = DotWriter::digraph(
        "chained",
        df,
        "chained view (JobGraph: one box per operator chain)",
        ", compound=true",
    );
    w.line("node [shape=ellipse, style=filled, fillcolor=white];");
    for (vi, v) in df.vertices.iter().enumerate() {
        w.open(&format!("subgraph cluster_v{vi}"));
        let p = format!("p={}", v.parallelism);
        w.line(&format!("label={};", quote_lines(&[&v.name, &p])));
        w.line(CLUSTER_STYLE);
        if v.operators.is_empty() {
            // An empty cluster is not drawn, yet job edges need an end.
            w.line(&format!("v{vi} [label=\"\", shape=point, style=invis];"));
        }
        for &op in &v.operators {
            w.line(&format!("op{op} [label={}];", quote(operator_name(df, op))));
        }
        for e in &df.operator_edges {
            let inside = df.operators.get(e.from).map(|o| o.vertex) == Some(vi);
            if e.chained && inside {
                w.line(&format!("op{} -> op{} [style=bold];", e.from, e.to));
            }
        }
        w.close();
    }
    for (k, e) in df.vertex_edges.iter().enumerate() {
        let (tail, head) = endpoints(df, k, e);
        w.line(&format!(
            "{tail} -> {head} [label={}, ltail=cluster_v{}, lhead=cluster_v{}];",
            quote(&e.ship_strategy),
            e.from,
            e.to
        ));
    }
    w.finish()
}

/// The DOT nodes a job edge is drawn between.
///
/// A JobEdge is born from one StreamEdge that chaining did not fuse, so the
/// arrow starts at the operator that really produces into it (which need not
/// be the chain's last operator) and ends at the head of the consuming chain.
/// When two job edges join the same pair of vertices, the k-th of them takes
/// the k-th matching StreamEdge. If the model holds no matching StreamEdge,
/// the chain's last and first operators stand in.
fn endpoints(df: &Dataflow, k: usize, e: &VertexEdge) -> (String, String) {
    let nth = df.vertex_edges[..k]
        .iter()
        .filter(|x| x.from == e.from && x.to == e.to)
        .count();
    let vertex_of = |op: usize| df.operators.get(op).map(|o| o.vertex);
    let matching = df
        .operator_edges
        .iter()
        .filter(|s| {
            !s.chained && vertex_of(s.from) == Some(e.from) && vertex_of(s.to) == Some(e.to)
        })
        .nth(nth);
    if let Some(s) = matching {
        return (format!("op{}", s.from), format!("op{}", s.to));
    }
    let node = |vi: usize, last: bool| {
        let ops = df
            .vertices
            .get(vi)
            .map(|v| v.operators.as_slice())
            .unwrap_or(&[]);
        let op = if last { ops.last() } else { ops.first() };
        op.map_or(format!("v{vi}"), |op| format!("op{op}"))
    };
    (node(e.from, true), node(e.to, false))
}
