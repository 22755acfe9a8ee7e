//! What the JobMaster remembers for the REST API and the web UI, beyond
//! what it needs to run the job: when the job entered each status, when
//! each execution entered each state, per-second rates from successive
//! metric reports, and the exception history (Flink's
//! `ExecutionGraph.getStatusTimestamp`, `Execution.getStateTimestamp`, the
//! `MeterView`s of the task metric groups and `ExceptionHistoryEntry`).
//!
//! In: status moves, execution state moves, `TaskMetrics` counters and
//! failures, each with the time it happened (cluster ms). Out: read by
//! the REST answers (`rest/jobs.rs`, `rest/vertices.rs`); nothing here
//! changes how the job runs.

use crate::events::TaskCounters;
use crate::ids::ExecutionVertexId;
use crate::state::{ExecutionState, JobStatus};
use std::collections::BTreeMap;

/// How many exceptions are kept (Flink's `web.exception-history-size`).
pub const EXCEPTION_HISTORY_SIZE: usize = 16;

/// Per-second rates of one subtask, between its last two metric reports
/// (Flink's `MeterView`s: `numRecordsInPerSecond`, `busyTimeMsPerSecond`, …).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Rates {
    /// Records read per second.
    pub records_in: f64,
    /// Records written per second.
    pub records_out: f64,
    /// Bytes read per second.
    pub bytes_in: f64,
    /// Bytes written per second.
    pub bytes_out: f64,
    /// Milliseconds per second waiting for output capacity.
    pub backpressured_ms: f64,
    /// Milliseconds per second waiting for input.
    pub idle_ms: f64,
    /// Milliseconds per second doing work: 1000 − idle − back-pressured.
    pub busy_ms: f64,
}

impl Rates {
    /// The rates between two reports of the same subtask, `(t0, c0)` then
    /// `(t1, c1)` in ms; `None` when no time passed. A counter that went
    /// back (a new attempt started from zero) counts as no progress.
    pub fn between(t0: u64, c0: &TaskCounters, t1: u64, c1: &TaskCounters) -> Option<Rates> {
        let span = t1.checked_sub(t0).filter(|d| *d > 0)? as f64;
        let per_s = |a: u64, b: u64| b.saturating_sub(a) as f64 * 1000.0 / span;
        let backpressured_ms = per_s(c0.backpressured_ms, c1.backpressured_ms).min(1000.0);
        let idle_ms = per_s(c0.idle_ms, c1.idle_ms).min(1000.0 - backpressured_ms);
        Some(Rates {
            records_in: per_s(c0.records_in, c1.records_in),
            records_out: per_s(c0.records_out, c1.records_out),
            bytes_in: per_s(c0.bytes_in, c1.bytes_in),
            bytes_out: per_s(c0.bytes_out, c1.bytes_out),
            backpressured_ms,
            idle_ms,
            busy_ms: (1000.0 - idle_ms - backpressured_ms).max(0.0),
        })
    }
}

/// One entry of the exception history (Flink's `RootExceptionHistoryEntry`).
#[derive(Debug, Clone, PartialEq)]
pub struct ExceptionEntry {
    /// When it happened (cluster ms).
    pub at: u64,
    /// The failure's text (our "stack trace": the cause as reported).
    pub cause: String,
    /// The failed task, as Flink names it: `Name (2/4)`.
    pub task_name: Option<String>,
    /// Where it ran: the TaskManager's data endpoint.
    pub endpoint: Option<String>,
    /// The TaskManager's resource id.
    pub task_manager: Option<String>,
}

