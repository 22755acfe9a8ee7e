//! # attach: the TUI on a real cluster, through its REST API
//!
//! `cargo run -p tui -- --attach http://HOST:8081` watches a running
//! JobManager (mini-flink's, or a real Apache Flink 2.x's: the REST shapes
//! are the same) instead of the simulator. What Flink's web dashboard
//! polls, the TUI polls; what changed between two polls becomes the same
//! [`runtime::events::Event`]s the simulator emits, so the one fold
//! ([`crate::cluster::fold()`]), its explanations and the screens work
//! unchanged.
//!
//! ```text
//!  JobManager REST ──HTTP──► poll ──Snapshot──► diff ──Event──┐
//!        GET /events ──SSE───► stream ─────────────────Event──► merge ──► App (fold, screens)
//!                                 ▲                   plan ──► viz::Dataflow
//!                     source (a thread) ◄──── controls (cancel, savepoint, …)
//! ```
//!
//! | module | what | Flink concept |
//! |---|---|---|
//! | [`client`] | blocking HTTP calls, errors in words | `RestClient` |
//! | [`snapshot`] | one answer's JSON as typed values | the REST `*Info` messages |
//! | [`placement`] | which slot each subtask is in | `TaskSlotTable`, slot sharing |
//! | [`diff`] | two snapshots → the events between them | the event stream |
//! | [`stream`] | `GET /events`: the JobManager's own events (mini-flink) | |
//! | [`merge`] | the stream and the polls as one log, nothing twice | |
//! | [`poll`] | the calls of one poll | the web dashboard's polling |
//! | [`source`] | the poller thread and the controls | `RestClusterClient` |
//! | [`state`] | what the app holds of the link: stale, the question asked | |

pub mod client;
pub mod diff;
#[cfg(test)]
mod diff_tests;
pub mod merge;
pub mod placement;
pub mod poll;
pub mod snapshot;
pub mod source;
pub mod state;
pub mod stream;

pub use client::{RestClient, RestError};
pub use poll::{Poll, Poller};
pub use source::{AttachOptions, Attachment, Clock, Control, Update};
pub use state::AttachedState;
