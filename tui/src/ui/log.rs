//! The event log: every state change of the cluster, in plain words.
//!
//! Everything observable in mini-flink is an event on one stream (see
//! `runtime::events`); this panel prints the state changes among them (the
//! periodic metrics are left out) with the runtime's own description, and
//! for the event under the cursor, a note on why it matters in Flink's
//! architecture. While you travel back in time, the cursor's event is
//! highlighted: everything else on screen is the cluster as it was then.

use super::common::{panel, short_host};
use crate::app::{App, secs};
use crate::cluster::is_noise;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};
use runtime::events::{Event, EventKind, Fault, Role};
use runtime::state::{ExecutionState, JobStatus};

/// The colour that tells what kind of change an event is.
pub fn event_style(e: &Event) -> Style {
    let s = Style::default();
    match &e.kind {
        EventKind::FaultInjected { .. } => s
            .fg(Color::White)
            .bg(Color::Red)
            .add_modifier(Modifier::BOLD),
        EventKind::TaskManagerLost { .. } | EventKind::HeartbeatTimeout { .. } => {
            s.fg(Color::Red).add_modifier(Modifier::BOLD)
        }
        EventKind::ConnectionLost { .. } => s.fg(Color::LightRed),
        EventKind::TaskStateChanged { to, .. } => match to {
            ExecutionState::Failed => s.fg(Color::Red),
            ExecutionState::Canceled | ExecutionState::Canceling => s.fg(Color::Magenta),
            ExecutionState::Running => s.fg(Color::Green),
            ExecutionState::Finished => s.fg(Color::Blue),
            _ => s.fg(Color::Gray),
        },
        EventKind::JobStatusChanged { to, .. } => match to {
            JobStatus::Failed | JobStatus::Failing => s.fg(Color::Red),
            JobStatus::Canceled | JobStatus::Cancelling => s.fg(Color::Magenta),
            JobStatus::Restarting => s.fg(Color::LightRed),
            JobStatus::Running => s.fg(Color::Green),
            JobStatus::Finished => s.fg(Color::Blue),
            _ => s.fg(Color::Gray),
        },
        EventKind::SlotAllocated { .. } | EventKind::SlotOffered { .. } => s.fg(Color::LightGreen),
        EventKind::SlotFreed { .. } => s.fg(Color::Yellow),
        EventKind::SlotRequestPending { .. } | EventKind::TaskManagerDeclined { .. } => {
            s.fg(Color::Yellow)
        }
        EventKind::TaskManagerRegistered { .. }
        | EventKind::HostStarted { .. }
        | EventKind::WorkerRequested { .. } => s.fg(Color::Cyan),
        EventKind::JobSubmitted { .. } | EventKind::TaskDeployed { .. } => s.fg(Color::White),
        EventKind::CheckpointCompleted { .. } => {
            s.fg(Color::LightBlue).add_modifier(Modifier::BOLD)
        }
        EventKind::CheckpointTriggered { .. } => s.fg(Color::LightBlue),
        EventKind::CheckpointAborted { .. } => s.fg(Color::Yellow),
        EventKind::CheckpointSkipped { .. } => s.fg(Color::Red),
        EventKind::RestartScheduled { .. } => s.fg(Color::LightRed).add_modifier(Modifier::BOLD),
        EventKind::Restarted { .. } => s.fg(Color::LightYellow),
        _ => s.fg(Color::Gray),
    }
}

