import { randomBytes } from "node:crypto";
import { test, expect, waitForHydration, createAccount, signIn, PASSWORD } from "./fixtures";

const freshEmail = (who: string) => `${who}-${randomBytes(6).toString("hex")}@example.com`;

test("an admin adds an agent, the agent signs in, and deactivation throws them out", async ({
  browser,
  page,
}) => {
  await signIn(page, createAccount("admin", "Ada Admin"));
  await expect(page.getByRole("heading", { name: "Inbox" })).toBeVisible();
  await page.getByRole("link", { name: "Agents" }).click();
  await expect(page.getByRole("heading", { name: "Agents" })).toBeVisible();
  await waitForHydration(page);

  const agentEmail = freshEmail("bea");
  const form = page.locator("form", { has: page.getByRole("button", { name: "Add agent" }) });
  await form.getByLabel("Name").fill("Bea Agent");
  await form.getByLabel("Email").fill(agentEmail);
  await form.getByLabel("Initial password").fill(PASSWORD);
  await form.getByRole("button", { name: "Add agent" }).click();
  await expect(page.getByRole("status")).toContainText(`Created ${agentEmail}`);
  const row = page.locator(`tr[data-email="${agentEmail}"]`);
  await expect(row.getByTestId("status")).toHaveText("Active");

  // The agent works in a browser of their own.
  const agentContext = await browser.newContext();
  const agentPage = await agentContext.newPage();
  await signIn(agentPage, agentEmail);
  await expect(agentPage.getByRole("heading", { name: "Inbox" })).toBeVisible();
  await expect(agentPage.getByRole("link", { name: "Agents" })).toHaveCount(0);
  const refused = await agentPage.goto("/admin/agents");
  expect(refused!.status()).toBe(403);
  await expect(agentPage.getByRole("heading", { name: "Admins only" })).toBeVisible();
  await agentPage.goto("/");
  await waitForHydration(agentPage);

  page.once("dialog", (dialog) => dialog.accept());
  await row.getByRole("button", { name: "Deactivate" }).click();
  await expect(row.getByTestId("status")).toHaveText("Deactivated");

  // The agent's open tab is signed out at once (its websocket is closed).
  await expect(agentPage).toHaveURL(/\/login$/, { timeout: 2_000 });
  await agentContext.close();
});

test("an invited agent opens the link, chooses a password and is signed in", async ({
  browser,
  page,
}) => {
  await signIn(page, createAccount("admin"));
  await expect(page.getByRole("heading", { name: "Inbox" })).toBeVisible();
  await page.goto("/admin/agents");
  await waitForHydration(page);
  const email = freshEmail("ivy");
  const form = page.locator("form", { has: page.getByRole("button", { name: "Add agent" }) });
  await form.getByLabel("Name").fill("Ivy Invited");
  await form.getByLabel("Email").fill(email);
  await form.getByLabel("Make an invitation link").check();
  await expect(form.getByLabel("Initial password")).toBeHidden();
  await form.getByRole("button", { name: "Add agent" }).click();
  const link = await page.getByTestId("one-time-link").inputValue();
  expect(link).toContain("/welcome?token=");
  await expect(page.locator(`tr[data-email="${email}"]`).getByTestId("status")).toHaveText("Invited");

  const context = await browser.newContext();
  const invited = await context.newPage();
  await invited.goto(link);
  await expect(invited.getByRole("heading", { name: "Welcome to Baton" })).toBeVisible();
  await expect(invited.getByText(`Choose a password for ${email}`)).toBeVisible();
  await waitForHydration(invited);
  await invited.getByLabel("Password").fill(PASSWORD);
  await invited.getByRole("button", { name: "Set password and sign in" }).click();
  await expect(invited).toHaveURL(/\/inbox$/);
  await expect(invited.getByTestId("signed-in-as")).toHaveText("Ivy Invited");

  // The link worked once.
  await invited.goto(link);
  await expect(invited.getByRole("heading", { name: "This link does not work" })).toBeVisible();
  await context.close();
});

test("an admin connects a bot on plus/hitl-api and sees Botpress's first call arrive", async ({ page, request }) => {
  await signIn(page, createAccount("admin"));
  await expect(page.getByRole("heading", { name: "Inbox" })).toBeVisible();
  await page.getByRole("link", { name: "Connections" }).click();
  await waitForHydration(page);
  const name = `bot-${randomBytes(4).toString("hex")}`;
  const form = page.locator("form", { has: page.getByRole("button", { name: "Add connection" }) });
  await form.getByLabel("Name").fill(name);
  await form.getByLabel(/Human in the Loop API/).check();
  await form.getByLabel("Webhook URL").fill("https://webhook.botpress.cloud/secret-webhook-id");
  await form.getByRole("button", { name: "Add connection" }).click();
  const endpoint = await page.getByRole("textbox", { name: "Endpoint URL" }).inputValue();
  expect(endpoint).toMatch(/\/botpress\/[A-Za-z0-9_-]+$/);
  await expect(page.getByText("Paste the endpoint URL above")).toBeVisible();
  const card = page.locator(`section[data-connection="${name}"]`);
  await expect(card.getByTestId("last-inbound")).toHaveText("never");

  // Botpress saves the integration: it pings the endpoint.
  const ping = await request.post(`${endpoint}/ping`, { data: { type: "ping" } });
  expect(ping.status()).toBe(200);
  await page.reload();
  // Shown in the browser's own time zone once the page has hydrated.
  await expect(card.getByTestId("last-inbound").locator("time")).toHaveAttribute("datetime", /Z$/);
  await expect(card.getByTestId("last-inbound")).not.toHaveText(/UTC/);
  // The webhook URL was accepted but is never shown again.
  expect(await page.content()).not.toContain("secret-webhook-id");
});
