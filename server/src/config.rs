//! Baton's configuration: one clap struct, so `--help`, environment variables and the
//! README's reference table describe the same settings. Every flag has a `BATON_*`
//! variable, and each works before or after the subcommand name.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// The settings; the command line around them (`baton <command>`) is `cli::Cli`.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address and port the web server listens on. Use 0.0.0.0:PORT to accept
    /// connections from other machines (normally you put a TLS proxy in front).
    #[arg(
        long,
        env = "BATON_ADDR",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub addr: SocketAddr,

    /// Database URL: SQLite (the default, an embedded file under ./data/, created with
    /// its folder on first start; e.g. sqlite:///var/lib/baton/baton.db) or PostgreSQL
    /// (e.g. postgres://baton:PASSWORD@db.example/baton).
    #[arg(
        long,
        env = "BATON_DATABASE_URL",
        default_value = backend::db::DEFAULT_DATABASE_URL,
        global = true
    )]
    pub database_url: String,

    /// The URL at which browsers and Botpress reach Baton, without a trailing slash,
    /// e.g. https://baton.example.com. Used in links and in the endpoint URL you paste
    /// into Botpress. Default: http://<addr>.
    #[arg(long, env = "BATON_PUBLIC_URL", value_parser = parse_public_url, global = true)]
    pub public_url: Option<String>,

    /// Folder holding the built site (pkg/baton.js, .wasm, .css, favicon). `cargo
    /// xtask run` builds it into target/site; in production point this at the copy
    /// you deployed next to the binary.
    #[arg(
        long,
        env = "BATON_SITE_ROOT",
        default_value = "target/site",
        global = true
    )]
    pub site_root: PathBuf,

    /// Log output: `pretty` for people, `json` for log collectors. Logs go to stderr.
    #[arg(
        long,
        env = "BATON_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Pretty,
        global = true
    )]
    pub log_format: LogFormat,

    /// Log level or filter, e.g. `info`, `debug`, or `info,baton=debug,sqlx=warn`.
    #[arg(long, env = "BATON_LOG", default_value = "info", global = true)]
    pub log_level: String,

    /// Base URL of the Botpress Runtime API, used with a connection's bot id and access
    /// token to map closed tickets and import bot transcripts.
    #[arg(
        long,
        env = "BATON_BOTPRESS_API_URL",
        default_value = "https://api.botpress.cloud",
        value_parser = parse_public_url,
        global = true
    )]
    pub botpress_api_url: String,

    /// Seconds a call to a bot's webhook may take. A call that times out may still have
    /// arrived, so it is marked failed (for a person to resend) instead of retried.
    #[arg(
        long,
        env = "BATON_WEBHOOK_TIMEOUT",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=300),
        global = true
    )]
    pub webhook_timeout: u64,

    /// Hours after which a queued ticket that never received a message is closed as
    /// abandoned (Botpress may create a twin when it retries a create).
    #[arg(
        long,
        env = "BATON_ABANDON_AFTER_HOURS",
        default_value_t = 24,
        value_parser = clap::value_parser!(u64).range(1..=8760),
        global = true
    )]
    pub abandon_after_hours: u64,

    /// Folder for files agents send (and copies of customers' media). Default:
    /// `attachments` beside the SQLite file. With PostgreSQL the files are kept in the
    /// database; this folder (default `data/attachments`) is only read, for files a
    /// move from SQLite left there.
    #[arg(long, env = "BATON_ATTACHMENTS_DIR", global = true)]
    pub attachments_dir: Option<PathBuf>,

    /// Largest file an agent may send, in megabytes.
    #[arg(
        long,
        env = "BATON_ATTACHMENT_MAX_MB",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=100),
        global = true
    )]
    pub attachment_max_mb: u64,

    /// File types agents may send, comma separated; `image/*` allows a family. HTML
    /// and SVG are best left out: they can carry script.
    #[arg(
        long,
        env = "BATON_ATTACHMENT_TYPES",
        default_value = backend::attachments::DEFAULT_TYPES,
        value_delimiter = ',',
        global = true
    )]
    pub attachment_types: Vec<String>,

    /// Sustained requests a minute that one Botpress connection may make. Botpress
    /// allows a bot 600; the default leaves room for its retries. Above the rate (and
    /// the burst) calls get 429 with `Retry-After`, which Botpress retries.
    #[arg(
        long,
        env = "BATON_BOTPRESS_RATE_PER_MINUTE",
        default_value_t = 1200,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub botpress_rate_per_minute: u32,

    /// Requests one Botpress connection may make at once above the sustained rate.
    #[arg(
        long,
        env = "BATON_BOTPRESS_BURST",
        default_value_t = 600,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub botpress_burst: u32,

    /// Reverse proxies (addresses or CIDR ranges, comma separated) whose
    /// `X-Forwarded-For` names the real client. Behind Caddy or nginx on the same
    /// machine, `127.0.0.1,::1`. Empty: the TCP peer is the client, and the header is
    /// ignored (anyone could write any address there).
    #[arg(
        long,
        env = "BATON_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = parse_proxy,
        global = true
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Seconds a connection has to send its request headers; slower clients are cut
    /// off, so they cannot hold connections open without end.
    #[arg(
        long,
        env = "BATON_HEADER_TIMEOUT",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=300),
        global = true
    )]
    pub header_timeout: u64,

    /// Seconds a connection may stay open with no request in flight; then it is shut
    /// down, so idle sockets cannot fill the connection cap. Websockets are not idle
    /// while open. (HTTP/1 waits at most the header timeout for a next request.)
    #[arg(
        long,
        env = "BATON_IDLE_TIMEOUT",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..=3600),
        global = true
    )]
    pub idle_timeout: u64,

    /// Connections open at once; more are closed on arrival. (A websocket over HTTP/1
    /// leaves the count once open; one account may hold 32.)
    /// Keep it below the process's file descriptor limit (`LimitNOFILE`).
    #[arg(
        long,
        env = "BATON_MAX_CONNECTIONS",
        default_value_t = 4096,
        value_parser = clap::value_parser!(u64).range(16..=1_000_000),
        global = true
    )]
    pub max_connections: u64,

    /// Address for Prometheus's `GET /metrics` (e.g. 127.0.0.1:9100). Unset, there is
    /// no metrics endpoint. Keep it off the public interface: the numbers describe
    /// your traffic and queue.
    #[arg(long, env = "BATON_METRICS_ADDR", global = true)]
    pub metrics_addr: Option<SocketAddr>,

    /// Threads that render pages and run server functions, each rendering many
    /// requests at once; 0 means one per core. The rest of the server (Botpress
    /// endpoints, websockets, REST) uses every core regardless.
    #[arg(
        long,
        env = "BATON_RENDER_THREADS",
        default_value_t = 0,
        value_parser = clap::value_parser!(u16).range(0..=256),
        global = true
    )]
    pub render_threads: u16,

    /// Let webhooks (bots' and the alert webhook) go to loopback, private and
    /// link-local addresses. Off by default, so an admin cannot point Baton at the
    /// cloud metadata service or the internal network; turn it on when the bots run
    /// on the same private network (on-premise Botpress) and for tests.
    #[arg(long, env = "BATON_ALLOW_PRIVATE_WEBHOOKS", global = true)]
    pub allow_private_webhooks: bool,
}

