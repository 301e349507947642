//! The `botpress` step: Baton's own Botpress integration (`botpress-integration/`,
//! TypeScript). Builds it the way `bp build` does, runs its unit and contract tests,
//! then its end-to-end tests: the built integration served by the SDK's own server,
//! a fake Botpress, and the release `baton`.

use crate::bench;
use crate::cmd::{Result, Tally, command, root, step, step_counted};

pub fn run(tally: &mut Tally) -> Result {
    let dir = root().join("botpress-integration");
    let mut build = command("npm");
    build.current_dir(&dir).args(["run", "build"]);
    step(
        "build Baton's Botpress integration (type check, definition, bundle)",
        build,
    )?;
    let mut unit = command("npm");
    // Piped, node's test runner reports in TAP, whose totals the tally reads.
    unit.current_dir(&dir).arg("test");
    step_counted("Botpress integration: unit and contract tests", unit, tally)?;
    let binary = root().join("target/release/baton");
    if !binary.is_file() {
        bench::release_build()?;
    }
    let mut e2e = command("npm");
    e2e.current_dir(&dir)
        .args(["run", "test:e2e"])
        .env("BATON_BIN", &binary);
    step_counted(
        "Botpress integration end to end (the built integration, a fake Botpress, baton)",
        e2e,
        tally,
    )
}
