//! # sim: mini-flink on turmoil
//!
//! Builds a simulated cluster from a scenario, runs it in virtual time,
//! injects faults on a timeline, and records the event trace.
//!
//! | module | what |
//! |---|---|
//! | [`campaign`] | fault campaigns: random fault schedules, exactly-once checks |
//! | [`client`] | the simulated client: submits, polls, deploys job and application clusters |
//! | [`compare`] | one workload under the session, job and application modes, side by side |
//! | [`logging`] | the log's subscriber: virtual time and host on every line, `RUST_LOG` |
//! | [`scenario`] | scenario files: cluster, jobs, faults, expectations |
//! | [`net`] | the simulated transport seam (`turmoil::net`) and clock |
//! | [`planted`] | planted bugs: checkpoint storage that lies, for campaigns to find |
//! | [`outcome`] | what a run produced: per job its result, the trace, the failed expectations |
//! | [`http_client`] | HTTP GETs of the REST API from a client host (or real TCP) |
//! | [`simulation`] | the turmoil hosts and the step loop |
//! | [`summary`] | the headless report and the JSON-lines trace |

pub mod campaign;
pub mod client;
pub mod compare;
pub mod http_client;
pub mod logging;
pub mod net;
pub mod outcome;
pub mod planted;
pub mod scenario;
pub mod simulation;
pub mod summary;

pub use outcome::Outcome;
pub use scenario::{Scenario, load};
pub use simulation::Simulation;
