//! `baton-site-wasm INPUT SPLIT_MAIN PKG_DIR OUTPUT_NAME`: turns the wasm that
//! `cargo build -p frontend` linked (with `--emit-relocs`) into the site's files.
//!
//! 1. Splits it at every `#[lazy]` point: into `PKG_DIR`, one `chunk_N.wasm` or
//!    `split_*.wasm` per lazily loaded piece, the loader
//!    `__wasm_split.______________________.js` the main module imports them through,
//!    and `__wasm_split_manifest.json` (which chunks each route prefetches); the main
//!    module to `SPLIT_MAIN`.
//! 2. Runs wasm-bindgen on the main module (`--target web`, keeping the exports the
//!    chunks link against): `OUTPUT_NAME.js` and `OUTPUT_NAME.wasm` in `PKG_DIR`.
//!
//! The names are the ones Leptos' hydration scripts and lazy routes look for, as
//! cargo-leptos writes them.

use std::path::PathBuf;
use std::process::ExitCode;

/// The loader's file name, relative to the main module. The underscores are what the
/// Leptos runtime expects, not a placeholder.
const LINK_NAME: &str = "./__wasm_split.______________________.js";

fn main() -> ExitCode {
    match run(std::env::args_os().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("baton-site-wasm: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<std::ffi::OsString>) -> Result<(), String> {
    let [input, split_main, pkg_dir, output_name] = <[_; 4]>::try_from(args).map_err(|_| {
        "usage: baton-site-wasm INPUT.wasm SPLIT_MAIN.wasm PKG_DIR OUTPUT_NAME".to_owned()
    })?;
    let (input, split_main, pkg_dir) = (
        PathBuf::from(input),
        PathBuf::from(split_main),
        PathBuf::from(pkg_dir),
    );
    let output_name = output_name.to_string_lossy().into_owned();

    let wasm =
        std::fs::read(&input).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let main_module = format!("./{output_name}.js");
    let split = wasm_split_cli_support::transform({
        let mut opts = wasm_split_cli_support::Options::new(&wasm);
        opts.output_dir = &pkg_dir;
        opts.main_out_path = &split_main;
        opts.main_module = &main_module;
        opts.link_name = LINK_NAME;
        opts
    })
    .map_err(|e| format!("cannot split {}: {e:#}", input.display()))?;
    drop(wasm);
    let manifest = serde_json::to_string_pretty(&split.prefetch_map)
        .map_err(|e| format!("cannot write the prefetch manifest: {e}"))?;
    let path = pkg_dir.join("__wasm_split_manifest.json");
    std::fs::write(&path, manifest).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!(
        "    split into the main module and {} chunks",
        split.split_modules.len()
    );

    // As `wasm-bindgen --target web --keep-lld-exports --no-demangle` does.
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&split_main)
        .web(true)
        .map_err(|e| format!("wasm-bindgen: {e:#}"))?
        .out_name(&output_name)
        .keep_lld_exports(true)
        .demangle(false)
        .typescript(true)
        .omit_default_module_path(false)
        .generate(&pkg_dir)
        .map_err(|e| format!("wasm-bindgen on {}: {e:#}", split_main.display()))?;
    // Leptos' hydration scripts load `OUTPUT_NAME.wasm`.
    let from = pkg_dir.join(format!("{output_name}_bg.wasm"));
    let to = pkg_dir.join(format!("{output_name}.wasm"));
    std::fs::rename(&from, &to).map_err(|e| format!("cannot rename {}: {e}", from.display()))?;
    eprintln!("    bound to JavaScript: {output_name}.js, {output_name}.wasm");
    Ok(())
}
