//! # viz: pictures of dataflows and clusters
//!
//! Graphviz DOT for the three views of a Flink job, drawn as Flink's
//! documentation draws them ("Tasks and Operator Chains"), and for two
//! views of a running cluster ("Task Slots and Resources", "Flink cluster
//! anatomy"). Every picture is built as graphviz-rust's graph structure and
//! printed with its printer. Pure functions of the picture model: a
//! [`model::Dataflow`] (the runtime fills it from its graphs) or a
//! [`model::Cluster`] (the TUI fills it from the event stream).
//!
//! - [`model`]: the picture model (operators, chains, channels; JobManagers,
//!   TaskManagers, slots, jobs).
//! - [`mod@dot`]: the renderers, one module per view:
//!   [`dot::condensed`] (StreamGraph), [`dot::chained`] (JobGraph),
//!   [`dot::parallel`] (ExecutionGraph): entry point [`dot()`] with a
//!   [`View`]; [`dot::slots`] and [`dot::cluster`]: entry point
//!   [`cluster_dot`] with a [`ClusterDiagram`].
//! - [`mod@render`]: DOT to SVG or PNG through Graphviz's `dot` program
//!   (`graphviz_rust::exec_dot`), when installed.
//! - [`layout`]: a layered layout in Rust (columns by longest path), for
//!   the TUI's grid and for [`mod@svg`]: SVG pictures of a running job with
//!   live status, records/s and back-pressure, drawn without Graphviz (the
//!   web UI's job page).
//!
//! ```
//! use viz::{Dataflow, View};
//! let df = Dataflow {
//!     name: "empty".into(),
//!     operators: vec![],
//!     operator_edges: vec![],
//!     vertices: vec![],
//!     vertex_edges: vec![],
//! };
//! for view in View::ALL {
//!     assert!(viz::dot(&df, view).starts_with("digraph "));
//! }
//! ```

pub mod dot;
pub mod layout;
pub mod model;
pub mod render;
pub mod svg;

pub use dot::{ClusterDiagram, View, cluster_dot, cluster_graph, dot};
pub use model::{
    Cluster, DataConnection, Dataflow, Job, JobManager, Operator, OperatorEdge, Slot, SlotSubtask,
    TaskManager, Vertex, VertexEdge,
};
pub use render::{Format, RenderError, dot_available, render, render_png, render_svg, render_to};
