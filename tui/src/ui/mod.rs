//! Drawing: a pure function of [`App`] onto a ratatui [`Frame`].
//!
//! One header line (scenario, clock, pace, the JobManager leader), the
//! screen's body, one status line, and the help overlay on top. Each
//! screen shows one of Flink's pictures of a running cluster:
//!
//! | module | shows | Flink concept |
//! |---|---|---|
//! | [`slots`] | TaskManagers and their task slots | TaskExecutor, TaskSlotTable, slot sharing |
//! | [`jobs`] | jobs, vertices, metrics | JobMaster, ExecutionGraph, task metrics |
//! | [`log`] | the event stream, explained | everything observable is an event |
//! | [`dataflow`] | the condensed and the parallel dataflow | StreamGraph, JobGraph, ExecutionGraph |
//! | [`browse`] | the Jobs screen: jobs › vertices › subtasks, the breadcrumb | JobMaster, JobGraph, ExecutionVertex |
//! | [`checkpoints`] | each job's checkpoint history | CheckpointCoordinator, checkpoint stats |
//! | [`exceptions`] | each job's failures and restarts | exception history, restart strategy |
//! | [`prompt`] | the `:` command line and the `/` filter line | |
//! | [`help`] | keys and legend | |
//!
//! Nothing here changes state or looks at the clock: the same [`App`]
//! always draws the same cells, which is what the snapshot tests rely on.
//! The colours, number formats and the bordered panel every screen uses
//! are in [`common`], a leaf the screens import.

pub mod browse;
pub mod checkpoints;
pub mod common;
pub mod dataflow;
pub mod exceptions;
pub mod help;
pub mod jobs;
pub mod log;
pub mod prompt;
pub mod slots;

use crate::app::{App, Mode, Screen, secs, speed_label};
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

pub use common::{
    JOB_COLORS, backpressure_color, fmt_count, fmt_rate, job_color, panel, short_chain, short_host,
    state_color, wrap,
};

/// Draws the whole screen.
pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    render_to(app, area, frame.buffer_mut());
}

/// Draws the whole screen into a buffer (what [`render`] does, for benches).
pub fn render_to(app: &App, area: Rect, buf: &mut Buffer) {
    if area.width < 40 || area.height < 10 {
        buf.set_stringn(
            area.x,
            area.y,
            "mini-flink: the terminal is too small (80x24 or more)",
            area.width as usize,
            Style::default(),
        );
        return;
    }
    let [head, body, foot] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    header(app, head, buf);
    match app.screen {
        Screen::Cluster => cluster_screen(app, body, buf),
        Screen::Dataflow => dataflow::render(app, body, buf),
        Screen::Events => log::render_full(app, body, buf),
        Screen::Jobs => browse::render(app, body, buf),
        Screen::Checkpoints => checkpoints::render(app, body, buf),
        Screen::Exceptions => exceptions::render(app, body, buf),
    }
    if app.nav.prompt.is_some() {
        prompt::render(app, foot, buf);
    } else {
        footer(app, foot, buf);
    }
    if app.help {
        help::render(app, area, buf);
    }
}

fn cluster_screen(app: &App, area: Rect, buf: &mut Buffer) {
    let jobs_w = if area.width >= 110 {
        area.width * 2 / 5
    } else {
        area.width * 3 / 8
    };
    let slots_w = area.width - jobs_w;
    // The log gets what the slots and jobs do not need (at least 5 rows).
    let wanted = slots::wanted_height(app, slots_w).max(jobs::wanted_height(app, jobs_w));
    let min_log = if area.height >= 30 { 8 } else { 5 };
    let top_h = wanted.clamp(
        area.height.min(12),
        area.height.saturating_sub(min_log).max(6),
    );
    let [top, bottom] =
        Layout::vertical([Constraint::Length(top_h), Constraint::Fill(1)]).areas(area);
    let [left, right] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(jobs_w)]).areas(top);
    slots::render(app, left, buf);
    jobs::render(app, right, buf);
    log::render(app, bottom, buf);
}

