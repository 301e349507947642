//! The release build: the `baton` server and the site it serves (`target/site`), made
//! by the few steps Baton needs, without cargo-leptos.
//!
//! cargo-leptos took 20 to 27 minutes to compile on a new 2-core machine (it bundles a
//! JavaScript compiler, a project generator and a file watcher that a one-shot build
//! never uses), longer than Baton itself. These steps produce the same files it did:
//!
//! 1. the hydrate wasm (`-p frontend`, profile `wasm-release`, linked with
//!    `--emit-relocs` so it can be split), in `target/front`;
//! 2. split at every lazy route, then `wasm-bindgen --target web`, `baton_bg.wasm`
//!    renamed `baton.wasm` as Leptos' hydration scripts expect (`baton-site-wasm`,
//!    with the libraries cargo-leptos uses, built from this lockfile);
//! 3. `wasm-opt -O1` on the main module and every chunk (binaryen from npm);
//! 4. `baton.js` minified (esbuild from npm);
//! 5. `style/main.css` prefixed for the `defaults` browsers and minified (lightningcss
//!    from npm), as `pkg/baton.css`;
//! 6. `public/` copied in, then every file precompressed (`.gz`, `.br`) for the
//!    server to send as is.
//!
//! The server and the load generators (`cargo build --release -p baton -p bench`)
//! compile at the same time in `target/`: the wasm's single-codegen-unit link and the
//! post-processing run mostly on one core, and the server build fills the other.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::cmd::{Result, cargo_env, command, root, step};

/// The site's output name: `/pkg/baton.{js,wasm,css}` (`app::OUTPUT_NAME`).
const OUTPUT_NAME: &str = "baton";
/// Where the wasm is compiled: a target folder of its own, so its build can run beside
/// the server's without waiting for cargo's lock on `target/`.
const FRONT_TARGET: &str = "target/front";
/// The browsers the stylesheet is prefixed for (a browserslist query).
const BROWSERS: &str = "defaults";

