//! The JobManager: the master process, with its three roles (Flink's
//! `flink-runtime` packages of the same names).
//!
//! | module | Flink | what it does |
//! |---|---|---|
//! | [`entrypoint`] | `ClusterEntrypoint`, leader election | the process: campaigns for leadership, runs the one event loop |
//! | [`leader_election`] | `LeaderElectionService` | the campaign for the lease, its renewal, fenced HA writes |
//! | [`connection`] | the RPC endpoints' connections | handshake and read loop of each TaskManager and client connection |
//! | [`inbox`] | the RPC endpoints' mailboxes | the loop's inputs |
//! | [`outbox`] | the gateways between the roles | what a role hands back to the loop: messages to deliver |
//! | [`dispatcher`] | `Dispatcher` | the front door: submit, list, result, cancel, savepoint; one JobMaster per job |
//! | [`resourcemanager`] | `ResourceManager`, `SlotManager` | TaskManager registration, heartbeats, slots |
//! | [`jobmaster`] | `JobMaster`, `SlotPool`, `DefaultScheduler`, failover strategies | runs one job |
//! | [`checkpoint`] | `CheckpointCoordinator`, checkpoint storage | checkpoints of a job |
//! | [`rest`] | `WebMonitorEndpoint`, the REST handlers, the web dashboard | Flink's REST API and the web UI, on the REST port |
//! | [`application`] | `ApplicationDispatcherBootstrap` | an application's `main` inside the JobManager (application mode, or an application file run over REST) |
//! | [`applications`] | `AbstractApplication` | what the Dispatcher knows of each application: its jobs, its state |
//!
//! Each role handles one input at a time and never holds another role: it
//! answers through an [`outbox::Outbox`], and the loop in [`entrypoint`]
//! delivers what it holds.

pub mod application;
pub mod applications;
pub mod checkpoint;
pub mod connection;
pub mod dispatcher;
pub mod entrypoint;
pub mod inbox;
pub mod jobmaster;
pub mod leader_election;
pub mod outbox;
pub mod resourcemanager;
pub mod rest;

pub use entrypoint::{Bound, JobManagerError, run_jobmanager};
