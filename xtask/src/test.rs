//! `cargo xtask test`: every check and test, in order of cost, stopping at the first
//! failure. CI runs exactly this.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::bench;
use crate::cmd::{Result, Tally, cargo_leptos_env, command, root, step, step_counted};
use crate::postgres;
use crate::setup::{self, Needs};

const STEPS: &[&str] = &[
    "fmt", "deny", "fresh", "clippy", "unit", "sqlx", "build", "botpress", "e2e", "bench",
];

/// Steps that read crates from the local registry without the network. The `fresh`
/// step runs them from an empty cargo home, as on a new machine, because a warm
/// machine hides a missing download (it did once: `cargo deny --offline` failed on
/// every new machine while CI stayed green).
const OFFLINE_STEPS: &[&str] = &["deny"];

/// Set for the `cargo xtask test` that `fresh` starts, so it prints no second tally.
const NESTED: &str = "BATON_XTASK_NESTED";

/// Host crates, each named so features are never unified across the workspace.
const HOST_PACKAGES: &[&str] = &[
    "-p",
    "app",
    "--features",
    "app/ssr",
    "-p",
    "backend",
    "-p",
    "baton",
    "-p",
    "bench",
    "-p",
    "protocol",
    "-p",
    "store",
    "-p",
    "store-postgres",
    "-p",
    "store-sqlite",
    "-p",
    "xtask",
];

pub fn run(args: &[String]) -> Result {
    let selected: Vec<&str> = if args.is_empty() {
        STEPS.to_vec()
    } else {
        for a in args {
            if !STEPS.contains(&a.as_str()) {
                return Err(format!(
                    "unknown step {a:?}; steps are: {}",
                    STEPS.join(" ")
                ));
            }
        }
        STEPS
            .iter()
            .copied()
            .filter(|s| args.iter().any(|a| a == s))
            .collect()
    };
    setup::run(Needs::Test)?;
    eprintln!(
        "\n==> steps: {} (stops at the first failure; a first run on a new machine \
         takes about 45 minutes, most of it compiling; later runs reuse target/)",
        selected.join(" ")
    );

    let mut timings = Vec::new();
    let mut tally = Tally::default();
    let mut outcome = Ok(());
    for name in selected {
        let started = Instant::now();
        let result = match name {
            "fmt" => fmt(),
            "deny" => crate::audit::policy(),
            "fresh" => fresh_machine(),
            "clippy" => clippy(),
            "unit" => unit(&mut tally),
            "sqlx" => sqlx_check(),
            "build" => bench::release_build(),
            "botpress" => crate::integration::run(&mut tally),
            "e2e" => end_to_end(&mut tally),
            // Proves the benchmarks still run; timing is not a test, so no budget is checked.
            "bench" => bench::suite(true),
            _ => unreachable_step(name),
        };
        timings.push((name, started.elapsed()));
        if let Err(e) = result {
            outcome = Err(format!("{e}\n    next: {}", next_step(name)));
            break;
        }
    }
    eprintln!();
    for (name, took) in timings {
        eprintln!("    {name:<7} {:>6.1} s", took.as_secs_f64());
    }
    if std::env::var_os(NESTED).is_none() {
        // One plain closing line for people and CI, summing every runner's counts.
        println!("tests: {} passed, {} failed", tally.passed, tally.failed);
    }
    outcome
}

/// What to do when a step fails, for someone who has never run it before.
fn next_step(name: &str) -> &'static str {
    match name {
        "fmt" => "run `cargo fmt --all`, then `cargo xtask test` again",
        "deny" => {
            "read cargo deny's message above: a refused licence, source or duplicate means \
             changing the dependency or deny.toml (with a reason); \"failed to download\" \
             means crates.io could not be reached to fetch the crates first"
        }
        "fresh" => {
            "an offline step needs something that only a warm machine has: fetch it \
             before the step runs (see OFFLINE_STEPS in xtask/src/test.rs)"
        }
        "clippy" => "fix the warnings above; `cargo xtask test clippy` checks again",
        "unit" => {
            "the failing test is named above; rerun it alone with \
             `cargo test -p baton --test api NAME` (add TEST_LOG=1 for the server's log)"
        }
        "sqlx" => "run `cargo xtask prepare` and commit the .sqlx folders",
        "build" => "read the compiler's message above; `cargo xtask test build` retries",
        "botpress" => {
            "the failing test is named above; in botpress-integration/, `npm test` reruns the \
             unit tests and `BATON_BIN=../target/release/baton E2E_VERBOSE=1 npm run test:e2e` \
             the end-to-end ones with Baton's log"
        }
        "e2e" => {
            "the server log is in target/e2e/baton.log and Playwright's traces in \
             end2end/test-results; `cargo xtask test e2e` reruns only this step"
        }
        "bench" => "run `cargo xtask bench --quick` to see the failing measure",
        _ => "read the message above",
    }
}

