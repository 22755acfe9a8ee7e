//! The cluster at one poll: what the REST API answered, read into typed
//! values (the `*Info` classes of Flink's `flink-runtime/rest/messages`).
//!
//! Every reader here is a pure function of one answer's JSON, so each is
//! tested on a real Flink 2.3's recorded answers. They are lenient where
//! Flink and mini-flink differ (mini-flink adds a slot's `index` and
//! `tasks` to `/taskmanagers/:id`'s `allocatedSlots`; Flink says only
//! which job holds a slot) and strict only about what makes an answer the
//! answer to its call (`/taskmanagers` without a `taskmanagers` list is
//! not a Flink REST API).
//!
//! In: `serde_json::Value`s. Out: [`Snapshot`] and its parts, which
//! [`super::diff`] compares poll to poll.

use runtime::events::TaskCounters;
use runtime::graph::JobId;
use runtime::state::{ExecutionState, JobStatus};
use serde_json::Value;
use std::collections::BTreeMap;

/// Everything one poll learnt.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// TaskManagers by resource id.
    pub taskmanagers: BTreeMap<String, TmSnap>,
    /// Jobs, oldest first.
    pub jobs: Vec<JobSnap>,
}

impl Snapshot {
    /// A job by id.
    pub fn job(&self, id: JobId) -> Option<&JobSnap> {
        self.jobs.iter().find(|j| j.id == id)
    }
}

/// One TaskManager (`TaskManagerInfo`, and `TaskManagerDetailsInfo` when
/// its detail was read).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TmSnap {
    /// Resource id (`127.0.0.1:34065-f34d25` on Flink, `tm-1` on mini-flink).
    pub id: String,
    /// Task slots it offers (`slotsNumber`).
    pub slots: u32,
    /// Free ones (`freeSlots`).
    pub free: u32,
    /// Where its data port is, `host:dataPort` (the host from its `path`).
    pub data_addr: String,
    /// `allocatedSlots` of its detail; `None` when the detail was not read.
    pub allocated: Option<Vec<AllocatedSlot>>,
}

/// One allocated slot of `/taskmanagers/:id`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllocatedSlot {
    /// Its index in the TaskManager's slot table (mini-flink says it).
    pub index: Option<u32>,
    /// The job holding it.
    pub job: Option<JobId>,
    /// The allocation (mini-flink: `alloc-N`).
    pub allocation: Option<String>,
    /// The subtasks in it (mini-flink says them).
    pub tasks: Vec<SlotTaskSnap>,
}

/// A subtask as mini-flink lists it in a slot.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotTaskSnap {
    /// Job vertex id.
    pub vertex_id: String,
    /// Subtask index.
    pub subtask: u32,
}

/// One job (`JobDetailsInfo`, or its line of `/jobs/overview`).
#[derive(Debug, Clone, PartialEq)]
pub struct JobSnap {
    /// Job id.
    pub id: JobId,
    /// Job name.
    pub name: String,
    /// Its JobStatus.
    pub state: JobStatus,
    /// `start-time` (ms since the epoch), to keep submission order.
    pub start_time: i64,
    /// `duration` (ms) as the JobManager counted it when it answered.
    pub duration_ms: Option<u64>,
    /// Its job vertices, with subtasks once those were read.
    pub vertices: Vec<VertexSnap>,
    /// Its checkpoint statistics, when read.
    pub checkpoints: Option<CheckpointsSnap>,
    /// Its exception history, newest first, when read.
    pub exceptions: Vec<ExceptionSnap>,
}

/// One job vertex (an operator chain).
#[derive(Debug, Clone, PartialEq)]
pub struct VertexSnap {
    /// Job vertex id.
    pub id: String,
    /// Chain name, operators joined by ` -> `.
    pub name: String,
    /// Parallelism.
    pub parallelism: u32,
    /// Slot sharing group id (Flink 2.x: `slotSharingGroupId`).
    pub slot_sharing_group: Option<String>,
    /// Its subtasks (from `/jobs/:id/vertices/:vid`).
    pub subtasks: Vec<SubtaskSnap>,
}

/// One subtask's current execution attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct SubtaskSnap {
    /// Subtask index.
    pub index: u32,
    /// ExecutionState.
    pub state: ExecutionState,
    /// Attempt number.
    pub attempt: u32,
    /// The TaskManager it was deployed to.
    pub taskmanager: Option<String>,
    /// Its I/O counters.
    pub counters: TaskCounters,
}

