//! The attached source: a background thread that polls the REST API every
//! refresh interval and carries out the controls (Flink's REST calls for
//! cancel, savepoint, stop-with-savepoint and a checkpoint on demand).
//!
//! The TUI's loop never waits on the network: it drains [`Update`]s from
//! a channel each frame. The thread ends when the [`Attachment`] is
//! dropped (its request channel closes) or asked to stop.
//!
//! ```text
//!  App ──Request (control, stop)──► poller thread ──HTTP──► JobManager
//!   ▲                                   │
//!   └──────────Update (poll, failure, control's answer)
//! ```
//!
//! Attached, time is the wall clock (ms since attaching) by default; a
//! [`Clock`] can be given instead, so tests stamp every event alike.

use super::client::{RestClient, RestError, error_message};
use super::merge::{Merge, Phase};
use super::poll::{Poll, Poller};
use super::stream::{self, Item, Subscribed};
use runtime::events::Event;
use runtime::graph::JobId;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// Poll interval when neither `--refresh` nor the cluster says one (Flink's
/// `web.refresh-interval` default).
pub const DEFAULT_REFRESH_MS: u64 = 3_000;

/// The shortest poll interval allowed.
pub const MIN_REFRESH_MS: u64 = 100;

/// How long an asynchronous operation (savepoint, stop, checkpoint) is
/// followed before the TUI stops asking.
pub const FOLLOW_MS: u64 = 120_000;

/// What time it is, in ms since attaching.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> u64 + Send + Sync>);

impl Clock {
    /// Wall-clock ms since now.
    pub fn wall() -> Clock {
        let start = Instant::now();
        Clock(Arc::new(move || start.elapsed().as_millis() as u64))
    }
    /// A clock that always says `ms` (tests).
    pub fn frozen(ms: u64) -> Clock {
        Clock(Arc::new(move || ms))
    }
    /// A clock from a function.
    pub fn from_fn(f: impl Fn() -> u64 + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(f))
    }
    /// The time now.
    pub fn now(&self) -> u64 {
        (self.0)()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.now())
    }
}

/// How to attach.
#[derive(Debug, Clone)]
pub struct AttachOptions {
    /// The REST API's address, `http://host:8081`.
    pub url: String,
    /// A bearer token for the cluster's REST API.
    pub token: Option<String>,
    /// The cluster's CA certificate, for an https address.
    pub tls_ca: Option<std::path::PathBuf>,
    /// Poll interval (ms); `None`: the cluster's `refresh-interval`.
    pub refresh_ms: Option<u64>,
    /// The clock; `None`: the wall clock.
    pub clock: Option<Clock>,
}

impl AttachOptions {
    /// Attach to `url` with the defaults.
    pub fn new(url: &str) -> AttachOptions {
        AttachOptions {
            url: url.to_string(),
            token: None,
            tls_ca: None,
            refresh_ms: None,
            clock: None,
        }
    }
}

/// A control a real cluster supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// `PATCH /jobs/:id?mode=cancel`.
    Cancel,
    /// `POST /jobs/:id/savepoints`.
    Savepoint,
    /// `POST /jobs/:id/stop`.
    StopWithSavepoint,
    /// `POST /jobs/:id/checkpoints`.
    Checkpoint,
}

impl Control {
    /// What it does, as a question's verb phrase ("cancel", …).
    pub fn verb(self) -> &'static str {
        match self {
            Control::Cancel => "cancel",
            Control::Savepoint => "take a savepoint of",
            Control::StopWithSavepoint => "stop with a savepoint",
            Control::Checkpoint => "trigger a checkpoint of",
        }
    }
}

/// What the TUI asks of the thread.
#[derive(Debug)]
enum Request {
    Control {
        control: Control,
        job: JobId,
        name: String,
    },
    /// An event from the stream of subscription `generation`.
    Streamed {
        generation: u64,
        event: Event,
    },
    /// The stream of subscription `generation` ended.
    StreamEnded {
        generation: u64,
        why: String,
    },
    Stop,
}

