//! What every screen draws with: the colours of jobs, states and
//! backpressure, number and name formats, word wrapping, and the bordered
//! panel.
//!
//! A leaf: the screens ([`super::slots`], [`super::jobs`], [`super::log`],
//! [`super::dataflow`], [`super::help`]) and the frame in [`super`] import
//! it; it imports none of them. In: values from the [`App`](crate::App).
//! Out: ratatui colours, strings and a panel's inner area.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use runtime::state::{ExecutionState, JobStatus};

/// Colours that tell jobs apart (by submission order).
pub const JOB_COLORS: [Color; 6] = [
    Color::Cyan,
    Color::Magenta,
    Color::LightBlue,
    Color::LightYellow,
    Color::LightMagenta,
    Color::LightCyan,
];

/// The colour of the job with this index.
pub fn job_color(i: usize) -> Color {
    JOB_COLORS[i % JOB_COLORS.len()]
}

/// A lifecycle value the UI colours: a job's status or an execution's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// A JobStatus.
    Job(JobStatus),
    /// An ExecutionState.
    Execution(ExecutionState),
}

impl From<JobStatus> for Lifecycle {
    fn from(s: JobStatus) -> Self {
        Lifecycle::Job(s)
    }
}

impl From<ExecutionState> for Lifecycle {
    fn from(s: ExecutionState) -> Self {
        Lifecycle::Execution(s)
    }
}

/// The colour of an ExecutionState or JobStatus.
pub fn state_color(state: impl Into<Lifecycle>) -> Color {
    use ExecutionState as E;
    use JobStatus as J;
    use Lifecycle::{Execution, Job};
    match state.into() {
        Job(J::Running) | Execution(E::Running) => Color::Green,
        Job(J::Finished) | Execution(E::Finished) => Color::DarkGray,
        Job(J::Failed | J::Failing) | Execution(E::Failed) => Color::Red,
        Job(J::Canceled | J::Cancelling) | Execution(E::Canceled | E::Canceling) => Color::Magenta,
        Job(J::Restarting) => Color::LightRed,
        _ => Color::Yellow,
    }
}

/// Back-pressure colour: green below 10%, yellow below 50%, red above.
pub fn backpressure_color(permille: u32) -> Color {
    if permille < 100 {
        Color::Green
    } else if permille < 500 {
        Color::Yellow
    } else {
        Color::Red
    }
}

/// `950/s`, `12.3k/s`, `1.2M/s`.
pub fn fmt_rate(per_sec: u64) -> String {
    if per_sec < 1_000 {
        format!("{per_sec}/s")
    } else if per_sec < 1_000_000 {
        format!("{:.1}k/s", per_sec as f64 / 1e3)
    } else {
        format!("{:.1}M/s", per_sec as f64 / 1e6)
    }
}

/// `950`, `12.3k`, `1.2M`.
pub fn fmt_count(n: u64) -> String {
    if n < 10_000 {
        format!("{n}")
    } else if n < 1_000_000 {
        format!("{:.1}k", n as f64 / 1e3)
    } else {
        format!("{:.1}M", n as f64 / 1e6)
    }
}

/// `Split -> Pair` as `Split->Pair`, and `Sum -> Sink: Collect` as `Sum->Sink`.
pub fn short_chain(name: &str) -> String {
    name.split(" -> ")
        .map(|op| op.split(": ").next().unwrap_or(op))
        .collect::<Vec<_>>()
        .join("->")
}

/// `taskmanager-3` as `tm-3`, `jobmanager` as `jm`, and a real Flink's
/// TaskManager `127.0.0.1:39543-fc8c0a` (host, RPC port, a random suffix)
/// as `tm-fc8c0a`.
pub fn short_host(host: &str) -> String {
    if let Some(n) = host.strip_prefix("taskmanager-") {
        format!("tm-{n}")
    } else if let Some((addr, suffix)) = host.rsplit_once('-')
        && addr.contains(':')
        && !suffix.is_empty()
        && suffix.chars().all(|c| c.is_ascii_hexdigit())
    {
        format!("tm-{suffix}")
    } else if host == "jobmanager" {
        "jm".into()
    } else {
        host.to_string()
    }
}

/// Word-wraps `text` into at most `max_lines` lines of `width` (an ellipsis
/// marks a cut).
pub fn wrap(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 1 + word.chars().count() <= width => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(l) = lines.last_mut() {
            l.push('…');
        }
    }
    lines
        .into_iter()
        .map(|l| {
            if l.chars().count() > width {
                l.chars().take(width.saturating_sub(1)).collect::<String>() + "…"
            } else {
                l
            }
        })
        .collect()
}

/// A bordered panel with a title; returns the inside.
pub fn panel(buf: &mut Buffer, area: Rect, title: Line<'_>, border: Style) -> Rect {
    use ratatui::widgets::{Block, Widget};
    let block = Block::bordered().title(title).border_style(border);
    let inner = block.inner(area);
    block.render(area, buf);
    inner
}
