//! Baton under test: a separate process on a free port and its own database file.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

use crate::Config;

pub struct Baton {
    child: Child,
    pub addr: String,
    pub base: String,
    /// Process start to the first `/readyz` 200.
    pub ready_after: Duration,
    // Held so the folder (database, attachments, log) outlives the process; `None`
    // when `--keep` left it on disk for good.
    _dir: Option<tempfile::TempDir>,
}

/// A fresh folder and database URL for one Baton instance.
pub fn scratch() -> anyhow::Result<(tempfile::TempDir, PathBuf)> {
    let dir = tempfile::Builder::new().prefix("baton-bench").tempdir()?;
    let database = dir.path().join("baton.db");
    Ok((dir, database))
}

pub fn database_url(file: &Path) -> String {
    format!("sqlite://{}?mode=rwc", file.display())
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Baton {
    /// Starts Baton on `database` (inside `dir`) and waits for `/readyz`.
    pub async fn start(
        config: &Config,
        dir: tempfile::TempDir,
        database: PathBuf,
    ) -> anyhow::Result<Self> {
        Self::start_at(config, dir, &database_url(&database)).await
    }

    /// Starts Baton on the database at `url` (either engine), with its log and
    /// attachments in `dir`, and waits for `/readyz`.
    pub async fn start_at(
        config: &Config,
        dir: tempfile::TempDir,
        url: &str,
    ) -> anyhow::Result<Self> {
        let port = free_port()?;
        let addr = format!("127.0.0.1:{port}");
        let log = std::fs::File::create(dir.path().join("baton.log"))?;
        let started = Instant::now();
        let child = Command::new(&config.baton)
            .args([
                "serve",
                "--addr",
                &addr,
                "--log-level",
                &config.baton_log_level,
            ])
            .args(["--database-url", url])
            .arg("--attachments-dir")
            .arg(dir.path().join("attachments"))
            .arg("--site-root")
            .arg(&config.site_root)
            // The ingest measure is a saturation test: lift the per-bot rate limit,
            // which would otherwise (rightly) answer most of it with 429.
            .env("BATON_BOTPRESS_RATE_PER_MINUTE", "100000000")
            .env("BATON_BOTPRESS_BURST", "1000000")
            // The fake bot webhook listens on 127.0.0.1.
            .env("BATON_ALLOW_PRIVATE_WEBHOOKS", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", config.baton.display()))?;
        let mut baton = Self {
            child,
            base: format!("http://{addr}"),
            addr,
            ready_after: Duration::ZERO,
            _dir: if config.keep {
                eprintln!("bench: keeping {}", dir.keep().display());
                None
            } else {
                Some(dir)
            },
        };
        baton.ready_after = baton.wait_ready(started).await?;
        Ok(baton)
    }

    async fn wait_ready(&mut self, started: Instant) -> anyhow::Result<Duration> {
        let deadline = started + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("baton exited before it was ready ({status})");
            }
            if ready(&self.addr).await {
                return Ok(started.elapsed());
            }
            // Fine-grained polling: the start-up budget is 200 ms.
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        anyhow::bail!("baton was not ready within 30 s")
    }

    /// Resident set size, from the kernel's own accounting.
    pub fn rss_mib(&self) -> anyhow::Result<f64> {
        let pid = self.child.id().context("baton has exited")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .context("no VmRSS line")?
            .trim()
            .trim_end_matches(" kB")
            .parse()?;
        Ok(kib / 1024.0)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// One `GET /readyz` over a raw socket: no client pool to warm up, so the first
/// answer is seen as soon as the server gives it.
async fn ready(addr: &str) -> bool {
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return false;
    };
    let request = format!("GET /readyz HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    matches!(
        tokio::time::timeout(Duration::from_secs(2), stream.read_exact(&mut head)).await,
        Ok(Ok(_))
    ) && &head[9..12] == b"200"
}
