//! The `baton` binary as an operator runs it: flags, defaults, signals.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_baton");

/// Every setting, as it must appear in `--help`.
const SETTINGS: &[(&str, &str)] = &[
    ("--addr", "BATON_ADDR"),
    ("--database-url", "BATON_DATABASE_URL"),
    ("--public-url", "BATON_PUBLIC_URL"),
    ("--site-root", "BATON_SITE_ROOT"),
    ("--log-format", "BATON_LOG_FORMAT"),
    ("--log-level", "BATON_LOG"),
    ("--botpress-api-url", "BATON_BOTPRESS_API_URL"),
    ("--webhook-timeout", "BATON_WEBHOOK_TIMEOUT"),
    ("--abandon-after-hours", "BATON_ABANDON_AFTER_HOURS"),
    (
        "--botpress-rate-per-minute",
        "BATON_BOTPRESS_RATE_PER_MINUTE",
    ),
    ("--botpress-burst", "BATON_BOTPRESS_BURST"),
    ("--trusted-proxies", "BATON_TRUSTED_PROXIES"),
    ("--header-timeout", "BATON_HEADER_TIMEOUT"),
    ("--max-connections", "BATON_MAX_CONNECTIONS"),
    ("--metrics-addr", "BATON_METRICS_ADDR"),
    ("--render-threads", "BATON_RENDER_THREADS"),
    ("--allow-private-webhooks", "BATON_ALLOW_PRIVATE_WEBHOOKS"),
];

pub(crate) fn baton(cwd: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(cwd).kill_on_drop(true);
    for (key, _) in std::env::vars() {
        if key.starts_with("BATON_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) async fn wait_ready(port: u16, child: &mut Child) {
    let url = format!("http://127.0.0.1:{port}/readyz");
    for _ in 0..300 {
        if let Ok(r) = crate::helpers::http().get(&url).send().await
            && r.status() == 200
        {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("baton exited before it was ready: {status}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("baton did not become ready on port {port}");
}

#[tokio::test]
async fn help_documents_every_setting_with_its_environment_variable() {
    let dir = tempfile::tempdir().unwrap();
    let out = baton(dir.path()).arg("--help").output().await.unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for (flag, env) in SETTINGS {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
        assert!(
            help.contains(&format!("env: {env}")),
            "--help lacks {env}:\n{help}"
        );
    }
    assert!(help.contains("serve"), "{help}");
}

#[tokio::test]
async fn bad_settings_fail_fast_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = baton(dir.path())
        .args(["--public-url", "baton.example.com"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("must start with http:// or https://"), "{err}");

    let out = baton(dir.path())
        .env("BATON_LOG_FORMAT", "xml")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("BATON_LOG_FORMAT") || err.contains("log-format"),
        "{err}"
    );
}

#[tokio::test]
async fn a_port_in_use_is_reported_not_panicked() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = baton(dir.path())
        .args(["--addr", &addr])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

async fn serve_then_signal(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = baton(dir.path())
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_ready(port, &mut child).await;
    // The default database is an embedded file under ./data/, folder included.
    assert!(dir.path().join("data/baton.db").is_file());

    let pid = child.id().unwrap().to_string();
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .await
        .unwrap();
    assert!(sent.success());
    let out = tokio::time::timeout(Duration::from_secs(15), child.wait_with_output())
        .await
        .expect("baton stops within 15 s")
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}:\n{log}", out.status);
    assert!(log.contains(&format!("SIG{signal} received")), "{log}");
    assert!(log.contains("Baton stopped"), "{log}");
}

#[tokio::test]
async fn sigterm_stops_the_server_gracefully() {
    serve_then_signal("TERM").await;
}

#[tokio::test]
async fn sigint_stops_the_server_gracefully() {
    serve_then_signal("INT").await;
}

#[tokio::test]
async fn a_fresh_install_prints_a_working_setup_link() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = baton(dir.path())
        .args([
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--log-format",
            "json",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let link = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(start) = line.find("/setup?token=") {
                let rest = &line[start..];
                let end = rest.find([' ', '"']).unwrap_or(rest.len());
                return rest[..end].to_owned();
            }
        }
        panic!("baton exited without printing a setup link");
    })
    .await
    .expect("a setup link within 30 s");
    wait_ready(port, &mut child).await;
    let token = link.trim_start_matches("/setup?token=");
    let response = crate::helpers::http()
        .post(format!("http://127.0.0.1:{port}/api/auth/setup"))
        .form(&[
            ("token", token),
            ("email", "me@example.com"),
            ("name", "Me"),
            ("password", "a long enough password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let page = crate::helpers::http()
        .get(format!("http://127.0.0.1:{port}{link}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
}