/// What the thread tells the TUI.
#[derive(Debug)]
pub enum Update {
    /// A poll succeeded.
    Polled(Poll),
    /// A poll failed: the screen keeps its state, marked stale.
    Failed(RestError),
    /// A control was answered, or an operation it started ended.
    Answer(Result<String, String>),
    /// Events from the JobManager's stream (`GET /events`).
    Streamed(Vec<Event>),
    /// The stream opened (`None`) or ended (why).
    Stream(Option<String>),
}

/// A running attachment: the channels to its thread, and what it knows of
/// the cluster.
#[derive(Debug)]
pub struct Attachment {
    requests: Sender<Request>,
    updates: Receiver<Update>,
    /// The REST address.
    pub url: String,
    /// The poll interval (ms).
    pub refresh_ms: u64,
    /// The cluster's `flink-version`.
    pub version: Option<String>,
    /// The clock.
    pub clock: Clock,
}

impl Attachment {
    /// Connects (`GET /config`), polls once, and starts polling in the
    /// background. The first poll's result is returned, so whoever attaches
    /// starts with the cluster as it is, or with the error that says why not.
    pub fn start(opts: AttachOptions) -> Result<(Attachment, Poll), RestError> {
        let client = RestClient::new(&opts.url, opts.token.clone(), opts.tls_ca.as_deref())?;
        let mut poller = Poller::connect(client)?;
        let clock = opts.clock.clone().unwrap_or_else(Clock::wall);
        let refresh_ms = opts
            .refresh_ms
            .or(poller.refresh_ms)
            .unwrap_or(DEFAULT_REFRESH_MS)
            .max(MIN_REFRESH_MS);
        let (req_tx, req_rx) = mpsc::channel();
        let (up_tx, up_rx) = mpsc::channel();
        let mut link = Link {
            merge: Merge::new(),
            generation: 0,
            served: true,
            requests: req_tx.clone(),
            clock: clock.clone(),
        };
        // Subscribe first: whatever happens from now on, the stream says.
        let opened = link.subscribe(poller.client(), &up_tx);
        let mut first = poller.poll(clock.now())?;
        let (early, rest) = link.drain(&req_rx);
        for e in early {
            link.merge_streamed(e);
        }
        first.events = link.merge.polled(std::mem::take(&mut first.events));
        if let Some(why) = opened {
            first.warnings.push(why);
        }
        let url = poller.client().base().to_string();
        let version = poller.version.clone();
        std::thread::Builder::new()
            .name("rest-poller".into())
            .spawn(move || run(poller, link, refresh_ms, rest, req_rx, up_tx))
            .map_err(|e| RestError::Unreachable {
                method: "GET",
                url: url.clone(),
                why: format!("cannot start the poller thread: {e}"),
            })?;
        Ok((
            Attachment {
                requests: req_tx,
                updates: up_rx,
                url,
                refresh_ms,
                version,
                clock,
            },
            first,
        ))
    }

    /// Everything the thread said since the last call.
    pub fn updates(&self) -> Vec<Update> {
        self.updates.try_iter().collect()
    }

    /// Waits up to `limit` for the thread's next word (tests).
    pub fn wait(&self, limit: Duration) -> Option<Update> {
        self.updates.recv_timeout(limit).ok()
    }

    /// Asks for a control on a job; the answer comes as an [`Update::Answer`].
    pub fn control(&self, control: Control, job: JobId, name: &str) -> bool {
        self.requests
            .send(Request::Control {
                control,
                job,
                name: name.to_string(),
            })
            .is_ok()
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        let _ = self.requests.send(Request::Stop);
    }
}

/// An operation the thread follows until it ends.
struct Pending {
    control: Control,
    name: String,
    status_path: String,
    since: Instant,
}

/// The event stream's side of the thread: the merge, and which
/// subscription is the current one (a broken one's reader may still say
/// something; it is not listened to).
struct Link {
    merge: Merge,
    generation: u64,
    /// Whether the cluster serves `GET /events` at all.
    served: bool,
    requests: Sender<Request>,
    clock: Clock,
}

