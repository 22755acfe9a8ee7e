//! Two sources of one event log: the JobManager's own event stream
//! (`GET /events`, which mini-flink serves and Apache Flink does not) and
//! the events derived from polls ([`super::diff`]), merged so that nothing
//! is folded twice and nothing the stream missed is lost.
//!
//! The stream is the richer source: every event the JobManager emits
//! (slot requests, checkpoint acknowledgements with their alignment,
//! heartbeat timeouts, leader elections), each when it happens. It starts
//! at the moment of subscribing, so what happened before comes from a
//! poll, and the polls go on for what only the TaskManagers know (their
//! counters, [`EventKind::TaskMetrics`]).
//!
//! The phases of the link:
//!
//! | phase | stream events | a poll's events the stream also carries |
//! |---|---|---|
//! | no stream ([`Phase::PollOnly`]) | — | folded |
//! | just subscribed ([`Phase::Syncing`]) | held until the next poll | folded; the held events that say the same are dropped |
//! | streaming ([`Phase::Streaming`]) | folded at once | dropped ([`streamed_whole`]), or folded unless the stream said it since the poll before |
//! | stream broke ([`Phase::Down`]) | — | folded, except what the stream said since the poll before |
//!
//! Two events "say the same" when they have the same [`fact`]: the same
//! kind about the same thing (a TaskManager, a job's status, a subtask's
//! attempt and state, a slot, a checkpoint). Matching is one to one, so a
//! job that goes RUNNING twice is folded twice.
//!
//! Stream events are stamped with the TUI's clock when they arrive (the
//! JobManager's clock is not the TUI's), and what leaves here never goes
//! back in time.
//!
//! In: poll events, stream events, subscribe and break. Out: the events to
//! fold, in order.

use runtime::events::{Event, EventKind};
use std::collections::BTreeMap;

/// Where the link is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The cluster serves no event stream, or it is not up.
    PollOnly,
    /// Subscribed; the next poll says what was there already.
    Syncing,
    /// The stream is up and synced with the polls.
    Streaming,
    /// The stream broke since the last poll.
    Down,
}

/// What a fact is about, for the kinds the JobManager's stream carries;
/// `None` for the kinds only polls give.
pub fn fact(kind: &EventKind) -> Option<String> {
    use EventKind as K;
    Some(match kind {
        K::TaskManagerRegistered { resource_id, .. } => format!("tm+ {resource_id}"),
        K::TaskManagerLost { resource_id, .. } => format!("tm- {resource_id}"),
        K::JobSubmitted { job, .. } => format!("job+ {job}"),
        K::JobStatusChanged { job, to, .. } => format!("job {job} {to:?}"),
        K::SlotAllocated {
            job,
            resource_id,
            slot,
            ..
        } => format!("slot+ {resource_id} {slot} {job}"),
        K::SlotFreed {
            resource_id, slot, ..
        } => format!("slot- {resource_id} {slot}"),
        K::TaskDeployed {
            job,
            vertex_index,
            subtask,
            attempt,
            ..
        } => format!("deploy {job} {vertex_index} {subtask} {attempt}"),
        K::TaskStateChanged {
            job,
            vertex_index,
            subtask,
            attempt,
            to,
            ..
        } => format!("task {job} {vertex_index} {subtask} {attempt} {to:?}"),
        K::CheckpointTriggered { job, id, .. } => format!("cp> {job} {id}"),
        K::CheckpointCompleted { job, id, .. } => format!("cp+ {job} {id}"),
        K::SavepointCompleted { job, id, .. } => format!("sp+ {job} {id}"),
        K::CheckpointAborted { job, id, .. } => format!("cp- {job} {id}"),
        K::RestartScheduled { job, .. } => format!("restart? {job}"),
        K::Restarted { job, .. } => format!("restart {job}"),
        _ => return None,
    })
}

/// Whether the JobManager's stream carries every event of this kind, so
/// that a poll's is never needed once the stream is up. A slot freed is
/// the exception: the TaskManager frees it and says so on its own host;
/// the JobManager says it only for a TaskManager it lost.
pub fn streamed_whole(kind: &EventKind) -> bool {
    fact(kind).is_some() && !matches!(kind, EventKind::SlotFreed { .. })
}

/// A multiset of facts.
#[derive(Debug, Clone, Default)]
struct Facts(BTreeMap<String, usize>);

impl Facts {
    fn add(&mut self, f: String) {
        *self.0.entry(f).or_default() += 1;
    }
    /// Takes one `f` out, if there is one.
    fn take(&mut self, f: &str) -> bool {
        match self.0.get_mut(f) {
            Some(n) => {
                *n -= 1;
                if *n == 0 {
                    self.0.remove(f);
                }
                true
            }
            None => false,
        }
    }
}

/// The merge of the stream and the polls.
#[derive(Debug, Clone)]
pub struct Merge {
    phase: Phase,
    /// Stream events held while syncing.
    held: Vec<Event>,
    /// What the stream said since the poll before last, and since the last
    /// poll (for a stream that breaks).
    said_before: Facts,
    said_since: Facts,
    /// The time of the last event out.
    last_t: u64,
    /// Stream events folded so far.
    pub streamed: u64,
}

