//! The building blocks every view is drawn with: graphviz-rust statements
//! (nodes, edges, subgraphs, labels with their escaping), the colours, the
//! font and the box styles the pictures share.
//!
//! A leaf: the views ([`super::condensed`], [`super::chained`],
//! [`super::parallel`], [`super::slots`], [`super::cluster`]) import it, and
//! it imports none of them. In: names and ids from the model. Out:
//! graphviz-rust's `Stmt`, `Attribute` and `Id` values, and printed DOT.

use graphviz_rust::dot_generator::{attr, id, stmt};
use graphviz_rust::dot_structures::{
    Attribute, Edge, EdgeTy, Graph, GraphAttributes, Id, Node, NodeId, Stmt, Subgraph, Vertex,
};
use graphviz_rust::printer::{DotPrinter, PrinterContext};

use crate::model::{Cluster, Dataflow};

/// Colours of successive job edges (parallel view) and of successive jobs'
/// borders (slots and cluster views), cycled.
pub(crate) const PALETTE: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];

/// Light fills matching [`PALETTE`], for the boxes of a job.
const FILLS: [&str; 6] = [
    "#aec7e8", "#ff9896", "#98df8a", "#c5b0d5", "#ffbb78", "#c49c94",
];

/// A job's colours, `(border, fill)`, by its index in the cluster.
pub(crate) fn job_colors(job: usize) -> (&'static str, &'static str) {
    (PALETTE[job % PALETTE.len()], FILLS[job % FILLS.len()])
}

/// The font every picture uses, for titles, nodes and edges alike.
const FONT: &str = "Helvetica";

/// How a box around a JobVertex looks, in the chained and parallel views
/// alike, so a student sees the same box expand into its subtasks.
pub(crate) fn cluster_style() -> Vec<Stmt> {
    vec![
        stmt!(attr!("style", esc "rounded,filled")),
        stmt!(attr!("fillcolor", esc "#eef3fb")),
        stmt!(attr!("color", esc "#4a6fa5")),
        stmt!(attr!("fontsize", 12)),
    ]
}

/// The start of every picture: `digraph <id>` with the attributes every
/// view shares: a title of one line per entry of `title`, left-to-right
/// flow as in Flink's figures, and one font. `extra` graph attributes
/// follow the shared ones.
pub(crate) fn digraph<S: AsRef<str>>(
    id: &str,
    title: &[S],
    rankdir: &str,
    extra: Vec<Attribute>,
) -> Graph {
    let mut graph_attrs = vec![
        label(title),
        attr!("labelloc", "t"),
        attr!("fontname", esc FONT),
        attr!("fontsize", 14),
        attr!("rankdir", rankdir),
    ];
    graph_attrs.extend(extra);
    Graph::DiGraph {
        id: id!(id),
        strict: false,
        stmts: vec![
            stmt!(GraphAttributes::Graph(graph_attrs)),
            stmt!(GraphAttributes::Node(vec![
                attr!("fontname", esc FONT),
                attr!("fontsize", 11),
            ])),
            stmt!(GraphAttributes::Edge(vec![
                attr!("fontname", esc FONT),
                attr!("fontsize", 9),
            ])),
        ],
    }
}

/// The start of a picture of a cluster snapshot: titled with what is
/// pictured and when, then `subtitle`, with rounded white boxes for nodes.
pub(crate) fn snapshot_digraph(
    id: &str,
    c: &Cluster,
    subtitle: &str,
    rankdir: &str,
    extra: Vec<Attribute>,
) -> Graph {
    let title = format!("{} at t={}", c.name, seconds(c.at_ms));
    let mut g = digraph(id, &[title.as_str(), subtitle], rankdir, extra);
    g.add_stmt(rounded_boxes());
    g
}

/// Nodes as rounded white boxes, from here on.
pub(crate) fn rounded_boxes() -> Stmt {
    stmt!(GraphAttributes::Node(vec![
        attr!("shape", "box"),
        attr!("style", esc "rounded,filled"),
        attr!("fillcolor", "white"),
    ]))
}

/// Virtual time as seconds with milliseconds: `3.000s`.
fn seconds(ms: u64) -> String {
    format!("{}.{:03}s", ms / 1000, ms % 1000)
}

/// Prints a picture with graphviz-rust's printer: two-space indents, one
/// statement a line, each ending in `;`, and a final newline.
pub(crate) fn print(graph: &Graph) -> String {
    let mut ctx = PrinterContext::default();
    ctx.with_semi();
    let mut out = graph.print(&mut ctx);
    out.push('\n');
    out
}

/// A DOT quoted string showing each of `lines` literally on its own
/// centred line.
///
/// graphviz-rust's `esc` ids are written as they are given, so the text
/// must be escaped before it becomes one: quotes and backslashes are
/// escaped (a lone backslash would otherwise start a Graphviz escape such
/// as `\N`, which prints the node's id), and line breaks inside a line
/// become `\n` too.
pub(crate) fn text<S: AsRef<str>>(lines: &[S]) -> Id {
    let mut out = String::from("\"");
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push_str("\\n");
        }
        for c in line.as_ref().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => {}
                c => out.push(c),
            }
        }
    }
    out.push('"');
    Id::Escaped(out)
}

/// A `label` attribute showing `lines`, one per line (see [`text`]).
pub(crate) fn label<S: AsRef<str>>(lines: &[S]) -> Attribute {
    Attribute(id!("label"), text(lines))
}

/// A node statement. Ids are made from indices (`op3`), never from names.
///
/// (graphviz-rust's `node!`/`edge!` macros take literal ids; these take the
/// ids the views compute.)
pub(crate) fn node(id: String, attributes: Vec<Attribute>) -> Stmt {
    Stmt::Node(Node::new(NodeId(Id::Plain(id), None), attributes))
}

/// An edge statement from node `from` to node `to`.
pub(crate) fn edge(from: String, to: String, attributes: Vec<Attribute>) -> Stmt {
    let end = |id| Vertex::N(NodeId(Id::Plain(id), None));
    Stmt::Edge(Edge {
        ty: EdgeTy::Pair(end(from), end(to)),
        attributes,
    })
}

/// A subgraph statement; an id starting with `cluster` draws a box.
pub(crate) fn subgraph(id: String, stmts: Vec<Stmt>) -> Stmt {
    Stmt::Subgraph(Subgraph {
        id: Id::Plain(id),
        stmts,
    })
}

/// An attribute whose value is a DOT id made by the view (`cluster_v1`).
pub(crate) fn plain(key: &str, value: String) -> Attribute {
    Attribute(id!(key), Id::Plain(value))
}

/// A name from the model, or a placeholder for an index outside it.
pub(crate) fn operator_name(df: &Dataflow, op: usize) -> &str {
    df.operators.get(op).map_or("?", |o| o.name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(lines: &[&str]) -> String {
        match text(lines) {
            Id::Escaped(s) => s,
            other => panic!("not an escaped id: {other:?}"),
        }
    }

    /// Quotes and backslashes in names cannot end the DOT string early.
    #[test]
    fn text_escapes_quotes_backslashes_and_newlines() {
        assert_eq!(shown(&[r#"a "b" \c"#]), r#""a \"b\" \\c""#);
        assert_eq!(shown(&["two\nlines\r\n"]), r#""two\nlines\n""#);
        assert_eq!(shown(&["x", "p=2"]), r#""x\np=2""#);
    }
}
