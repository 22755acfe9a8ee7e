//! The event stream: how everything that happens in a cluster is observed.
//!
//! Flink exposes its state through REST, metrics and logs; mini-flink puts
//! every state change on one stream of [`Event`]s, each stamped with the
//! (virtual) time and the host it happened on. The simulator's trace, the
//! snapshot tests, the TUI and the book's pictures all read this one stream
//! and re-derive nothing on their own. Components emit through
//! [`HostCtx::emit`]; where events go is the host's [`EventSink`]
//! ([`sink`]).
//!
//! Events are typed: ids ([`JobId`](crate::graph::JobId), [`AllocationId`](crate::ids::AllocationId),
//! [`ResourceId`](crate::ids::ResourceId)), lifecycles
//! ([`JobStatus`](crate::state::JobStatus), [`ExecutionState`](crate::state::ExecutionState)), vertex and subtask
//! indices, and a structured [`Fault`], so readers match on values and never
//! parse prose. Their plain-words explanations live apart, in [`explain`].
//! In the JSON trace ids and states print as Flink prints them (32 hex
//! digits, `alloc-3`, `RUNNING`), so a trace stays readable.
//!
//! | module | what it holds |
//! |---|---|
//! | [`event`] | the event types: [`Event`], [`EventKind`], [`Fault`], ... |
//! | [`fault`] | [`Fault`]: what the simulator injected, as the stream records it |
//! | [`sink`] | where events go: [`EventSink`], [`EventLog`], the [`HostCtx`] every component emits through, clocks |
//! | [`explain`] | each event in plain words |

pub mod event;
pub mod explain;
pub mod fault;
pub mod sink;

pub use event::{ClusterMode, Event, EventKind, Fault, Role, TaskCounters};
pub use sink::{Clock, EventLog, EventSink, HostCtx, NoEvents, StderrEvents, TokioClock};
