import { test, expect, waitForHydration, createAccount, signIn, baton } from "./fixtures";

test("anonymous visitors are sent to sign in, and only the right password lets them in", async ({
  page,
  allowedConsoleErrors,
}) => {
  // The wrong password is answered 401, which Chromium logs.
  allowedConsoleErrors.push(/\/api\/auth\/login$/);
  const email = createAccount("agent", "Ana Agent");
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();

  await signIn(page, email, "not the password");
  await expect(page.getByRole("alert")).toHaveText("Wrong email or password.");
  await expect(page).toHaveURL(/\/login$/);

  await page.getByLabel("Password").fill("a long enough password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/inbox$/);
  await expect(page.getByTestId("signed-in-as")).toHaveText("Ana Agent");
});

test("the status page hydrates and calls a server function", async ({ page }) => {
  await signIn(page, createAccount("agent"));
  await expect(page.getByRole("heading", { name: "Inbox" })).toBeVisible();
  // Server-rendered on a direct visit, before any script runs.
  const response = await page.goto("/status");
  const html = await response!.text();
  expect(html).toContain("reachable, schema");
  await waitForHydration(page);

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
  await expect(checkCount).toHaveText("Checked once from this page");
  await expect(page.getByTestId("database-time")).toHaveText(status.database_time);
  await page.getByRole("button", { name: "Check again" }).click();
  await expect(checkCount).toHaveText("Checked 2 times from this page");
});

test("signing out ends the session", async ({ page }) => {
  await signIn(page, createAccount("agent"));
  await expect(page.getByRole("heading", { name: "Inbox" })).toBeVisible();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  // The server closed this tab's live connection as it signed the session out; the
  // tab, which signed itself out, must not load the sign-in page again on top of
  // the person's next page.
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
});

test("a deactivated agent's open tab is signed out within a second", async ({
  page,
  allowedConsoleErrors,
}) => {
  // The refused call and the refused sign-in are 401s, which Chromium logs.
  allowedConsoleErrors.push(/\/api\/status$/, /\/api\/auth\/login$/);
  const email = createAccount("agent");
  await signIn(page, email);
  await expect(page.getByRole("heading", { name: "Inbox" })).toBeVisible();
  await waitForHydration(page);
  await expect(page.getByTestId("live-state")).toHaveText("Live");
  // The CLI is another process: the server notices on its own and closes the socket.
  baton(["user", "deactivate", "--email", email]);
  await expect(page).toHaveURL(/\/login$/, { timeout: 2_000 });
  await signIn(page, email);
  await expect(page.getByRole("alert")).toHaveText("Wrong email or password.");
});

test("unknown pages show a 404 page with a way back", async ({ page, allowedConsoleErrors }) => {
  // Chromium reports the document's own 404 status as a console error.
  allowedConsoleErrors.push(/\/does-not-exist$/);
  const response = await page.goto("/does-not-exist");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await waitForHydration(page);
  await page.getByRole("link", { name: "Back to the start page" }).click();
  // The start page needs a signed-in person, so an anonymous visitor ends at sign-in.
  await expect(page).toHaveURL(/\/login$/);
});

test("the inbox downloads no admin code; an admin page fetches its own module when opened", async ({ page }) => {
  const wasm: string[] = [];
  page.on("request", (request) => {
    const path = new URL(request.url()).pathname;
    if (path.endsWith(".wasm")) wasm.push(path);
  });
  await signIn(page, createAccount("admin"));
  await expect(page.getByRole("heading", { name: "Inbox" })).toBeVisible();
  await page.goto("/inbox");
  await waitForHydration(page);
  // Only the main module: the admin pages, the profile and setup are not loaded.
  expect(wasm.filter((p) => p.includes("admin") || p.includes("agents_route"))).toEqual([]);
  expect(wasm.filter((p) => p.includes("profile_route") || p.includes("setup_route"))).toEqual([]);
  expect(wasm).toContain("/pkg/baton.wasm");

  // Going to the Agents page in the app loads its module, and the page works.
  await page.getByRole("link", { name: "Agents" }).click();
  await expect(page.getByRole("heading", { name: "Agents" })).toBeVisible();
  await expect.poll(() => wasm.some((p) => p.includes("agents_route"))).toBe(true);
  await expect(page.getByRole("button", { name: "Add agent" })).toBeVisible();
});
