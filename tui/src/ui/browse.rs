//! The Jobs screen and its levels, as Flink's web dashboard nests them:
//! the job list (JobMaster per job: status, duration, tasks, records), a
//! job's vertices (its JobGraph's operator chains: parallelism, subtask
//! states, `numRecordsIn`/`numRecordsOut`, back-pressure), a vertex's
//! subtasks (its ExecutionVertices: current attempt, ExecutionState,
//! TaskManager and slot, records) and one subtask. The breadcrumb line on
//! top says where you are; `Enter` goes down, `Esc` up.

use super::common::{backpressure_color, fmt_count, fmt_rate, job_color, panel, state_color};
use super::jobs::{vertex_backpressure, vertex_rate};
use crate::app::{App, Screen, secs};
use crate::cluster::{JobView, SubtaskView, VertexView};
use crate::nav::Crumb;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use runtime::state::ExecutionState;

/// The breadcrumb text: `jobs › wordcount › Sum -> Sink › subtask 2`.
pub fn breadcrumb_text(app: &App) -> String {
    let mut parts: Vec<String> = vec![
        match app.screen {
            Screen::Jobs => "jobs",
            Screen::Checkpoints => "checkpoints",
            Screen::Exceptions => "exceptions",
            Screen::Cluster => "cluster",
            Screen::Dataflow => "dataflow",
            Screen::Events => "events",
        }
        .to_string(),
    ];
    if app.screen == Screen::Jobs {
        for c in &app.nav.path {
            parts.push(match c {
                Crumb::Job(j) => j.clone(),
                Crumb::Vertex(v) => v.clone(),
                Crumb::Subtask(i) => format!("subtask {}", i + 1),
            });
        }
    }
    parts.join(" › ")
}

/// The breadcrumb line, with the filter in force and what the keys do here.
pub fn breadcrumb(app: &App, area: Rect, buf: &mut Buffer) {
    let mut spans = vec![Span::styled(
        format!(" {} ", breadcrumb_text(app)),
        Style::default()
            .fg(Color::Black)
            .bg(Color::Cyan)
            .add_modifier(Modifier::BOLD),
    )];
    if !app.nav.filter.is_empty() {
        spans.push(Span::styled(
            format!(" /{} ", app.nav.filter),
            Style::default().fg(Color::Black).bg(Color::Yellow),
        ));
    }
    let hint = match (app.screen, app.nav.path.len()) {
        (Screen::Jobs, 0) => "  ↑↓ select · Enter vertices · / filter · : command",
        (Screen::Jobs, 1) => "  ↑↓ select · Enter subtasks · Esc back",
        (Screen::Jobs, 2) => "  ↑↓ select · Enter details · Esc back",
        (Screen::Jobs, _) => "  ↑↓ other subtask · Esc back",
        _ => "  / filter · : command (:jobs :checkpoints :exceptions)",
    };
    spans.push(Span::styled(hint, Style::default().fg(Color::DarkGray)));
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}

/// Splits a body into the breadcrumb line and the rest, drawing the line.
pub fn with_breadcrumb(app: &App, area: Rect, buf: &mut Buffer) -> Rect {
    let [top, rest] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    breadcrumb(app, top, buf);
    rest
}

/// The Jobs screen, at the level the path is at.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let body = with_breadcrumb(app, area, buf);
    let gone = |what: &str| {
        vec![Line::from(Span::styled(
            format!(
                "{what} is not there at t={} (Esc goes back)",
                secs(app.shown_ms())
            ),
            Style::default().fg(Color::DarkGray),
        ))]
    };
    let (title, lines, row) = match app.nav.path.len() {
        0 => (
            format!(" Jobs{} ", app.nav.filter_tag()),
            job_rows(app, area.width),
            Some(app.nav.row),
        ),
        1 => match app.nav_job() {
            Some(j) => (
                format!(" {}: vertices ", j.name),
                vertex_rows(app, j),
                Some(app.nav.row),
            ),
            None => (" Job ".into(), gone("this job"), None),
        },
        _ => match app.nav_vertex() {
            Some(v) => (
                format!(" {}: subtasks ", v.name),
                subtask_rows(v),
                Some(app.nav.row),
            ),
            None => (" Vertex ".into(), gone("this vertex"), None),
        },
    };
    let detail = app.nav.subtask().and_then(|i| {
        app.nav_vertex()
            .and_then(|v| v.subtasks.get(i as usize).map(|s| (i, v, s)))
    });
    let (list, info) = match detail {
        Some(_) => {
            let [a, b] = Layout::vertical([Constraint::Fill(1), Constraint::Length(8)]).areas(body);
            (a, Some(b))
        }
        None => (body, None),
    };
    let inner = panel(
        buf,
        list,
        Line::from(title),
        Style::default().fg(Color::Gray),
    );
    draw_rows(buf, inner, &lines, row);
    if let (Some(area), Some((i, v, s))) = (info, detail) {
        subtask_detail(v, i, s, area, buf);
    }
}

