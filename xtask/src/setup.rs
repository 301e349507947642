//! Installing what Baton needs, idempotently: each step checks first and does nothing
//! when the right version is already there. Versions follow the project's toolchain
//! notes. wasm-bindgen is no tool to install: `site-wasm` links its library, pinned
//! in `Cargo.lock` beside the crate it must match.

use std::process::Command;

use crate::cmd::{self, Result, command, output, root, step};

const MIN_RUST: (u32, u32) = (1, 95);
const CARGO_DENY: &str = "0.20.2";

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Building and running the release site.
    Run,
    /// Everything `Run` needs plus the test tools (cargo-deny, sqlite3, Chromium,
    /// PostgreSQL).
    Test,
}

pub fn run(needs: Needs) -> Result {
    eprintln!("==> setup: checking tools");
    check_rust()?;
    ensure_wasm_target()?;
    ensure_node()?;
    npm_packages(
        "end2end",
        "Playwright; wasm-opt, esbuild and lightningcss for the release build",
    )?;
    if needs == Needs::Test {
        npm_packages(
            "botpress-integration",
            "Baton's Botpress integration: the SDK, TypeScript, esbuild",
        )?;
        ensure_sqlite3()?;
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

/// The `sqlite3` shell, which builds the database sqlx's offline data is checked
/// against.
fn ensure_sqlite3() -> Result {
    if let Some(v) = output(command("sqlite3").arg("--version")) {
        ok("sqlite3", v.split_whitespace().next().unwrap_or_default());
        return Ok(());
    }
    apt_install(
        &["sqlite3"],
        "the sqlite3 shell (for the sqlx offline data check)",
    )
}

/// The licence, ban and source checks (and, where reachable, advisories).
pub fn ensure_cargo_deny() -> Result {
    let want = format!("cargo-deny {CARGO_DENY}");
    if output(command("cargo").args(["deny", "--version"])).as_deref() == Some(&want) {
        ok("cargo-deny", CARGO_DENY);
        return Ok(());
    }
    let mut c = cargo_install();
    c.args(["cargo-deny", "--version", CARGO_DENY, "--locked", "--force"]);
    step("install cargo-deny (builds from source, about 2 min)", c)
}

/// `cargo install`, with the tool's release profile made quick to build: cargo-deny
/// asks for fat LTO in one codegen unit, which kept one of the two cores idle for
/// minutes on a new machine, and full optimisation (3.5 min of both cores), for a
/// tool that runs for seconds. Optimisation level 1 keeps its checks as quick.
fn cargo_install() -> Command {
    let mut c = command("cargo");
    c.arg("install")
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "1");
    c
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
