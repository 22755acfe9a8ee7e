//! Checkpoints and recovery: snapshots, restart strategies, failover regions.
//!
//! Flink's fault tolerance rests on three pieces, mirrored here:
//!
//! - **Snapshots** ([`TaskSnapshot`]): on a checkpoint barrier each task
//!   records its operators' state (keyed state, windows) and, for a source,
//!   its read position (offset). The JobMaster's `CheckpointCoordinator`
//!   (in [`crate::jobmanager::jobmaster`]) collects one snapshot per subtask;
//!   a checkpoint is *complete* when every subtask acknowledged it.
//! - **Restart strategies** ([`RestartStrategy`], [`RestartTracker`]):
//!   whether and when a failed job restarts (`fixed-delay`,
//!   `exponential-delay`, `failure-rate`, `none`).
//! - **Failover strategies** ([`FailoverStrategy`]): what restarts: the whole
//!   job, or only the *pipelined region* of the failed task (the connected
//!   part of the dataflow; separate pipelines of one job are separate regions).

use crate::operators::Value;
use serde::{Deserialize, Serialize};

/// State of one operator in a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorSnapshot {
    /// A source's next offset (the record it will emit next).
    pub source_offset: Option<u64>,
    /// Keyed state: key → accumulator.
    pub keyed: Vec<(Value, i64)>,
    /// Window state: window start → key → count.
    pub windows: Vec<(u64, Vec<(Value, i64)>)>,
}

/// One subtask's part of a checkpoint: its chained operators' states.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSnapshot {
    /// One per chained operator, in chain order.
    pub operators: Vec<OperatorSnapshot>,
    /// Unaligned checkpoints: records that were in flight towards this task
    /// when it snapshotted (received after its first barrier on channels
    /// whose barrier had not arrived); processed first on restore.
    #[serde(default)]
    pub input_channel_state: Vec<Value>,
    /// Unaligned checkpoints: records the barrier overtook in this task's
    /// output buffers, per (edge, consumer subtask); sent first on restore.
    #[serde(default)]
    pub output_channel_state: Vec<(u32, u32, Vec<Value>)>,
}

impl TaskSnapshot {
    /// Encodes for the wire and for storage.
    pub fn encode(&self) -> Vec<u8> {
        crate::net::frame::encode(self)
    }
    /// Decodes; `None` on corrupt bytes.
    pub fn decode(bytes: &[u8]) -> Option<TaskSnapshot> {
        crate::net::frame::decode(bytes).ok()
    }
}

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

/// A job's failure history, deciding each restart.
#[derive(Debug, Clone, Default)]
pub struct RestartTracker {
    failures: Vec<u64>,
    restarts: u32,
    backoff_ms: u64,
    last_failure: Option<u64>,
}

impl RestartTracker {
    /// Records a failure at `now`; returns the delay before restarting, or
    /// `None` when the strategy gives up.
    pub fn on_failure(&mut self, strategy: &RestartStrategy, now: u64) -> Option<u64> {
        self.failures.push(now);
        let since_last = self.last_failure.map(|t| now - t);
        self.last_failure = Some(now);
        let delay = match strategy {
            RestartStrategy::None => None,
            RestartStrategy::FixedDelay { attempts, delay_ms } => {
                (self.restarts < *attempts).then_some(*delay_ms)
            }
            RestartStrategy::ExponentialDelay {
                initial_ms,
                max_ms,
                multiplier,
                reset_after_ms,
            } => {
                if self.backoff_ms == 0 || since_last.is_some_and(|d| d >= *reset_after_ms) {
                    self.backoff_ms = *initial_ms;
                } else {
                    self.backoff_ms = ((self.backoff_ms as f64 * multiplier) as u64).min(*max_ms);
                }
                Some(self.backoff_ms)
            }
            RestartStrategy::FailureRate {
                max_failures,
                interval_ms,
                delay_ms,
            } => {
                let recent = self
                    .failures
                    .iter()
                    .filter(|&&t| now.saturating_sub(t) <= *interval_ms)
                    .count();
                (recent <= *max_failures as usize).then_some(*delay_ms)
            }
        };
        if delay.is_some() {
            self.restarts += 1;
        }
        delay
    }