/// Draws a header line and rows, the highlighted one (`row`, counted
/// without the header) reversed and kept in sight.
fn draw_rows(buf: &mut Buffer, inner: Rect, lines: &[Line<'static>], row: Option<usize>) {
    let h = inner.height as usize;
    if h == 0 || lines.is_empty() {
        return;
    }
    buf.set_line(inner.x, inner.y, &lines[0], inner.width);
    let rows = &lines[1..];
    let room = h - 1;
    let row = row.map(|r| r.min(rows.len().saturating_sub(1)));
    let skip = match row {
        Some(r) if r >= room => r + 1 - room,
        _ => 0,
    };
    for (k, line) in rows.iter().enumerate().skip(skip).take(room) {
        let y = inner.y + 1 + (k - skip) as u16;
        buf.set_line(inner.x, y, line, inner.width);
        if Some(k) == row {
            buf.set_style(
                Rect::new(inner.x, y, inner.width, 1),
                Style::default().add_modifier(Modifier::REVERSED),
            );
        }
    }
}

fn header(text: String) -> Line<'static> {
    Line::from(Span::styled(
        text,
        Style::default()
            .fg(Color::White)
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
    ))
}

fn fit(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        format!("{s:<w$}")
    } else {
        s.chars().take(w.saturating_sub(1)).collect::<String>() + "…"
    }
}

fn job_rows(app: &App, width: u16) -> Vec<Line<'static>> {
    // Narrow, the name is shorter and the vertices and restarts go.
    let wide = width >= 100;
    let nw = if wide { 22 } else { 16 };
    let mut head = format!(
        " {:<nw$} {:<12} {:>9} {:>7} {:>9} {:>9}",
        "job", "status", "duration", "tasks", "rec in", "rec out"
    );
    if wide {
        head.push_str(&format!(" {:>8} {:>8}", "vertices", "restarts"));
    }
    let mut out = vec![header(head)];
    for j in app.visible_jobs() {
        let subtasks = j.vertices.iter().flat_map(|v| &v.subtasks);
        let total = subtasks.clone().count();
        let running = subtasks
            .clone()
            .filter(|s| s.state == ExecutionState::Running)
            .count();
        let rin: u64 = subtasks.clone().map(|s| s.counters.records_in).sum();
        let rout: u64 = subtasks.map(|s| s.counters.records_out).sum();
        // Attached, the JobManager's count (a job may have run long
        // before the TUI came); else from the events.
        let told = app.attached().and_then(|a| {
            let d = *a.durations.get(&j.id)?;
            let running = !j.status.is_terminal();
            Some(
                d + if running {
                    app.shown_ms().saturating_sub(a.last_poll_ms)
                } else {
                    0
                },
            )
        });
        let dur = told.unwrap_or_else(|| {
            j.ended_at
                .unwrap_or(app.shown_ms())
                .saturating_sub(j.submitted_at)
        });
        let mut cols = format!(
            " {:>9} {:>7} {:>9} {:>9}",
            format!("{:.1}s", dur as f64 / 1000.0),
            format!("{running}/{total}"),
            fmt_count(rin),
            fmt_count(rout),
        );
        if wide {
            cols.push_str(&format!(" {:>8} {:>8}", j.vertices.len(), j.restarts));
        }
        out.push(Line::from(vec![
            Span::styled(
                format!(" {} ", fit(&j.name, nw)),
                Style::default()
                    .fg(job_color(j.color))
                    .add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                format!("{:<12}", j.status.as_str()),
                Style::default().fg(state_color(j.status)),
            ),
            Span::raw(cols),
        ]));
    }
    if out.len() == 1 {
        let what = if app.nav.filter.is_empty() {
            "no jobs yet".to_string()
        } else {
            format!("no job matches /{}", app.nav.filter)
        };
        out.push(Line::from(Span::styled(
            format!(" {what}"),
            Style::default().fg(Color::DarkGray),
        )));
    }
    out
}

