//! What a run produced: the [`Outcome`] of a scenario, read by the summary,
//! the comparisons and the campaign.
//!
//! A leaf: [`crate::simulation`] fills it in at the end of a run,
//! [`crate::summary`] and the checks read it, and neither needs the other
//! for it. In: the client's last results and the event trace. Out: plain
//! data.

use runtime::events::Event;
use runtime::rpc::JobResult;

/// A job's outcome at the end of a run.
#[derive(Debug, Clone)]
pub struct JobOutcome {
    /// Job name.
    pub name: String,
    /// Final (or last known) result.
    pub result: Option<JobResult>,
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Virtual time at the end (ms).
    pub end_ms: u64,
    /// Whether the scenario hit its duration before the client was done.
    pub timed_out: bool,
    /// Per job, in scenario order.
    pub jobs: Vec<JobOutcome>,
    /// The event trace.
    pub events: Vec<Event>,
    /// Expectations that did not hold.
    pub failed_expectations: Vec<String>,
    /// JobManager and TaskManager hosts still running at the end: the
    /// resources the deployment holds after its jobs.
    pub running_hosts: Vec<String>,
}