    /// Restarts so far.
    pub fn restarts(&self) -> u32 {
        self.restarts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fixed delay allows exactly `attempts` restarts.
    #[test]
    fn fixed_delay_counts_attempts() {
        let s = RestartStrategy::FixedDelay {
            attempts: 2,
            delay_ms: 100,
        };
        let mut t = RestartTracker::default();
        assert_eq!(t.on_failure(&s, 0), Some(100));
        assert_eq!(t.on_failure(&s, 10), Some(100));
        assert_eq!(t.on_failure(&s, 20), None);
    }

    /// Exponential delay grows, caps, and resets after a quiet period.
    #[test]
    fn exponential_delay_grows_and_resets() {
        let s = RestartStrategy::ExponentialDelay {
            initial_ms: 100,
            max_ms: 250,
            multiplier: 2.0,
            reset_after_ms: 10_000,
        };
        let mut t = RestartTracker::default();
        assert_eq!(t.on_failure(&s, 0), Some(100));
        assert_eq!(t.on_failure(&s, 1), Some(200));
        assert_eq!(t.on_failure(&s, 2), Some(250));
        assert_eq!(t.on_failure(&s, 20_000), Some(100));
    }

    /// Failure rate gives up when failures crowd the interval.
    #[test]
    fn failure_rate_gives_up_when_too_many() {
        let s = RestartStrategy::FailureRate {
            max_failures: 1,
            interval_ms: 1000,
            delay_ms: 5,
        };
        let mut t = RestartTracker::default();
        assert_eq!(t.on_failure(&s, 0), Some(5));
        assert_eq!(t.on_failure(&s, 500), None);
        assert_eq!(t.on_failure(&s, 5000), Some(5));
    }

    /// Snapshots survive the wire.
    #[test]
    fn snapshot_round_trip() {
        let s = TaskSnapshot {
            operators: vec![OperatorSnapshot {
                source_offset: Some(42),
                keyed: vec![(Value::Str("to".into()), 3)],
                windows: vec![],
            }],
            input_channel_state: vec![Value::Int(1)],
            output_channel_state: vec![(0, 1, vec![Value::Int(2)])],
        };
        assert_eq!(TaskSnapshot::decode(&s.encode()), Some(s));
    }
}

/// A completed checkpoint or savepoint as written to checkpoint storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCheckpoint {
    /// The job's name.
    pub job_name: String,
    /// Checkpoint id.
    pub id: u64,
    /// Whether it is a savepoint.
    pub savepoint: bool,
    /// The job vertices it has state for: (id, parallelism), in vertex order.
    pub vertices: Vec<(crate::graph::JobVertexId, u32)>,
    /// Each subtask's encoded [`TaskSnapshot`], by (vertex index, subtask).
    pub states: Vec<((u32, u32), Vec<u8>)>,
    /// The sinks' output committed up to this checkpoint (what a new
    /// leader shows as the job's result so far).
    pub committed: Vec<Value>,
}

impl StoredCheckpoint {
    /// Whether this state fits a job graph: same chains, same parallelism.
    pub fn check_fits(&self, jg: &crate::graph::JobGraph) -> Result<(), String> {
        let want: Vec<(crate::graph::JobVertexId, u32)> =
            jg.vertices().map(|v| (v.id, v.parallelism)).collect();
        if want.len() != self.vertices.len() {
            return Err(format!(
                "the savepoint has state for {} job vertices, the job has {}",
                self.vertices.len(),
                want.len()
            ));
        }
        for (i, ((a, pa), (b, pb))) in want.iter().zip(&self.vertices).enumerate() {
            if a != b {
                return Err(format!(
                    "job vertex {} (\"{}\") is not in the savepoint (its operators or their ids changed)",
                    i + 1,
                    jg.vertex(i).name
                ));
            }
            if pa != pb {
                return Err(format!(
                    "job vertex \"{}\" has parallelism {pa}, the savepoint was taken at {pb} (rescaling is not supported)",
                    jg.vertex(i).name
                ));
            }
        }
        Ok(())
    }
}