impl Link {
    /// (Re)subscribes to the stream and starts its reader; what went wrong
    /// when it could not (`None`: open, or not served).
    fn subscribe(&mut self, client: &RestClient, updates: &Sender<Update>) -> Option<String> {
        match stream::subscribe(client) {
            Subscribed::Open(body) => {
                self.generation += 1;
                let generation = self.generation;
                let tx = self.requests.clone();
                let spawned = std::thread::Builder::new()
                    .name("rest-events".into())
                    .spawn(move || {
                        stream::read(body, |item| {
                            let req = match item {
                                Item::Event(event) => Request::Streamed { generation, event },
                                Item::End(why) => Request::StreamEnded { generation, why },
                            };
                            tx.send(req).is_ok()
                        })
                    });
                match spawned {
                    Ok(_) => {
                        self.merge.subscribed();
                        let _ = updates.send(Update::Stream(None));
                        None
                    }
                    Err(e) => Some(format!("cannot read the event stream: {e}")),
                }
            }
            Subscribed::NotServed => {
                self.served = false;
                None
            }
            Subscribed::Failed(why) => Some(why),
        }
    }

    /// Stream events waiting in the channel (they arrived during a poll,
    /// so they are merged before it), and the other requests, in order.
    fn drain(&mut self, requests: &Receiver<Request>) -> (Vec<Event>, Vec<Request>) {
        let mut events = Vec::new();
        let mut rest = Vec::new();
        while let Ok(r) = requests.try_recv() {
            match r {
                Request::Streamed { generation, event } if generation == self.generation => {
                    events.push(event)
                }
                Request::Streamed { .. } => {}
                other => rest.push(other),
            }
        }
        (events, rest)
    }

    fn merge_streamed(&mut self, e: Event) -> Vec<Event> {
        let now = self.clock.now();
        self.merge.streamed(e, now)
    }
}

