import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { test as base, expect, Page } from "@playwright/test";

type Fixtures = {
  /**
   * URLs whose console errors a test expects (e.g. Chromium logs a deliberate 404
   * document as an error). Push to it before navigating.
   */
  allowedConsoleErrors: RegExp[];
};

/** Fails the test on any uncaught page error or unexpected console error. */
export const test = base.extend<Fixtures>({
  allowedConsoleErrors: async ({}, use) => {
    await use([]);
  },
  page: async ({ page, allowedConsoleErrors }, use) => {
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() !== "error") return;
      const url = m.location().url;
      if (allowedConsoleErrors.some((re) => re.test(url))) return;
      problems.push(`console.error: ${m.text()} (${url})`);
    });
    await use(page);
    expect(problems, "the page logged errors").toEqual([]);
  },
});

/** Waits until the wasm has hydrated the page, so clicks reach Leptos handlers. */
export async function waitForHydration(page: Page) {
  await expect(page.locator("[data-hydrated]")).toHaveAttribute("data-hydrated", "true");
}

export { expect };

export const PASSWORD = "a long enough password";

/** Runs the real `baton` CLI against the e2e server's database (set up by `cargo xtask test`). */
export function baton(args: string[], input = ""): string {
  const bin = process.env.BATON_BIN;
  if (!bin) throw new Error("BATON_BIN is not set: run the suite with `cargo xtask test e2e`");
  return execFileSync(bin, args, { input, env: process.env, encoding: "utf8" });
}

/** Creates an account with a fresh email and returns the email. */
export function createAccount(role: "admin" | "agent", name = "Test Person"): string {
  const email = `${role}-${randomBytes(6).toString("hex")}@example.com`;
  baton(["user", "create", "--email", email, "--name", name, "--role", role, "--password-stdin"], PASSWORD);
  return email;
}

export async function signIn(page: Page, email: string, password = PASSWORD) {
  await page.goto("/login");
  await waitForHydration(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}
