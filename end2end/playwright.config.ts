import { defineConfig } from "@playwright/test";
import { existsSync } from "node:fs";

// `cargo xtask test` starts the release server on a free port and passes BASE_URL.
// Browsers are never downloaded: we drive Debian's Chromium.
const executablePath =
  process.env.CHROMIUM_PATH ??
  ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));

export default defineConfig({
  testDir: "./tests",
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: "list",
  // A whole flow (three signed-in browsers, a routing setup, a screenshot) takes
  // 20-25 s on an idle 2-core machine. With other work on it (CI's machine is shared)
  // flows took up to 60 s with every step passing: the routing flow beside two other
  // browser runs, the notes flow beside a browser run and two API runs (load average
  // about 15 on 2 cores). A hang still fails, after two minutes.
  timeout: 120_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL: process.env.BASE_URL ?? "http://127.0.0.1:3000",
    // A trace (screencast, DOM snapshots) is kept for a failure, to open with `npx
    // playwright show-trace`. Recording one costs 1.6 to 1.8 times the CPU (the
    // browser and Playwright, workspace.spec.ts: 59 and 73 s against 38 and 41 s),
    // which in CI (where the machine and its files go after the run, and only the log
    // is kept) buys nothing, so CI runs without.
    trace: process.env.CI ? "off" : "retain-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        browserName: "chromium",
        headless: true,
        launchOptions: {
          executablePath,
          // Root needs --no-sandbox; the rest keeps Chromium off the (closed) network.
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
          ],
        },
      },
    },
  ],
});
