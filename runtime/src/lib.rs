//! # runtime: the mini-flink engine
//!
//! A re-implementation of Apache Flink's runtime architecture, written to be
//! read. The map, in the order a job meets it:
//!
//! | module | Flink concept |
//! |---|---|
//! | [`jobfile`] | a program, written as a TOML job file, compiled on the client |
//! | [`api`] | the DataStream API (`StreamExecutionEnvironment`) for Rust programs |
//! | [`operators`] | built-in operators, records, key groups |
//! | [`graph`] | StreamGraph → JobGraph (operator chaining) → ExecutionGraph, and the plan |
//! | [`job_config`] | a job's checkpointing, restart and failover settings |
//! | [`client`] | the client: compiles, submits, polls, fetches results |
//! | [`application`] | a program's `main` that submits several jobs (application mode) |
//! | [`ids`] | ResourceId, AllocationId, CheckpointId, FencingToken, SubtaskIndex, ExecutionVertexId: identifiers every component shares |
//! | [`ha`] | high availability: leader election, fencing, job graph and checkpoint stores |
//! | [`jobmanager`] | the JobManager: Dispatcher, ResourceManager (SlotManager), JobMaster (SlotPool, scheduler, failover), CheckpointCoordinator and checkpoint storage |
//! | [`taskmanager`] | the TaskManager: TaskExecutor, TaskSlotTable, tasks, network stack |
//! | [`rpc`] | the gateways: message sets between components |
//! | [`net`] | the transport seam (TCP or simulated) and framing |
//! | [`events`] | the typed event stream everything observable leaves through, its plain words, its sinks |
//! | [`state`] | JobStatus, ExecutionState and TaskSlotState lifecycles, their transitions checked in one place |
//! | [`config`] | JobManager and TaskManager settings |
//!
//! The runtime never depends on the simulator or the UI: everything
//! observable leaves it as events, and the network comes in through
//! [`net::Network`].

pub mod api;
pub mod application;
pub mod client;
pub mod config;
pub mod events;
pub mod graph;
pub mod ha;
pub mod ids;
pub mod job_config;
pub mod jobfile;
pub mod jobmanager;
pub mod net;
pub mod operators;
pub mod rng;
pub mod rpc;
pub mod state;
pub mod taskmanager;
