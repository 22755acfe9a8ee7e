//! The verdict of one run, in the style of Jepsen's checkers.
//!
//! Jepsen separates what a system must never do (*safety*: here, commit a
//! record that the fault-free run did not, commit one twice, lose one, or
//! let a deposed JobManager leader complete a checkpoint) from what it must
//! eventually do (*liveness*: every job finishes once the faults stop). A
//! run is `valid` when every job finished with exactly the fault-free
//! output and no stale leader wrote; `invalid` when safety was broken;
//! `unknown` when the run ended (or a job gave up) before it could be
//! judged, with nothing unsafe seen so far. A liveness stall is never
//! reported as data loss: a job that did not finish has its committed
//! output checked only for records it must not have (duplicates,
//! unexpected ones), never for the ones it has not committed yet.

use crate::simulation::Outcome;
use runtime::events::{Event, EventKind};
use runtime::operators::Value;
use runtime::state::JobStatus;

/// A run's (or a job's) verdict; ordered from best to worst for the
/// campaign (`valid` < `unknown` < `invalid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// Safe and live: exactly the fault-free output, every job finished.
    Valid,
    /// Nothing unsafe seen, but a job did not finish (liveness).
    Unknown,
    /// Safety broken: records lost, duplicated or unexpected, a stale
    /// leader wrote, or a process failed.
    Invalid,
}

impl Verdict {
    /// "valid", "unknown" or "invalid".
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Unknown => "unknown",
            Verdict::Invalid => "invalid",
        }
    }

    /// `sim check`'s exit code for it: 0, 2 or 1.
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Valid => 0,
            Verdict::Invalid => 1,
            Verdict::Unknown => 2,
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One job's committed output against the fault-free run's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobVerdict {
    /// The job's name.
    pub name: String,
    /// Its final (or last polled) status; `None` if never submitted.
    pub status: Option<JobStatus>,
    /// Records the fault-free run committed.
    pub expected: usize,
    /// Records this run committed.
    pub committed: usize,
    /// Expected records missing (counted only once the job FINISHED).
    pub lost: usize,
    /// Expected records committed more often than in the fault-free run.
    pub duplicated: usize,
    /// Records the fault-free run never committed.
    pub unexpected: usize,
    /// The verdict.
    pub verdict: Verdict,
    /// Why, in a sentence.
    pub why: String,
}

/// The multiset difference of two sorted outputs: (lost, duplicated,
/// unexpected) of `have` against `want`.
pub fn diff(want: &[Value], have: &[Value]) -> (usize, usize, usize) {
    let (mut i, mut j) = (0, 0);
    let (mut lost, mut dup, mut unexpected) = (0, 0, 0);
    while i < want.len() || j < have.len() {
        match (want.get(i), have.get(j)) {
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a < b => {
                lost += 1;
                i += 1;
            }
            (Some(_), None) => {
                lost += 1;
                i += 1;
            }
            (_, Some(b)) => {
                if want.binary_search(b).is_ok() {
                    dup += 1;
                } else {
                    unexpected += 1;
                }
                j += 1;
            }
            (None, None) => break,
        }
    }
    (lost, dup, unexpected)
}