/// Why an event matters, in Flink's terms (for the event under the cursor).
pub fn note(e: &Event, heartbeat_timeout_ms: u64) -> Option<String> {
    let timeout = secs(heartbeat_timeout_ms);
    Some(match &e.kind {
        EventKind::FaultInjected { fault } => match fault {
            Fault::Crash { host: h } => format!(
                "{h}'s process is killed. Nobody tells the JobManager: it will only notice when no heartbeat has arrived for the heartbeat timeout ({timeout})."
            ),
            Fault::Restart { host: h } => format!(
                "{h} starts again as a fresh process: empty slots, no tasks. It registers at the ResourceManager like a new TaskManager."
            ),
            Fault::StartTaskManager { host: h } => format!("A new TaskManager, {h}, joins the cluster: the cluster scales out by TaskManagers registering."),
            Fault::Partition { a, b } => format!(
                "The network between {a} and {b} is cut: messages are lost both ways. Both processes still run; each side sees only silence."
            ),
            Fault::Repair { a, b } => format!("The network between {a} and {b} works again."),
            _ => "A fault from the scenario's timeline or from the keyboard.".into(),
        },
        EventKind::ConnectionLost { peer, .. } => format!(
            "The JobManager saw its connection to {peer} drop. A dropped connection is not proof of death: Flink waits for the heartbeat timeout ({timeout}) before it gives up on a TaskManager."
        ),
        EventKind::HeartbeatTimeout { peer, .. } => format!(
            "No heartbeat from {peer} within the timeout: from now on the JobManager treats it as dead."
        ),
        EventKind::TaskManagerLost { .. } => "The ResourceManager removes the TaskManager and releases its slots; every JobMaster with subtasks there fails them. In a session cluster one lost TaskManager hits every job that had a slot on it.".into(),
        EventKind::TaskManagerDeclined { .. } => "The ResourceManager declined the TaskManager: a cap was reached (slots per TaskManager, or TaskManagers per cluster). It is not part of the cluster; it logs why and registers again after Flink's refused-registration delay (10 s).".into(),
        EventKind::TaskManagerRegistered { .. } => "The TaskManager registered at the ResourceManager and reported its slots: the SlotManager can now allocate them to jobs.".into(),
        EventKind::HostStarted { role } => match role {
            Role::JobManager => "A JobManager process started and leads the cluster: Dispatcher, ResourceManager, and one JobMaster per job.".into(),
            Role::TaskManager => "A TaskManager process started: it will register at the ResourceManager and offer its task slots.".into(),
            _ => "The client process started: it compiles programs into JobGraphs (chaining happens here) and submits them.".into(),
        },
        EventKind::JobSubmitted { .. } => "The Dispatcher accepted the JobGraph (already chained by the client) and started a JobMaster for it.".into(),
        EventKind::SlotRequested { .. } => "The JobMaster asks the ResourceManager for a slot: one per slot sharing group and subtask index, not one per task.".into(),
        EventKind::SlotRequestPending { .. } => "No free slot anywhere: the request waits until a TaskManager registers (standalone) or the active ResourceManager starts one (like YARN or Kubernetes).".into(),
        EventKind::SlotAllocated { .. } => "The SlotManager matched the request with a free slot; the TaskManager will offer it to the job's JobMaster.".into(),
        EventKind::SlotOffered { .. } => "The TaskManager offers the slot to the JobMaster, which can now deploy into it one subtask of each operator chain (slot sharing).".into(),
        EventKind::SlotFreed { .. } => "The slot is free again: the SlotManager can give it to any job.".into(),
        EventKind::TaskDeployed { .. } => "The JobMaster sends the subtask to its slot. One subtask of an operator chain is one task: one thread, its operators calling each other directly.".into(),
        EventKind::TaskStateChanged { to, .. } => match to {
            ExecutionState::Failed => "This execution attempt failed. Without a restart strategy the whole job fails with it.".into(),
            ExecutionState::Running => "The subtask processes records.".into(),
            ExecutionState::Finished => "Its input ended and all its output is flushed.".into(),
            _ => "An execution goes CREATED → SCHEDULED → DEPLOYING → INITIALIZING → RUNNING → FINISHED (or FAILED, CANCELED).".into(),
        },
        EventKind::JobStatusChanged { to, .. } => {
            if *to == JobStatus::Failed {
                "The job is over: it failed, and its slots go back to the ResourceManager.".into()
            } else if to.is_terminal() {
                "The job is over; its slots go back to the ResourceManager.".into()
            } else {
                "A JobStatus goes CREATED → RUNNING → FINISHED; failures go through FAILING (or RESTARTING with a restart strategy).".into()
            }
        }
        EventKind::WorkerRequested { .. } => "The active ResourceManager starts a TaskManager because slot requests wait: it can, unlike a standalone one.".into(),
        EventKind::WorkerReleased { .. } => "The active ResourceManager stops a TaskManager that stayed idle.".into(),
        EventKind::CheckpointTriggered { .. } => "The JobMaster's CheckpointCoordinator asks the sources to inject a barrier. It flows with the records; each task snapshots its state once the barrier has arrived on all its inputs (alignment).".into(),
        EventKind::CheckpointAcknowledged { .. } => "This subtask stored its state snapshot and acknowledged it to the CheckpointCoordinator.".into(),
        EventKind::CheckpointCompleted { .. } => "Every subtask acknowledged: the checkpoint is complete. After a failure the job restarts from here; records since then are replayed, so state stays exactly-once.".into(),
        EventKind::SavepointCompleted { stop, .. } => if *stop {
            "A savepoint is a checkpoint you ask for and keep. Stopped with one, the job can later resume from it, even as a changed program.".into()
        } else {
            "A savepoint is a checkpoint you ask for and keep: a job can later start from it (resume, upgrade, rescale).".into()
        },
        EventKind::CheckpointAborted { .. } => "This checkpoint will not complete; the previous completed one stays the restore point.".into(),
        EventKind::CheckpointSkipped { .. } => "Every checkpoint file carries a checksum; a damaged one is never restored from. With state.checkpoints.num-retained > 1 an older one is there to fall back to, and the output stays exact: the sinks' committed output goes back with it.".into(),
        EventKind::RestartScheduled { .. } => "The restart strategy allows another attempt: the subtasks of the failed region are cancelled and redeployed after the delay.".into(),
        EventKind::Restarted { .. } => "The subtasks are deployed again, as a new execution attempt, with the state of the latest completed checkpoint.".into(),
        EventKind::DataConnectionOpened { .. } => "Stream data flows directly between TaskManagers, never through the JobManager: one connection per TaskManager pair.".into(),
        _ => return None,
    })
}

