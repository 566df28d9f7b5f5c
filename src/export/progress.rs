//! Progress of `export` on stderr, only when stderr is a terminal (one line, rewritten).

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Writes progress to stderr when it is a terminal; otherwise does nothing.
pub struct Progress {
    enabled: bool,
    /// When the line was last written (counts are drawn at most every 100 ms).
    last: Mutex<Option<Instant>>,
}

impl Progress {
    /// Enabled when stderr is a terminal.
    pub fn for_stderr() -> Self {
        Self::new(std::io::stderr().is_terminal())
    }

    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            last: Mutex::new(None),
        }
    }

    fn draw(&self, line: &str, force: bool) {
        if !self.enabled {
            return;
        }
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if !force && last.is_some_and(|t| now.duration_since(t) < Duration::from_millis(100)) {
            return;
        }
        *last = Some(now);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2Kreading {line}");
        let _ = err.flush();
    }

    /// A new step, e.g. `groups`.
    pub fn step(&self, what: &str) {
        self.draw(what, true);
    }

    /// `done` of `total` items of a step.
    pub fn count(&self, what: &str, done: usize, total: usize) {
        self.draw(&format!("{what}: {done}/{total}"), done == total);
    }

    /// Clear the line.
    pub fn done(&self) {
        if self.enabled {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}
