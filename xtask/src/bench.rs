//! `cargo xtask bench [--quick]`: builds Baton and the load generators in release mode,
//! then runs the benchmark suite. A full run writes its results into BENCHMARKS.md;
//! `--quick` (a few seconds per measure) only proves the suite still works.

use crate::cmd::{Result, command, root, step};
use crate::setup::{self, Needs};

pub fn run(args: &[String]) -> Result {
    let quick = match args {
        [] => false,
        [flag] if flag == "--quick" => true,
        _ => return Err(format!("usage: cargo xtask bench [--quick]; got {args:?}")),
    };
    setup::run(Needs::Run)?;
    release_site()?;
    let mut build = command("cargo");
    build.args(["build", "--release", "-p", "bench"]);
    step(
        "build the load generators (cargo build --release -p bench)",
        build,
    )?;
    suite(quick)
}

/// The release server and site, with precompressed assets, as `cargo xtask run` and
/// the end-to-end tests serve them.
pub fn release_site() -> Result {
    let mut c = command("cargo");
    c.args(["leptos", "build", "--release", "--precompress"]);
    step(
        "release build (cargo leptos build --release --precompress; about 15 min the first \
         time, optimising the server and the wasm)",
        c,
    )
}

/// Runs the already built suite.
pub fn suite(quick: bool) -> Result {
    let mut bench = command(&root().join("target/release/baton-bench").to_string_lossy());
    bench
        .args([
            "--baton",
            "target/release/baton",
            "--site-root",
            "target/site",
        ])
        .args(["--command-line", "cargo xtask bench"]);
    if quick {
        bench.arg("--quick");
    } else {
        bench.args(["--report", "BENCHMARKS.md"]);
    }
    let what = if quick {
        "benchmark smoke run (baton-bench --quick)"
    } else {
        "benchmarks (baton-bench), results into BENCHMARKS.md"
    };
    step(what, bench)
}
