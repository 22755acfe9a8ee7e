//! TaskManagers and their task slots.
//!
//! Flink's unit of resource is the task slot: a TaskManager (a process)
//! offers a fixed number of them, the ResourceManager's SlotManager
//! allocates them to jobs, and a JobMaster deploys into one slot one
//! subtask of *each* operator chain of its job (slot sharing). So a slot
//! line reads `wordcount: Split->Pair 1/2, Sum->Sink 1/2`: two threads of
//! one job sharing one slot. A crashed TaskManager keeps showing what the
//! JobManager still believes runs there, struck through, until the
//! heartbeat timeout declares it lost.

use super::common::{job_color, panel, short_chain, state_color};
use crate::app::{App, secs};
use crate::cluster::{SlotState, SlotView, TaskManagerView, TmStatus};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use runtime::state::ExecutionState;

/// Rows the slot view would like: boxes (in as many columns as fit) and
/// three rows of explanation.
pub fn wanted_height(app: &App, width: u16) -> u16 {
    let tms = &app.view.taskmanagers;
    let n = tms.len().max(1);
    let max_slots = tms.iter().map(|t| t.slots.len()).max().unwrap_or(0).max(1) as u16;
    let ncols = ((width / 40).max(1) as usize).min(n);
    n.div_ceil(ncols) as u16 * (max_slots + 2) + 3
}

/// Draws every TaskManager with its slots, as boxes when they fit, else
/// as one line each plus the selected one in full.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let tms = &app.view.taskmanagers;
    if tms.is_empty() {
        let inner = panel(
            buf,
            area,
            Line::from(" TaskManagers "),
            Style::default().fg(Color::Gray),
        );
        let msg = if app.view.leader.is_some() || app.attached().is_some() {
            "no TaskManager has registered yet"
        } else {
            "the cluster is starting…"
        };
        buf.set_stringn(
            inner.x + 1,
            inner.y,
            msg,
            inner.width as usize,
            Style::default().fg(Color::DarkGray),
        );
        return;
    }
    let n = tms.len();
    let max_slots = tms.iter().map(|t| t.slots.len()).max().unwrap_or(0).max(1) as u16;
    let box_h = max_slots + 2;
    let ncols = ((area.width / 40).max(1) as usize).min(n);
    let rows = n.div_ceil(ncols) as u16;
    if rows * box_h <= area.height {
        let w = area.width / ncols as u16;
        for (i, tm) in tms.iter().enumerate() {
            let (r, c) = ((i / ncols) as u16, (i % ncols) as u16);
            let width = if c as usize == ncols - 1 {
                area.width - c * w
            } else {
                w
            };
            let rect = Rect::new(area.x + c * w, area.y + r * box_h, width, box_h);
            tm_box(app, tm, rect, buf);
        }
        let used = rows * box_h;
        if area.height >= used + 2 {
            let rest = Rect::new(area.x, area.y + used, area.width, area.height - used);
            explain_selected(app, rest, buf);
        }
        return;
    }
    compact(app, area, buf);
}