/// Judges one job: `want` and `have` sorted.
pub fn judge_job(
    name: &str,
    status: Option<JobStatus>,
    cause: Option<&str>,
    want: &[Value],
    have: &[Value],
) -> JobVerdict {
    let (lost, duplicated, unexpected) = diff(want, have);
    let finished = status == Some(JobStatus::Finished);
    let unsafe_now = duplicated > 0 || unexpected > 0 || (finished && lost > 0);
    let counts = format!(
        "{} of {} records committed: {lost} lost, {duplicated} duplicated, {unexpected} unexpected",
        have.len(),
        want.len()
    );
    let (verdict, why) = if unsafe_now {
        (Verdict::Invalid, format!("safety: {counts}"))
    } else if finished {
        (Verdict::Valid, "exact output".to_string())
    } else {
        let state = match (status, cause) {
            (None, _) => "never submitted".to_string(),
            (Some(s), Some(c)) if s.is_terminal() => format!("ended {s}: {c}"),
            (Some(s), _) if s.is_terminal() => format!("ended {s}"),
            (Some(s), _) => format!("still {s} when the run ended"),
        };
        (
            Verdict::Unknown,
            format!(
                "liveness: {state} ({} of {} records committed so far, none wrong)",
                have.len(),
                want.len()
            ),
        )
    };
    JobVerdict {
        name: name.to_string(),
        status,
        expected: want.len(),
        committed: have.len(),
        lost: if finished { lost } else { 0 },
        duplicated,
        unexpected,
        verdict,
        why,
    }
}

/// Checkpoints completed by a JobManager that was not the leader when it
/// completed them: another had been elected with a newer fencing token
/// (its writes must have been fenced off). One line per such write.
pub fn stale_leader_writes(events: &[Event]) -> Vec<String> {
    let mut leader: Option<String> = None;
    let mut out = Vec::new();
    for e in events {
        match &e.kind {
            EventKind::LeaderElected { leader: l, .. } => leader = Some(l.clone()),
            EventKind::CheckpointCompleted { id, .. } => {
                if let Some(l) = &leader
                    && *l != e.host
                {
                    out.push(format!(
                        "{} completed checkpoint {id} at {} while {l} led",
                        e.host,
                        crate::summary::secs(e.t)
                    ));
                }
            }
            _ => {}
        }
    }
    out
}

/// Each job's verdict for a run's outcome against the fault-free output.
pub fn judge(o: &Outcome, reference: &[Vec<Value>]) -> Vec<JobVerdict> {
    let have = super::reference::committed(o);
    o.jobs
        .iter()
        .enumerate()
        .map(|(i, j)| {
            let want: &[Value] = reference.get(i).map(Vec::as_slice).unwrap_or(&[]);
            let have: &[Value] = have.get(i).map(Vec::as_slice).unwrap_or(&[]);
            let r = j.result.as_ref();
            judge_job(
                &j.name,
                r.map(|r| r.status),
                r.and_then(|r| r.cause.as_deref()),
                want,
                have,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xs: &[i64]) -> Vec<Value> {
        let mut v: Vec<Value> = xs.iter().map(|x| Value::Int(*x)).collect();
        v.sort();
        v
    }

    #[test]
    fn diff_counts_lost_duplicated_and_unexpected() {
        let want = v(&[1, 2, 2, 3, 5]);
        let have = v(&[1, 1, 2, 4, 5, 5, 9]);
        // lost: one 2, the 3; duplicated: the second 1, the second 5;
        // unexpected: 4 and 9.
        assert_eq!(diff(&want, &have), (2, 2, 2));
        assert_eq!(diff(&want, &want), (0, 0, 0));
    }

    #[test]
    fn an_unfinished_job_is_unknown_not_lossy() {
        let want = v(&[1, 2, 3]);
        let j = judge_job("j", Some(JobStatus::Running), None, &want, &v(&[1]));
        assert_eq!((j.verdict, j.lost), (Verdict::Unknown, 0));
        let j = judge_job("j", Some(JobStatus::Running), None, &want, &v(&[1, 1]));
        assert_eq!((j.verdict, j.duplicated), (Verdict::Invalid, 1));
        let j = judge_job("j", Some(JobStatus::Finished), None, &want, &v(&[1]));
        assert_eq!((j.verdict, j.lost), (Verdict::Invalid, 2));
        let j = judge_job("j", Some(JobStatus::Finished), None, &want, &want);
        assert_eq!(j.verdict, Verdict::Valid);
        assert_eq!(Verdict::Invalid.exit_code(), 1);
        assert_eq!(Verdict::Unknown.exit_code(), 2);
    }
}
