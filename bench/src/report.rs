//! One line per measure on stderr, and the results table in BENCHMARKS.md.

use std::path::Path;
use std::process::Command;

use crate::Config;

/// One measured row: what, the number, the budget, and whether it is met.
#[derive(Debug, Clone)]
pub struct Row {
    pub measure: &'static str,
    pub result: String,
    pub budget: &'static str,
    pub met: bool,
}

impl Row {
    /// Prints the one-line summary as soon as a measure finishes.
    pub fn new(measure: &'static str, result: String, budget: &'static str, met: bool) -> Self {
        let row = Self {
            measure,
            result,
            budget,
            met,
        };
        eprintln!(
            "bench: {:<22} {}  [budget {}: {}]",
            row.measure,
            row.result,
            row.budget,
            row.verdict()
        );
        row
    }

    fn verdict(&self) -> &'static str {
        if self.met { "met" } else { "MISSED" }
    }
}

const BEGIN: &str = "<!-- results:begin (written by cargo xtask bench) -->";
const END: &str = "<!-- results:end -->";

/// Replaces the text between the result markers; everything else in the file (the
/// hand-written notes and history) is kept.
pub fn write(path: &Path, config: &Config, rows: &[Row]) -> anyhow::Result<()> {
    let mut table = String::new();
    table.push_str(BEGIN);
    table.push('\n');
    table.push_str(&format!(
        "\nLatest full run: {} at commit `{}`.\n\nCommand: `{}`\n\nMachine: {}\n\n",
        today(),
        output("git", &["rev-parse", "--short", "HEAD"]),
        config.command_line,
        machine(),
    ));
    table.push_str("| Measure | Result | Budget | |\n|---|---|---|---|\n");
    for row in rows {
        table.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            row.measure,
            row.result,
            row.budget,
            row.verdict()
        ));
    }
    table.push('\n');
    table.push_str(END);

    let old = std::fs::read_to_string(path).unwrap_or_default();
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if b < e => format!("{}{table}{}", &old[..b], &old[e + END.len()..]),
        _ => format!("# Benchmarks\n\n{table}\n{old}"),
    };
    std::fs::write(path, new)?;
    Ok(())
}

fn today() -> String {
    output("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
}

/// CPU model, cores, memory, kernel and compiler: what the numbers depend on.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.trim().trim_end_matches(" kB").parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{model}, {cores} cores, {memory_gib:.0} GiB RAM, Linux {}, {}",
        kernel.trim(),
        output("rustc", &["--version"])
    )
}

fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}