/// What is going on with the selected TaskManager, in words, with the
/// heartbeat timeout counting down after a crash.
fn explain_selected(app: &App, area: Rect, buf: &mut Buffer) {
    use ratatui::widgets::{Paragraph, Widget, Wrap};
    let Some(tm) = app
        .selected_tm
        .as_deref()
        .and_then(|n| app.view.taskmanager(n))
    else {
        return;
    };
    let now = app.shown_ms();
    let timeout = app.heartbeat_timeout_ms;
    let attached = app.attached().is_some();
    let name = Span::styled(
        tm.name.clone(),
        Style::default()
            .fg(Color::White)
            .add_modifier(Modifier::BOLD),
    );
    let text = |s: String| Span::styled(s, Style::default().fg(Color::Gray));
    let mut lines = Vec::new();
    match &tm.status {
        TmStatus::Crashed { at } => {
            let left = (at + timeout).saturating_sub(now);
            let done = now.saturating_sub(*at).min(timeout);
            let bar_w = (area.width as u64).saturating_sub(2).min(40);
            let filled = (done * bar_w).checked_div(timeout).unwrap_or(bar_w);
            lines.push(Line::from(vec![
                name,
                text(format!(
                    " crashed {:.1}s ago; the JobManager still counts on it. Heartbeat timeout: {:.1}s left.",
                    (now - at) as f64 / 1000.0,
                    left as f64 / 1000.0
                )),
            ]));
            lines.push(Line::from(vec![
                Span::styled("█".repeat(filled as usize), Style::default().fg(Color::Red)),
                Span::styled("░".repeat((bar_w - filled) as usize), Style::default().fg(Color::DarkGray)),
            ]));
        }
        TmStatus::Lost { at, .. } if attached => lines.push(Line::from(vec![
            name,
            text(format!(
                " is no longer listed by the JobManager (since {}): its slots are gone.",
                secs(*at)
            )),
        ])),
        TmStatus::Lost { at, .. } => lines.push(Line::from(vec![
            name,
            text(format!(
                " was declared lost at {}: slots released, its subtasks failed. r restarts it.",
                secs(*at)
            )),
        ])),
        TmStatus::Starting | TmStatus::Requested => lines.push(Line::from(vec![
            name,
            text(" is starting and will register at the ResourceManager with empty slots.".into()),
        ])),
        TmStatus::Released => lines.push(Line::from(vec![name, text(" was stopped: it stayed idle.".into())])),
        TmStatus::Registered if app.view.partitioned("jobmanager", &tm.name) => lines.push(Line::from(vec![
            name,
            text(format!(
                " is cut off from the JobManager: both run, but heartbeats are lost; after {} each gives up on the other. p repairs.",
                secs(timeout)
            )),
        ])),
        TmStatus::Registered => {
            let used = tm.slots.iter().filter(|s| s.state() != SlotState::Free).count();
            let keys = if attached {
                "Tab selects another."
            } else {
                "c crashes it, r restarts it, p cuts it off, Tab selects another."
            };
            lines.push(Line::from(vec![
                name,
                text(format!(": {} slots, {used} in use. {keys}", tm.slots.len())),
            ]));
        }
    }
    Paragraph::new(lines)
        .wrap(Wrap { trim: true })
        .render(area, buf);
}

fn compact(app: &App, area: Rect, buf: &mut Buffer) {
    let tms = &app.view.taskmanagers;
    let selected = app
        .selected_tm
        .as_deref()
        .and_then(|s| tms.iter().position(|t| t.name == s));
    let max_slots = tms.iter().map(|t| t.slots.len()).max().unwrap_or(1);
    let detail_h = (tms
        .get(selected.unwrap_or(0))
        .map_or(1, |t| t.slots.len().max(1))
        + 2) as u16;
    let show_detail = area.height >= detail_h + 4;
    let list_h = if show_detail {
        area.height - detail_h
    } else {
        area.height
    };
    let list = panel(
        buf,
        Rect::new(area.x, area.y, area.width, list_h),
        Line::from(format!(" {} TaskManagers × slots ", tms.len())),
        Style::default().fg(Color::Gray),
    );
    let col_w = (max_slots * 2 + 12) as u16;
    let ncols = (list.width / col_w).max(1) as usize;
    let per_col = list.height.max(1) as usize;
    let capacity = ncols * per_col;
    // Scroll so that the selected TaskManager is visible.
    let first = match selected {
        Some(s) if s >= capacity => (s + 1 - capacity).div_ceil(per_col) * per_col,
        _ => 0,
    };
    for (k, tm) in tms.iter().enumerate().skip(first).take(capacity) {
        let slot_k = k - first;
        let (c, r) = ((slot_k / per_col) as u16, (slot_k % per_col) as u16);
        let x = list.x + c * col_w;
        let mut spans = Vec::new();
        let is_sel = Some(k) == selected;
        let name_style = tm_style(app, tm).add_modifier(if is_sel {
            Modifier::REVERSED
        } else {
            Modifier::empty()
        });
        spans.push(Span::styled(
            format!("{:<9}", super::common::short_host(&tm.name)),
            name_style,
        ));
        spans.push(Span::raw(" "));
        for s in &tm.slots {
            spans.push(slot_cell(app, tm, s));
        }
        buf.set_line(
            x,
            list.y + r,
            &Line::from(spans),
            col_w.min(list.right() - x),
        );
    }
    if show_detail && let Some(tm) = selected.and_then(|s| tms.get(s)) {
        tm_box(
            app,
            tm,
            Rect::new(area.x, area.y + list_h, area.width, detail_h),
            buf,
        );
    }
}