/// `2 RUNNING, 1 FAILED`: how many subtasks are in each state.
pub fn state_counts(v: &VertexView) -> String {
    let mut counts: Vec<(ExecutionState, usize)> = Vec::new();
    for s in &v.subtasks {
        match counts.iter_mut().find(|(st, _)| *st == s.state) {
            Some((_, n)) => *n += 1,
            None => counts.push((s.state, 1)),
        }
    }
    counts
        .iter()
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn vertex_rows(app: &App, j: &JobView) -> Vec<Line<'static>> {
    let mut out = vec![header(format!(
        " {:<30} {:>3} {:<22} {:>9} {:>9} {:>9} {:>5}",
        "vertex", "par", "subtasks", "rec in", "rec out", "rate", "bp"
    ))];
    for v in &j.vertices {
        let rin: u64 = v.subtasks.iter().map(|s| s.counters.records_in).sum();
        let rout: u64 = v.subtasks.iter().map(|s| s.counters.records_out).sum();
        let bp = vertex_backpressure(app, v);
        let rate = vertex_rate(app, v);
        out.push(Line::from(vec![
            Span::styled(
                format!(" {} ", fit(&v.name, 30)),
                Style::default().fg(Color::White),
            ),
            Span::raw(format!("{:>3} ", v.parallelism)),
            Span::styled(
                format!("{} ", fit(&state_counts(v), 22)),
                Style::default().fg(Color::Gray),
            ),
            Span::raw(format!(
                "{:>9} {:>9} {:>9} ",
                fmt_count(rin),
                fmt_count(rout),
                if rate > 0 { fmt_rate(rate) } else { "-".into() }
            )),
            Span::styled(
                format!("{:>4}%", bp / 10),
                Style::default().fg(backpressure_color(bp)),
            ),
        ]));
    }
    if out.len() == 1 {
        out.push(Line::from(Span::styled(
            " no vertices known yet",
            Style::default().fg(Color::DarkGray),
        )));
    }
    out
}

fn location(s: &SubtaskView) -> String {
    s.location
        .as_ref()
        .map_or("-".into(), |(tm, slot)| format!("{tm} slot {slot}"))
}

fn subtask_rows(v: &VertexView) -> Vec<Line<'static>> {
    let mut out = vec![header(format!(
        " {:>3} {:>7} {:<12} {:<24} {:>9} {:>9} {:>5}",
        "#", "attempt", "state", "taskmanager, slot", "rec in", "rec out", "bp"
    ))];
    for (i, s) in v.subtasks.iter().enumerate() {
        out.push(Line::from(vec![
            Span::raw(format!(" {:>3} {:>7} ", i + 1, s.attempt)),
            Span::styled(
                format!("{:<12}", s.state.as_str()),
                Style::default().fg(state_color(s.state)),
            ),
            Span::raw(format!(
                " {} {:>9} {:>9} ",
                fit(&location(s), 24),
                fmt_count(s.counters.records_in),
                fmt_count(s.counters.records_out)
            )),
            Span::styled(
                format!("{:>4}%", s.backpressure_permille / 10),
                Style::default().fg(backpressure_color(s.backpressure_permille)),
            ),
        ]));
    }
    out
}

fn subtask_detail(v: &VertexView, i: u32, s: &SubtaskView, area: Rect, buf: &mut Buffer) {
    let inner = panel(
        buf,
        area,
        Line::from(format!(" {} [{}/{}] ", v.name, i + 1, v.parallelism)),
        Style::default().fg(Color::Cyan),
    );
    let grey = Style::default().fg(Color::Gray);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(" state ", grey),
            Span::styled(
                s.state.as_str(),
                Style::default()
                    .fg(state_color(s.state))
                    .add_modifier(Modifier::BOLD),
            ),
            Span::styled(format!("  attempt {}", s.attempt), grey),
            Span::styled(
                match s.running_since {
                    Some(t) => format!("  running since {}", secs(t)),
                    None => String::new(),
                },
                grey,
            ),
        ]),
        Line::from(Span::styled(format!(" where {}", location(s)), grey)),
        Line::from(Span::styled(
            format!(
                " records in {} ({}), out {} ({}), back-pressure {}%",
                fmt_count(s.counters.records_in),
                fmt_rate(s.in_per_sec),
                fmt_count(s.counters.records_out),
                fmt_rate(s.out_per_sec),
                s.backpressure_permille / 10
            ),
            grey,
        )),
        Line::from(Span::styled(
            match s.metrics_at {
                Some(t) => format!(" metrics reported at {}", secs(t)),
                None => " no metrics reported yet".into(),
            },
            Style::default().fg(Color::DarkGray),
        )),
    ];
    if let Some(c) = &s.cause {
        lines.push(Line::from(Span::styled(
            format!(" ✖ {c}"),
            Style::default().fg(Color::Red),
        )));
    }
    for (k, l) in lines.iter().take(inner.height as usize).enumerate() {
        buf.set_line(inner.x, inner.y + k as u16, l, inner.width);
    }
}
