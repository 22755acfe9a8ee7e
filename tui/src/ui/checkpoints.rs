//! The Checkpoints screen: each job's checkpoint history, as the
//! CheckpointCoordinator reports it (Flink's checkpoint tab: counts, the
//! latest completed and the latest restored checkpoint, then one line per
//! checkpoint: id, status, trigger time, end-to-end duration, state size,
//! acknowledgements, and the longest barrier alignment; every checkpoint
//! here is aligned: the simulator's barriers wait on all inputs).
//!
//! Attached to a real cluster, what was there before the TUI came shows
//! as "earlier", and the alignment only where the JobManager's event
//! stream said it (a poll of Flink's REST API does not).

use super::browse::with_breadcrumb;
use super::common::{job_color, panel};
use super::jobs::fmt_bytes;
use crate::app::{App, secs};
use crate::cluster::{CheckpointState, JobView};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

/// The lines of one job's checkpoints, newest first.
pub fn job_lines(app: &App, j: &JobView) -> Vec<Line<'static>> {
    let c = &j.checkpoints;
    let grey = Style::default().fg(Color::Gray);
    let mut out = vec![Line::from(vec![
        Span::styled(
            format!(" {} ", j.name),
            Style::default()
                .fg(job_color(j.color))
                .add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            format!(
                "completed {} · aborted {} · in progress {}",
                c.completed,
                c.aborted,
                usize::from(c.pending.is_some())
            ),
            grey,
        ),
    ])];
    let latest = match c.last {
        Some(l) => format!(
            "   latest completed #{}{} ({} ms, {})",
            l.id,
            match app.attached() {
                Some(a) if l.at <= a.first_poll_ms => ", before attaching".to_string(),
                _ => format!(" at {}", secs(l.at)),
            },
            l.duration_ms,
            fmt_bytes(l.size)
        ),
        None => "   no completed checkpoint yet".into(),
    };
    let restored = match j.last_restart {
        Some((attempt, Some(id), at)) => {
            format!("; restored #{id} at {} (attempt {attempt})", secs(at))
        }
        Some((attempt, None, at)) => {
            format!(
                "; restarted from scratch at {} (attempt {attempt})",
                secs(at)
            )
        }
        None => String::new(),
    };
    out.push(Line::from(Span::styled(
        format!("{latest}{restored}"),
        Style::default().fg(Color::LightBlue),
    )));
    if c.history.is_empty() {
        out.push(Line::from(Span::styled(
            "   no checkpoint triggered yet (is checkpointing on for this job?)",
            Style::default().fg(Color::DarkGray),
        )));
        return out;
    }
    out.push(Line::from(Span::styled(
        format!(
            "   {:>5} {:<11} {:>10} {:>9} {:>10} {:>5} {:>9}",
            "id", "status", "triggered", "duration", "size", "acks", "alignment"
        ),
        Style::default()
            .fg(Color::White)
            .add_modifier(Modifier::UNDERLINED),
    )));
    for r in c.history.iter().rev() {
        if !app.nav.matches(&format!("{} {:?}", r.id, r.state)) && !app.nav.matches(&j.name) {
            continue;
        }
        let (status, style) = match &r.state {
            CheckpointState::InProgress => ("IN_PROGRESS", Style::default().fg(Color::Yellow)),
            CheckpointState::Completed => ("COMPLETED", Style::default().fg(Color::Green)),
            CheckpointState::Aborted(_) => ("FAILED", Style::default().fg(Color::Red)),
        };
        let dash = || "-".to_string();
        // Attached, what the first poll found was there before the TUI
        // came (its time is not known here), and a poll does not say how
        // long barriers waited: only the JobManager's event stream does.
        let attached = app.attached();
        let before = attached.is_some_and(|a| r.triggered_at <= a.first_poll_ms);
        let aligned_known = attached.is_none_or(|a| a.stream.is_some() && !before);
        let triggered = if before {
            "earlier".to_string()
        } else {
            secs(r.triggered_at)
        };
        let mut spans = vec![
            Span::raw(format!(
                "   {:>5} ",
                format!("{}{}", if r.savepoint { "⚑" } else { "#" }, r.id)
            )),
            Span::styled(format!("{status:<11}"), style),
            Span::raw(format!(
                " {:>10} {:>9} {:>10} {:>5} {:>9}",
                triggered,
                r.duration_ms.map_or_else(dash, |d| format!("{d} ms")),
                r.size.map_or_else(dash, fmt_bytes),
                r.acks,
                r.alignment_ms
                    .filter(|_| aligned_known)
                    .map_or_else(dash, |a| format!("{a} ms")),
            )),
        ];
        if let CheckpointState::Aborted(cause) = &r.state {
            spans.push(Span::styled(
                format!("  {cause}"),
                Style::default().fg(Color::Red),
            ));
        }
        out.push(Line::from(spans));
    }
    out
}

/// The Checkpoints screen: every job that passes the filter.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let body = with_breadcrumb(app, area, buf);
    let inner = panel(
        buf,
        body,
        Line::from(format!(" Checkpoints{} ", app.nav.filter_tag())),
        Style::default().fg(Color::Gray),
    );
    let mut lines = Vec::new();
    for j in app.visible_jobs() {
        if !lines.is_empty() {
            lines.push(Line::from(""));
        }
        lines.extend(job_lines(app, j));
    }
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(
            " no jobs yet",
            Style::default().fg(Color::DarkGray),
        )));
    }
    for (k, l) in lines.iter().take(inner.height as usize).enumerate() {
        buf.set_line(inner.x, inner.y + k as u16, l, inner.width);
    }
}