impl Default for Merge {
    fn default() -> Merge {
        Merge::new()
    }
}

impl Merge {
    /// A link without a stream.
    pub fn new() -> Merge {
        Merge {
            phase: Phase::PollOnly,
            held: Vec::new(),
            said_before: Facts::default(),
            said_since: Facts::default(),
            last_t: 0,
            streamed: 0,
        }
    }

    /// Where the link is.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The stream was (re)subscribed: what it says is held until the
    /// next poll has said what was there already.
    pub fn subscribed(&mut self) {
        self.phase = Phase::Syncing;
        self.held.clear();
    }

    /// The stream broke (or said it dropped events): the polls carry
    /// everything again.
    pub fn broke(&mut self) -> Vec<Event> {
        match self.phase {
            Phase::Syncing => {
                // What was held is real; the next poll will not repeat
                // what the stream already said.
                let held = std::mem::take(&mut self.held);
                for e in &held {
                    if let Some(f) = fact(&e.kind) {
                        self.said_since.add(f);
                    }
                }
                self.phase = Phase::Down;
                self.streamed += held.len() as u64;
                self.out(held)
            }
            Phase::Streaming => {
                self.phase = Phase::Down;
                Vec::new()
            }
            Phase::PollOnly | Phase::Down => Vec::new(),
        }
    }

    /// An event from the stream, stamped `t` (when it arrived): what to
    /// fold now.
    pub fn streamed(&mut self, mut e: Event, t: u64) -> Vec<Event> {
        e.t = t;
        match self.phase {
            Phase::Syncing => {
                self.held.push(e);
                Vec::new()
            }
            Phase::Streaming => {
                if let Some(f) = fact(&e.kind) {
                    self.said_since.add(f);
                }
                self.streamed += 1;
                self.out(vec![e])
            }
            // A late event of a stream given up: the polls cover it.
            Phase::PollOnly | Phase::Down => Vec::new(),
        }
    }

    /// A poll's events: what to fold now.
    pub fn polled(&mut self, events: Vec<Event>) -> Vec<Event> {
        let out = match self.phase {
            Phase::PollOnly => events,
            Phase::Syncing => {
                let mut seen = Facts::default();
                for e in &events {
                    if let Some(f) = fact(&e.kind) {
                        seen.add(f);
                    }
                }
                let mut out = events;
                for e in std::mem::take(&mut self.held) {
                    match fact(&e.kind) {
                        Some(f) if seen.take(&f) => {}
                        Some(f) => {
                            self.said_since.add(f);
                            self.streamed += 1;
                            out.push(e);
                        }
                        None => {
                            self.streamed += 1;
                            out.push(e);
                        }
                    }
                }
                self.phase = Phase::Streaming;
                out
            }
            Phase::Streaming => {
                let mut said = self.said_lately();
                events
                    .into_iter()
                    .filter(|e| match fact(&e.kind) {
                        None => true,
                        Some(_) if streamed_whole(&e.kind) => false,
                        Some(f) => !said.take(&f),
                    })
                    .collect()
            }
            Phase::Down => {
                let mut said = self.said_lately();
                self.phase = Phase::PollOnly;
                events
                    .into_iter()
                    .filter(|e| fact(&e.kind).is_none_or(|f| !said.take(&f)))
                    .collect()
            }
        };
        self.said_before = std::mem::take(&mut self.said_since);
        self.out(out)
    }

    /// What the stream said since the poll before the last one.
    fn said_lately(&mut self) -> Facts {
        let mut said = std::mem::take(&mut self.said_before);
        for (f, n) in std::mem::take(&mut self.said_since.0) {
            *said.0.entry(f).or_default() += n;
        }
        said
    }

