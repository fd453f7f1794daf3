//! `socket-bench instructions`: instructions per invocation from callgrind output files, a
//! machine-load-independent comparison of two Lambda binaries.
//!
//! `socket-bench runtime --wrapper "valgrind --tool=callgrind --callgrind-out-file=DIR/cg.%q{SOCKET_BENCH_INSTANCE}"`
//! leaves `cg.<label>-1` (the warm-up instance: start-up plus one invocation) and `cg.<label>-N`
//! (start-up plus N invocations); their difference over N − 1 is the cost of one invocation,
//! start-up excluded.

use std::path::Path;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstructionsReport {
    pub kind: String,
    pub labels: Vec<String>,
    pub invocations: usize,
    /// Per label: instructions of start-up + one invocation, and per further invocation.
    pub startup_and_first: Vec<u64>,
    pub per_invocation: Vec<f64>,
    /// First label ÷ second, per invocation.
    pub ratio: Option<f64>,
}

/// The `totals:` (or `summary:`) line of a callgrind output file.
pub fn total_instructions(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| {
            line.strip_prefix("totals:")
                .or_else(|| line.strip_prefix("summary:"))
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|count| count.parse().ok())
}

pub fn measure(
    dir: &Path,
    labels: &[String],
    invocations: usize,
) -> Result<InstructionsReport, String> {
    if invocations < 2 {
        return Err("--invocations must be at least 2".into());
    }
    let read = |name: String| -> Result<u64, String> {
        let path = dir.join(&name);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        total_instructions(&text).ok_or_else(|| format!("{} has no totals line", path.display()))
    };
    let mut startup_and_first = Vec::new();
    let mut per_invocation = Vec::new();
    for label in labels {
        let one = read(format!("cg.{label}-1"))?;
        let many = read(format!("cg.{label}-{invocations}"))?;
        startup_and_first.push(one);
        per_invocation.push(many.saturating_sub(one) as f64 / (invocations - 1) as f64);
    }
    let ratio = match per_invocation.as_slice() {
        [first, second, ..] => Some(first / second),
        _ => None,
    };
    Ok(InstructionsReport {
        kind: "instructions".into(),
        labels: labels.to_vec(),
        invocations,
        startup_and_first,
        per_invocation,
        ratio,
    })
}

impl InstructionsReport {
    pub fn print(&self) {
        for ((label, first), per) in self
            .labels
            .iter()
            .zip(&self.startup_and_first)
            .zip(&self.per_invocation)
        {
            println!("instructions {label}: {per:.0} per invocation; start-up + first invocation {first}");
        }
        if let Some(ratio) = self.ratio {
            println!(
                "  ratio {} / {}: {ratio:.3}×",
                self.labels[0], self.labels[1]
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_totals_line() {
        assert_eq!(
            total_instructions("events: Ir\nsummary: 1234\ntotals: 1234\n"),
            Some(1234)
        );
        assert_eq!(total_instructions("events: Ir\n"), None);
    }

    #[test]
    fn per_invocation_excludes_start_up() {
        let dir = std::env::temp_dir().join(format!("socket-bench-cg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, total) in [
            ("cg.a-1", 1_000),
            ("cg.a-11", 21_000),
            ("cg.b-1", 500),
            ("cg.b-11", 10_500),
        ] {
            std::fs::write(dir.join(name), format!("totals: {total}\n")).unwrap();
        }
        let report = measure(&dir, &["a".into(), "b".into()], 11).unwrap();
        assert_eq!(report.per_invocation, vec![2_000.0, 1_000.0]);
        assert_eq!(report.ratio, Some(2.0));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
