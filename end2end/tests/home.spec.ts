import { test, expect, waitForHydration } from "./fixtures";

test("home page is server-rendered, hydrates and calls a server function", async ({ page }) => {
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);

  // Server-rendered content is there before any script runs.
  const html = await response!.text();
  expect(html).toContain("Baton is running");
  expect(html).toContain("reachable, schema");

  await expect(page).toHaveTitle("Baton");
  await expect(page.getByRole("heading", { name: "Baton is running" })).toBeVisible();
  await expect(page.getByTestId("database")).toContainText("reachable, schema");

  await waitForHydration(page);

  // A click handled by the wasm calls the status server function over HTTP.
  const checkCount = page.getByTestId("check-count");
  await expect(checkCount).toHaveText("");
  const call = page.waitForResponse(
    (r) => r.url().endsWith("/api/status") && r.request().method() === "POST",
  );
  await page.getByRole("button", { name: "Check again" }).click();
  const reply = await call;
  expect(reply.status()).toBe(200);
  const status = await reply.json();
  expect(status.migrations).toBeGreaterThan(0);

  // The page shows what the server answered.
  await expect(checkCount).toHaveText("Checked once from this page");
  await expect(page.getByTestId("database-time")).toHaveText(status.database_time);
  await expect(page.getByTestId("version")).toHaveText(status.version);

  await page.getByRole("button", { name: "Check again" }).click();
  await expect(checkCount).toHaveText("Checked 2 times from this page");
});

test("unknown pages show a 404 page with a way back", async ({ page, allowedConsoleErrors }) => {
  // Chromium reports the document's own 404 status as a console error.
  allowedConsoleErrors.push(/\/does-not-exist$/);
  const response = await page.goto("/does-not-exist");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await waitForHydration(page);
  await page.getByRole("link", { name: "Back to the start page" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { name: "Baton is running" })).toBeVisible();
});
