//! The help overlay: the keys, and how to read the pictures.

use super::common::panel;
use crate::app::{App, Mode};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Widget};

const KEYS: &[(&str, &str)] = &[
    ("space", "pause / resume virtual time"),
    (". n →", "step to the next event"),
    (", b ←", "step back an event (time travel)"),
    ("Home End", "first event / back to now"),
    ("+ -", "faster / slower"),
    ("Tab ↑↓ j k", "select a TaskManager"),
    ("c  r", "crash / restart the selected TaskManager"),
    ("p", "cut it off from the JobManager (again: repair)"),
    ("o J", "select the next job"),
    (
        "x  s  S",
        "cancel the job / savepoint / stop with savepoint",
    ),
    ("C", "trigger a checkpoint now (attached to a cluster)"),
    ("1 2 3", "cluster / dataflow / events screen"),
    (":", ":jobs :tm :dataflow :events :checkpoints :exceptions"),
    ("/", "filter the log and the jobs (Enter keeps, Esc clears)"),
    (
        "Enter Esc",
        "jobs: into a job › vertex › subtask / back one level",
    ),
    ("v", "dataflow: condensed ↔ parallel"),
    ("? h  q", "this help / quit (Ctrl-C too; Esc never quits)"),
];

/// Draws the help in the middle of `area`.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let w = area.width.saturating_sub(4).min(72);
    let h = area.height.saturating_sub(2).min(KEYS.len() as u16 + 5);
    let rect = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    Clear.render(rect, buf);
    let inner = panel(
        buf,
        rect,
        Line::from(Span::styled(
            " Help: ? or Esc closes ",
            Style::default().add_modifier(Modifier::BOLD),
        )),
        Style::default().fg(Color::Yellow),
    );
    let mut lines: Vec<Line> = Vec::new();
    let intro = match app.mode {
        Mode::Live => "A Flink cluster runs in the simulator, in virtual time. Break it.",
        Mode::Replay => "A recorded run plays back; step both ways through its events.",
        Mode::Attached => {
            "Attached to a real cluster's REST API. x s S C ask first (y); c r p: simulator only."
        }
    };
    lines.push(Line::from(Span::styled(
        intro,
        Style::default().fg(Color::White),
    )));
    for (k, what) in KEYS {
        lines.push(Line::from(vec![
            Span::styled(
                format!(" {k:<11}"),
                Style::default()
                    .fg(Color::Yellow)
                    .add_modifier(Modifier::BOLD),
            ),
            Span::styled(*what, Style::default().fg(Color::Gray)),
        ]));
    }
    lines.push(Line::from(vec![
        Span::styled(" slots ", Style::default().fg(Color::White)),
        Span::styled("●", Style::default().fg(Color::Green)),
        Span::raw(" running "),
        Span::styled("◐", Style::default().fg(Color::Yellow)),
        Span::raw(" allocated "),
        Span::styled("○", Style::default().fg(Color::DarkGray)),
        Span::raw(" free  "),
        Span::styled("✖ CRASHED", Style::default().fg(Color::Red)),
        Span::raw(" JM unaware  "),
        Span::styled("LOST", Style::default().fg(Color::DarkGray)),
    ]));
    lines.push(Line::from(vec![
        Span::styled(" edges ", Style::default().fg(Color::White)),
        Span::raw("back-pressure "),
        Span::styled("<10%", Style::default().fg(Color::Green)),
        Span::raw(" "),
        Span::styled("<50%", Style::default().fg(Color::Yellow)),
        Span::raw(" "),
        Span::styled("more", Style::default().fg(Color::Red)),
        Span::raw("; ═ chained (one task)"),
    ]));
    for (k, line) in lines.iter().take(inner.height as usize).enumerate() {
        buf.set_line(
            inner.x + 1,
            inner.y + k as u16,
            line,
            inner.width.saturating_sub(1),
        );
    }
}
