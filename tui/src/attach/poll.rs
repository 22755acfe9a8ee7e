//! One poll of a JobManager's REST API: the calls Flink's own dashboard
//! makes, read into a [`Snapshot`] and turned into events by the
//! [`Tracker`].
//!
//! Per poll: `GET /taskmanagers` and each one's `/taskmanagers/:id`
//! (allocated slots), `GET /jobs/overview`, and for each job that may
//! still change `GET /jobs/:id` (status, vertices), each vertex's
//! `/jobs/:id/vertices/:vid` (subtasks: state, attempt, TaskManager,
//! records), `/jobs/:id/checkpoints` and `/jobs/:id/exceptions`. A job
//! that has ended is read once (at most [`ENDED_PER_POLL`] of those per
//! poll, newest first), with its plan (`/jobs/:id/plan`) the first time
//! any job is read, for the dataflow screen.
//!
//! A network failure fails the whole poll (the screen goes stale and
//! keeps what it had); a 404 for one job or TaskManager only means it
//! went away between two calls.
//!
//! In: a [`RestClient`], the poll's time. Out: [`Poll`]s: events and new
//! dataflows.

use super::client::{RestClient, RestError};
use super::diff::Tracker;
use super::snapshot::{self, JobSnap, Snapshot};
use runtime::events::Event;
use runtime::graph::JobId;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// How many ended jobs are read per poll (a long-running cluster keeps
/// hundreds; they are read a few at a time, newest first).
pub const ENDED_PER_POLL: usize = 16;

/// How many exceptions of a job are asked for.
pub const MAX_EXCEPTIONS: usize = 20;

/// What one poll brought.
#[derive(Debug, Clone, Default)]
pub struct Poll {
    /// What changed since the last poll.
    pub events: Vec<Event>,
    /// The dataflows of jobs seen for the first time.
    pub dataflows: Vec<viz::Dataflow>,
    /// What could not be read, without failing the poll.
    pub warnings: Vec<String>,
    /// Each listed job's duration (ms) as the JobManager counted it: a job
    /// that ran before the TUI attached has no events to count it from.
    pub durations: BTreeMap<JobId, u64>,
}

/// The poller: a client and what it remembers.
#[derive(Debug)]
pub struct Poller {
    client: RestClient,
    tracker: Tracker,
    /// Ended jobs already read (or found gone).
    read_ended: BTreeSet<JobId>,
    /// Jobs whose dataflow was delivered (or could not be built).
    planned: BTreeSet<JobId>,
    /// The dashboard's refresh interval (`GET /config`), ms.
    pub refresh_ms: Option<u64>,
    /// `flink-version` of `GET /config`.
    pub version: Option<String>,
}

/// A path segment with what a URL cannot carry percent-encoded (Flink's
/// TaskManager ids hold `:`, which a path may).
pub fn segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:@!$&'()*+,;=".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn shape(client: &RestClient, path: &str, why: String) -> RestError {
    RestError::Shape {
        url: format!("{}{path}", client.base()),
        why,
    }
}

impl Poller {
    /// Connects: `GET /config` must answer as Flink's does. This is the
    /// call that tells "nothing listens there" before the terminal is touched.
    pub fn connect(client: RestClient) -> Result<Poller, RestError> {
        let config = client.get("/config")?;
        if !config.is_object() || config.get("flink-version").is_none() {
            return Err(shape(&client, "/config", "no `flink-version` in it".into()));
        }
        let (refresh_ms, version) = snapshot::dashboard_config(&config);
        Ok(Poller {
            client,
            tracker: Tracker::new(),
            read_ended: BTreeSet::new(),
            planned: BTreeSet::new(),
            refresh_ms,
            version,
        })
    }

    /// The client (for the controls).
    pub fn client(&self) -> &RestClient {
        &self.client
    }

    /// What the last successful poll saw.
    pub fn last(&self) -> &Snapshot {
        self.tracker.last()
    }

