import { randomBytes } from "node:crypto";
import { test, expect, agentPage, baton, createAccount, fakeBatonIntegration, row, signIn, waitForHydration } from "./fixtures";

// A bot on Baton's own Botpress integration (HITL 2.1): the handoff brings the
// conversation before it, its priority and its team.

test("an agent sees the conversation before the handoff, then takes over", async ({ browser, request }) => {
  const bot = await fakeBatonIntegration(request);
  const team = `Billing ${randomBytes(3).toString("hex")}`;
  const admin = await agentPage(browser, "Ada Admin", { role: "admin" });
  const created = await admin.page.request.post("/api/v1/teams", {
    headers: { authorization: `Bearer ${baton(["token", "create", "--email", admin.email]).trim().split("\n").pop()}` },
    data: { name: team, agent_ids: [], connection_ids: [] },
  });
  expect(created.status(), await created.text()).toBe(201);

  const { customerId } = await bot.post("createUser", {
    botpressUserId: "user_e2e",
    name: "Dana Customer",
    email: `dana-${randomBytes(3).toString("hex")}@example.org`,
  });
  const { ticketId } = await bot.post("startHitl", {
    customerId,
    title: "Double charge",
    priority: "urgent",
    team,
    messageHistory: [
      { source: { type: "user", userId: "user_e2e" }, type: "text", payload: { text: "I was charged twice" } },
      { source: { type: "bot" }, type: "text", payload: { text: "Sorry to hear that. Which order?" } },
      { source: { type: "user", userId: "user_e2e" }, type: "text", payload: { text: "Order 5521" } },
      { source: { type: "bot" }, type: "text", payload: { text: "Let me get a person for you" } },
    ],
  });
  await bot.post("message", {
    ticketId,
    conversationId: "conv_e2e",
    messageId: "msg_live_1",
    from: "customer",
    customerId,
    type: "text",
    payload: { text: "Hello? Anyone there?", userId: "user_e2e" },
  });

  // The queue shows how urgent it is and whose queue it is in.
  await expect(row(admin.page, ticketId)).toBeVisible();
  await expect(row(admin.page, ticketId).getByTestId("priority")).toHaveText("urgent");
  await expect(row(admin.page, ticketId).getByTestId("team")).toHaveText(team);

  await row(admin.page, ticketId).getByRole("link").click();
  await expect(admin.page.getByTestId("ticket-title")).toHaveText("Double charge");
  const transcript = admin.page.getByTestId("transcript");
  // The conversation with the bot leads, under its heading, in order.
  await expect(transcript.getByTestId("before-handoff")).toBeVisible();
  const items = transcript.locator(':scope > li[data-testid="message"], :scope > li.handoff-line');
  await expect(items).toHaveText([
    /Before the handoff/,
    /I was charged twice/,
    /Which order\?/,
    /Order 5521/,
    /Let me get a person/,
    /Handed over/,
    /Anyone there\?/,
  ]);
  await expect(transcript.locator('[data-origin="transcript_customer"]').first()).toContainText("(with the bot)");

  // Taking it tells the integration who the agent is, signed.
  await waitForHydration(admin.page);
  await admin.page.getByTestId("take").click();
  await expect(admin.page.getByTestId("held-by")).toHaveText("You");
  await expect.poll(() => bot.received("agent-assigned").length).toBe(1);
  expect(bot.received("agent-assigned")[0]).toEqual({
    ticketId,
    conversationId: "conv_e2e",
    agent: { id: expect.stringMatching(/^agt_/), name: admin.name, avatarUrl: null },
  });
  bot.close();
});

test("an admin connects a bot on Baton's integration: no webhook URL to copy", async ({ page, request }) => {
  await signIn(page, createAccount("admin"));
  await expect(page.getByRole("heading", { name: "Inbox" })).toBeVisible();
  await page.getByRole("link", { name: "Connections" }).click();
  await waitForHydration(page);
  const name = `bot-${randomBytes(4).toString("hex")}`;
  const form = page.locator("form", { has: page.getByRole("button", { name: "Add connection" }) });
  await form.getByLabel("Name").fill(name);
  // Baton's integration is the default, and asks for nothing else.
  await expect(form.getByLabel(/Baton's integration/)).toBeChecked();
  await expect(form.getByLabel("Webhook URL")).toHaveCount(0);
  await form.getByRole("button", { name: "Add connection" }).click();
  const endpoint = await page.getByRole("textbox", { name: "Endpoint URL" }).inputValue();
  expect(endpoint).toMatch(/\/botpress\/[A-Za-z0-9_-]+$/);
  await expect(page.getByText("Install the HITL plugin and choose Baton's integration")).toBeVisible();
  const card = page.locator(`section[data-connection="${name}"]`);
  await expect(card.getByTestId("integration")).toHaveText("Baton's integration (HITL 2.1)");
  await expect(card.getByTestId("registered")).toContainText("not yet");

  // Botpress installs the integration: it registers, bringing its webhook URL.
  const hook = `https://webhook.botpress.cloud/${randomBytes(8).toString("hex")}`;
  const registered = await request.post(`${endpoint}/register`, { data: { webhookUrl: hook, botId: "bot_1" } });
  expect(registered.status()).toBe(200);
  expect((await registered.json()).connection).toBe(name);
  await page.reload();
  await expect(card.getByTestId("registered-webhook")).toHaveText(hook);
  await expect(card.getByTestId("registered").locator("time")).toHaveAttribute("datetime", /Z$/);
});
