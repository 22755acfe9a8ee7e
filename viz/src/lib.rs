//! # viz: pictures of dataflows
//!
//! Graphviz DOT for the three views of a Flink job, drawn as Flink's
//! documentation draws them ("Tasks and Operator Chains"). Pure functions of
//! [`model::Dataflow`], which the runtime fills from its graphs.
//!
//! - [`model`]: the picture model (operators, chains, channels).
//! - [`mod@dot`]: the renderers, one module per view:
//!   [`dot::condensed`] (StreamGraph), [`dot::chained`] (JobGraph),
//!   [`dot::parallel`] (ExecutionGraph). Entry point: [`dot()`] with a [`View`].
//! - [`render`]: DOT to SVG through Graphviz's `dot` program, when installed.
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
pub mod model;
pub mod render;

pub use dot::{View, dot};
pub use model::{Dataflow, Operator, OperatorEdge, Vertex, VertexEdge};
pub use render::{Format, RenderError, dot_available, render, render_png, render_svg, render_to};
