//! `cargo xtask run`: build the release site and start Baton on the embedded SQLite file.

use crate::cmd::{Result, command, root};
use crate::setup::{self, Needs};

pub fn run(args: &[String]) -> Result {
    setup::run(Needs::Run)?;
    crate::site::release()?;

    let binary = root().join("target/release/baton");
    // `--` separates xtask's arguments from Baton's; accept both forms.
    let passthrough: Vec<&String> = args.iter().skip_while(|a| *a == "--").collect();
    let addr = flag_value(&passthrough, "--addr")
        .or_else(|| std::env::var("BATON_ADDR").ok())
        .unwrap_or_else(|| "127.0.0.1:3000".into());
    eprintln!(
        "\n==> starting Baton: open http://{addr} (database: ./data/baton.db unless \
         BATON_DATABASE_URL says otherwise; stop with Ctrl-C)"
    );
    let mut serve = command(&binary.to_string_lossy());
    serve.arg("serve").args(passthrough);
    exec(serve)
}

/// The value of `--flag value` or `--flag=value` among Baton's arguments, which
/// win over the environment as they do in `baton serve` itself.
fn flag_value(args: &[&String], flag: &str) -> Option<String> {
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if *arg == flag {
            return it.next().map(|v| v.to_string());
        }
        if let Some(value) = arg.strip_prefix(flag).and_then(|r| r.strip_prefix('=')) {
            return Some(value.to_owned());
        }
    }
    None
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

#[cfg(test)]
mod tests {
    use super::flag_value;

    #[test]
    fn the_banner_names_the_address_baton_will_listen_on() {
        let args = ["--addr".to_owned(), "0.0.0.0:8080".to_owned()];
        let refs: Vec<&String> = args.iter().collect();
        assert_eq!(flag_value(&refs, "--addr").as_deref(), Some("0.0.0.0:8080"));
        let args = [
            "--log-level".to_owned(),
            "debug".to_owned(),
            "--addr=[::1]:9000".to_owned(),
        ];
        let refs: Vec<&String> = args.iter().collect();
        assert_eq!(flag_value(&refs, "--addr").as_deref(), Some("[::1]:9000"));
        assert_eq!(flag_value(&refs, "--address"), None);
    }
}
