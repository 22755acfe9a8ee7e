//! A job's execution settings: checkpointing mode, restart and failover
//! strategies (Flink's `CheckpointingOptions`, `RestartStrategyOptions` and
//! `jobmanager.execution.failover-strategy`).
//!
//! These are plain values that a job file or the DataStream API sets on the
//! StreamGraph and that travel with the JobGraph to the JobMaster. They sit
//! in a leaf module so that the graphs (which carry them) and the JobMaster
//! (which acts on them) both import them without importing each other. The
//! logic that acts on them lives with the JobMaster
//! ([`crate::jobmanager::jobmaster::failover`]). The order in which an
//! application's `main` submits its jobs ([`JobOrder`]) sits here for the
//! same reason: the application and the events that tell of it both need it.

use crate::state::JobStatus;
use serde::{Deserialize, Serialize};

/// How checkpoint barriers are handled at tasks with several input channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum CheckpointMode {
    /// A channel that delivered the barrier is blocked until all have
    /// (exactly-once alignment; slow under back-pressure).
    #[default]
    Aligned,
    /// Barriers overtake buffered records, which are stored with the state.
    Unaligned,
}

/// What restarts after a failure (`jobmanager.execution.failover-strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum FailoverStrategy {
    /// Only the failed task's pipelined region (Flink's default, `region`).
    #[default]
    Region,
    /// The whole job (`full`).
    Full,
}

/// Whether and when a failed job restarts (`restart-strategy.type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RestartStrategy {
    /// Never: the first failure fails the job.
    None,
    /// Up to `attempts` restarts, each after `delay_ms`.
    FixedDelay {
        /// Restarts allowed.
        attempts: u32,
        /// Delay before each (ms).
        delay_ms: u64,
    },
    /// Delays growing by `multiplier` from `initial_ms` up to `max_ms`,
    /// back to `initial_ms` after `reset_after_ms` without failure (Flink's
    /// default when checkpointing is on).
    ExponentialDelay {
        /// First delay (ms).
        initial_ms: u64,
        /// Largest delay (ms).
        max_ms: u64,
        /// Growth factor.
        multiplier: f64,
        /// Quiet time after which the delay resets (ms).
        reset_after_ms: u64,
    },
    /// Restart after `delay_ms` unless more than `max_failures` failures
    /// happened within `interval_ms`.
    FailureRate {
        /// Failures tolerated per interval.
        max_failures: u32,
        /// The interval (ms).
        interval_ms: u64,
        /// Delay before each restart (ms).
        delay_ms: u64,
    },
}

impl std::fmt::Display for RestartStrategy {
    /// Flink's description of a restart strategy (what `GET
    /// /jobs/:jid/config` shows as `restart-strategy`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RestartStrategy::None => write!(f, "Restart deactivated."),
            RestartStrategy::FixedDelay { attempts, delay_ms } => write!(
                f,
                "Restart with fixed delay ({delay_ms} ms). #{attempts} restart attempts."
            ),
            RestartStrategy::ExponentialDelay {
                initial_ms,
                max_ms,
                multiplier,
                reset_after_ms,
            } => write!(
                f,
                "Restart with exponential delay: starting at {initial_ms} ms, increasing by {multiplier}, with maximum {max_ms} ms. Delay resets after {reset_after_ms} ms."
            ),
            RestartStrategy::FailureRate {
                max_failures,
                interval_ms,
                delay_ms,
            } => write!(
                f,
                "Failure rate restart with maximum of {max_failures} failures within interval {interval_ms} ms and fixed delay {delay_ms} ms."
            ),
        }
    }
}

impl RestartStrategy {
    /// Flink's default: none without checkpointing, exponential delay with.
    pub fn default_for(checkpointing: bool) -> RestartStrategy {
        if checkpointing {
            RestartStrategy::ExponentialDelay {
                initial_ms: 1_000,
                max_ms: 60_000,
                multiplier: 1.5,
                reset_after_ms: 3_600_000,
            }
        } else {
            RestartStrategy::None
        }
    }

    /// The job-file spelling.
    pub fn name(&self) -> &'static str {
        match self {
            RestartStrategy::None => "none",
            RestartStrategy::FixedDelay { .. } => "fixed-delay",
            RestartStrategy::ExponentialDelay { .. } => "exponential-delay",
            RestartStrategy::FailureRate { .. } => "failure-rate",
        }
    }
}

/// In which order `main` submits its jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobOrder {
    /// One after another: each `execute()` returns when its job ended, and
    /// a job that does not finish stops `main` (the exception it throws).
    #[default]
    Sequential,
    /// All at once (`executeAsync()` for each), then wait for all.
    Parallel,
}

impl JobOrder {
    /// "sequential" or "parallel".
    pub fn as_str(self) -> &'static str {
        match self {
            JobOrder::Sequential => "sequential",
            JobOrder::Parallel => "parallel",
        }
    }
}

impl std::fmt::Display for JobOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl JobOrder {
    /// Whether `main` goes on to its next job once a job ended with
    /// `status` (`None`: `main` got to it but did not submit it). A
    /// sequential `main` goes on only after FINISHED: any other end makes
    /// its blocking `execute()` throw. A parallel one (`executeAsync()`)
    /// always goes on.
    pub fn continues_after(self, status: Option<JobStatus>) -> bool {
        match self {
            JobOrder::Sequential => status == Some(JobStatus::Finished),
            JobOrder::Parallel => true,
        }
    }
}
