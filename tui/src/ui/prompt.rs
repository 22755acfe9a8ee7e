//! The line at the bottom while `:` or `/` is open: the command typed and
//! the commands it could still become (k9s-like), or the filter typed and
//! how many events and jobs pass it.

use crate::app::App;
use crate::cluster::is_noise;
use crate::nav::{Prompt, candidates};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

/// Draws the open prompt over the status line.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let key = Style::default()
        .fg(Color::Black)
        .bg(Color::Cyan)
        .add_modifier(Modifier::BOLD);
    let typed = Style::default()
        .fg(Color::White)
        .add_modifier(Modifier::BOLD);
    let dim = Style::default().fg(Color::DarkGray);
    let spans = match &app.nav.prompt {
        Some(Prompt::Command(line)) => {
            let all = candidates(&line.trim().to_lowercase());
            let hint = if all.is_empty() {
                "  no such command".to_string()
            } else {
                format!(
                    "  {}  (Tab completes, Enter runs, Esc closes)",
                    all.join(" ")
                )
            };
            vec![
                Span::styled(" : ", key),
                Span::styled(format!("{line}▏"), typed),
                Span::styled(hint, dim),
            ]
        }
        Some(Prompt::Filter) => {
            let events = (0..app.cursor)
                .filter(|&i| !is_noise(&app.events[i]) && app.nav.matches(&app.event_text(i)))
                .count();
            vec![
                Span::styled(" / ", key),
                Span::styled(format!("{}▏", app.nav.filter), typed),
                Span::styled(
                    format!(
                        "  {events} events, {} jobs  (Enter keeps, Esc clears)",
                        app.visible_jobs().len()
                    ),
                    dim,
                ),
            ]
        }
        None => Vec::new(),
    };
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}
