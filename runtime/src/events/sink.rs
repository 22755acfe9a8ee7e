//! Where events go and when they happened: the sinks (an in-memory log for
//! the simulator and tests, JSON lines on standard error for real
//! processes), the clock (virtual under turmoil, real otherwise), and the
//! [`HostCtx`] every component of a host is handed.

use super::event::{Event, EventKind};
use crate::net::NetworkRef;
use std::sync::{Arc, Mutex};

/// Where a host's events go.
pub trait EventSink: Send + Sync + 'static {
    /// Records one event.
    fn emit(&self, event: Event);
}

/// An in-memory, ordered log: the simulator's and the tests' sink.
#[derive(Debug, Clone, Default)]
pub struct EventLog {
    events: Arc<Mutex<Vec<Event>>>,
}

impl EventLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }
    /// A copy of all events so far.
    pub fn snapshot(&self) -> Vec<Event> {
        self.events.lock().map(|v| v.clone()).unwrap_or_default()
    }
    /// Events from index `from` on.
    pub fn since(&self, from: usize) -> Vec<Event> {
        self.events
            .lock()
            .map(|v| v.get(from..).map(<[Event]>::to_vec).unwrap_or_default())
            .unwrap_or_default()
    }
    /// Number of events so far.
    pub fn len(&self) -> usize {
        self.events.lock().map(|v| v.len()).unwrap_or(0)
    }
    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl EventSink for EventLog {
    fn emit(&self, event: Event) {
        if let Ok(mut v) = self.events.lock() {
            v.push(event);
        }
    }
}

/// Prints each event as a JSON line on standard error (real processes).
#[derive(Debug, Default, Clone, Copy)]
pub struct StderrEvents;

impl EventSink for StderrEvents {
    fn emit(&self, event: Event) {
        if let Ok(line) = serde_json::to_string(&event) {
            eprintln!("{line}");
        }
    }
}

/// Drops events.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEvents;

impl EventSink for NoEvents {
    fn emit(&self, _event: Event) {}
}

/// The time source of a host: milliseconds since the cluster's epoch.
pub trait Clock: Send + Sync + 'static {
    /// Now, in ms.
    fn now_ms(&self) -> u64;
}

/// `tokio::time` since a start instant: virtual under turmoil's paused
/// runtimes, real in real processes.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    start: tokio::time::Instant,
}

impl TokioClock {
    /// A clock starting now.
    pub fn start() -> Self {
        TokioClock {
            start: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }
}

/// What every component of a host is handed: its name, network, event
/// sink, clock and seed. Cloned freely.
#[derive(Clone)]
pub struct HostCtx {
    /// Host name (also the TaskManager's resource id).
    pub host: String,
    /// The transport seam.
    pub net: NetworkRef,
    /// Where events go.
    pub events: Arc<dyn EventSink>,
    /// Time source.
    pub clock: Arc<dyn Clock>,
    /// Seed for this host's random choices (shuffle partitioning).
    pub seed: u64,
}

impl HostCtx {
    /// Emits an event stamped with now and this host.
    pub fn emit(&self, kind: EventKind) {
        self.events.emit(Event {
            t: self.clock.now_ms(),
            host: self.host.clone(),
            kind,
        });
    }

    /// Now, in ms since the epoch.
    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }
}

impl std::fmt::Debug for HostCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostCtx").field("host", &self.host).finish()
    }
}
