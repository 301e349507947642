//! `baton-wasm-split INPUT PKG_DIR MAIN_OUT OUTPUT_NAME`: splits the wasm that
//! `cargo build -p frontend` linked (with `--emit-relocs`) at every `#[lazy]` point.
//!
//! Writes, into `PKG_DIR`, one `chunk_N.wasm` per lazily loaded piece, the loader
//! `__wasm_split.______________________.js` the main module imports them through, and
//! `__wasm_split_manifest.json` (which chunks each route should prefetch); writes the
//! main module, still to be run through wasm-bindgen, to `MAIN_OUT`. The names are the
//! ones Leptos' hydration scripts and lazy routes look for, as cargo-leptos writes them.

use std::path::PathBuf;
use std::process::ExitCode;

/// The loader's file name, relative to the main module. The underscores are what the
/// Leptos runtime expects, not a placeholder.
const LINK_NAME: &str = "./__wasm_split.______________________.js";

fn main() -> ExitCode {
    match run(std::env::args_os().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("baton-wasm-split: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<std::ffi::OsString>) -> Result<(), String> {
    let [input, pkg_dir, main_out, output_name] = <[_; 4]>::try_from(args).map_err(|_| {
        "usage: baton-wasm-split INPUT.wasm PKG_DIR MAIN_OUT.wasm OUTPUT_NAME".to_owned()
    })?;
    let (input, pkg_dir, main_out) = (
        PathBuf::from(input),
        PathBuf::from(pkg_dir),
        PathBuf::from(main_out),
    );
    let output_name = output_name.to_string_lossy().into_owned();
    let wasm =
        std::fs::read(&input).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let main_module = format!("./{output_name}.js");
    let split = wasm_split_cli_support::transform({
        let mut opts = wasm_split_cli_support::Options::new(&wasm);
        opts.output_dir = &pkg_dir;
        opts.main_out_path = &main_out;
        opts.main_module = &main_module;
        opts.link_name = LINK_NAME;
        opts
    })
    .map_err(|e| format!("cannot split {}: {e:#}", input.display()))?;
    let manifest = serde_json::to_string_pretty(&split.prefetch_map)
        .map_err(|e| format!("cannot write the prefetch manifest: {e}"))?;
    let path = pkg_dir.join("__wasm_split_manifest.json");
    std::fs::write(&path, manifest).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!(
        "    split into the main module and {} chunks",
        split.split_modules.len()
    );
    Ok(())
}