/// `/jobs/:id/checkpoints`: counts, the recent history and what was restored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckpointsSnap {
    /// `counts.completed`.
    pub completed: u64,
    /// `counts.failed`.
    pub failed: u64,
    /// `history`, as Flink lists it (newest first).
    pub history: Vec<CheckpointEntry>,
    /// `latest.completed`.
    pub latest_completed: Option<CheckpointEntry>,
    /// `latest.restored`: `(id, restore_timestamp)`.
    pub restored: Option<(u64, i64)>,
}

/// A checkpoint's state in the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CheckpointStatus {
    /// Triggered, not yet acknowledged by every subtask.
    InProgress,
    /// Complete and stored.
    Completed,
    /// Given up.
    Failed,
}

/// One checkpoint of the history.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointEntry {
    /// Checkpoint id.
    pub id: u64,
    /// In progress, completed or failed.
    pub status: CheckpointStatus,
    /// Whether it is a savepoint.
    pub savepoint: bool,
    /// `end_to_end_duration` (ms).
    pub duration_ms: u64,
    /// `state_size` (bytes).
    pub size: u64,
    /// `num_acknowledged_subtasks`.
    pub acks: u32,
    /// `external_path`, when it has one.
    pub path: Option<String>,
    /// `failure_message`, for a failed one.
    pub failure: Option<String>,
}

/// One entry of `/jobs/:id/exceptions`' `exceptionHistory`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExceptionSnap {
    /// When (ms since the epoch).
    pub timestamp: i64,
    /// The exception's first line (`exceptionName: message`).
    pub message: String,
    /// The failed task, `Name (2/4)#1` as Flink writes it.
    pub task: Option<String>,
}

