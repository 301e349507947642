//! `cargo xtask test`: every check and test, in order of cost, stopping at the first
//! failure. CI runs exactly this.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::bench;
use crate::cmd::{Result, Tally, cargo_env, command, root, step, step_counted};
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
    "site-wasm",
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
         takes about 55 minutes on 2 cores, most of it compiling; later runs reuse target/)",
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
            "the server logs are in target/e2e/ (baton.log for SQLite, replica-1.log and \
             replica-2.log for PostgreSQL) and Playwright's traces in end2end/test-results \
             (SQLite) and target/e2e/test-results-replicas; `cargo xtask test e2e` reruns \
             only this step"
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
    let mut wasm = cargo_env();
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
    let mut host = cargo_env();
    host.arg("clippy")
        .args(HOST_PACKAGES)
        .args(["--all-targets", "--", "-D", "warnings"]);
    step(
        "clippy (host: app/ssr, backend, baton, bench, protocol, stores, site-wasm, xtask; first run about 5 min)",
        host,
    )
}

fn unit(tally: &mut Tally) -> Result {
    // Dropped when the step ends, which stops the server and removes its files.
    let cluster = postgres::Cluster::start()?;
    // One build for every run below: they all name the same packages and features,
    // so none of them relinks anything.
    let mut build = cargo_env();
    build.args(["test", "--no-run"]).args(HOST_PACKAGES);
    step(
        "build the unit and integration tests (about 5 min the first time)",
        build,
    )?;

    // The API tests start one server at a time in a process (Leptos' reactive state
    // is process-wide), so a single run keeps one core half busy. Six processes
    // instead: per engine, the fuzz tests in two halves apart from the rest of its
    // tests. The PostgreSQL runs skip the tests in server/tests/api/sqlite_only.txt.
    let api = api_test_names()?;
    let list = root().join("server/tests/api/sqlite_only.txt");
    let sqlite_only = std::fs::read_to_string(&list)
        .map_err(|e| format!("cannot read {}: {e}", list.display()))?;
    let sqlite_only: Vec<&str> = sqlite_only
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let is_fuzz = |name: &str| name.starts_with("fuzz::");
    let fuzz: Vec<&str> = api
        .iter()
        .map(String::as_str)
        .filter(|n| is_fuzz(n))
        .collect();

    let mut runs = Vec::new();
    // Every crate's tests on SQLite but the fuzz tests.
    let mut rest = cargo_env();
    // Every test binary runs even if one fails, so one run names every failure.
    rest.arg("test")
        .args(HOST_PACKAGES)
        .args(["--no-fail-fast", "--", "--exact"]);
    skip(&mut rest, &fuzz);
    runs.push((
        "every crate's tests on SQLite, but the fuzz tests",
        rest,
        false,
    ));
    let mut rest_pg = api_run();
    rest_pg.args(["--", "--exact"]);
    skip(&mut rest_pg, &fuzz);
    skip(&mut rest_pg, &sqlite_only);
    runs.push((
        "the API and Botpress tests on PostgreSQL, but the fuzz tests",
        rest_pg,
        true,
    ));
    // The fuzz tests are the longest (minutes each): each engine's in two halves.
    for on_postgres in [false, true] {
        for half in 0..2 {
            let mut c = api_run();
            c.args(["--", "--exact"]).args(
                fuzz.iter()
                    .skip(half)
                    .step_by(2)
                    .filter(|n| !(on_postgres && sqlite_only.contains(n))),
            );
            let what: &'static str = match (on_postgres, half) {
                (false, 0) => "the fuzz tests on SQLite, first half",
                (false, _) => "the fuzz tests on SQLite, second half",
                (true, 0) => "the fuzz tests on PostgreSQL, first half",
                (true, _) => "the fuzz tests on PostgreSQL, second half",
            };
            runs.push((what, c, on_postgres));
        }
    }

    let logs = root().join("target/unit");
    let _ = std::fs::remove_dir_all(&logs);
    std::fs::create_dir_all(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;
    eprintln!(
        "\n==> {} test runs side by side, each logging to {} (shown as each ends; the \
         longest takes about 6 min)",
        runs.len(),
        logs.display()
    );
    let mut running = Vec::new();
    for (i, (what, mut c, on_postgres)) in runs.into_iter().enumerate() {
        c.env(postgres::URL_VAR, &cluster.url);
        if on_postgres {
            c.env("BATON_TEST_ENGINE", "postgres");
        }
        running.push((
            what,
            Background::spawn(c, &logs.join(format!("run-{}.log", i + 1)))?,
        ));
    }
    let mut failures = Vec::new();
    for (what, run) in running {
        if let Err(e) = run.finish(what, tally) {
            failures.push(e);
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

/// `cargo test` of the API test binary alone (with every package named, so the
/// features match the build and nothing is recompiled).
fn api_run() -> Command {
    let mut c = cargo_env();
    c.arg("test")
        .args(HOST_PACKAGES)
        .args(["--test", "api", "--no-fail-fast"]);
    c
}

fn skip(c: &mut Command, names: &[&str]) {
    for name in names {
        c.args(["--skip", name]);
    }
}

/// The names of the API tests, from the built test binary.
fn api_test_names() -> Result<Vec<String>> {
    let mut c = cargo_env();
    c.arg("test")
        .args(HOST_PACKAGES)
        .args(["--test", "api", "--quiet", "--", "--list"])
        .stderr(Stdio::inherit());
    let out = c
        .output()
        .map_err(|e| format!("cannot list the API tests: {e}"))?;
    if !out.status.success() {
        return Err(format!("listing the API tests failed ({})", out.status));
    }
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return Err("the API test binary lists no test".into());
    }
    Ok(names)
}

/// A command running beside the current step, its output in a file that is shown and
/// counted when it is waited for. Killed if the step ends early.
struct Background {
    child: Option<Child>,
    log: std::path::PathBuf,
}

impl Background {
    fn spawn(mut c: Command, log: &Path) -> Result<Self> {
        let file = std::fs::File::create(log)
            .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let err = file
            .try_clone()
            .map_err(|e| format!("cannot share {}: {e}", log.display()))?;
        let child = c
            .stdout(Stdio::from(file))
            .stderr(Stdio::from(err))
            .spawn()
            .map_err(|e| format!("cannot start {:?}: {e}", c.get_program()))?;
        Ok(Self {
            child: Some(child),
            log: log.to_path_buf(),
        })
    }

    /// Waits, prints the output under a heading, and adds its test counts to `tally`.
    fn finish(mut self, what: &str, tally: &mut Tally) -> Result {
        let status = self.child.take().map(|mut c| c.wait());
        eprintln!("\n==> {what} (output of the background run)");
        let output = std::fs::read_to_string(&self.log).unwrap_or_default();
        for line in output.lines() {
            tally.read_line(line);
        }
        eprintln!("{output}");
        match status {
            Some(Ok(s)) if s.success() => Ok(()),
            Some(Ok(s)) => Err(format!(
                "{what} failed ({s}); output in {}",
                self.log.display()
            )),
            Some(Err(e)) => Err(format!("{what}: cannot wait for it: {e}")),
            None => Err(format!("{what} was not running")),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The crates with checked queries, and whether each is checked against PostgreSQL
/// (else SQLite). sqlx's macros check a crate against one `DATABASE_URL`, so each engine's
/// queries live in a crate of their own, and `backend` (which depends on both) has none.
const CHECKED: [(&str, bool); 2] = [("store-sqlite", false), ("store-postgres", true)];

/// Regenerates each checked crate's offline query data (`.sqlx/`) from a throwaway
/// database of its engine with every migration applied, and with `check` compares
/// it with the committed data instead of writing it. What `cargo sqlx prepare
/// [--check]` does, without building sqlx-cli: sqlx's macros write a crate's query
/// data into `SQLX_OFFLINE_DIR` whenever they check against a live database.
fn sqlx_prepare(check: bool) -> Result {
    let sqlite = crate::sqlx::sqlite_database(&root().join("target/sqlx/prepare.db"))?;
    let cluster = postgres::Cluster::start()?;
    let postgres = cluster.create_database("baton_prepare")?;
    crate::sqlx::migrate_postgres(&postgres)?;
    for (krate, on_postgres) in CHECKED {
        let url = if on_postgres { &postgres } else { &sqlite };
        let fresh = crate::sqlx::query_data(krate, url)?;
        let committed = root().join(krate).join(".sqlx");
        if check {
            crate::sqlx::compare(&fresh, &committed)?;
            eprintln!("    ok  {krate}/.sqlx is up to date");
        } else {
            crate::sqlx::replace(&fresh, &committed)?;
            eprintln!("    wrote {krate}/.sqlx");
        }
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

    // The replicas' run goes beside SQLite's, in its own process with its own
    // servers, database, traces and screenshots (the committed screenshots are
    // SQLite's): the browser tests wait on pages far more than they compute.
    let cluster = postgres::Cluster::start()?;
    let database = cluster.create_database("baton_e2e")?;
    let first = E2eServer::start(&binary, &database, &data, "replica-1")?;
    let second = E2eServer::start(&binary, &database, &data, "replica-2")?;
    let mut on_replicas = playwright(&binary, &database, &first.url);
    on_replicas
        .arg("test")
        // The screen-size and accessibility sweep checks layout, the same on either
        // engine; it runs in the SQLite pass (end2end/tests/layout.spec.ts).
        .args(["--grep-invert", "@layout"])
        .arg(format!(
            "--output={}",
            data.join("test-results-replicas").display()
        ))
        .env("SECOND_URL", &second.url)
        .env("SCREENSHOTS_DIR", data.join("screenshots-replicas"));
    let replicas_log = data.join("playwright-replicas.log");
    eprintln!(
        "\n==> end-to-end tests on PostgreSQL, two replicas, in the background (output in {} \
         when it ends)",
        replicas_log.display()
    );
    let replicas = Background::spawn(on_replicas, &replicas_log)?;

    let mut on_sqlite = playwright(&binary, &sqlite, &server.url);
    on_sqlite.arg("test");
    let on_sqlite = step_counted(
        "end-to-end tests on SQLite (Playwright, headless Chromium)",
        on_sqlite,
        tally,
    )
    .map_err(|e| format!("{e}\n    server log: {}", server.log.display()));
    let on_replicas = replicas
        .finish("end-to-end tests on PostgreSQL, two replicas", tally)
        .map_err(|e| {
            format!(
                "{e}\n    server logs: {} and {}; traces in {}",
                first.log.display(),
                second.log.display(),
                data.join("test-results-replicas").display()
            )
        });
    drop((server, first, second));
    drop(cluster);
    on_sqlite?;
    on_replicas
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