/// The thread: poll every `refresh_ms`; between polls, carry out controls
/// and pass the stream's events on.
fn run(
    mut poller: Poller,
    mut link: Link,
    refresh_ms: u64,
    early: Vec<Request>,
    requests: Receiver<Request>,
    updates: Sender<Update>,
) {
    let refresh = Duration::from_millis(refresh_ms);
    let mut next = Instant::now() + refresh;
    let mut pending: Vec<Pending> = Vec::new();
    let mut queued: std::collections::VecDeque<Request> = early.into();
    loop {
        let wait = next.saturating_duration_since(Instant::now());
        let got = match queued.pop_front() {
            Some(r) => Ok(r),
            None => requests.recv_timeout(wait),
        };
        match got {
            Ok(Request::Control { control, job, name }) => {
                let answer = start_control(poller.client(), control, job, &name);
                let answer = answer.map(|(msg, follow)| {
                    if let Some(status_path) = follow {
                        pending.push(Pending {
                            control,
                            name: name.clone(),
                            status_path,
                            since: Instant::now(),
                        });
                    }
                    msg
                });
                if updates.send(Update::Answer(answer)).is_err() {
                    return;
                }
                // Show the effect soon.
                next = next.min(Instant::now() + Duration::from_millis(200));
            }
            Ok(Request::Streamed { generation, event }) => {
                if generation != link.generation {
                    continue;
                }
                let out = link.merge_streamed(event);
                if !out.is_empty() && updates.send(Update::Streamed(out)).is_err() {
                    return;
                }
            }
            Ok(Request::StreamEnded { generation, why }) => {
                if generation != link.generation {
                    continue;
                }
                link.generation += 1;
                let out = link.merge.broke();
                if !out.is_empty() && updates.send(Update::Streamed(out)).is_err() {
                    return;
                }
                if updates.send(Update::Stream(Some(why))).is_err() {
                    return;
                }
            }
            Ok(Request::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {
                if link.served && matches!(link.merge.phase(), Phase::PollOnly) {
                    link.subscribe(poller.client(), &updates);
                }
                let update = match poller.poll(link.clock.now()) {
                    Ok(mut p) => {
                        let (early, rest) = link.drain(&requests);
                        let mut events = Vec::new();
                        for e in early {
                            events.extend(link.merge_streamed(e));
                        }
                        events.extend(link.merge.polled(std::mem::take(&mut p.events)));
                        p.events = events;
                        queued.extend(rest);
                        Update::Polled(p)
                    }
                    Err(e) => Update::Failed(e),
                };
                if updates.send(update).is_err() {
                    return;
                }
                let mut keep = Vec::new();
                for p in pending.drain(..) {
                    let answer = follow(poller.client(), &p);
                    let late = p.since.elapsed() >= Duration::from_millis(FOLLOW_MS);
                    match answer {
                        Some(a) => {
                            if updates.send(Update::Answer(a)).is_err() {
                                return;
                            }
                        }
                        None if late => {}
                        None => keep.push(p),
                    }
                }
                pending = keep;
                next = Instant::now() + refresh;
            }
        }
    }
}

/// Sends a control; its message, and the status path to follow for an
/// asynchronous operation.
fn start_control(
    c: &RestClient,
    control: Control,
    job: JobId,
    name: &str,
) -> Result<(String, Option<String>), String> {
    let jid = job.to_string();
    let request_id = |v: &Value| {
        v.get("request-id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("the answer has no `request-id`: {v}"))
    };
    match control {
        Control::Cancel => c
            .patch(&format!("/jobs/{jid}?mode=cancel"))
            .map(|_| (format!("asked the JobManager to cancel \"{name}\""), None))
            .map_err(|e| e.to_string()),
        Control::Savepoint => {
            let v = c
                .post(
                    &format!("/jobs/{jid}/savepoints"),
                    &json!({ "cancel-job": false }),
                )
                .map_err(|e| e.to_string())?;
            let id = request_id(&v)?;
            Ok((
                format!(
                    "asked for a savepoint of \"{name}\": a checkpoint you keep, to resume or upgrade from"
                ),
                Some(format!("/jobs/{jid}/savepoints/{id}")),
            ))
        }
        Control::StopWithSavepoint => {
            let v = c
                .post(&format!("/jobs/{jid}/stop"), &json!({ "drain": false }))
                .map_err(|e| e.to_string())?;
            let id = request_id(&v)?;
            Ok((
                format!("stopping \"{name}\" with a savepoint: the sources stop after the barrier"),
                Some(format!("/jobs/{jid}/savepoints/{id}")),
            ))
        }
        Control::Checkpoint => {
            let v = c
                .post(&format!("/jobs/{jid}/checkpoints"), &json!({}))
                .map_err(|e| e.to_string())?;
            let id = request_id(&v)?;
            Ok((
                format!("asked the CheckpointCoordinator of \"{name}\" for a checkpoint now"),
                Some(format!("/jobs/{jid}/checkpoints/{id}")),
            ))
        }
    }
}

/// An asynchronous operation's end, once it has one.
fn follow(c: &RestClient, p: &Pending) -> Option<Result<String, String>> {
    let v = match c.get(&p.status_path) {
        Ok(v) => v,
        Err(e) if e.is_not_found() => return Some(Err(e.to_string())),
        Err(_) => return None,
    };
    if v["status"]["id"] != "COMPLETED" {
        return None;
    }
    let op = &v["operation"];
    let failure = op
        .get("failure-cause")
        .or_else(|| op.get("failureCause"))
        .and_then(|f| f.get("stack-trace"))
        .and_then(Value::as_str);
    if let Some(f) = failure {
        return Some(Err(format!(
            "could not {} \"{}\": {}",
            p.control.verb(),
            p.name,
            error_message(&json!({ "errors": [f] }).to_string())
        )));
    }
    Some(Ok(match p.control {
        Control::Checkpoint => format!(
            "checkpoint #{} of \"{}\" completed",
            op["checkpointId"], p.name
        ),
        Control::StopWithSavepoint => format!(
            "\"{}\" stopped; savepoint at {}",
            p.name,
            op["location"].as_str().unwrap_or("?")
        ),
        _ => format!(
            "savepoint of \"{}\" at {}",
            p.name,
            op["location"].as_str().unwrap_or("?")
        ),
    }))
}
