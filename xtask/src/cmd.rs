//! Running commands with the project's environment and readable failures.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub type Result<T = ()> = std::result::Result<T, String>;

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

pub fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
}

/// PATH with cargo-installed tools and the npm tools (wasm-opt, playwright) first.
pub fn path_env() -> std::ffi::OsString {
    let mut dirs = vec![
        cargo_home().join("bin"),
        root().join("end2end/node_modules/.bin"),
    ];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// A command in the workspace root with the project PATH.
pub fn command(program: &str) -> Command {
    let mut c = Command::new(program);
    c.current_dir(root()).env("PATH", path_env());
    c
}

/// The compiler flags of every build. `erase_components` makes Leptos type-erase
/// component props: the wasm is a fifth smaller and everything compiles faster. The
/// same flags everywhere, because a change of flags recompiles every crate.
pub const RUSTFLAGS: &str = "--cfg erase_components";

/// `cargo` with the environment of every build, debug and release, so all of
/// xtask's cargo commands (and a developer's `cargo leptos watch`) share build
/// artifacts instead of rebuilding each other's.
pub fn cargo_env() -> Command {
    let mut c = command("cargo");
    c.env("LEPTOS_OUTPUT_NAME", "baton")
        .env("RUSTFLAGS", RUSTFLAGS);
    c
}

/// Runs to completion with its output captured, shown only if it fails (for chatty
/// tools and steps run many times over).
pub fn run_quietly(what: &str, mut c: Command) -> Result {
    let out = c
        .output()
        .map_err(|e| format!("{what}: cannot start {:?}: {e}", c.get_program()))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// Runs to completion with inherited output; a non-zero exit is an error naming the step.
pub fn step(what: &str, mut c: Command) -> Result {
    eprintln!("\n==> {what}");
    let status = c
        .status()
        .map_err(|e| format!("{what}: cannot start {:?}: {e}", c.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

/// Downloads every crate `Cargo.lock` names into the local registry (for every
/// target, so the wasm crates too). Steps that run `--offline` need them there, and
/// on a new machine the registry is empty. Quick when they are already present.
pub fn fetch_crates() -> Result {
    let mut c = command("cargo");
    c.args(["fetch", "--locked"]);
    step(
        "download the crates Cargo.lock names (cargo fetch --locked; about a minute on a new machine)",
        c,
    )
    .map_err(|e| {
        format!(
            "{e}\n    check that crates.io is reachable, and that Cargo.lock is committed as is \
             (--locked refuses to change it)"
        )
    })
}

/// Test counts gathered from the runners' own summary lines.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub passed: u64,
    pub failed: u64,
}

impl Tally {
    /// Reads `test result: ok. 5 passed; 0 failed; …` (cargo test) and
    /// `  12 passed (3.1s)` / `  1 failed` (Playwright's list reporter).
    pub fn read_line(&mut self, line: &str) {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("test result: ") {
            for part in rest.split(['.', ';']) {
                match part.split_whitespace().collect::<Vec<_>>()[..] {
                    [n, "passed"] => self.passed += n.parse().unwrap_or(0),
                    [n, "failed"] => self.failed += n.parse().unwrap_or(0),
                    _ => {}
                }
            }
            return;
        }
        match line.split_whitespace().collect::<Vec<_>>()[..] {
            [n, "passed", ..] => self.passed += n.parse().unwrap_or(0),
            [n, "failed", ..] => self.failed += n.parse().unwrap_or(0),
            // node's test runner, in TAP (the Botpress integration's tests).
            ["#", "pass", n] => self.passed += n.parse().unwrap_or(0),
            ["#", "fail", n] => self.failed += n.parse().unwrap_or(0),
            _ => {}
        }
    }
}

/// Like [`step`], but echoes stdout while counting the tests it reports.
pub fn step_counted(what: &str, mut c: Command, tally: &mut Tally) -> Result {
    use std::io::{BufRead, BufReader, Write};
    eprintln!("\n==> {what}");
    let mut child = c
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{what}: cannot start {:?}: {e}", c.get_program()))?;
    if let Some(out) = child.stdout.take() {
        let mut stdout = std::io::stdout().lock();
        for line in BufReader::new(out)
            .lines()
            .map_while(std::result::Result::ok)
        {
            tally.read_line(&line);
            let _ = writeln!(stdout, "{line}");
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("{what}: cannot wait for {:?}: {e}", c.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

/// Runs quietly and returns trimmed stdout, or None if it could not run or failed.
pub fn output(c: &mut Command) -> Option<String> {
    let out = c.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

pub fn is_root() -> bool {
    output(Command::new("id").arg("-u")).as_deref() == Some("0")
}

#[cfg(test)]
mod tests {
    use super::Tally;

    #[test]
    fn tally_reads_cargo_playwright_and_node_summaries() {
        let mut t = Tally::default();
        for line in [
            "test result: ok. 16 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.18s",
            "test result: FAILED. 4 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out",
            "test result: ok. 0 passed; 0 failed; 0 ignored",
            "  1 failed",
            "    [chromium] › tests/home.spec.ts:39:1 › unknown pages",
            "  2 passed (3.1s)",
            "test db::tests::passed ... ok",
            "# pass 65",
            "# fail 0",
            "ok 3 - passed a check",
        ] {
            t.read_line(line);
        }
        assert_eq!(
            t,
            Tally {
                passed: 87,
                failed: 2
            }
        );
    }
}
