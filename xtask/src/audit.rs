//! `cargo xtask audit`: known security advisories for every dependency, from the
//! RustSec database. The database is fetched from GitHub, not from a package
//! registry, so on machines that reach only registries this says SKIPPED, loudly,
//! instead of passing silently or failing for the wrong reason.

use crate::cmd::{Result, command, step};
use crate::setup;

pub fn run() -> Result {
    setup::ensure_cargo_deny()?;
    let mut fetch = command("cargo");
    fetch.args(["deny", "fetch", "db"]);
    if step("fetch the RustSec advisory database", fetch).is_err() {
        eprintln!(
            "\nSKIPPED: the advisory check did not run, because the RustSec database \
             (https://github.com/rustsec/advisory-db) cannot be reached from this machine.\n\
             Run `cargo xtask audit` where it can be reached. Licences, bans and sources \
             are still checked by `cargo xtask test`."
        );
        return Ok(());
    }
    let mut check = command("cargo");
    check.args(["deny", "check", "--disable-fetch", "advisories"]);
    step("security advisories (cargo deny check advisories)", check)
}

/// Licences, bans and sources. `cargo deny --offline` reads every crate of
/// `Cargo.lock` from the local registry, which is empty on a new machine, so the
/// crates are fetched first (about a minute the first time, a second after that).
/// The `fresh` test step runs this against an empty cargo home to keep it so.
pub fn policy() -> Result {
    crate::cmd::fetch_crates()?;
    let mut check = command("cargo");
    check.args(["deny", "--offline", "check", "licenses", "bans", "sources"]);
    step("licences, bans and sources (cargo deny, offline)", check)
}
