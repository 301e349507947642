//! A throwaway PostgreSQL cluster for one test run: Debian's server binaries, a fresh
//! data folder, a free port on loopback, trust authentication. It is stopped and its
//! folder removed when the guard drops, however the run ends. No Docker.
//!
//! The tests find it through `BATON_TEST_POSTGRES_URL` (the `postgres` maintenance
//! database; each test creates a database of its own in it).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cmd::{Result, is_root, output, step};

/// What the tests read to reach the cluster.
pub const URL_VAR: &str = "BATON_TEST_POSTGRES_URL";

/// The newest installed server's binaries (`/usr/lib/postgresql/<major>/bin`), if any.
pub fn bin_dir() -> Option<PathBuf> {
    let mut majors: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((major, bin))
        })
        .collect();
    majors.sort();
    majors.pop().map(|(_, bin)| bin)
}

/// A running cluster; dropping it stops the server and deletes its files.
pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    pub url: String,
}

impl Cluster {
    pub fn start() -> Result<Self> {
        let bin = bin_dir().ok_or(
            "PostgreSQL's server is not installed (cargo xtask setup installs it from \
             Debian's packages)",
        )?;
        sweep_leftovers(&bin);
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        // Under the system temp folder rather than target/: the server runs as the
        // `postgres` user when we are root, and it must be able to reach its folder.
        let dir = std::env::temp_dir().join(format!("baton-pg-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let cluster = Self {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            dir,
            bin,
            port,
        };
        if is_root() {
            // initdb refuses to run as root.
            let mut chown = Command::new("chown");
            chown.args(["-R", "postgres:postgres"]).arg(&cluster.dir);
            step("give the cluster's folder to the postgres user", chown)?;
        }
        let data = cluster.dir.join("data");
        let mut init = cluster.tool("initdb");
        // The C locale folds case like SQLite's NOCASE (ASCII only), so `lower()` in
        // the PostgreSQL schema means what `collate nocase` means in SQLite's.
        init.arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C"])
            .arg("--no-sync");
        quiet_step("create a throwaway PostgreSQL cluster", init)?;
        let mut start = cluster.tool("pg_ctl");
        start
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(cluster.dir.join("server.log"))
            .arg("-o")
            // No fsync: the cluster lives for one step and is thrown away, so flushing
            // to disk buys nothing, and every test creates a database (a checkpoint
            // each). The tests that kill Baton mid-write kill Baton, not PostgreSQL.
            // Two test processes share it (SQLite's and PostgreSQL's passes).
            .arg(format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=400 \
                 -c fsync=off -c full_page_writes=off",
                cluster.dir.display()
            ))
            .args(["-w", "start"]);
        quiet_step(&format!("start PostgreSQL on 127.0.0.1:{port}"), start).map_err(|e| {
            let log = std::fs::read_to_string(cluster.dir.join("server.log")).unwrap_or_default();
            format!("{e}\n{log}")
        })?;
        Ok(cluster)
    }

    /// One of the server's programs, as the `postgres` user when we are root.
    fn tool(&self, name: &str) -> Command {
        tool_at(&self.bin, name)
    }

    /// The URL of database `name` in this cluster.
    pub fn database_url(&self, name: &str) -> String {
        let cluster = self
            .url
            .rsplit_once('/')
            .map_or(self.url.as_str(), |(c, _)| c);
        format!("{cluster}/{name}")
    }

    /// Creates an empty database `name` and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String> {
        let mut create = self.tool("createdb");
        create.args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
            name,
        ]);
        quiet_step(&format!("create the database {name}"), create)?;
        Ok(self.database_url(name))
    }

    fn stop(&self) {
        stop_at(&self.bin, &self.dir);
    }
}

fn tool_at(bin: &Path, name: &str) -> Command {
    let program = bin.join(name);
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn stop_at(bin: &Path, dir: &Path) {
    let mut c = tool_at(bin, "pg_ctl");
    c.arg("-D")
        .arg(dir.join("data"))
        .args(["-m", "immediate", "-w", "stop"]);
    let _ = output(&mut c);
    let _ = std::fs::remove_dir_all(dir);
}

/// Stops clusters left by runs that were killed before their guard dropped (Ctrl-C):
/// their folder names the xtask process, which is gone.
fn sweep_leftovers(bin: &Path) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("baton-pg-"))
            .and_then(|rest| rest.split('-').next())
            .filter(|pid| pid.parse::<u32>().is_ok())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            stop_at(bin, &entry.path());
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs with output captured, showing it only on failure (initdb is chatty).
fn quiet_step(what: &str, c: Command) -> Result {
    eprintln!("\n==> {what}");
    crate::cmd::run_quietly(what, c)
}
