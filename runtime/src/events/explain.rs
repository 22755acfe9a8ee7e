//! The events in plain words: what the TUI's event log, the timelines and
//! the book print. Kept apart from the event types so that readers match on
//! typed fields and only people read these sentences.

use super::event::{ClusterMode, EventKind, Fault};
use crate::job_config::JobOrder;
use std::fmt;

impl EventKind {
    /// Whether this is a periodic measurement rather than a state change
    /// (timelines usually leave these out).
    pub fn is_metric(&self) -> bool {
        matches!(
            self,
            EventKind::TaskMetrics { .. } | EventKind::ChannelTraffic { .. }
        )
    }

    /// The event in plain words, for timelines and the TUI's event log.
    pub fn describe(&self) -> String {
        match self {
            EventKind::HostStarted { role } => format!("{} process started", role.as_str()),
            EventKind::TaskManagerRegistered {
                resource_id, slots, ..
            } => {
                format!("{resource_id} registered at the ResourceManager with {slots} slots")
            }
            EventKind::TaskManagerLost { resource_id, cause } => {
                format!("{resource_id} is lost ({cause}): its slots are released")
            }
            EventKind::TaskManagerDeclined {
                resource_id,
                reason,
            } => format!("the ResourceManager declined {resource_id}'s registration: {reason}"),
            EventKind::HeartbeatTimeout { peer, timeout_ms } => {
                format!(
                    "{peer} missed heartbeats for {} s",
                    *timeout_ms as f64 / 1000.0
                )
            }
            EventKind::WorkerRequested {
                resource_id,
                pending_requests,
            } => format!(
                "active ResourceManager starts {resource_id} for {pending_requests} waiting slot request(s)"
            ),
            EventKind::WorkerReleased { resource_id } => {
                format!("active ResourceManager stops idle {resource_id}")
            }
            EventKind::SlotRequested {
                job,
                allocation,
                group,
            } => {
                format!(
                    "job {} asks for a slot ({allocation}, sharing group \"{group}\")",
                    job.short()
                )
            }
            EventKind::SlotRequestPending { job, allocation } => {
                format!(
                    "no free slot for job {} ({allocation}): the request waits",
                    job.short()
                )
            }
            EventKind::SlotAllocated {
                job,
                allocation,
                resource_id,
                slot,
            } => format!(
                "SlotManager gives slot {slot} of {resource_id} to job {} ({allocation})",
                job.short()
            ),
            EventKind::SlotOffered {
                job,
                resource_id,
                slot,
                ..
            } => {
                format!(
                    "{resource_id} offers slot {slot} to the JobMaster of job {}",
                    job.short()
                )
            }
            EventKind::SlotFreed {
                resource_id, slot, ..
            } => {
                format!("slot {slot} of {resource_id} is free again")
            }
            EventKind::JobSubmitted {
                job,
                name,
                vertices,
                slots,
            } => format!(
                "job \"{name}\" ({}) submitted: {vertices} job vertices (operator chains), needs {slots} slots",
                job.short()
            ),
            EventKind::JobStatusChanged {
                name, to, cause, ..
            } => match cause {
                Some(c) => format!("job \"{name}\" is {to}: {c}"),
                None => format!("job \"{name}\" is {to}"),
            },
            EventKind::TaskDeployed {
                vertex,
                subtask,
                parallelism,
                resource_id,
                slot,
                ..
            } => {
                format!(
                    "{vertex} ({}/{parallelism}) deployed to slot {slot} of {resource_id}",
                    subtask.0 + 1
                )
            }
            EventKind::TaskStateChanged {
                vertex,
                subtask,
                to,
                cause,
                ..
            } => match cause {
                Some(c) => format!("{vertex} [{}] is {to}: {c}", subtask.0 + 1),
                None => format!("{vertex} [{}] is {to}", subtask.0 + 1),
            },
            EventKind::TaskMetrics {
                vertex,
                subtask,
                counters,
                backpressure_permille,
                ..
            } => format!(
                "{vertex} [{}]: {} records in, {} out, back-pressured {}%",
                subtask.0 + 1,
                counters.records_in,
                counters.records_out,
                backpressure_permille / 10
            ),
            EventKind::ChannelTraffic {
                edge,
                from,
                to,
                records,
                bytes,
                remote,
                ..
            } => format!(
                "edge {edge} channel {from}->{to}: {records} records, {bytes} bytes{}",
                if *remote {
                    " over the network"
                } else {
                    " in memory"
                }
            ),
            EventKind::DataConnectionOpened { from, to } => {
                format!("{from} opened a data connection to {to}")
            }
            EventKind::ConnectionLost { peer, cause } => {
                format!("connection to {peer} lost: {cause}")
            }
            EventKind::FaultInjected { fault } => format!("FAULT: {fault}"),
            EventKind::HostLaunching { role, startup_ms } => format!(
                "{} process launching: it needs {} s to start up",
                role.as_str(),
                *startup_ms as f64 / 1000.0
            ),
            EventKind::ClusterDeploying {
                cluster,
                mode,
                jobmanager,
                jobs,
            } => format!(
                "client deploys {} cluster \"{cluster}\" for {}: launches {jobmanager}, \
                 whose active ResourceManager starts TaskManagers on demand",
                if *mode == ClusterMode::Application {
                    "an application"
                } else {
                    "a job"
                },
                match jobs.as_slice() {
                    [one] => format!("job \"{one}\""),
                    many => format!("{} jobs ({})", many.len(), many.join(", ")),
                }
            ),
            EventKind::ClusterTornDown {
                cluster,
                hosts,
                reason,
            } => format!(
                "cluster \"{cluster}\" torn down ({reason}): {} stopped",
                if hosts.is_empty() {
                    "no process".to_string()
                } else {
                    hosts.join(", ")
                }
            ),
            EventKind::ApplicationStarted { name, jobs, order } => format!(
                "main() of application \"{name}\" runs here: it submits {} job(s) {} ({})",
                jobs.len(),
                if *order == JobOrder::Parallel {
                    "all at once"
                } else {
                    "one after another"
                },
                jobs.join(", ")
            ),
            EventKind::ApplicationFinished {
                name,
                finished,
                jobs,
                cause,
            } => match cause {
                Some(c) => format!(
                    "main() of application \"{name}\" stopped: {c} ({finished} of {jobs} jobs finished)"
                ),
                None => format!(
                    "main() of application \"{name}\" returned: {finished} of {jobs} jobs finished"
                ),
            },
            EventKind::LeaderElected { leader, token } => {
                format!("{leader} is elected JobManager leader (fencing token {token})")
            }
            EventKind::LeaderLost {
                leader,
                token,
                cause,
            } => {
                format!("{leader} lost its leadership (token {token}, {cause}): it stops serving")
            }
            EventKind::FencedMessageRejected {
                at,
                token,
                current,
                what,
            } => format!(
                "{at} refused a message from a deposed leader ({what}, token {token} < {current})"
            ),
            EventKind::JobRecovered {
                name,
                from_checkpoint,
                ..
            } => format!(
                "new leader recovers job \"{name}\" {}",
                match from_checkpoint {
                    Some(id) => format!("from checkpoint {id}"),
                    None => "from scratch (no checkpoint yet)".to_string(),
                }
            ),
            EventKind::CheckpointTriggered { job, id, savepoint } => format!(
                "{} {id} of job {} triggered: sources inject barriers",
                if *savepoint {
                    "savepoint"
                } else {
                    "checkpoint"
                },
                job.short()
            ),
            EventKind::CheckpointAcknowledged {
                id,
                vertex,
                subtask,
                size,
                alignment_ms,
                ..
            } => format!(
                "{vertex} [{}] acknowledged checkpoint {id} ({size} bytes, aligned in {alignment_ms} ms)",
                subtask.0 + 1
            ),
            EventKind::CheckpointCompleted {
                job,
                id,
                duration_ms,
                size,
                acks,
                ..
            } => format!(
                "checkpoint {id} of job {} completed in {duration_ms} ms: {acks} subtasks, {size} bytes",
                job.short()
            ),
            EventKind::SavepointCompleted {
                job,
                id,
                path,
                stop,
            } => format!(
                "savepoint {id} of job {} written to {path}{}",
                job.short(),
                if *stop {
                    ": the sources stop and the job finishes"
                } else {
                    ""
                }
            ),
            EventKind::CheckpointAborted { job, id, cause } => {
                format!("checkpoint {id} of job {} aborted: {cause}", job.short())
            }
            EventKind::CheckpointSkipped {
                job,
                path,
                cause,
                fallback,
            } => format!(
                "job {}'s checkpoint {path} cannot be restored ({cause}): {}",
                job.short(),
                match fallback {
                    Some(f) => format!("falling back to the one before, {f}"),
                    None => "no older checkpoint is retained, so recovery starts from the job's savepoint or its beginning".into(),
                }
            ),
            EventKind::RestartScheduled {
                name,
                vertices,
                delay_ms,
                cause,
                ..
            } => format!(
                "job \"{name}\": restarting {} in {delay_ms} ms after: {cause}",
                vertices.join(", ")
            ),
            EventKind::Restarted {
                name,
                vertices,
                attempt,
                from_checkpoint,
                ..
            } => format!(
                "job \"{name}\": {} redeployed (attempt {attempt}) {}",
                vertices.join(", "),
                match from_checkpoint {
                    Some(id) => format!("from checkpoint {id}"),
                    None => "from scratch (no checkpoint yet)".to_string(),
                }
            ),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Crash { host } => write!(f, "crash {host}"),
            Fault::NoBusiestTaskManager => {
                f.write_str("crash the busiest TaskManager: none holds a slot, nothing crashes")
            }
            Fault::Restart { host } => write!(f, "restart {host}"),
            Fault::StartTaskManager { host } => write!(f, "start {host}"),
            Fault::Partition { a, b } => write!(f, "partition {a} | {b}"),
            Fault::Repair { a, b } => write!(f, "repair {a} <-> {b}"),
            Fault::Delay { a, b, ms } => write!(f, "delay {a} <-> {b} by {ms} ms"),
            Fault::CancelJob { job } => write!(f, "cancel job {job}"),
            Fault::Savepoint { job } => write!(f, "savepoint of job {job}"),
            Fault::StopWithSavepoint { job } => write!(f, "stop job {job} with a savepoint"),
            Fault::StorageWritesFail { writes } => {
                write!(f, "the next {writes} checkpoint storage write(s) fail")
            }
            Fault::StorageWritesSlow { writes, ms } => {
                write!(
                    f,
                    "the next {writes} checkpoint storage write(s) take {ms} ms"
                )
            }
            Fault::StorageDamaged { path, damage } => {
                write!(f, "checkpoint file {path} damaged ({damage})")
            }
        }
    }
}
