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
//! names cannot break it. The nodes, edges, labels, colours and styles the
//! views share are built in [`build`], a leaf the views import.

pub mod build;
pub mod chained;
pub mod cluster;
pub mod condensed;
pub mod parallel;
pub mod slots;

use std::fmt;

use graphviz_rust::dot_structures::Graph;

use crate::model::{Cluster, Dataflow};
use build::print;

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

#[cfg(test)]
mod tests {
    use super::*;

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