fn host_col(e: &Event, wide: bool) -> String {
    if wide {
        format!("{:<13}", e.host)
    } else {
        format!("{:<5}", short_host(&e.host))
    }
}

/// The state-change events before the cursor, newest last, at most `n`.
fn recent(app: &App, n: usize) -> Vec<usize> {
    let mut out: Vec<usize> = (0..app.cursor)
        .rev()
        .filter(|&i| !is_noise(&app.events[i]) && app.event_passes(i))
        .take(n)
        .collect();
    out.reverse();
    out
}

fn event_line(app: &App, i: usize, wide: bool) -> Line<'static> {
    let e = &app.events[i];
    let mut style = event_style(e);
    let current = !app.at_present() && i + 1 == app.cursor;
    if current {
        style = style.add_modifier(Modifier::REVERSED);
    }
    Line::from(vec![
        Span::styled(
            format!("{:>8} ", secs(e.t)),
            Style::default().fg(if current {
                Color::Magenta
            } else {
                Color::DarkGray
            }),
        ),
        Span::styled(host_col(e, wide), Style::default().fg(Color::DarkGray)),
        Span::raw(" "),
        Span::styled(e.kind.describe(), style),
    ])
}

fn title(app: &App) -> Line<'static> {
    let total = app.available();
    let tag = app.nav.filter_tag();
    let count = if tag.is_empty() {
        total.to_string()
    } else {
        let shown = (0..app.cursor)
            .filter(|&i| !is_noise(&app.events[i]) && app.event_passes(i))
            .count();
        format!("{shown} of {total}")
    };
    if app.at_present() {
        Line::from(format!(" Events{tag} ({count}) "))
    } else {
        Line::from(vec![
            Span::raw(format!(" Events{tag} ")),
            Span::styled(
                format!(
                    " ◀ time travel: event {}/{total}  ←/→ step  End: now ",
                    app.cursor
                ),
                Style::default().fg(Color::White).bg(Color::Magenta),
            ),
        ])
    }
}

/// The event log panel of the cluster screen.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let inner = panel(buf, area, title(app), Style::default().fg(Color::Gray));
    let wide = inner.width >= 100;
    let ids = recent(app, inner.height as usize);
    if ids.is_empty() {
        let none = if app.nav.filter.is_empty() {
            "no events yet".to_string()
        } else {
            format!("no event matches /{}", app.nav.filter)
        };
        buf.set_stringn(
            inner.x + 1,
            inner.y,
            none,
            inner.width as usize,
            Style::default().fg(Color::DarkGray),
        );
    }
    for (k, &i) in ids.iter().enumerate() {
        buf.set_line(
            inner.x,
            inner.y + k as u16,
            &event_line(app, i, wide),
            inner.width,
        );
    }
}

/// The events screen: the log, and what the event under the cursor means.
pub fn render_full(app: &App, area: Rect, buf: &mut Buffer) {
    let [list, detail] = Layout::vertical([Constraint::Fill(1), Constraint::Length(6)]).areas(area);
    render(app, list, buf);
    let inner = panel(
        buf,
        detail,
        Line::from(" What it means "),
        Style::default().fg(Color::Gray),
    );
    let Some(&i) = recent(app, 1).first() else {
        return;
    };
    let e = &app.events[i];
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("{} {}: ", secs(e.t), e.host),
            Style::default().fg(Color::DarkGray),
        ),
        Span::styled(e.kind.describe(), event_style(e)),
    ])];
    if let Some(n) = note(e, app.heartbeat_timeout_ms) {
        lines.push(Line::from(Span::styled(
            n,
            Style::default().fg(Color::White),
        )));
    }
    Paragraph::new(lines)
        .wrap(Wrap { trim: true })
        .render(inner, buf);
}
