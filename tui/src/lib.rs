//! # tui: watch and break a Flink cluster in your terminal
//!
//! `cargo run -p tui -- scenarios/session.toml` runs a scenario in the
//! simulator (`sim`) in virtual time and shows the cluster as Flink's web UI
//! would, only live and breakable: TaskManagers and their task slots, jobs
//! and their vertices, the dataflow as graphs, and the event stream in plain
//! words. Keys crash and restart TaskManagers, cut the network, cancel
//! jobs; time can be paused, single-stepped and travelled back through.
//!
//! The shape is ratatui's recommended one (demo2, gitui):
//!
//! ```text
//!  key ──handle_key──► Action ──update──► App ──render──► Frame
//!                                          ▲
//!  Simulation::step / trace ──► Event ──fold──► ClusterView
//! ```
//!
//! | module | what | Flink concept |
//! |---|---|---|
//! | [`cluster`] | [`cluster::ClusterView`], the fold of the event stream | what the REST API / web UI reports |
//! | [`nav`] | the `:` commands and their aliases, the `/` filter, the drill-down path | the web dashboard's job → vertex → subtask pages |
//! | [`app`] | state, keys, actions, virtual time, time travel | the client's controls: cancel, savepoint, faults |
//! | [`ui`] | pure rendering of the screens | TaskManagers and slots, jobs, dataflow views |
//! | [`graph`] | boxes and arrows on a character grid | StreamGraph / ExecutionGraph pictures |
//! | [`pictures`] | the view as `viz`'s slots and cluster diagrams (DOT, SVG) | "cluster anatomy", "operator chains share task slots" |
//! | [`term`] | the terminal loop, generic over the ratatui backend | |
//! | [`attach`] | the second source: a running JobManager's REST API, polled | the web dashboard's REST calls |
//!
//! The UI reads only the event stream and what the simulator exposes; it
//! never looks inside the runtime, so a recorded trace (`--replay`) shows
//! exactly what the live run showed. `--attach URL` feeds the same stream
//! from a running cluster's REST API instead ([`attach`]): what changed
//! between two polls becomes the events the simulator would have emitted.

pub mod app;
pub mod attach;
pub mod cluster;
pub mod graph;
pub mod nav;
pub mod pictures;
pub mod term;
pub mod ui;

pub use app::{Action, App, FlowView, Mode, Screen};
pub use cluster::{ClusterView, fold};
pub use ui::render;
