//! Jobs: status, job vertices and their metrics, as a JobMaster reports them.
//!
//! Each job runs under its own JobMaster, which moves it through Flink's
//! `JobStatus` (CREATED → RUNNING → FINISHED, or FAILING → FAILED, or
//! CANCELLING → CANCELED). Under the job, one line per job vertex (operator
//! chain): how many of its subtasks run, records in and out (Flink's
//! `numRecordsIn`/`numRecordsOut`), the output rate and the share of time
//! spent back-pressured.

use super::common::{
    backpressure_color, fmt_count, fmt_rate, job_color, panel, short_chain, state_color,
};
use crate::app::{App, secs};
use crate::cluster::{JobView, VertexView};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use runtime::state::ExecutionState;

/// Metrics older than this (ms) no longer count as "now".
pub const FRESH_MS: u64 = 2_500;

/// Records out per second of a vertex, from its subtasks' last reports.
pub fn vertex_rate(app: &App, v: &VertexView) -> u64 {
    let now = app.shown_ms();
    v.subtasks
        .iter()
        .filter(|s| s.metrics_at.is_some_and(|t| t + app.fresh_ms() >= now))
        .map(|s| s.out_per_sec.max(s.in_per_sec))
        .sum()
}

/// The highest back-pressure among a vertex's subtasks (per mille).
pub fn vertex_backpressure(app: &App, v: &VertexView) -> u32 {
    let now = app.shown_ms();
    v.subtasks
        .iter()
        .filter(|s| {
            s.metrics_at.is_some_and(|t| t + app.fresh_ms() >= now)
                && s.state == ExecutionState::Running
        })
        .map(|s| s.backpressure_permille)
        .max()
        .unwrap_or(0)
}

/// Rows the jobs panel would like.
pub fn wanted_height(app: &App, width: u16) -> u16 {
    let w = width.saturating_sub(2) as usize;
    let mut lines = Vec::new();
    for j in &app.view.jobs {
        job_lines(app, j, w, &mut lines);
    }
    let waiting = app
        .scenario_jobs
        .iter()
        .filter(|(n, _)| !app.view.jobs.iter().any(|j| &j.name == n))
        .count();
    (lines.len() + waiting + 3) as u16
}

/// The jobs panel.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let inner = panel(
        buf,
        area,
        Line::from(format!(" Jobs{} ", app.nav.filter_tag())),
        Style::default().fg(Color::Gray),
    );
    let w = inner.width as usize;
    let mut lines: Vec<Line> = Vec::new();
    let mut selected_at = 0;
    for j in app.visible_jobs() {
        if app.selected_job.as_deref() == Some(j.name.as_str()) {
            selected_at = lines.len();
        }
        job_lines(app, j, w, &mut lines);
    }
    for (name, at) in &app.scenario_jobs {
        if !app.view.jobs.iter().any(|j| &j.name == name) && app.nav.matches(name) {
            let sel = app.selected_job.as_deref() == Some(name.as_str());
            lines.push(Line::from(vec![
                Span::styled("○ ", Style::default().fg(Color::DarkGray)),
                Span::styled(
                    name.clone(),
                    Style::default().fg(Color::Gray).add_modifier(if sel {
                        Modifier::REVERSED
                    } else {
                        Modifier::empty()
                    }),
                ),
                Span::styled(
                    format!(" submits at {}", secs(*at)),
                    Style::default().fg(Color::DarkGray),
                ),
            ]));
        }
    }
    if lines.is_empty() && !app.nav.filter.is_empty() {
        lines.push(Line::from(Span::styled(
            format!("no job matches /{}", app.nav.filter),
            Style::default().fg(Color::DarkGray),
        )));
    }
    let h = inner.height as usize;
    let skip = if lines.len() > h && selected_at + 3 > h {
        (selected_at).min(lines.len() - h)
    } else {
        0
    };
    for (k, line) in lines.iter().skip(skip).take(h).enumerate() {
        buf.set_line(inner.x, inner.y + k as u16, line, inner.width);
    }
}