    /// Out in time order: nothing earlier than what went out before.
    fn out(&mut self, mut events: Vec<Event>) -> Vec<Event> {
        for e in &mut events {
            e.t = e.t.max(self.last_t);
            self.last_t = e.t;
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use runtime::graph::JobId;
    use runtime::ids::{CheckpointId, ResourceId};
    use runtime::state::JobStatus;

    fn job() -> JobId {
        JobId::from_parts(&["merge"])
    }
    fn ev(t: u64, kind: EventKind) -> Event {
        Event {
            t,
            host: "jobmanager".into(),
            kind,
        }
    }
    fn tm(name: &str) -> EventKind {
        EventKind::TaskManagerRegistered {
            resource_id: ResourceId::new(name),
            slots: 2,
            data_addr: "127.0.0.1:1".into(),
        }
    }
    fn status(from: JobStatus, to: JobStatus) -> EventKind {
        EventKind::JobStatusChanged {
            job: job(),
            name: "merge".into(),
            from,
            to,
            cause: None,
        }
    }
    fn ack(id: u64) -> EventKind {
        EventKind::CheckpointAcknowledged {
            job: job(),
            id: CheckpointId(id),
            vertex: "Source".into(),
            vertex_index: 0,
            subtask: runtime::ids::SubtaskIndex(0),
            size: 8,
            alignment_ms: 3,
        }
    }
    fn metrics() -> EventKind {
        EventKind::TaskMetrics {
            job: job(),
            vertex: "Source".into(),
            vertex_index: 0,
            subtask: runtime::ids::SubtaskIndex(0),
            counters: Default::default(),
            backpressure_permille: 0,
        }
    }
    fn kinds(v: &[Event]) -> Vec<String> {
        v.iter()
            .map(|e| format!("{}@{}", fact(&e.kind).unwrap_or("·".into()), e.t))
            .collect()
    }

    /// Subscribed before the first poll: what the poll also says is not
    /// folded twice; what only the stream says, or what happened after
    /// the poll read it, is.
    #[test]
    fn syncing_drops_what_the_first_poll_said() {
        let mut m = Merge::new();
        m.subscribed();
        assert!(m.streamed(ev(0, tm("tm-1")), 3).is_empty(), "held");
        assert!(m.streamed(ev(0, ack(1)), 4).is_empty(), "held");
        let finished = status(JobStatus::Running, JobStatus::Finished);
        assert!(m.streamed(ev(0, finished), 6).is_empty(), "held");
        let poll = vec![
            ev(5, tm("tm-1")),
            ev(5, status(JobStatus::Created, JobStatus::Running)),
        ];
        let out = m.polled(poll);
        assert_eq!(m.phase(), Phase::Streaming);
        let job = job();
        assert_eq!(
            kinds(&out),
            [
                "tm+ tm-1@5".to_string(),
                format!("job {job} Running@5"),
                "·@5".into(),
                format!("job {job} Finished@6"),
            ]
        );
        assert_eq!(m.streamed, 2);
    }

    /// Streaming: the stream's events go out at once; a poll adds only
    /// what the stream does not carry (TaskManagers' counters).
    #[test]
    fn streaming_keeps_only_the_polls_own_kinds() {
        let mut m = Merge::new();
        m.subscribed();
        m.polled(vec![]);
        assert_eq!(kinds(&m.streamed(ev(0, tm("tm-2")), 10)), ["tm+ tm-2@10"]);
        let out = m.polled(vec![ev(12, tm("tm-2")), ev(12, metrics())]);
        assert_eq!(kinds(&out), ["·@12"]);
        // A slot the TaskManager freed: only the poll says it. One the
        // JobManager freed with its lost TaskManager: the stream did.
        let freed = |slot| EventKind::SlotFreed {
            allocation: runtime::ids::AllocationId(1),
            resource_id: ResourceId::new("tm-2"),
            slot,
        };
        m.streamed(ev(0, freed(0)), 13);
        let out = m.polled(vec![ev(14, freed(0)), ev(14, freed(1))]);
        assert_eq!(kinds(&out), ["slot- tm-2 1@14"]);
        // Nothing goes back in time.
        assert_eq!(kinds(&m.streamed(ev(0, ack(2)), 11)), ["·@14"]);
    }

    /// The stream breaks: the next poll says again only what the stream
    /// did not; after that, polls carry everything.
    #[test]
    fn a_broken_stream_hands_over_to_the_polls() {
        let mut m = Merge::new();
        m.subscribed();
        m.polled(vec![]);
        m.streamed(ev(0, status(JobStatus::Running, JobStatus::Finished)), 20);
        assert!(m.broke().is_empty());
        assert_eq!(m.phase(), Phase::Down);
        assert!(m.streamed(ev(0, tm("late")), 21).is_empty(), "given up");
        let out = m.polled(vec![
            ev(25, status(JobStatus::Running, JobStatus::Finished)),
            ev(25, tm("tm-3")),
        ]);
        assert_eq!(kinds(&out), ["tm+ tm-3@25"]);
        assert_eq!(m.phase(), Phase::PollOnly);
        let out = m.polled(vec![ev(30, tm("tm-4"))]);
        assert_eq!(kinds(&out), ["tm+ tm-4@30"]);
    }

    /// Matching is one to one: a job that went RUNNING twice (a restart)
    /// while the first poll said RUNNING once is RUNNING twice in the log.
    #[test]
    fn one_to_one() {
        let mut m = Merge::new();
        m.subscribed();
        let running = || status(JobStatus::Restarting, JobStatus::Running);
        m.streamed(ev(0, running()), 1);
        m.streamed(ev(0, running()), 2);
        let out = m.polled(vec![ev(3, running())]);
        assert_eq!(out.len(), 2, "{out:?}");
    }

    /// A stream that breaks while syncing: what it held is folded, and
    /// the next poll does not say it again.
    #[test]
    fn broken_while_syncing() {
        let mut m = Merge::new();
        m.subscribed();
        m.streamed(ev(0, tm("tm-1")), 1);
        assert_eq!(kinds(&m.broke()), ["tm+ tm-1@1"]);
        assert!(m.polled(vec![ev(4, tm("tm-1"))]).is_empty());
    }
}
