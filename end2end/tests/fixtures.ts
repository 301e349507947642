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