/// Runs the offline steps again from an empty cargo home (a throwaway `CARGO_HOME`
/// under target/), with the installed tools still on `PATH`: exactly what a new
/// machine has after setup. Fails if an offline step runs before its crates are
/// downloaded.
fn fresh_machine() -> Result {
    let home = root().join("target/fresh-cargo-home");
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).map_err(|e| format!("cannot create {}: {e}", home.display()))?;
    let mut c = command("cargo");
    // `command` already put the real cargo home's bin (the tools) on PATH.
    c.args(["xtask", "test"])
        .args(OFFLINE_STEPS)
        .env("CARGO_HOME", &home)
        .env(NESTED, "1");
    let result = step(
        &format!(
            "{} from an empty cargo registry, as on a new machine (downloads every crate \
             again: about a minute)",
            OFFLINE_STEPS.join(" ")
        ),
        c,
    );
    // About 300 MB of crates; the next run starts empty again anyway.
    let _ = std::fs::remove_dir_all(&home);
    result
}

fn unreachable_step(name: &str) -> Result {
    Err(format!("step {name} has no implementation"))
}

fn fmt() -> Result {
    let mut c = command("cargo");
    c.args(["fmt", "--all", "--check"]);
    step("cargo fmt --check", c)
}

fn clippy() -> Result {
    let mut wasm = cargo_leptos_env();
    wasm.args([
        "clippy",
        "-p",
        "frontend",
        "-p",
        "app",
        "--features",
        "app/hydrate",
    ])
    .args(["--target", "wasm32-unknown-unknown", "--", "-D", "warnings"]);
    step(
        "clippy (wasm: frontend, app/hydrate; first run about 4 min)",
        wasm,
    )?;
    let mut host = cargo_leptos_env();
    host.arg("clippy")
        .args(HOST_PACKAGES)
        .args(["--all-targets", "--", "-D", "warnings"]);
    step(
        "clippy (host: app/ssr, backend, baton, bench, protocol, xtask; first run about 5 min)",
        host,
    )
}

fn unit(tally: &mut Tally) -> Result {
    // Dropped when the step ends, which stops the server and removes its files.
    let cluster = postgres::Cluster::start()?;
    let mut c = cargo_leptos_env();
    c.arg("test")
        .args(HOST_PACKAGES)
        .env(postgres::URL_VAR, &cluster.url);
    step_counted(
        "unit and integration tests (compiling takes about 7 min the first time; the fuzz \
         and fault tests then run for about 4 min)",
        c,
        tally,
    )?;
    // The same API and Botpress tests on PostgreSQL: the binary is built already.
    let list = root().join("server/tests/api/sqlite_only.txt");
    let sqlite_only = std::fs::read_to_string(&list)
        .map_err(|e| format!("cannot read {}: {e}", list.display()))?;
    let mut pg = cargo_leptos_env();
    pg.args(["test", "-p", "baton", "--test", "api", "--", "--exact"]);
    for name in sqlite_only
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        pg.args(["--skip", name]);
    }
    pg.env(postgres::URL_VAR, &cluster.url)
        .env("BATON_TEST_ENGINE", "postgres");
    step_counted(
        "the API and Botpress tests again, on PostgreSQL (about 8 min, the fuzz tests most of \
         it; those in server/tests/api/sqlite_only.txt run on SQLite only)",
        pg,
        tally,
    )
}

