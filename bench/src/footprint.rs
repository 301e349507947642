//! Start-up time, idle memory, and the bytes a browser downloads on first visit.

use std::time::Duration;

use crate::process::{Baton, scratch};
use crate::report::Row;
use crate::stats::{Samples, ms};
use crate::{Config, Scale};

/// What the first visit of the inbox loads besides the HTML (the names cargo-leptos
/// gives them). The split loader is imported by `baton.js`; the pages built as
/// separate modules (`split_*.wasm`) load only when visited, so they are not counted.
const ASSETS: &[&str] = &[
    "/pkg/baton.wasm",
    "/pkg/baton.js",
    "/pkg/baton.css",
    "/pkg/__wasm_split.______________________.js",
];

pub async fn run(config: &Config, scale: &Scale) -> anyhow::Result<Vec<Row>> {
    let mut startup = Samples::default();
    let mut last = None;
    for _ in 0..scale.startups {
        // Each start is on a new, empty database: migrations included.
        let (dir, database) = scratch()?;
        let baton = Baton::start(config, dir, database).await?;
        startup.push(baton.ready_after);
        last = Some(baton);
    }
    let baton = last.ok_or_else(|| anyhow::anyhow!("no start-up measured"))?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = baton.rss_mib()?;

    let client = reqwest::Client::new();
    let mut total = 0usize;
    let mut parts = Vec::new();
    for path in ASSETS {
        let response = client
            .get(baton.url(path))
            .header("accept-encoding", "br, gzip")
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        let encoding = response
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("identity")
            .to_owned();
        // reqwest is built without decompression, so these are the bytes on the wire.
        let bytes = response.bytes().await?.len();
        total += bytes;
        let name = path
            .trim_start_matches("/pkg/")
            .replace(".______________________", "");
        parts.push(format!("{name} {:.1} KB {encoding}", bytes as f64 / 1024.0));
    }
    let total_kb = total as f64 / 1024.0;
    let agents_kb = lazy_module_bytes(&client, &baton, "agents_route").await? as f64 / 1024.0;
    let p50 = startup.percentile(50.0);
    Ok(vec![
        Row::new(
            "Start-up",
            format!(
                "p50 **{}**, max {} (process start to `/readyz` 200, empty database, {} starts)",
                ms(p50),
                ms(startup.percentile(100.0)),
                startup.len()
            ),
            "≤ 200 ms",
            p50 <= Duration::from_millis(200),
        ),
        Row::new(
            "Memory, idle",
            format!("RSS **{idle:.1} MB** (2 s after start)"),
            "≤ 30 MB",
            idle <= 30.0,
        ),
        Row::new(
            "First load",
            format!(
                "**{total_kb:.1} KB** ({}); the admin pages, profile and setup are separate \
                 modules, e.g. the Agents page fetches {agents_kb:.1} KB when first opened",
                parts.join(", ")
            ),
            "≤ 300 KB",
            total_kb <= 300.0,
        ),
    ])
}

/// Bytes on the wire (brotli) of a lazily loaded page's module and the shared chunks
/// it needs, as the split manifest lists them.
async fn lazy_module_bytes(
    client: &reqwest::Client,
    baton: &Baton,
    route: &str,
) -> anyhow::Result<usize> {
    let manifest: serde_json::Value = client
        .get(baton.url("/pkg/__wasm_split_manifest.json"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let (name, chunks) = manifest
        .as_object()
        .and_then(|m| m.iter().find(|(name, _)| name.contains(route)))
        .ok_or_else(|| anyhow::anyhow!("no {route} module in the split manifest"))?;
    let mut files = vec![format!("split_{name}")];
    files.extend(
        chunks
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str().map(str::to_owned)),
    );
    let mut total = 0;
    for file in files {
        let response = client
            .get(baton.url(&format!("/pkg/{file}.wasm")))
            .header("accept-encoding", "br, gzip")
            .send()
            .await?
            .error_for_status()?;
        total += response.bytes().await?.len();
    }
    Ok(total)
}
