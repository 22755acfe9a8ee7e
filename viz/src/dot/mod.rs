//! DOT for the three views of a Flink job, as Flink's documentation draws
//! them ("Tasks and Operator Chains" in *Flink Architecture*).
//!
//! | [`View`] | module | Flink graph it draws |
//! |---|---|---|
//! | [`View::Condensed`] | [`condensed`] | the StreamGraph: one node per operator |
//! | [`View::Chained`] | [`chained`] | the JobGraph: one box per JobVertex (operator chain) |
//! | [`View::Parallel`] | [`parallel`] | the ExecutionGraph: one node per ExecutionVertex (subtask), one edge per channel |
//!
//! and two pictures of a running cluster (a [`Cluster`] snapshot, not one job):
//!
//! | [`ClusterDiagram`] | module | Flink figure it draws |
//! |---|---|---|
//! | [`ClusterDiagram::Slots`] | [`slots`] | "operator chains share task slots": TaskManagers → slots → subtasks |
//! | [`ClusterDiagram::Cluster`] | [`cluster`] | "Flink cluster anatomy": client, JobManager roles, TaskManagers, control and data |
//!
//! Data enters as a [`Dataflow`] or a [`Cluster`] and leaves as
//! graphviz-rust's graph structure ([`graph`], [`cluster_graph`]) or as the
//! DOT text its printer writes ([`dot()`], [`cluster_dot`]); nothing here
//! touches the file system (see [`mod@crate::render`] for SVG and PNG). Output
//! is a pure function of the model: every loop walks the model's vectors in
//! order and every DOT id is made from indices (`op3`, `v1_s0`, `tm0_s1`),
//! never from names, so the same input always gives byte-identical DOT and
//! names cannot break it.

pub mod chained;
pub mod cluster;
pub mod condensed;
pub mod parallel;
pub mod slots;

use std::fmt;

use graphviz_rust::dot_generator::{attr, id, stmt};
use graphviz_rust::dot_structures::{
    Attribute, Edge, EdgeTy, Graph, GraphAttributes, Id, Node, NodeId, Stmt, Subgraph, Vertex,
};
use graphviz_rust::printer::{DotPrinter, PrinterContext};

use crate::model::{Cluster, Dataflow};

/// Which picture of a job to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum View {
    /// The logical view: every operator its own node, edges labelled with
    /// their partitioning (Flink's StreamGraph; top of Flink's figure).
    Condensed,
    /// Operators grouped into chains, one box per JobVertex, job edges
    /// labelled with their ship strategy (Flink's JobGraph).
    Chained,
    /// Every subtask and every channel between subtasks (Flink's
    /// ExecutionGraph; bottom of Flink's figure).
    Parallel,
}

impl View {
    /// Every view, in the order a student meets them.
    pub const ALL: [View; 3] = [View::Condensed, View::Chained, View::Parallel];

    /// Parses the command-line spelling: `condensed`, `chained` or `parallel`.
    pub fn parse(s: &str) -> Option<View> {
        match s {
            "condensed" => Some(View::Condensed),
            "chained" => Some(View::Chained),
            "parallel" => Some(View::Parallel),
            _ => None,
        }
    }

    /// The command-line spelling, the inverse of [`View::parse`].
    pub fn as_str(self) -> &'static str {
        match self {
            View::Condensed => "condensed",
            View::Chained => "chained",
            View::Parallel => "parallel",
        }
    }
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Draws `df` in `view` as a Graphviz DOT document.
///
/// The result is deterministic and always valid DOT, whatever the names in
/// the model contain; indices that point outside the model draw as extra
/// nodes instead of panicking.
pub fn dot(df: &Dataflow, view: View) -> String {
    print(&graph(df, view))
}

/// Draws `df` in `view` as graphviz-rust's graph structure, for callers
/// that hand it to `graphviz_rust::exec` or change it before printing.
pub fn graph(df: &Dataflow, view: View) -> Graph {
    match view {
        View::Condensed => condensed::graph(df),
        View::Chained => chained::graph(df),
        View::Parallel => parallel::graph(df),
    }
}

/// Which picture of a running cluster to draw.
///
/// ```
/// use viz::{Cluster, ClusterDiagram};
/// let empty = Cluster::default();
/// for d in ClusterDiagram::ALL {
///     assert_eq!(ClusterDiagram::parse(d.as_str()), Some(d));
///     assert!(viz::cluster_dot(&empty, d).starts_with(&format!("digraph {d} {{")));
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ClusterDiagram {
    /// TaskManagers, their task slots and the subtasks sharing each slot,
    /// coloured by job (Flink's "operator chains share task slots").
    Slots,
    /// The client, the JobManager with its Dispatcher, ResourceManager and
    /// JobMasters, the TaskManagers, and which connections carry control
    /// and which carry data (Flink's "cluster anatomy").
    Cluster,
}

impl ClusterDiagram {
    /// Both diagrams.
    pub const ALL: [ClusterDiagram; 2] = [ClusterDiagram::Slots, ClusterDiagram::Cluster];

    /// Parses the command-line spelling: `slots` or `cluster`.
    pub fn parse(s: &str) -> Option<ClusterDiagram> {
        match s {
            "slots" => Some(ClusterDiagram::Slots),
            "cluster" => Some(ClusterDiagram::Cluster),
            _ => None,
        }
    }

    /// The command-line spelling, the inverse of [`ClusterDiagram::parse`].
    pub fn as_str(self) -> &'static str {
        match self {
            ClusterDiagram::Slots => "slots",
            ClusterDiagram::Cluster => "cluster",
        }
    }
}

impl fmt::Display for ClusterDiagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Draws the cluster snapshot `c` as `diagram`, as a Graphviz DOT document.
///
/// Deterministic and always valid DOT, whatever the names contain; a slot
/// whose job index points outside [`Cluster::jobs`] is drawn with a `?`.
pub fn cluster_dot(c: &Cluster, diagram: ClusterDiagram) -> String {
    print(&cluster_graph(c, diagram))
}

/// Draws `c` as `diagram`, as graphviz-rust's graph structure.
pub fn cluster_graph(c: &Cluster, diagram: ClusterDiagram) -> Graph {
    match diagram {
        ClusterDiagram::Slots => slots::graph(c),
        ClusterDiagram::Cluster => cluster::graph(c),
    }
}

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

    /// `parse` and `as_str` are inverses over `ALL`, and nothing else parses.
    #[test]
    fn view_round_trips() {
        for v in View::ALL {
            assert_eq!(View::parse(v.as_str()), Some(v));
            assert_eq!(v.to_string(), v.as_str());
        }
        assert_eq!(View::parse("slots"), None);
        assert_eq!(View::parse("Condensed"), None);
    }
}
