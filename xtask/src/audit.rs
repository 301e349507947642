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

/// Licences, bans and sources: needs nothing but Cargo.lock and the local registry.
pub fn policy() -> Result {
    let mut check = command("cargo");
    check.args(["deny", "--offline", "check", "licenses", "bans", "sources"]);
    step("licences, bans and sources (cargo deny)", check)
}
