//! What the emulator prints while it runs: one whole line at a time on stdout, each tagged with
//! where it comes from (`[worker 2 message L0SM9cOFvHcCIhw=]`, `[gateway]`), so the output of
//! concurrent workers and connections never interleaves mid-line.

use std::io::Write;

/// Prints `[prefix] text`.
pub fn line(prefix: &str, text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "[{prefix}] {text}");
    let _ = stdout.flush();
}

/// Prints `text` as it is.
pub fn plain(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}");
    let _ = stdout.flush();
}