fn header(app: &App, area: Rect, buf: &mut Buffer) {
    let base = Style::default().bg(Color::Blue).fg(Color::White);
    buf.set_style(area, base);
    let mut spans: Vec<Span> = vec![Span::styled(
        " mini-flink ",
        base.add_modifier(Modifier::BOLD),
    )];
    spans.push(Span::styled(format!("{} ", app.title), base));
    let (mode, mode_style) = if !app.at_present() && app.shown_ms() < app.now_ms {
        (
            "◀ PAST",
            base.bg(Color::Magenta).add_modifier(Modifier::BOLD),
        )
    } else if !app.at_present() {
        ("‖ STEP", base.bg(Color::Yellow).fg(Color::Black))
    } else if app.ended {
        ("■ ENDED", base.bg(Color::DarkGray))
    } else if app.paused {
        ("‖ PAUSED", base.bg(Color::Yellow).fg(Color::Black))
    } else {
        ("▶", base.bg(Color::Green).fg(Color::Black))
    };
    let source = match app.mode {
        Mode::Live => format!("LIVE {}", speed_label(app.speed)),
        Mode::Replay => format!("REPLAY {}", speed_label(app.speed)),
        Mode::Attached => "ATTACHED".to_string(),
    };
    spans.push(Span::styled(format!(" {mode} {source} "), mode_style));
    if app.attached().is_some_and(|a| a.stale.is_some()) {
        spans.push(Span::styled(
            " ✖ STALE ",
            base.bg(Color::Red).add_modifier(Modifier::BOLD),
        ));
    }
    spans.push(Span::styled(
        format!(" t={} ", secs(app.shown_ms())),
        base.add_modifier(Modifier::BOLD),
    ));
    if !app.at_present() {
        spans.push(Span::styled(
            format!("event {}/{} ", app.cursor, app.available()),
            base,
        ));
    }
    let v = &app.view;
    let leader = match (&v.leader, app.attached()) {
        (_, Some(a)) => Span::styled(
            format!(
                " {}polled {}s ago, every {} ",
                match &a.stream {
                    Some(Ok(())) => "events streamed, ",
                    Some(Err(_)) => "event stream lost, ",
                    None => "",
                },
                app.now_ms.saturating_sub(a.last_poll_ms) / 1000,
                secs(a.refresh_ms())
            ),
            base,
        ),
        (l, None) => match l {
            Some(l) if v.elections > 1 => Span::styled(
                format!(" leader {l} (elected {}x) ", v.elections),
                base.fg(Color::LightYellow),
            ),
            Some(l) => Span::styled(format!(" leader {l} "), base),
            None if v.elections > 0 => Span::styled(
                " NO LEADER ",
                base.bg(Color::Red).add_modifier(Modifier::BOLD),
            ),
            None => Span::styled(" no JobManager yet ", base),
        },
    };
    spans.push(leader);
    let tabs = [
        ("1", "Cluster", Screen::Cluster),
        ("2", "Dataflow", Screen::Dataflow),
        ("3", "Events", Screen::Events),
    ];
    let tab_w: usize = tabs.iter().map(|(k, n, _)| k.len() + n.len() + 2).sum();
    let seed = match app.mode {
        Mode::Attached => String::new(),
        _ => format!("seed {} ", app.seed),
    };
    let used: usize = spans.iter().map(|s| s.width()).sum::<usize>() + seed.len();
    if used + tab_w <= area.width as usize {
        spans.push(Span::styled(seed, base.fg(Color::Gray)));
        spans.push(Span::styled(
            " ".repeat(area.width as usize - used - tab_w),
            base,
        ));
        for (k, name, s) in tabs {
            let st = if app.screen == s {
                base.bg(Color::White)
                    .fg(Color::Blue)
                    .add_modifier(Modifier::BOLD)
            } else {
                base
            };
            spans.push(Span::styled(format!("{k} {name}"), st));
            spans.push(Span::styled(" ", base));
        }
    }
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}

fn footer(app: &App, area: Rect, buf: &mut Buffer) {
    if let Some(msg) = &app.status {
        let line = Line::from(vec![
            Span::raw(" "),
            Span::styled(msg.clone(), Style::default().fg(Color::Yellow).bold()),
        ]);
        buf.set_line(area.x, area.y, &line, area.width);
        return;
    }
    if let Some(a) = app.attached()
        && let Some(err) = &a.stale
    {
        let line = Line::from(vec![
            Span::styled(
                " STALE ",
                Style::default().fg(Color::White).bg(Color::Red).bold(),
            ),
            Span::styled(
                format!(
                    " showing the poll of t={}; retrying every {}: {err}",
                    secs(a.last_poll_ms),
                    secs(a.refresh_ms())
                ),
                Style::default().fg(Color::Red),
            ),
        ]);
        buf.set_line(area.x, area.y, &line, area.width);
        return;
    }
    let keys: &[(&str, &str)] = match app.mode {
        Mode::Live => &[
            ("Tab", "TM"),
            ("c", "crash"),
            ("r", "restart"),
            ("p", "partition"),
            ("x", "cancel"),
            ("␣", "pause"),
            ("←→", "step"),
            (":", "cmd"),
            ("/", "filter"),
            ("v", "graph"),
            ("?", "help"),
            ("q", "quit"),
        ],
        Mode::Attached => &[
            ("Tab", "TM"),
            ("o", "job"),
            ("x", "cancel"),
            ("s", "savepoint"),
            ("S", "stop"),
            ("C", "checkpoint"),
            (":", "cmd"),
            ("/", "filter"),
            ("v", "graph"),
            ("?", "help"),
            ("q", "quit"),
        ],
        Mode::Replay => &[
            ("␣", "play/pause"),
            ("←→", "step"),
            ("Home/End", "start/end"),
            ("+-", "pace"),
            ("Tab", "TM"),
            (":", "cmd"),
            ("/", "filter"),
            ("v", "graph"),
            ("?", "help"),
            ("q", "quit"),
        ],
    };
    let mut spans = Vec::new();
    for (k, what) in keys {
        spans.push(Span::styled(
            format!(" {k}"),
            Style::default().fg(Color::Black).bg(Color::Gray),
        ));
        spans.push(Span::styled(
            format!(" {what}"),
            Style::default().fg(Color::Gray),
        ));
    }
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}
