// Writes NAME.gz and NAME.br beside every file of the site folder given as the first
// argument (run by `cargo xtask` through `node -e`), so the server sends assets
// compressed without compressing them per request. Node's zlib does both formats;
// brotli at its best quality, as the files are compressed once per build.
import { readdirSync, readFileSync, writeFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      walk(path);
    } else if (!name.endsWith(".gz") && !name.endsWith(".br")) {
      const data = readFileSync(path);
      writeFileSync(`${path}.gz`, gzipSync(data, { level: 9 }));
      writeFileSync(
        `${path}.br`,
        brotliCompressSync(data, {
          params: {
            [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
            [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
          },
        }),
      );
    }
  }
}

const site = process.argv[1];
if (!site) {
  console.error("usage: node precompress.mjs SITE_DIR");
  process.exit(2);
}
walk(site);
