//! `cargo xtask bench [--quick]`: builds Baton and the load generators in release mode,
//! then runs the benchmark suite. A full run writes its results into BENCHMARKS.md;
//! `--quick` (a few seconds per measure) only proves the suite still works. The
//! PostgreSQL measures get a throwaway cluster, as the tests do.

use crate::cmd::{Result, cargo_leptos_env, command, root, step};
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

/// The release site and the load generators. They share one `RUSTFLAGS` so the
/// second build reuses the first one's dependencies instead of rebuilding them.
pub fn release_build() -> Result {
    release_site()?;
    let mut c = cargo_leptos_env();
    c.args(["build", "--release", "-p", "bench"]);
    step(
        "build the load generators (cargo build --release -p bench)",
        c,
    )
}

/// The release server and site, with precompressed assets, as `cargo xtask run` and
/// the end-to-end tests serve them.
///
/// Release builds use the same `--cfg erase_components` as the debug builds the tests
/// run: the wasm is then a fifth smaller (421 KB instead of 544 KB brotli at the
/// three-pane workspace), because component props are no longer monomorphised per
/// call site, and the release site runs the code the tests checked.
pub fn release_site() -> Result {
    let mut c = cargo_leptos_env();
    c.args(["leptos", "build", "--release", "--precompress", "--split"]);
    step(
        "release build (cargo leptos build --release --precompress --split; about 15 min the first \
         time, optimising the server and the wasm)",
        c,
    )
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
