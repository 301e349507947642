//! `cargo xtask bench [--quick]`: builds Baton and the load generators in release mode,
//! then runs the benchmark suite. A full run writes its results into BENCHMARKS.md;
//! `--quick` (a few seconds per measure) only proves the suite still works. The
//! PostgreSQL measures get a throwaway cluster, as the tests do.

use crate::cmd::{Result, command, root, step};
use crate::setup::{self, Needs};

pub fn run(args: &[String]) -> Result {
    let quick = match args {
        [] => false,
        [flag] if flag == "--quick" => true,
        _ => return Err(format!("usage: cargo xtask bench [--quick]; got {args:?}")),
    };
    setup::run(Needs::Run)?;
    // The PostgreSQL measures run on a throwaway cluster of Debian's server.
    setup::ensure_postgres()?;
    release_build()?;
    suite(quick)
}

/// The release server, the site and the load generators.
pub fn release_build() -> Result {
    crate::site::release()
}

/// Runs the already built suite, with a throwaway PostgreSQL cluster for the
/// PostgreSQL measures.
pub fn suite(quick: bool) -> Result {
    let cluster = crate::postgres::Cluster::start()?;
    let mut bench = command(&root().join("target/release/baton-bench").to_string_lossy());
    bench.env("BENCH_POSTGRES_URL", &cluster.url);
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
