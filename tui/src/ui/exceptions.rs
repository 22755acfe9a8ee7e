//! The Exceptions screen: each job's failures and restarts, newest first,
//! as Flink's exception history lists them (root cause, when, which task,
//! on which TaskManager), with the restart strategy's restarts and the
//! redeployments between them.

use super::browse::with_breadcrumb;
use super::common::{job_color, panel};
use crate::app::{App, secs};
use crate::cluster::{ExceptionKind, ExceptionRecord, JobView};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

/// Whether an exception of a job passes the filter (the job's name, the
/// cause, the task or the TaskManager contains it).
fn passes(app: &App, j: &JobView, x: &ExceptionRecord) -> bool {
    app.nav.matches(&j.name)
        || app.nav.matches(&x.cause)
        || x.task.as_deref().is_some_and(|t| app.nav.matches(t))
        || x.taskmanager.as_deref().is_some_and(|t| app.nav.matches(t))
}

/// The lines of one job's exceptions, newest first, in `width` columns
/// (a cause that does not fit goes on the lines below, indented).
pub fn job_lines(app: &App, j: &JobView, width: usize) -> Vec<Line<'static>> {
    let mut out = vec![Line::from(vec![
        Span::styled(
            format!(" {} ", j.name),
            Style::default()
                .fg(job_color(j.color))
                .add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            format!(
                "{} · restarts {}{}",
                j.status.as_str(),
                j.restarts,
                match &j.cause {
                    Some(c) => format!(" · cause: {c}"),
                    None => String::new(),
                }
            ),
            Style::default().fg(Color::Gray),
        ),
    ])];
    let shown: Vec<_> = j
        .exceptions
        .iter()
        .rev()
        .filter(|x| passes(app, j, x))
        .collect();
    if shown.is_empty() {
        out.push(Line::from(Span::styled(
            "   no failures",
            Style::default().fg(Color::DarkGray),
        )));
    }
    for x in shown {
        let style = match x.kind {
            ExceptionKind::TaskFailed | ExceptionKind::JobFailed => Style::default().fg(Color::Red),
            ExceptionKind::RestartScheduled => Style::default().fg(Color::LightRed),
            ExceptionKind::Restarted => Style::default().fg(Color::LightYellow),
        };
        let mut spans = vec![
            Span::styled(
                format!("   {:>9} ", secs(x.at)),
                Style::default().fg(Color::DarkGray),
            ),
            Span::styled(format!("{:<11} ", x.kind.label()), style),
        ];
        if let Some(t) = &x.task {
            spans.push(Span::styled(
                format!("{t} "),
                Style::default().fg(Color::White),
            ));
        }
        if let Some(tm) = &x.taskmanager {
            spans.push(Span::styled(
                format!("on {tm} "),
                Style::default().fg(Color::Cyan),
            ));
        }
        if let Some(last) = spans.last_mut() {
            // `task on tm: cause`
            let t = last.content.trim_end().to_string();
            *last = Span::styled(format!("{t}: "), last.style);
        }
        let used: usize = spans.iter().map(|s| s.width()).sum();
        if used + x.cause.chars().count() <= width {
            spans.push(Span::styled(x.cause.clone(), style));
            out.push(Line::from(spans));
        } else {
            out.push(Line::from(spans));
            for l in super::common::wrap(&x.cause, width.saturating_sub(16).max(20), 2) {
                out.push(Line::from(Span::styled(format!("{:15}{l}", ""), style)));
            }
        }
    }
    out
}

/// The Exceptions screen: every job that passes the filter.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let body = with_breadcrumb(app, area, buf);
    let inner = panel(
        buf,
        body,
        Line::from(format!(" Exceptions{} ", app.nav.filter_tag())),
        Style::default().fg(Color::Gray),
    );
    let mut lines = Vec::new();
    for j in &app.view.jobs {
        // A job shows when it or one of its exceptions passes the filter.
        if app.nav.matches(&j.name) || j.exceptions.iter().any(|x| passes(app, j, x)) {
            if !lines.is_empty() {
                lines.push(Line::from(""));
            }
            lines.extend(job_lines(app, j, inner.width as usize));
        }
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
