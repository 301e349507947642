//! `cargo xtask run`: build the release site and start Baton on the embedded SQLite file.

use crate::cmd::{Result, command, root};
use crate::setup::{self, Needs};

pub fn run(args: &[String]) -> Result {
    setup::run(Needs::Run)?;
    crate::bench::release_site()?;

    let binary = root().join("target/release/baton");
    // `--` separates xtask's arguments from Baton's; accept both forms.
    let passthrough: Vec<&String> = args.iter().skip_while(|a| *a == "--").collect();
    let addr = std::env::var("BATON_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    eprintln!(
        "\n==> starting Baton: open http://{addr} (database: ./data/baton.db unless \
         BATON_DATABASE_URL says otherwise; stop with Ctrl-C)"
    );
    let mut serve = command(&binary.to_string_lossy());
    serve.arg("serve").args(passthrough);
    exec(serve)
}

/// Replaces this process with Baton, so Ctrl-C and SIGTERM reach the server directly
/// and it shuts down gracefully.
#[cfg(unix)]
fn exec(mut c: std::process::Command) -> Result {
    use std::os::unix::process::CommandExt;
    let e = c.exec();
    Err(format!("cannot start {:?}: {e}", c.get_program()))
}

#[cfg(not(unix))]
fn exec(c: std::process::Command) -> Result {
    crate::cmd::step("baton serve", c)
}
