//! Logs of a simulated cluster, deterministic like its event trace.
//!
//! The runtime logs what an operator wants to read (a broken connection, a
//! TaskManager lost, leadership lost, a job failing) through `tracing`; the
//! event stream stays the source of truth, logs are for people. Lifecycle
//! lines are `info` (as Flink logs them), so the default filter (`warn`)
//! shows only what needs a person: a refused handshake, a checkpoint
//! storage error, a process that would not start. In a real
//! process each line carries the wall clock; here it carries the
//! *virtual* time of turmoil's clock ([`VirtualTime`]) and the simulated
//! host it comes from (the simulator runs every host's future inside a
//! `host{name=...}` span, and the runtime passes that span on to the tasks
//! it spawns). So the same scenario and seed give byte-identical log text,
//! as they give a byte-identical trace.
//!
//! - [`init`]: the `sim` binary's subscriber (stderr, `RUST_LOG`, warnings
//!   and errors by default), also for the TUI's headless `--dot`.
//! - [`subscriber`]: the same format into any writer, with a given filter
//!   (a test captures a run's log with [`LogBuffer`] this way, and the TUI
//!   keeps its log there while it draws, to show it in its status line).

use std::io;
use std::sync::{Arc, Mutex};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

/// The filter used when `RUST_LOG` is not set: warnings and errors only.
pub const DEFAULT_FILTER: &str = "warn";

/// Prints turmoil's virtual time (seconds since the simulation started,
/// to the millisecond) where a log line would carry the wall clock; `-`
/// outside a simulated host (while the simulation is being built).
#[derive(Debug, Default, Clone, Copy)]
pub struct VirtualTime;

impl FormatTime for VirtualTime {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        match turmoil::sim_elapsed() {
            Some(t) => write!(w, "{:>4}.{:03}s", t.as_secs(), t.subsec_millis()),
            None => write!(w, "{:>9}", "-"),
        }
    }
}

/// A subscriber that writes the simulator's log format (virtual time,
/// level, host span, target, message and fields; no colours) to `writer`,
/// keeping what `filter` (a `RUST_LOG` directive such as `debug` or
/// `runtime=info,turmoil=warn`) lets through. A filter that does not
/// parse keeps warnings and errors.
pub fn subscriber<W>(filter: &str, writer: W) -> impl tracing::Subscriber + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    // turmoil's own lines (a host's ports bound and unbound) come, when a
    // host crashes, in the order of turmoil's internal hash map: they would
    // make the log differ between two runs of the same seed. They are kept
    // out unless the filter asks for turmoil by name.
    let filter = if filter.contains("turmoil") || filter == "off" {
        filter.to_string()
    } else {
        format!("{filter},turmoil=warn")
    };
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_timer(VirtualTime)
        .with_ansi(false)
        .with_writer(writer)
        .finish()
}

/// Installs the simulator's subscriber for this process: stderr, filtered
/// by `RUST_LOG` (default [`DEFAULT_FILTER`]). Returns `false` when a
/// subscriber was already installed (that one stays).
pub fn init() -> bool {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| DEFAULT_FILTER.to_string());
    init_with(&filter)
}

/// Installs the simulator's subscriber on stderr with `filter` (`off`:
/// nothing). Returns `false` when a subscriber was already installed.
pub fn init_with(filter: &str) -> bool {
    tracing::subscriber::set_global_default(subscriber(filter, io::stderr)).is_ok()
}

/// A log kept in memory: a [`MakeWriter`] whose lines collect in a shared
/// buffer (for tests, and for a UI that shows the log in a pane).
#[derive(Debug, Default, Clone)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything written so far, as text.
    pub fn text(&self) -> String {
        self.text_from(0).0
    }

    /// What was written from byte `offset` on, and the offset to read on
    /// from next time (a UI polls the log this way, a frame at a time).
    pub fn text_from(&self, offset: usize) -> (String, usize) {
        let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let new = bytes.get(offset..).unwrap_or_default();
        (String::from_utf8_lossy(new).into_owned(), bytes.len())
    }
}

/// One line being written into a [`LogBuffer`].
#[derive(Debug)]
pub struct LogBufferWriter(Arc<Mutex<Vec<u8>>>);

impl io::Write for LogBufferWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'w> MakeWriter<'w> for LogBuffer {
    type Writer = LogBufferWriter;

    fn make_writer(&'w self) -> Self::Writer {
        LogBufferWriter(self.0.clone())
    }
}