fn slot_cell(app: &App, tm: &TaskManagerView, s: &SlotView) -> Span<'static> {
    let down = matches!(tm.status, TmStatus::Crashed { .. } | TmStatus::Lost { .. });
    let color = s
        .job
        .as_ref()
        .and_then(|j| app.view.job(*j))
        .map_or(Color::Gray, |j| job_color(j.color));
    let (sym, style) = match s.state() {
        SlotState::Free => ("░ ", Style::default().fg(Color::DarkGray)),
        SlotState::Allocated => ("▒ ", Style::default().fg(color)),
        SlotState::Running => ("█ ", Style::default().fg(color)),
    };
    if down && s.state() != SlotState::Free {
        return Span::styled("✖ ", Style::default().fg(Color::Red));
    }
    Span::styled(sym, style)
}

fn tm_style(app: &App, tm: &TaskManagerView) -> Style {
    let partitioned = app.view.partitioned("jobmanager", &tm.name);
    match &tm.status {
        TmStatus::Crashed { .. } => Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        TmStatus::Lost { .. } | TmStatus::Released => Style::default().fg(Color::DarkGray),
        TmStatus::Starting | TmStatus::Requested => Style::default().fg(Color::Cyan),
        TmStatus::Registered if partitioned => Style::default().fg(Color::Magenta),
        TmStatus::Registered => Style::default().fg(Color::Gray),
    }
}

/// The title tags of a TaskManager: what state it is in, in words.
fn tm_tags(app: &App, tm: &TaskManagerView, wide: bool) -> Vec<Span<'static>> {
    let mut tags = Vec::new();
    match &tm.status {
        TmStatus::Registered => {}
        TmStatus::Crashed { at } => {
            let text = if wide {
                format!(
                    " ✖ CRASHED · JM notices at {} ",
                    secs(at + app.heartbeat_timeout_ms)
                )
            } else {
                " ✖ CRASHED ".to_string()
            };
            tags.push(Span::styled(
                text,
                Style::default()
                    .fg(Color::White)
                    .bg(Color::Red)
                    .add_modifier(Modifier::BOLD),
            ));
        }
        TmStatus::Lost { at, .. } => {
            let text = if wide {
                format!(" LOST at {} ", secs(*at))
            } else {
                " LOST ".to_string()
            };
            tags.push(Span::styled(
                text,
                Style::default().fg(Color::Black).bg(Color::DarkGray),
            ));
        }
        other => tags.push(Span::styled(
            format!(" {} ", other.label()),
            Style::default().fg(Color::Black).bg(Color::Cyan),
        )),
    }
    if app.view.partitioned("jobmanager", &tm.name) {
        tags.push(Span::styled(
            " ✂ CUT OFF ",
            Style::default().fg(Color::White).bg(Color::Magenta),
        ));
    } else if tm.connection_lost_at.is_some() && matches!(tm.status, TmStatus::Registered) {
        tags.push(Span::styled(
            " conn lost ",
            Style::default().fg(Color::Black).bg(Color::Yellow),
        ));
    }
    tags
}

fn tm_box(app: &App, tm: &TaskManagerView, area: Rect, buf: &mut Buffer) {
    let selected = app.selected_tm.as_deref() == Some(tm.name.as_str());
    let mut border = tm_style(app, tm);
    if selected {
        border = border.add_modifier(Modifier::BOLD);
        if matches!(tm.status, TmStatus::Registered)
            && !app.view.partitioned("jobmanager", &tm.name)
        {
            border = border.fg(Color::Yellow);
        }
    }
    let mut title = vec![Span::styled(
        format!("{}{} ", if selected { "▶ " } else { " " }, tm.name),
        border,
    )];
    let name_w: usize = title.iter().map(|s| s.width()).sum();
    let wide: usize = tm_tags(app, tm, true).iter().map(|s| s.width()).sum();
    title.extend(tm_tags(app, tm, name_w + wide + 2 <= area.width as usize));
    let inner = panel(buf, area, Line::from(title), border);
    if tm.slots.is_empty() {
        let msg = match tm.status {
            TmStatus::Starting | TmStatus::Requested => "registering at the ResourceManager…",
            _ => "no slots",
        };
        buf.set_stringn(
            inner.x + 1,
            inner.y,
            msg,
            inner.width as usize,
            Style::default().fg(Color::DarkGray),
        );
        return;
    }
    for (i, s) in tm.slots.iter().enumerate().take(inner.height as usize) {
        let line = slot_line(app, tm, i, s, inner.width as usize);
        buf.set_line(inner.x, inner.y + i as u16, &line, inner.width);
    }
}