fn str_of(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

fn u64_of(v: &Value, k: &str) -> u64 {
    v.get(k)
        .and_then(|x| x.as_u64().or_else(|| x.as_f64().map(|f| f.max(0.0) as u64)))
        .unwrap_or(0)
}

fn i64_of(v: &Value, k: &str) -> i64 {
    v.get(k)
        .and_then(|x| x.as_i64().or_else(|| x.as_f64().map(|f| f as i64)))
        .unwrap_or(0)
}

/// A JobStatus from Flink's spelling. Flink has two we do not:
/// `SUSPENDED` (the JobManager lost its leadership; a new leader will
/// recover the job) reads as RESTARTING, `RECONCILING` as INITIALIZING.
pub fn job_status(s: &str) -> Option<JobStatus> {
    match s {
        "SUSPENDED" => Some(JobStatus::Restarting),
        "RECONCILING" => Some(JobStatus::Initializing),
        _ => s.parse().ok(),
    }
}

/// An ExecutionState from Flink's spelling (`RECONCILING` reads as INITIALIZING).
pub fn execution_state(s: &str) -> Option<ExecutionState> {
    match s {
        "RECONCILING" => Some(ExecutionState::Initializing),
        _ => s.parse().ok(),
    }
}

/// `GET /config`: the dashboard's `refresh-interval` (ms) and the version.
pub fn dashboard_config(v: &Value) -> (Option<u64>, Option<String>) {
    let refresh = v.get("refresh-interval").and_then(Value::as_u64);
    (refresh, str_of(v, "flink-version"))
}

/// `GET /taskmanagers`.
pub fn taskmanagers(v: &Value) -> Result<BTreeMap<String, TmSnap>, String> {
    let list = v
        .get("taskmanagers")
        .and_then(Value::as_array)
        .ok_or("no `taskmanagers` list")?;
    let mut out = BTreeMap::new();
    for t in list {
        let Some(id) = str_of(t, "id") else { continue };
        let host = str_of(t, "path")
            .and_then(|p| {
                let after = p.split('@').nth(1).or_else(|| p.split("://").nth(1))?;
                let hostport = after.split('/').next()?;
                Some(match hostport.rsplit_once(':') {
                    Some((h, _)) => h.to_string(),
                    None => hostport.to_string(),
                })
            })
            .unwrap_or_default();
        let data_addr = format!("{host}:{}", i64_of(t, "dataPort"));
        out.insert(
            id.clone(),
            TmSnap {
                id,
                slots: u64_of(t, "slotsNumber") as u32,
                free: u64_of(t, "freeSlots") as u32,
                data_addr,
                allocated: None,
            },
        );
    }
    Ok(out)
}

/// `GET /taskmanagers/:id`: its `allocatedSlots`.
pub fn allocated_slots(v: &Value) -> Result<Vec<AllocatedSlot>, String> {
    let list = v
        .get("allocatedSlots")
        .and_then(Value::as_array)
        .ok_or("no `allocatedSlots` list")?;
    Ok(list
        .iter()
        .map(|s| AllocatedSlot {
            index: s.get("index").and_then(Value::as_u64).map(|i| i as u32),
            job: str_of(s, "jobId").and_then(|j| JobId::parse(&j)),
            allocation: str_of(s, "allocationId"),
            tasks: s
                .get("tasks")
                .and_then(Value::as_array)
                .map(|ts| {
                    ts.iter()
                        .filter_map(|t| {
                            Some(SlotTaskSnap {
                                vertex_id: str_of(t, "vertexId")?,
                                subtask: t.get("subtask")?.as_u64()? as u32,
                            })
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect())
}

/// `GET /jobs/overview`: the jobs, oldest first, without vertices.
pub fn jobs_overview(v: &Value) -> Result<Vec<JobSnap>, String> {
    let list = v
        .get("jobs")
        .and_then(Value::as_array)
        .ok_or("no `jobs` list")?;
    let mut jobs: Vec<JobSnap> = list
        .iter()
        .filter_map(|j| {
            Some(JobSnap {
                id: JobId::parse(&str_of(j, "jid")?)?,
                name: str_of(j, "name").unwrap_or_default(),
                state: job_status(&str_of(j, "state")?)?,
                start_time: i64_of(j, "start-time"),
                duration_ms: j.get("duration").and_then(Value::as_u64),
                vertices: Vec::new(),
                checkpoints: None,
                exceptions: Vec::new(),
            })
        })
        .collect();
    jobs.sort_by_key(|j| (j.start_time, j.id));
    Ok(jobs)
}

/// `GET /jobs/:id`: status and vertices (without subtasks).
pub fn job_detail(v: &Value) -> Result<(JobStatus, Vec<VertexSnap>), String> {
    let state = str_of(v, "state")
        .and_then(|s| job_status(&s))
        .ok_or("no known `state`")?;
    let vertices = v
        .get("vertices")
        .and_then(Value::as_array)
        .ok_or("no `vertices` list")?
        .iter()
        .filter_map(|x| {
            Some(VertexSnap {
                id: str_of(x, "id")?,
                name: str_of(x, "name").unwrap_or_default(),
                parallelism: u64_of(x, "parallelism") as u32,
                slot_sharing_group: str_of(x, "slotSharingGroupId"),
                subtasks: Vec::new(),
            })
        })
        .collect();
    Ok((state, vertices))
}

/// Flink's `IOMetricsInfo` as our counters (`read-records` is records in).
fn counters(m: &Value) -> TaskCounters {
    TaskCounters {
        records_in: u64_of(m, "read-records"),
        records_out: u64_of(m, "write-records"),
        bytes_in: u64_of(m, "read-bytes"),
        bytes_out: u64_of(m, "write-bytes"),
        backpressured_ms: u64_of(m, "accumulated-backpressured-time"),
        idle_ms: u64_of(m, "accumulated-idle-time"),
    }
}

/// `GET /jobs/:id/vertices/:vid`: the subtasks, by index.
pub fn vertex_subtasks(v: &Value) -> Result<Vec<SubtaskSnap>, String> {
    let list = v
        .get("subtasks")
        .and_then(Value::as_array)
        .ok_or("no `subtasks` list")?;
    let mut out: Vec<SubtaskSnap> = list
        .iter()
        .filter_map(|s| {
            Some(SubtaskSnap {
                index: s.get("subtask")?.as_u64()? as u32,
                state: execution_state(&str_of(s, "status")?)?,
                attempt: u64_of(s, "attempt") as u32,
                taskmanager: str_of(s, "taskmanager-id")
                    .filter(|t| !t.is_empty() && t != "(unassigned)"),
                counters: s.get("metrics").map(counters).unwrap_or_default(),
            })
        })
        .collect();
    out.sort_by_key(|s| s.index);
    Ok(out)
}

fn checkpoint_entry(c: &Value) -> Option<CheckpointEntry> {
    let status = match str_of(c, "status")?.as_str() {
        "IN_PROGRESS" => CheckpointStatus::InProgress,
        "COMPLETED" => CheckpointStatus::Completed,
        "FAILED" => CheckpointStatus::Failed,
        _ => return None,
    };
    Some(CheckpointEntry {
        id: c.get("id")?.as_u64()?,
        status,
        savepoint: c
            .get("is_savepoint")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        duration_ms: u64_of(c, "end_to_end_duration"),
        size: u64_of(c, "state_size"),
        acks: u64_of(c, "num_acknowledged_subtasks") as u32,
        path: str_of(c, "external_path").filter(|p| !p.starts_with('<')),
        failure: str_of(c, "failure_message"),
    })
}

/// `GET /jobs/:id/checkpoints`.
pub fn checkpoints(v: &Value) -> Result<CheckpointsSnap, String> {
    let counts = v.get("counts").ok_or("no `counts`")?;
    let latest = v.get("latest");
    Ok(CheckpointsSnap {
        completed: u64_of(counts, "completed"),
        failed: u64_of(counts, "failed"),
        history: v
            .get("history")
            .and_then(Value::as_array)
            .map(|h| h.iter().filter_map(checkpoint_entry).collect())
            .unwrap_or_default(),
        latest_completed: latest
            .and_then(|l| l.get("completed"))
            .and_then(checkpoint_entry),
        restored: latest
            .and_then(|l| l.get("restored"))
            .and_then(|r| Some((r.get("id")?.as_u64()?, i64_of(r, "restore_timestamp")))),
    })
}

/// `GET /jobs/:id/exceptions`: the exception history, newest first.
pub fn exceptions(v: &Value) -> Result<Vec<ExceptionSnap>, String> {
    let entries = v
        .get("exceptionHistory")
        .and_then(|h| h.get("entries"))
        .and_then(Value::as_array)
        .ok_or("no `exceptionHistory.entries` list")?;
    Ok(entries
        .iter()
        .map(|e| {
            let name = str_of(e, "exceptionName").unwrap_or_default();
            let first = str_of(e, "stacktrace")
                .and_then(|s| s.lines().next().map(str::to_string))
                .unwrap_or_default();
            // Flink's stack trace starts with `Name: message`; ours with
            // the message alone.
            let message = if first.starts_with(&name) || name.is_empty() {
                first
            } else if first.is_empty() {
                name
            } else {
                format!("{first} ({name})")
            };
            ExceptionSnap {
                timestamp: i64_of(e, "timestamp"),
                message,
                task: str_of(e, "taskName"),
            }
        })
        .collect())
}

/// `Sum -> Discard: Writer (2/2)#1` as `(vertex name, subtask index, attempt)`.
pub fn parse_task_name(s: &str) -> Option<(String, u32, u32)> {
    let (head, attempt) = match s.rsplit_once(")#") {
        Some((h, a)) => (h, a.trim().parse().ok()?),
        None => (s.strip_suffix(')')?, 0),
    };
    let (name, frac) = head.rsplit_once(" (")?;
    let (i, _) = frac.split_once('/')?;
    let i: u32 = i.trim().parse().ok()?;
    Some((name.to_string(), i.checked_sub(1)?, attempt))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Flink writes a failed task as `Name (i/p)#attempt`, 1-based.
    #[test]
    fn task_names() {
        assert_eq!(
            parse_task_name("Sum -> Discard: Writer (2/2)#1"),
            Some(("Sum -> Discard: Writer".into(), 1, 1))
        );
        assert_eq!(
            parse_task_name("Source: Seq (1/1)"),
            Some(("Source: Seq".into(), 0, 0))
        );
        assert_eq!(parse_task_name("no task"), None);
    }

    /// Flink's states we lack read as the nearest of ours.
    #[test]
    fn flink_only_states() {
        assert_eq!(job_status("SUSPENDED"), Some(JobStatus::Restarting));
        assert_eq!(job_status("CANCELED"), Some(JobStatus::Canceled));
        assert_eq!(
            execution_state("RECONCILING"),
            Some(ExecutionState::Initializing)
        );
        assert_eq!(job_status("nonsense"), None);
    }
}