fn job_lines(app: &App, j: &JobView, w: usize, lines: &mut Vec<Line<'static>>) {
    let sel = app.selected_job.as_deref() == Some(j.name.as_str());
    let jc = job_color(j.color);
    let mut head = vec![
        Span::styled("● ", Style::default().fg(jc)),
        Span::styled(
            j.name.clone(),
            Style::default().fg(jc).add_modifier(
                Modifier::BOLD
                    | if sel {
                        Modifier::REVERSED
                    } else {
                        Modifier::empty()
                    },
            ),
        ),
        Span::raw(" "),
        Span::styled(
            j.status.as_str(),
            Style::default()
                .fg(state_color(j.status))
                .add_modifier(Modifier::BOLD),
        ),
    ];
    let elapsed = j
        .ended_at
        .unwrap_or(app.shown_ms())
        .saturating_sub(j.submitted_at);
    // Attached, a job already running at the first poll started before
    // we looked: how long ago is not ours to say.
    let known = app
        .attached()
        .is_none_or(|a| j.submitted_at > a.first_poll_ms);
    if w >= 36 && known {
        head.push(Span::styled(
            format!(" {:.1}s", elapsed as f64 / 1000.0),
            Style::default().fg(Color::DarkGray),
        ));
    }
    lines.push(Line::from(head));
    if let Some(cause) = &j.cause {
        for l in super::common::wrap(&format!("✖ {cause}"), w.saturating_sub(2).max(10), 3) {
            lines.push(Line::from(Span::styled(
                format!("  {l}"),
                Style::default().fg(Color::Red),
            )));
        }
    }
    if !j.pending_slots.is_empty() {
        lines.push(Line::from(Span::styled(
            format!("  waiting for {} slot(s)", j.pending_slots.len()),
            Style::default().fg(Color::Yellow),
        )));
    }
    for v in &j.vertices {
        lines.push(vertex_line(app, v, w));
    }
    if let Some((attempt, from, _)) = j.last_restart {
        let from = from.map_or("from scratch".to_string(), |c| format!("from ckpt #{c}"));
        let long = format!("  ↻ restart {} (attempt {attempt}) {from}", j.restarts);
        let text = if long.chars().count() <= w {
            long
        } else {
            format!("  ↻ restart {} {from}", j.restarts)
        };
        lines.push(Line::from(Span::styled(
            text,
            Style::default().fg(Color::LightRed),
        )));
    } else if j.restarts > 0 {
        lines.push(Line::from(Span::styled(
            format!("  ↻ restart scheduled (restart {})", j.restarts),
            Style::default().fg(Color::LightRed),
        )));
    }
    let c = &j.checkpoints;
    if c.completed > 0 || c.pending.is_some() || c.aborted > 0 {
        let mut spans = vec![Span::styled("  ✔ ", Style::default().fg(Color::LightBlue))];
        match c.last {
            Some(last) => spans.push(Span::styled(
                format!("ckpt #{} {}ms", last.id, last.duration_ms),
                Style::default().fg(Color::LightBlue),
            )),
            None => spans.push(Span::styled(
                "no checkpoint yet",
                Style::default().fg(Color::DarkGray),
            )),
        }
        let extras = [
            c.last.map(|l| {
                Span::styled(
                    format!(" {}", fmt_bytes(l.size)),
                    Style::default().fg(Color::LightBlue),
                )
            }),
            c.pending.map(|(id, _, acks)| {
                Span::styled(
                    format!(" · #{id} {acks} acks"),
                    Style::default().fg(Color::Gray),
                )
            }),
            (c.aborted > 0).then(|| {
                Span::styled(
                    format!(" · {} aborted", c.aborted),
                    Style::default().fg(Color::Yellow),
                )
            }),
        ];
        for e in extras.into_iter().flatten() {
            let used: usize = spans.iter().map(|s| s.width()).sum();
            if used + e.width() <= w {
                spans.push(e);
            }
        }
        lines.push(Line::from(spans));
    }
    if let Some((id, path)) = c.savepoints.last() {
        lines.push(Line::from(Span::styled(
            format!("  ⚑ savepoint #{id} {path}"),
            Style::default().fg(Color::LightMagenta),
        )));
    }
}

/// `512 B`, `12.3 KiB`, `4.0 MiB`.
pub fn fmt_bytes(n: u64) -> String {
    if n < 1024 {
        format!("{n} B")
    } else if n < 1024 * 1024 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0))
    }
}

fn vertex_line(app: &App, v: &VertexView, w: usize) -> Line<'static> {
    let p = v.subtasks.len().max(v.parallelism as usize);
    let count = |state| v.subtasks.iter().filter(|s| s.state == state).count();
    let running = count(ExecutionState::Running);
    let failed = count(ExecutionState::Failed);
    let finished = count(ExecutionState::Finished);
    let canceled = count(ExecutionState::Canceled);
    let (count, count_color) = if failed > 0 {
        (format!("✖{failed}/{p}"), Color::Red)
    } else if canceled > 0 {
        (format!("■{canceled}/{p}"), Color::Magenta)
    } else if finished == p && p > 0 {
        (format!("✓{finished}/{p}"), Color::DarkGray)
    } else {
        (
            format!("▶{running}/{p}"),
            if running == p {
                Color::Green
            } else {
                Color::Yellow
            },
        )
    };
    let rate = vertex_rate(app, v);
    let bp = vertex_backpressure(app, v);
    let recs_in: u64 = v.subtasks.iter().map(|s| s.counters.records_in).sum();
    let recs_out: u64 = v.subtasks.iter().map(|s| s.counters.records_out).sum();
    let mut right = vec![
        Span::raw(" "),
        Span::styled(count, Style::default().fg(count_color)),
    ];
    if w >= 60 {
        right.push(Span::styled(
            format!(
                " in {:>6} out {:>6}",
                fmt_count(recs_in),
                fmt_count(recs_out)
            ),
            Style::default().fg(Color::Gray),
        ));
    } else if w >= 40 {
        right.push(Span::styled(
            format!(" {:>6} out", fmt_count(recs_out)),
            Style::default().fg(Color::Gray),
        ));
    }
    if rate > 0 {
        right.push(Span::styled(
            format!(" {:>8}", fmt_rate(rate)),
            Style::default().fg(Color::White),
        ));
    }
    if bp > 0 || (w >= 60 && rate > 0) {
        right.push(Span::styled(
            format!(" bp {}%", bp / 10),
            Style::default().fg(backpressure_color(bp)),
        ));
    }
    let right_w: usize = right.iter().map(|s| s.width()).sum();
    let name_w = w.saturating_sub(right_w + 2);
    let mut name = if v.name.chars().count() <= name_w {
        v.name.clone()
    } else {
        short_chain(&v.name)
    };
    if name.chars().count() > name_w {
        name = name
            .chars()
            .take(name_w.saturating_sub(1))
            .collect::<String>()
            + "…";
    }
    let mut spans = vec![Span::styled(
        format!("  {name:<name_w$}"),
        Style::default().fg(Color::White),
    )];
    spans.extend(right);
    Line::from(spans)
}