/// A throwaway database with every migration applied, for sqlx's compile-time checks.
fn prepare_database() -> Result<String> {
    let dir = root().join("target/sqlx");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let file = dir.join("prepare.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    let url = format!("sqlite://{}", file.display());
    let mut c = command("cargo");
    c.args(["sqlx", "database", "setup", "--source", "migrations/sqlite"])
        .env("DATABASE_URL", &url);
    step("create the sqlx check database", c)?;
    Ok(url)
}

/// The crates with checked queries, and whether each is checked against PostgreSQL
/// (else SQLite). sqlx's macros check a crate against one `DATABASE_URL`, so each engine's
/// queries live in a crate of their own, and `backend` (which depends on both) has none.
const CHECKED: [(&str, bool); 2] = [("store-sqlite", false), ("store-postgres", true)];

/// Runs `cargo sqlx prepare` (or `--check`) in every crate with checked queries, each
/// against a throwaway database of its engine with every migration applied.
fn sqlx_prepare(check: bool) -> Result {
    let sqlite = prepare_database()?;
    let cluster = postgres::Cluster::start()?;
    let postgres = cluster.database_url("baton_prepare");
    let mut setup = command("cargo");
    setup
        .args([
            "sqlx",
            "database",
            "setup",
            "--source",
            "migrations/postgres",
        ])
        .env("DATABASE_URL", &postgres);
    step("create the sqlx check database (PostgreSQL)", setup)?;
    for (krate, on_postgres) in CHECKED {
        let mut c = cargo_leptos_env();
        c.current_dir(root().join(krate)).args(["sqlx", "prepare"]);
        if check {
            c.arg("--check");
        }
        c.args(["--", "--all-targets"]).env(
            "DATABASE_URL",
            if on_postgres { &postgres } else { &sqlite },
        );
        let what = if check {
            format!("sqlx offline data is up to date ({krate}/.sqlx)")
        } else {
            format!("regenerate sqlx offline data ({krate}/.sqlx)")
        };
        step(&what, c)?;
    }
    Ok(())
}

/// What to do when it fails is `next_step`'s hint for `sqlx`.
fn sqlx_check() -> Result {
    sqlx_prepare(true)
}

/// `cargo xtask prepare`: regenerate the offline query data after changing a query.
pub fn prepare() -> Result {
    setup::run(Needs::Test)?;
    sqlx_prepare(false)
}

/// Runs the Playwright suite in headless Chromium against the release binary: all of
/// it on a fresh SQLite file, then all of it again against two replicas on one
/// PostgreSQL database, agents and Botpress spread over both.
fn end_to_end(tally: &mut Tally) -> Result {
    let binary = root().join("target/release/baton");
    if !binary.is_file() {
        bench::release_build()?;
    }
    let data = root().join("target/e2e");
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).map_err(|e| format!("cannot create {}: {e}", data.display()))?;

    let sqlite = format!("sqlite://{}", data.join("baton.db").display());
    let server = E2eServer::start(&binary, &sqlite, &data, "baton")?;
    let mut on_sqlite = playwright(&binary, &sqlite, &server.url);
    on_sqlite.arg("test");
    let result = step_counted(
        "end-to-end tests (Playwright, headless Chromium)",
        on_sqlite,
        tally,
    );
    let log = server.log.clone();
    drop(server);
    result.map_err(|e| format!("{e}\n    server log: {}", log.display()))?;

    let cluster = postgres::Cluster::start()?;
    let database = cluster.create_database("baton_e2e")?;
    let first = E2eServer::start(&binary, &database, &data, "replica-1")?;
    let second = E2eServer::start(&binary, &database, &data, "replica-2")?;
    let mut on_replicas = playwright(&binary, &database, &first.url);
    // Its screenshots go beside the servers' logs: the committed ones are SQLite's.
    on_replicas
        .arg("test")
        .env("SECOND_URL", &second.url)
        .env("SCREENSHOTS_DIR", data.join("screenshots-replicas"));
    let result = step_counted(
        "end-to-end tests on PostgreSQL, two replicas (Playwright)",
        on_replicas,
        tally,
    );
    let logs = format!("{} and {}", first.log.display(), second.log.display());
    drop((first, second));
    drop(cluster);
    result.map_err(|e| format!("{e}\n    server logs: {logs}"))
}

/// `npx playwright` for a server at `base_url` on `database` (the CLI the tests run
/// uses it too).
fn playwright(binary: &Path, database: &str, base_url: &str) -> Command {
    let mut playwright = command("npx");
    playwright
        .current_dir(root().join("end2end"))
        .arg("playwright")
        .env("BASE_URL", base_url)
        .env("BATON_BIN", binary)
        .env("BATON_DATABASE_URL", database);
    if let Some(chromium) = setup::chromium_path() {
        playwright.env("CHROMIUM_PATH", chromium);
    }
    playwright
}

/// A release server for the browser tests, on a free port, stopped when dropped.
struct E2eServer {
    url: String,
    log: std::path::PathBuf,
    _child: ServerGuard,
}

impl E2eServer {
    /// `baton serve` on `database`, logging to `<name>.log` in `data`, with a files
    /// folder of its own (on PostgreSQL, replicas keep files in the database).
    fn start(binary: &Path, database: &str, data: &Path, name: &str) -> Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let log_path = data.join(format!("{name}.log"));
        let log = std::fs::File::create(&log_path)
            .map_err(|e| format!("cannot create the server log: {e}"))?;
        let log_err = log
            .try_clone()
            .map_err(|e| format!("cannot share the server log: {e}"))?;
        let mut server = command(&binary.to_string_lossy());
        server
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .args(["--database-url", database])
            .arg("--attachments-dir")
            .arg(data.join(format!("{name}-attachments")))
            .args(["--site-root", "target/site", "--log-level", "info"])
            // The fake Botpress of the browser tests listens on 127.0.0.1.
            .arg("--allow-private-webhooks")
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err));
        let mut child = ServerGuard(
            server
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", binary.display()))?,
        );
        wait_ready(&url, &mut child.0, &log_path)?;
        Ok(Self {
            url,
            log: log_path,
            _child: child,
        })
    }
}

/// Stops the e2e server however the step ends.
struct ServerGuard(Child);

impl Drop for ServerGuard {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        for _ in 0..50 {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_ready(base_url: &str, child: &mut Child, log: &Path) -> Result {
    let addr = base_url.trim_start_matches("http://");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            return Err(format!(
                "baton exited before it was ready ({status}):\n{log}"
            ));
        }
        if http_get_status(addr, "/readyz") == Some(200) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "baton did not answer {base_url}/readyz within 30 s"
    ))
}

/// A minimal HTTP/1.0 GET, so xtask needs no HTTP client dependency.
fn http_get_status(addr: &str, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}