/// `0 ● wordcount: Split->Pair 1/2, Sum->Sink 1/2`, fitted to `width`.
pub fn slot_line(
    app: &App,
    tm: &TaskManagerView,
    i: usize,
    s: &SlotView,
    width: usize,
) -> Line<'static> {
    let crashed = matches!(tm.status, TmStatus::Crashed { .. });
    let lost = matches!(tm.status, TmStatus::Lost { .. } | TmStatus::Released);
    let fresh = s.changed_at > 0 && app.shown_ms().saturating_sub(s.changed_at) < 1_000;
    let (mark, mark_color) = match s.state() {
        SlotState::Free => ("○", Color::DarkGray),
        SlotState::Allocated => ("◐", Color::Yellow),
        SlotState::Running => ("●", Color::Green),
    };
    let mut mark_style = Style::default().fg(if crashed && s.state() != SlotState::Free {
        Color::Red
    } else {
        mark_color
    });
    if fresh {
        mark_style = mark_style.add_modifier(Modifier::REVERSED);
    }
    let head = vec![
        Span::styled(format!("{i}"), Style::default().fg(Color::DarkGray)),
        Span::raw(" "),
        Span::styled(mark, mark_style),
        Span::raw(" "),
    ];
    let job = s.job.as_ref().and_then(|j| app.view.job(*j));
    let Some(job) = job else {
        let mut spans = head;
        let text = if s.state() == SlotState::Free {
            if fresh {
                "free (just released)"
            } else {
                "free"
            }
        } else {
            "allocated"
        };
        spans.push(Span::styled(text, Style::default().fg(Color::DarkGray)));
        return Line::from(spans);
    };
    let jc = if lost {
        Color::DarkGray
    } else {
        job_color(job.color)
    };
    let extra = if crashed {
        Modifier::CROSSED_OUT
    } else {
        Modifier::empty()
    };
    // Narrow, the chains' names get shorter, then their states go, then
    // the job's name (its colour still says which job).
    let build = |short: bool, states: bool, named: bool| {
        let mut spans = head.clone();
        if named || s.tasks.is_empty() {
            spans.push(Span::styled(
                job.name.clone(),
                Style::default().fg(jc).add_modifier(Modifier::BOLD | extra),
            ));
        }
        if s.tasks.is_empty() {
            spans.push(Span::styled(
                " (allocated, no subtask yet)",
                Style::default().fg(Color::DarkGray),
            ));
        } else if named {
            spans.push(Span::styled(":", Style::default().fg(jc)));
        }
        for (k, t) in s.tasks.iter().enumerate() {
            if k > 0 {
                spans.push(Span::styled(",", Style::default().fg(Color::DarkGray)));
            }
            let lead = if k == 0 && !named { "" } else { " " };
            let name = if short {
                short_chain(&t.vertex)
            } else {
                t.vertex.clone()
            };
            let color = if lost {
                Color::DarkGray
            } else if crashed {
                Color::Red
            } else if t.state == ExecutionState::Running {
                jc
            } else {
                state_color(t.state)
            };
            let mut style = Style::default().fg(color).add_modifier(extra);
            if t.state == ExecutionState::Finished {
                style = style.add_modifier(Modifier::DIM);
            }
            spans.push(Span::styled(
                format!("{lead}{name} {}/{}", t.subtask + 1, t.parallelism),
                style,
            ));
            if states
                && !matches!(t.state, ExecutionState::Running | ExecutionState::Finished)
                && !crashed
            {
                spans.push(Span::styled(
                    format!(" {}", t.state),
                    Style::default().fg(state_color(t.state)),
                ));
            }
        }
        Line::from(spans)
    };
    [
        (false, true, true),
        (true, true, true),
        (true, false, true),
        (true, false, false),
    ]
    .into_iter()
    .map(|(short, states, named)| build(short, states, named))
    .find(|l| l.width() <= width)
    .unwrap_or_else(|| build(true, false, false))
}
