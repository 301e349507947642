//! Installing what Baton needs, idempotently: each step checks first and does nothing
//! when the right version is already there. Versions follow the project's toolchain
//! notes; wasm-bindgen-cli follows `Cargo.lock`, so a bump cannot drift.

use std::path::Path;
use std::process::Command;

use crate::cmd::{self, Result, command, output, root, step};

const MIN_RUST: (u32, u32) = (1, 95);
const CARGO_LEPTOS: &str = "0.3.10";
const SQLX_CLI: &str = "0.8.6";
const CARGO_DENY: &str = "0.20.2";

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Building and running the release site.
    Run,
    /// Everything `Run` needs plus the test tools (sqlx-cli, Chromium, PostgreSQL).
    Test,
}

pub fn run(needs: Needs) -> Result {
    eprintln!("==> setup: checking tools");
    check_rust()?;
    ensure_wasm_target()?;
    ensure_node()?;
    ensure_cargo_leptos()?;
    ensure_wasm_bindgen()?;
    ensure_npm_packages()?;
    if needs == Needs::Test {
        ensure_sqlx_cli()?;
        ensure_cargo_deny()?;
        ensure_chromium()?;
        ensure_postgres()?;
    }
    eprintln!("==> setup: all tools present");
    Ok(())
}

fn ok(what: &str, version: &str) {
    eprintln!("    ok  {what} {version}");
}

fn check_rust() -> Result {
    let v = output(command("rustc").arg("--version"))
        .ok_or("rustc not found: install Rust with rustup (https://rustup.rs)")?;
    let parsed = v
        .split_whitespace()
        .nth(1)
        .and_then(|n| {
            let mut it = n.split('.').map(|p| p.parse::<u32>().ok());
            Some((it.next()??, it.next()??))
        })
        .ok_or_else(|| format!("cannot read the Rust version from {v:?}"))?;
    if parsed < MIN_RUST {
        return Err(format!(
            "{v} is too old: Baton needs Rust {}.{} or newer (rustup update stable)",
            MIN_RUST.0, MIN_RUST.1
        ));
    }
    ok("rustc", &v);
    Ok(())
}

fn ensure_wasm_target() -> Result {
    let installed = output(command("rustup").args(["target", "list", "--installed"]))
        .ok_or("rustup not found: Baton's wasm build needs a rustup-managed toolchain")?;
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        ok("target", "wasm32-unknown-unknown");
        return Ok(());
    }
    let mut c = command("rustup");
    c.args(["target", "add", "wasm32-unknown-unknown"]);
    step(
        "install the wasm32-unknown-unknown target (rustup, under a minute)",
        c,
    )
}

fn ensure_node() -> Result {
    if let Some(v) = output(command("npm").arg("--version")) {
        ok("npm", &v);
        return Ok(());
    }
    apt_install(
        &["nodejs", "npm"],
        "Node.js and npm (for wasm-opt and Playwright)",
    )
}

fn ensure_cargo_leptos() -> Result {
    let want = format!("cargo-leptos {CARGO_LEPTOS}");
    if output(command("cargo").args(["leptos", "--version"])).as_deref() == Some(&want) {
        ok("cargo-leptos", CARGO_LEPTOS);
        return Ok(());
    }
    // 0.3.11 needs a newer rustc; `no_downloads` because only package registries are
    // reachable, so its own tool downloads would fail: we provide the tools instead.
    eprintln!(
        "    cargo-leptos {CARGO_LEPTOS} is missing: building it (about 20 minutes on 2 cores)"
    );
    let mut c = command("cargo");
    c.args(["install", "cargo-leptos", "--version", CARGO_LEPTOS])
        .args(["--locked", "--features", "no_downloads"]);
    step("install cargo-leptos", c)
}

/// The wasm-bindgen version pinned in Cargo.lock; the CLI must match it exactly.
fn locked_wasm_bindgen() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == r#"name = "wasm-bindgen""#
            && let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = "))
        {
            return Ok(v.trim_matches('"').to_owned());
        }
    }
    Err("Cargo.lock has no wasm-bindgen entry".into())
}

fn ensure_wasm_bindgen() -> Result {
    let want = locked_wasm_bindgen()?;
    if output(command("wasm-bindgen").arg("--version")).as_deref()
        == Some(&format!("wasm-bindgen {want}"))
    {
        ok("wasm-bindgen", &want);
        return Ok(());
    }
    // Not `--locked`: its lockfile names a crate version the registry mirror lacks.
    let mut c = command("cargo");
    c.args(["install", "wasm-bindgen-cli", "--version", &want, "--force"]);
    if step(
        "install wasm-bindgen-cli (builds from source, about 3 min)",
        c,
    )
    .is_ok()
    {
        return Ok(());
    }
    // A newly published dependency may need a newer rustc than ours. Registry installs
    // ignore rust-version; a path install resolves to versions our rustc supports.
    eprintln!("    retrying wasm-bindgen-cli from its source with rust-version-aware resolution");
    let src = find_registry_source(&format!("wasm-bindgen-cli-{want}"))
        .ok_or("wasm-bindgen-cli source not found in the cargo registry cache")?;
    let tmp = std::env::temp_dir().join(format!("baton-wasm-bindgen-cli-{want}"));
    let _ = std::fs::remove_dir_all(&tmp);
    copy_dir(&src, &tmp).map_err(|e| format!("cannot copy {}: {e}", src.display()))?;
    let _ = std::fs::remove_file(tmp.join("Cargo.lock"));
    let mut c = command("cargo");
    c.args(["install", "--force", "--path"])
        .arg(&tmp)
        .env("CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS", "fallback");
    step("install wasm-bindgen-cli from source", c)
}

