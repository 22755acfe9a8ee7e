//! The chained view: Flink's JobGraph.
//!
//! Operator chaining (done on the client) fuses operators that can run in
//! one thread into a JobVertex. Each JobVertex is drawn as one box (a DOT
//! `cluster`) titled with its chain name, the operators' names joined by
//! ` -> ` as Flink names a job vertex, and its parallelism. Its operators sit
//! inside, linked by bold chained edges (a method call, not a network hop).
//! The JobEdges between boxes are the only places records cross the network;
//! each is labelled with its ship strategy (`FORWARD`, `HASH`, …).

use graphviz_rust::dot_generator::{attr, id, stmt};
use graphviz_rust::dot_structures::{Attribute, Graph, GraphAttributes, Id, Stmt};

use super::build::{cluster_style, digraph, edge, label, node, operator_name, plain, subgraph};
use crate::model::{Dataflow, VertexEdge};

/// The chained view of `df` as a graph.
pub fn graph(df: &Dataflow) -> Graph {
    // compound=true lets a job edge end on a box's border (ltail/lhead).
    let mut g = digraph(
        "chained",
        &[
            df.name.as_str(),
            "chained view (JobGraph: one box per operator chain)",
        ],
        "LR",
        vec![attr!("compound", "true")],
    );
    g.add_stmt(stmt!(GraphAttributes::Node(vec![
        attr!("shape", "ellipse"),
        attr!("style", "filled"),
        attr!("fillcolor", "white"),
    ])));
    for (vi, v) in df.vertices.iter().enumerate() {
        let p = format!("p={}", v.parallelism);
        let mut stmts = vec![stmt!(label(&[v.name.as_str(), &p]))];
        stmts.extend(cluster_style());
        if v.operators.is_empty() {
            // An empty cluster is not drawn, yet job edges need an end.
            stmts.push(node(
                format!("v{vi}"),
                vec![
                    label(&[""]),
                    attr!("shape", "point"),
                    attr!("style", "invis"),
                ],
            ));
        }
        for &op in &v.operators {
            stmts.push(node(
                format!("op{op}"),
                vec![label(&[operator_name(df, op)])],
            ));
        }
        for e in &df.operator_edges {
            let inside = df.operators.get(e.from).map(|o| o.vertex) == Some(vi);
            if e.chained && inside {
                stmts.push(edge(
                    format!("op{}", e.from),
                    format!("op{}", e.to),
                    vec![attr!("style", "bold")],
                ));
            }
        }
        g.add_stmt(subgraph(format!("cluster_v{vi}"), stmts));
    }
    for (k, e) in df.vertex_edges.iter().enumerate() {
        let (tail, head) = endpoints(df, k, e);
        g.add_stmt(edge(
            tail,
            head,
            vec![
                label(&[&e.ship_strategy]),
                plain("ltail", format!("cluster_v{}", e.from)),
                plain("lhead", format!("cluster_v{}", e.to)),
            ],
        ));
    }
    g
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