/// Builds the release server, the load generators and the site. The load generators
/// come along even for `cargo xtask run`: built in the same cargo invocation, the
/// dependencies they share with the server are compiled once, and a later `cargo
/// xtask test` or `bench` finds everything built.
pub fn release() -> Result {
    let started = std::time::Instant::now();
    step(
        "build baton-site-wasm, which splits the wasm and binds it to JavaScript (seconds; \
         about a minute the first time)",
        {
            let mut c = cargo_env();
            c.args(["build", "--quiet", "-p", "site-wasm"]);
            c
        },
    )?;
    let mut server = cargo_env();
    server.args(["build", "--release", "-p", "baton", "-p", "bench"]);
    eprintln!(
        "\n==> release build of the server and the load generators (cargo build --release -p \
         baton -p bench; about 10 min the first time), beside the site's"
    );
    let server = Running::spawn("the server's release build", server)?;
    // The site's steps run while the server compiles; the server build is waited for
    // (and stopped if the site failed) either way.
    let site = site();
    let server = server.wait();
    site?;
    server?;
    eprintln!(
        "\n==> release build done in {:.0} s (target/release/baton, target/site)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A child process that is killed if it is dropped before it was waited for.
struct Running {
    what: &'static str,
    child: Option<Child>,
}

impl Running {
    fn spawn(what: &'static str, mut c: Command) -> Result<Self> {
        let child = c
            .spawn()
            .map_err(|e| format!("{what}: cannot start {:?}: {e}", c.get_program()))?;
        Ok(Self {
            what,
            child: Some(child),
        })
    }

    fn wait(mut self) -> Result {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let status = child
            .wait()
            .map_err(|e| format!("{}: cannot wait for it: {e}", self.what))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("{} failed ({status})", self.what))
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn site() -> Result {
    let site = root().join("target/site");
    let pkg = site.join("pkg");
    // Wiped first: a chunk or asset left from an older build must not be served.
    let _ = std::fs::remove_dir_all(&site);
    std::fs::create_dir_all(&pkg).map_err(|e| format!("cannot create {}: {e}", pkg.display()))?;

    let mut wasm = cargo_env();
    wasm.args(["build", "--lib", "-p", "frontend"])
        .args([
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            "wasm-release",
        ])
        .args(["--target-dir", FRONT_TARGET])
        // Relocations let the splitter move functions into chunks.
        .env(
            "RUSTFLAGS",
            format!("{} -Clink-args=--emit-relocs", crate::cmd::RUSTFLAGS),
        );
    step(
        "release build of the wasm (cargo build -p frontend --profile wasm-release; about 3 \
         min the first time)",
        wasm,
    )?;

    let out = root()
        .join(FRONT_TARGET)
        .join("wasm32-unknown-unknown/wasm-release");
    let mut split = command(
        &root()
            .join("target/debug/baton-site-wasm")
            .to_string_lossy(),
    );
    split
        .arg(out.join("frontend.wasm"))
        .arg(out.join("frontend_split.wasm"))
        .arg(&pkg)
        .arg(OUTPUT_NAME);
    step(
        "split the wasm at its lazy routes and generate its JavaScript glue (baton-site-wasm)",
        split,
    )?;

    optimise_wasm(&pkg)?;

    let js = pkg.join(format!("{OUTPUT_NAME}.js"));
    let mut minify = command("esbuild");
    minify
        .arg(&js)
        .args([
            "--minify",
            "--format=esm",
            "--allow-overwrite",
            "--log-level=warning",
        ])
        // wasm-bindgen's import table names the split loader twice; the last wins,
        // minified or not.
        .arg("--log-override:duplicate-object-key=silent")
        .arg(format!("--outfile={}", js.display()));
    step("minify the JavaScript (esbuild)", minify)?;

    let mut css = command("lightningcss");
    css.args(["--minify", "--bundle", "--targets", BROWSERS])
        .arg("style/main.css")
        .arg("-o")
        .arg(pkg.join(format!("{OUTPUT_NAME}.css")));
    step(
        &format!(
            "the stylesheet, prefixed for the {BROWSERS:?} browsers and minified (lightningcss)"
        ),
        css,
    )?;

    copy_dir(&root().join("public"), &site)
        .map_err(|e| format!("cannot copy public/ into the site: {e}"))?;

    let mut compress = command("node");
    compress
        .args(["--input-type=module", "-e", include_str!("precompress.mjs")])
        .arg(&site);
    step(
        "precompress every file of the site (gzip, brotli)",
        compress,
    )
}

/// `wasm-opt -O1` on every `.wasm` of the site, two at a time (most of the time goes
/// to the main module; the chunks are small).
///
/// `-O1`, not `-Oz`: on the site at `d5f91e1` it sends less over the wire (brotli,
/// quality 11: main module 411 KB against 455 KB, the 63 chunks 341 KB against 357
/// KB), though its files are 13-15 % larger unpacked, and it takes two thirds of the
/// time (the main module 118 s against 177 s on a busy 2-core machine).
fn optimise_wasm(pkg: &Path) -> Result {
    let mut files: Vec<PathBuf> = std::fs::read_dir(pkg)
        .map_err(|e| format!("cannot read {}: {e}", pkg.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
        .collect();
    // The biggest first, so the small ones fill in beside it.
    files.sort_by_key(|p| std::cmp::Reverse(std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)));
    eprintln!("\n==> optimise {} wasm modules (wasm-opt -O1)", files.len());
    // Their output is kept for a failure only: every chunk draws a harmless warning
    // about a names subsection binaryen does not know.
    let mut running: Vec<(PathBuf, Child)> = Vec::new();
    let mut failed = Vec::new();
    let mut finish = |(file, child): (PathBuf, Child)| match child.wait_with_output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => failed.push(format!(
            "{}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => failed.push(format!("{}: {e}", file.display())),
    };
    for file in files {
        if running.len() == 2 {
            finish(running.remove(0));
        }
        let mut opt = command("wasm-opt");
        opt.args([
            "-O1",
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
        ])
        .arg(&file)
        .arg("-o")
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        let child = opt
            .spawn()
            .map_err(|e| format!("cannot start wasm-opt (from end2end's npm packages): {e}"))?;
        running.push((file, child));
    }
    for run in running {
        finish(run);
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("wasm-opt failed:\n{}", failed.join("\n")))
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// The version Cargo.lock gives the package `name`.
    fn locked(lock: &str, name: &str) -> Option<String> {
        let mut lines = lock.lines();
        while let Some(line) = lines.next() {
            if line.trim() == format!("name = {name:?}") {
                return lines
                    .next()
                    .and_then(|l| l.trim().strip_prefix("version = "))
                    .map(|v| v.trim_matches('"').to_owned());
            }
        }
        None
    }

    /// Glue from another wasm-bindgen than the one whose macros compiled the wasm
    /// fails in the browser at start, not at build time: so it is checked here.
    #[test]
    fn the_release_build_binds_with_the_wasm_bindgen_the_wasm_was_compiled_with() {
        let lock = std::fs::read_to_string(crate::cmd::root().join("Cargo.lock")).unwrap();
        let macros = locked(&lock, "wasm-bindgen");
        assert!(macros.is_some(), "Cargo.lock has no wasm-bindgen");
        assert_eq!(macros, locked(&lock, "wasm-bindgen-cli-support"));
    }
}
