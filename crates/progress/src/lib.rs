//! Progress for long steps: an indicatif spinner with elapsed time on a terminal,
//! plain lines otherwise (CI logs, pipes), and nothing at all in `--json` mode.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// The spinner on screen now, if any: other lines are printed around it (see [`suspend`]).
static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Runs `print` with the spinner on screen (if any) taken off and redrawn afterwards, so that a
/// line printed meanwhile (a `-v` log line) never lands in the middle of the spinner's line.
pub fn suspend<R>(print: impl FnOnce() -> R) -> R {
    let active = ACTIVE.lock().map(|bar| bar.clone()).unwrap_or_default();
    match active {
        Some(bar) => bar.suspend(print),
        None => print(),
    }
}

/// stderr written around the spinner ([`suspend`]): the writer for log lines.
#[derive(Clone, Copy, Debug, Default)]
pub struct StderrAroundProgress;

impl Write for StderrAroundProgress {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        suspend(|| std::io::stderr().write(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// How a command reports its steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reporter {
    /// Spinners on stderr when it is a terminal, plain lines when it is not.
    Human,
    /// Nothing on stderr but errors: stdout carries machine-readable output.
    Quiet,
}

/// One long step ("Building handler crate", "Creating function"), shown while it runs.
pub struct Step {
    bar: Option<ProgressBar>,
    started: Instant,
    label: String,
    reporter: Reporter,
}

impl Reporter {
    pub fn step(self, label: impl Into<String>) -> Step {
        let label = label.into();
        let bar = match self {
            Reporter::Human if std::io::stderr().is_terminal() => {
                let bar = ProgressBar::new_spinner();
                bar.set_style(
                    ProgressStyle::with_template("  {spinner} {msg} {elapsed:.dim}")
                        .expect("static template"),
                );
                bar.set_message(label.clone());
                bar.enable_steady_tick(Duration::from_millis(100));
                if let Ok(mut active) = ACTIVE.lock() {
                    *active = Some(bar.clone());
                }
                Some(bar)
            }
            Reporter::Human => {
                eprintln!("  … {label}");
                None
            }
            Reporter::Quiet => None,
        };
        Step {
            bar,
            started: Instant::now(),
            label,
            reporter: self,
        }
    }

    /// A one-off line of information (not an error).
    pub fn info(self, line: impl AsRef<str>) {
        if self == Reporter::Human {
            suspend(|| eprintln!("  {}", line.as_ref()));
        }
    }
}

impl Step {
    /// Replace the label while the step runs ("Waiting for IAM role (attempt 3)").
    pub fn update(&self, label: impl Into<String>) {
        if let Some(bar) = &self.bar {
            bar.set_message(label.into());
        }
    }

    /// The step succeeded; `detail` says what it did ("created", "unchanged").
    pub fn done(self, detail: impl AsRef<str>) {
        self.finish('✓', detail.as_ref());
    }

    /// The step failed; the error itself is reported by the caller.
    pub fn failed(self) {
        self.finish('✗', "failed");
    }

    fn finish(self, mark: char, detail: &str) {
        let elapsed = format_duration(self.started.elapsed());
        let line = if detail.is_empty() {
            format!("  {mark} {} ({elapsed})", self.label)
        } else {
            format!("  {mark} {}: {detail} ({elapsed})", self.label)
        };
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
            if let Ok(mut active) = ACTIVE.lock() {
                active.take_if(|shown| shown.is_finished());
            }
        }
        if self.reporter == Reporter::Human {
            eprintln!("{line}");
        }
    }
}

/// `850ms`, `4.2s`, `1m05s`.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{}m{:02}s", ms / 60_000, (ms / 1000) % 60)
    }
}
