//! A task's periodic metrics (Flink's `TaskIOMetricGroup`, reported as the
//! REST API's vertex and subtask metrics).
//!
//! Every metrics interval, and at the end, a task reports its counters and
//! the share of the interval it spent back-pressured, and each output
//! channel's traffic since the last report.
//!
//! - **In**: the task's counters and record writers, the clock.
//! - **Out**: `TaskMetrics` and `ChannelTraffic` events; whether the
//!   JobMaster is due a report.

use crate::events::{EventKind, HostCtx, TaskCounters};
use crate::rpc::ExecutionAttemptId;
use crate::taskmanager::network::record_writer::RecordWriterDelegate;

/// Periodic metric reports.
pub(super) struct Metrics {
    vertex_name: String,
    next_report: u64,
    interval: u64,
    last_backpressured_ms: u64,
    last_report_at: u64,
}

impl Metrics {
    /// Reports of `vertex_name`'s subtask every `interval` ms from `now`.
    pub(super) fn new(vertex_name: String, now: u64, interval: u64) -> Self {
        Metrics {
            vertex_name,
            next_report: now + interval.max(1),
            interval: interval.max(1),
            last_backpressured_ms: 0,
            last_report_at: now,
        }
    }

    /// At `now` (or at the `last` report), if due: emits the task's
    /// metrics and each channel's traffic since the last report, and
    /// returns true (the JobMaster is due the counters too).
    pub(super) fn report(
        &mut self,
        now: u64,
        last: bool,
        ctx: &HostCtx,
        attempt: ExecutionAttemptId,
        counters: &TaskCounters,
        writers: &mut RecordWriterDelegate,
    ) -> bool {
        if now < self.next_report && !last {
            return false;
        }
        let span = (now - self.last_report_at).max(1);
        let bp = counters.backpressured_ms - self.last_backpressured_ms;
        let permille = ((bp * 1000) / span).min(1000) as u32;
        self.last_backpressured_ms = counters.backpressured_ms;
        self.last_report_at = now;
        self.next_report = now + self.interval;
        let job = attempt.job;
        ctx.emit(EventKind::TaskMetrics {
            job,
            vertex: self.vertex_name.clone(),
            vertex_index: attempt.vertex,
            subtask: crate::ids::SubtaskIndex(attempt.subtask),
            counters: counters.clone(),
            backpressure_permille: permille,
        });
        for p in writers.partitions_mut() {
            for c in p.subpartitions.iter_mut() {
                if c.records > 0 {
                    ctx.emit(EventKind::ChannelTraffic {
                        job,
                        edge: p.edge as usize,
                        from: attempt.subtask,
                        to: c.to,
                        records: c.records,
                        bytes: c.bytes,
                        remote: c.remote,
                    });
                    c.records = 0;
                    c.bytes = 0;
                }
            }
        }
        true
    }
}