fn find_registry_source(dir_name: &str) -> Option<std::path::PathBuf> {
    let src = cmd::cargo_home().join("registry/src");
    std::fs::read_dir(src)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join(dir_name))
        .find(|p| p.is_dir())
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn ensure_npm_packages() -> Result {
    npm_packages("end2end", "Playwright, wasm-opt")?;
    npm_packages(
        "botpress-integration",
        "Baton's Botpress integration: the SDK, TypeScript, esbuild",
    )
}

/// `npm ci` in `folder` unless its `node_modules` already matches the lockfile.
fn npm_packages(folder: &str, what: &str) -> Result {
    let dir = root().join(folder);
    let lock = dir.join("package-lock.json");
    let installed = dir.join("node_modules/.package-lock.json");
    let fresh = match (std::fs::metadata(&lock), std::fs::metadata(&installed)) {
        (Ok(l), Ok(i)) => match (l.modified(), i.modified()) {
            (Ok(l), Ok(i)) => i >= l,
            _ => false,
        },
        _ => false,
    };
    if fresh {
        ok(
            "npm packages",
            &format!("({folder}/node_modules up to date)"),
        );
        return Ok(());
    }
    let mut c = command("npm");
    c.current_dir(&dir).args(["ci", "--no-audit", "--no-fund"]);
    step(
        &format!("install npm packages in {folder} ({what}; under a minute)"),
        c,
    )
}

fn ensure_sqlx_cli() -> Result {
    let want = format!("sqlx-cli-sqlx {SQLX_CLI}");
    if output(command("cargo").args(["sqlx", "--version"])).as_deref() == Some(&want)
        && sqlx_cli_speaks_postgres()
    {
        ok("sqlx-cli", SQLX_CLI);
        return Ok(());
    }
    let mut c = command("cargo");
    c.args([
        "install",
        "sqlx-cli",
        "--version",
        SQLX_CLI,
        "--locked",
        "--force",
    ])
    .args([
        "--no-default-features",
        "--features",
        "sqlite,postgres,completions",
    ]);
    step("install sqlx-cli (builds from source, about 2 min)", c)
}

/// Whether the installed sqlx-cli was built with PostgreSQL: an install from before the
/// second engine has only SQLite, and its version alone does not say so. Cargo records
/// each install's features in `.crates2.json` of the cargo home that installed it,
/// which is not `CARGO_HOME` in the `fresh` step: so the home is found from the binary.
fn sqlx_cli_speaks_postgres() -> bool {
    let Some(home) = std::env::split_paths(&cmd::path_env())
        .find(|dir| dir.join("cargo-sqlx").is_file())
        .and_then(|bin| bin.parent().map(Path::to_path_buf))
    else {
        return false;
    };
    let Ok(installs) = std::fs::read_to_string(home.join(".crates2.json")) else {
        return false;
    };
    let Some(entry) = installs.find(&format!("\"sqlx-cli {SQLX_CLI} ")) else {
        return false;
    };
    let rest = &installs[entry..];
    rest.find("\"features\":[")
        .and_then(|start| {
            let list = &rest[start..];
            list.find(']')
                .map(|end| list[..end].contains("\"postgres\""))
        })
        .unwrap_or(false)
}

/// The licence, ban and source checks (and, where reachable, advisories).
pub fn ensure_cargo_deny() -> Result {
    let want = format!("cargo-deny {CARGO_DENY}");
    if output(command("cargo").args(["deny", "--version"])).as_deref() == Some(&want) {
        ok("cargo-deny", CARGO_DENY);
        return Ok(());
    }
    let mut c = command("cargo");
    c.args([
        "install",
        "cargo-deny",
        "--version",
        CARGO_DENY,
        "--locked",
        "--force",
    ]);
    step("install cargo-deny (builds from source, about 4 min)", c)
}

/// The Chromium binary Playwright drives: `CHROMIUM_PATH`, else Debian's package.
pub fn chromium_path() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM_PATH") {
        return Some(p.into());
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.is_file())
}

fn ensure_chromium() -> Result {
    if let Some(p) = chromium_path() {
        ok("chromium", &p.display().to_string());
        return Ok(());
    }
    apt_install(&["chromium"], "Chromium (for the end-to-end tests)")
}

pub fn ensure_postgres() -> Result {
    if let Some(bin) = crate::postgres::bin_dir() {
        ok("postgresql", &bin.display().to_string());
        return Ok(());
    }
    apt_install(
        &["postgresql"],
        "PostgreSQL (the tests run every query against it too)",
    )
}

fn apt_install(packages: &[&str], what: &str) -> Result {
    if !cmd::is_root() {
        return Err(format!(
            "{what} is missing. Install it, then run this again:\n    sudo apt-get install {}",
            packages.join(" ")
        ));
    }
    let mut update = Command::new("apt-get");
    update
        .arg("update")
        .env("DEBIAN_FRONTEND", "noninteractive");
    step("apt-get update", update)?;
    let mut install = Command::new("apt-get");
    install
        .args(["install", "-y"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive");
    step(
        &format!("install {what} (apt-get, about a minute)"),
        install,
    )
}