/// A CIDR range, or one address (a range of one).
fn parse_proxy(raw: &str) -> Result<ipnet::IpNet, String> {
    let raw = raw.trim();
    raw.parse::<ipnet::IpNet>()
        .or_else(|_| raw.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("`{raw}` is not an address or a CIDR range such as 10.0.0.0/8"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

impl Config {
    /// The public URL, defaulting to the listen address.
    pub fn public_url(&self, bound: SocketAddr) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"))
    }

    /// What the domain layer needs from this configuration.
    pub fn backend_settings(&self, public_url: String) -> backend::Settings {
        backend::Settings {
            public_url,
            botpress_api_url: self.botpress_api_url.clone(),
            webhook_timeout: std::time::Duration::from_secs(self.webhook_timeout),
            abandon_after: std::time::Duration::from_secs(self.abandon_after_hours * 3600),
            attachments: backend::attachments::Limits {
                dir: self.attachments_dir(),
                max_bytes: usize::try_from(self.attachment_max_mb * 1024 * 1024)
                    .unwrap_or(usize::MAX),
                types: self
                    .attachment_types
                    .iter()
                    .map(|t| t.trim().to_ascii_lowercase())
                    .filter(|t| !t.is_empty())
                    .collect(),
            },
            allow_private_webhooks: self.allow_private_webhooks,
        }
    }

    /// The attachments folder: as set, else beside the SQLite file (`data/` with
    /// PostgreSQL, whose URL names no folder).
    pub fn attachments_dir(&self) -> PathBuf {
        if let Some(dir) = &self.attachments_dir {
            return dir.clone();
        }
        if backend::db::is_postgres(&self.database_url) {
            return PathBuf::from("data/attachments");
        }
        let file = self
            .database_url
            .strip_prefix("sqlite://")
            .or_else(|| self.database_url.strip_prefix("sqlite:"))
            .unwrap_or(&self.database_url);
        let file = file.split('?').next().unwrap_or(file);
        PathBuf::from(file).parent().map_or_else(
            || PathBuf::from("attachments"),
            |dir| dir.join("attachments"),
        )
    }
}

/// Accepts only absolute http(s) URLs and drops a trailing slash, so that
/// `format!("{public_url}/path")` is always well formed.
fn parse_public_url(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| format!("{raw:?} must start with http:// or https://"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("{raw:?} has no host name"));
    }
    if rest.contains(['?', '#', ' ']) {
        return Err(format!(
            "{raw:?} must not contain a query, fragment or space"
        ));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_url_is_normalised_and_validated() {
        assert_eq!(
            parse_public_url("https://baton.example.com/").unwrap(),
            "https://baton.example.com"
        );
        assert_eq!(
            parse_public_url("http://10.0.0.1:8080/baton").unwrap(),
            "http://10.0.0.1:8080/baton"
        );
        assert!(parse_public_url("baton.example.com").is_err());
        assert!(parse_public_url("ftp://x").is_err());
        assert!(parse_public_url("https://").is_err());
        assert!(parse_public_url("https://x/?a=b").is_err());
    }

    #[test]
    fn attachments_default_beside_the_sqlite_file_or_under_data() {
        let with = |url: &str| {
            use clap::Parser;
            crate::cli::Cli::try_parse_from(["baton", "--database-url", url])
                .unwrap()
                .config
                .attachments_dir()
        };
        assert_eq!(
            with("sqlite:///srv/baton/baton.db?mode=rwc"),
            PathBuf::from("/srv/baton/attachments")
        );
        // A PostgreSQL URL names no folder (this once made `postgres:/host/attachments`).
        assert_eq!(
            with("postgres://baton:secret@db.example:5432/baton"),
            PathBuf::from("data/attachments")
        );
    }
}
