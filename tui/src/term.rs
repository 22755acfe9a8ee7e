//! The terminal loop: draw, read keys, advance virtual time.
//!
//! Generic over ratatui's [`Backend`] so that the same loop drives a real
//! terminal (crossterm) and a [`ratatui::backend::TestBackend`] with
//! scripted keys. Wall-clock time only sets the pace here; the cluster
//! itself lives in virtual time.

use crate::app::App;
use crate::ui;
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::crossterm::event::{self, Event as TermEvent, KeyEvent};
use std::time::{Duration, Instant};

/// One frame every this long (about 60 per second).
pub const FRAME: Duration = Duration::from_millis(16);

/// Where keys come from.
pub trait Input {
    /// The next key, waiting at most `timeout`.
    fn next_key(&mut self, timeout: Duration) -> std::io::Result<Option<KeyEvent>>;
}

/// Keys from the terminal, through crossterm.
#[derive(Debug, Default)]
pub struct CrosstermInput;

impl Input for CrosstermInput {
    fn next_key(&mut self, timeout: Duration) -> std::io::Result<Option<KeyEvent>> {
        if event::poll(timeout)? {
            match event::read()? {
                TermEvent::Key(k) => return Ok(Some(k)),
                _ => return Ok(None),
            }
        }
        Ok(None)
    }
}

/// Keys from a script (tests); end it with `q`.
#[derive(Debug, Default)]
pub struct ScriptedInput {
    /// Keys still to come, first first.
    pub keys: std::collections::VecDeque<KeyEvent>,
}

impl Input for ScriptedInput {
    fn next_key(&mut self, timeout: Duration) -> std::io::Result<Option<KeyEvent>> {
        let k = self.keys.pop_front();
        if k.is_none() {
            std::thread::sleep(timeout);
        }
        Ok(k)
    }
}

/// Runs the UI until the user quits (or, for scripted input, the keys run out).
pub fn run<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    input: &mut impl Input,
) -> anyhow::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let mut last = Instant::now();
    while !app.quit {
        terminal.draw(|f| ui::render(app, f))?;
        let deadline = last + FRAME;
        // Read every key that arrives before the next frame is due.
        loop {
            let timeout = deadline.saturating_duration_since(Instant::now());
            match input.next_key(timeout)? {
                Some(k) => {
                    app.key(k);
                    if app.quit {
                        return Ok(());
                    }
                    terminal.draw(|f| ui::render(app, f))?;
                }
                None if Instant::now() >= deadline => break,
                None => {}
            }
        }
        let now = Instant::now();
        let wall = now.duration_since(last).as_secs_f64() * 1000.0;
        last = now;
        app.tick(wall);
    }
    Ok(())
}