/// The REST-facing memory of one job.
#[derive(Debug, Clone, Default)]
pub struct JobHistory {
    /// When the job first entered each status (cluster ms).
    pub status_at: BTreeMap<JobStatus, u64>,
    /// When each subtask's current attempt entered each state (cluster ms).
    pub state_at: BTreeMap<ExecutionVertexId, BTreeMap<ExecutionState, u64>>,
    /// Each subtask's rates between its last two reports.
    pub rates: BTreeMap<ExecutionVertexId, Rates>,
    /// Each subtask's last report: (when, counters).
    last_report: BTreeMap<ExecutionVertexId, (u64, TaskCounters)>,
    /// Failures, newest last, at most [`EXCEPTION_HISTORY_SIZE`].
    pub exceptions: Vec<ExceptionEntry>,
    /// Failures ever recorded (more than kept: the history is truncated).
    pub exceptions_seen: usize,
}

impl JobHistory {
    /// The job entered `to` at `now` (a later entry keeps the first time,
    /// except RUNNING and RESTARTING, which Flink stamps at every entry).
    pub fn status(&mut self, to: JobStatus, now: u64) {
        let keep_first = !matches!(to, JobStatus::Running | JobStatus::Restarting);
        let at = self.status_at.entry(to).or_insert(now);
        if !keep_first {
            *at = now;
        }
    }

    /// A subtask's attempt entered `to` at `now`; SCHEDULED starts a new
    /// attempt's record (it was CREATED just before).
    pub fn state(&mut self, key: ExecutionVertexId, to: ExecutionState, now: u64) {
        let m = self.state_at.entry(key).or_default();
        if to == ExecutionState::Scheduled {
            m.clear();
            m.insert(ExecutionState::Created, now);
        }
        m.insert(to, now);
    }

    /// A metrics report of a subtask at `now`: updates its rates.
    pub fn report(&mut self, key: ExecutionVertexId, now: u64, counters: &TaskCounters) {
        if let Some((t0, c0)) = self.last_report.get(&key)
            && let Some(r) = Rates::between(*t0, c0, now, counters)
        {
            self.rates.insert(key, r);
        }
        self.last_report.insert(key, (now, counters.clone()));
    }

    /// A failure, kept in the exception history.
    pub fn exception(&mut self, entry: ExceptionEntry) {
        self.exceptions_seen += 1;
        self.exceptions.push(entry);
        if self.exceptions.len() > EXCEPTION_HISTORY_SIZE {
            self.exceptions.remove(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(records_in: u64, idle_ms: u64, backpressured_ms: u64) -> TaskCounters {
        TaskCounters {
            records_in,
            idle_ms,
            backpressured_ms,
            ..TaskCounters::default()
        }
    }

    #[test]
    fn rates_are_per_second_and_busy_is_the_rest() {
        let r = Rates::between(1_000, &counters(100, 0, 0), 3_000, &counters(700, 400, 200))
            .expect("time passed");
        assert_eq!(r.records_in, 300.0);
        assert_eq!(r.idle_ms, 200.0);
        assert_eq!(r.backpressured_ms, 100.0);
        assert_eq!(r.busy_ms, 700.0);
    }

    #[test]
    fn no_time_no_rate_and_reset_counters_count_as_zero() {
        assert_eq!(
            Rates::between(5, &counters(1, 0, 0), 5, &counters(2, 0, 0)),
            None
        );
        let r = Rates::between(0, &counters(50, 900, 0), 1_000, &counters(10, 100, 0))
            .expect("time passed");
        assert_eq!((r.records_in, r.idle_ms, r.busy_ms), (0.0, 0.0, 1000.0));
    }

    #[test]
    fn history_keeps_the_newest_exceptions() {
        let mut h = JobHistory::default();
        for i in 0..(EXCEPTION_HISTORY_SIZE as u64 + 3) {
            h.exception(ExceptionEntry {
                at: i,
                cause: format!("boom {i}"),
                task_name: None,
                endpoint: None,
                task_manager: None,
            });
        }
        assert_eq!(h.exceptions.len(), EXCEPTION_HISTORY_SIZE);
        assert_eq!(h.exceptions[0].at, 3);
        assert_eq!(h.exceptions_seen, EXCEPTION_HISTORY_SIZE + 3);
    }
}