    /// Reads the cluster now and says what changed, stamped `t`.
    pub fn poll(&mut self, t: u64) -> Result<Poll, RestError> {
        let mut poll = Poll::default();
        let c = &self.client;
        let tms = c.get("/taskmanagers")?;
        let mut taskmanagers =
            snapshot::taskmanagers(&tms).map_err(|w| shape(c, "/taskmanagers", w))?;
        for tm in taskmanagers.values_mut() {
            let path = format!("/taskmanagers/{}", segment(&tm.id));
            match c.get(&path) {
                Ok(v) => match snapshot::allocated_slots(&v) {
                    Ok(s) => tm.allocated = Some(s),
                    Err(w) => poll.warnings.push(format!("{path}: {w}")),
                },
                Err(e) if matches!(e, RestError::Status { .. }) => {
                    poll.warnings.push(e.to_string());
                }
                Err(e) => return Err(e),
            }
        }
        let overview = c.get("/jobs/overview")?;
        let listed =
            snapshot::jobs_overview(&overview).map_err(|w| shape(c, "/jobs/overview", w))?;
        poll.durations = listed
            .iter()
            .filter_map(|j| Some((j.id, j.duration_ms?)))
            .collect();
        let prev = self.tracker.last().clone();
        let mut ended_budget = ENDED_PER_POLL;
        let mut jobs = Vec::new();
        // Newest first for the budget; the snapshot keeps them oldest first.
        for listed_job in listed.iter().rev() {
            let before = prev.job(listed_job.id);
            let known_ended = before.is_some_and(|b| b.state.is_terminal())
                || (before.is_none() && listed_job.state.is_terminal());
            let read = if !known_ended {
                true
            } else if self.read_ended.contains(&listed_job.id) {
                false
            } else if ended_budget > 0 {
                ended_budget -= 1;
                self.read_ended.insert(listed_job.id);
                true
            } else {
                false
            };
            let job = if read {
                self.read_job(listed_job, &mut poll)?
            } else {
                match before {
                    Some(b) => b.clone(),
                    None if self.read_ended.contains(&listed_job.id) => listed_job.clone(),
                    // Not read yet (over the budget): wait for a later poll,
                    // so that it appears once, complete.
                    None => continue,
                }
            };
            jobs.push(job);
        }
        jobs.reverse();
        let next = Snapshot { taskmanagers, jobs };
        poll.events = self.tracker.diff(next, t);
        Ok(poll)
    }

    /// Reads one job: detail, vertices, checkpoints, exceptions, and its
    /// plan the first time. A job gone in between (404) stays as listed.
    fn read_job(&mut self, listed: &JobSnap, poll: &mut Poll) -> Result<JobSnap, RestError> {
        let c = &self.client;
        let jid = listed.id.to_string();
        let mut job = listed.clone();
        let detail = match tolerate(c.get(&format!("/jobs/{jid}")), poll)? {
            Some(d) => d,
            None => return Ok(job),
        };
        match snapshot::job_detail(&detail) {
            Ok((state, vertices)) => {
                // The job's own answer came after the list's: it is the newer.
                job.state = state;
                job.vertices = vertices;
            }
            Err(w) => {
                poll.warnings.push(format!("/jobs/{jid}: {w}"));
                return Ok(job);
            }
        }
        for v in &mut job.vertices {
            let path = format!("/jobs/{jid}/vertices/{}", segment(&v.id));
            if let Some(x) = tolerate(c.get(&path), poll)? {
                match snapshot::vertex_subtasks(&x) {
                    Ok(s) => v.subtasks = s,
                    Err(w) => poll.warnings.push(format!("{path}: {w}")),
                }
            }
        }
        let path = format!("/jobs/{jid}/checkpoints");
        if let Some(x) = tolerate(c.get(&path), poll)? {
            match snapshot::checkpoints(&x) {
                Ok(s) => job.checkpoints = Some(s),
                Err(w) => poll.warnings.push(format!("{path}: {w}")),
            }
        }
        let path = format!("/jobs/{jid}/exceptions?maxExceptions={MAX_EXCEPTIONS}");
        if let Some(x) = tolerate(c.get(&path), poll)? {
            match snapshot::exceptions(&x) {
                Ok(s) => job.exceptions = s,
                Err(w) => poll.warnings.push(format!("{path}: {w}")),
            }
        }
        if self.planned.insert(listed.id) {
            // Flink's job detail carries the plan; else ask for it.
            let plan = match detail.get("plan") {
                Some(p) if p.is_object() => Some(p.clone()),
                _ => tolerate(c.get(&format!("/jobs/{jid}/plan")), poll)?,
            };
            if let Some(plan) = plan {
                match runtime::graph::flink_plan::flink_job_dataflow(&plan, &detail) {
                    Ok(mut df) => {
                        df.name = job.name.clone();
                        poll.dataflows.push(df);
                    }
                    Err(e) => poll.warnings.push(format!("/jobs/{jid}/plan: {e}")),
                }
            }
        }
        Ok(job)
    }
}

/// An answer, or `None` for an error status (noted as a warning);
/// network failures fail the poll.
fn tolerate(r: Result<Value, RestError>, poll: &mut Poll) -> Result<Option<Value>, RestError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e @ RestError::Status { .. }) => {
            if !e.is_not_found() {
                poll.warnings.push(e.to_string());
            }
            Ok(None)
        }
        Err(e @ (RestError::NotJson { .. } | RestError::Shape { .. })) => {
            poll.warnings.push(e.to_string());
            Ok(None)
        }
        Err(e) => Err(e),
    }
}
