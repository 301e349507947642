import { randomBytes } from "node:crypto";
import path from "node:path";
import { test, expect, waitForHydration, fakeBotpress, escalate, agentPage, SCREENSHOTS } from "./fixtures";
import type { Page } from "@playwright/test";

/** Records the page's desktop notifications (the page is reloaded to install it). */
async function recordNotifications(page: Page) {
  await page.context().addInitScript(() => {
    const w = window as any;
    w.__notifications = [];
    w.Notification = class {
      static permission = "granted";
      static requestPermission() {
        return Promise.resolve("granted");
      }
      constructor(title: string) {
        w.__notifications.push(title);
      }
    };
  });
  const saved = await page.request.post("/api/profile/alerts/save", {
    form: { desktop: "on", when_focused: "on" },
  });
  expect(saved.status()).toBe(200);
  await page.goto("/inbox?view=mine");
  await waitForHydration(page);
  await expect(page.getByTestId("live-state")).toHaveText("Live");
}

const mine = (page: Page) => page.locator("li[data-ticket]");

test("automatic assignment: an admin sets it up, two available agents get one each, an away agent gets nothing", async ({
  browser,
  request,
}) => {
  const bot = await fakeBotpress();
  const ana = await agentPage(browser, "Ana Auto");
  const ben = await agentPage(browser, "Ben Auto");
  await recordNotifications(ana.page);
  await recordNotifications(ben.page);

  // The admin makes a team of the two for this bot, and turns automatic assignment on
  // with room for one conversation each.
  const admin = await agentPage(browser, "Ada Router", { role: "admin" });
  await admin.page.getByRole("link", { name: "Routing" }).click();
  await expect(admin.page.getByRole("heading", { name: "Routing" })).toBeVisible();
  await waitForHydration(admin.page);
  const teamName = `Team ${randomBytes(3).toString("hex")}`;
  const form = admin.page.getByTestId("team-form");
  await form.getByLabel("Team name").fill(teamName);
  await form.getByTestId("team-agents").getByLabel(ana.name).check();
  await form.getByTestId("team-agents").getByLabel(ben.name).check();
  await form.getByTestId("team-connections").getByLabel(bot.name).check();
  await form.getByRole("button", { name: "Add team" }).click();
  const team = admin.page.getByTestId("team-row").filter({ hasText: teamName });
  await expect(team).toContainText(ana.name);
  await expect(team).toContainText(bot.name);
  const routing = admin.page.getByTestId("routing-connection").filter({ hasText: bot.name });
  await routing.getByTestId("assignment").selectOption("automatic");
  await routing.getByTestId("default-capacity").fill("1");
  const saved = admin.page.waitForResponse((r) => r.url().includes("/api/admin/routing/connection"));
  await routing.getByTestId("save-routing").click();
  expect((await saved).status()).toBe(200);
  await admin.page.reload();
  await waitForHydration(admin.page);
  await expect(routing.getByTestId("assignment")).toHaveValue("automatic");
  await expect(routing.getByTestId("default-capacity")).toHaveValue("1");

  // Two customers: one conversation each, live in Mine, with an alert, and Botpress
  // is told who took it.
  const one = await escalate(bot, request, "Auto one");
  const two = await escalate(bot, request, "Auto two");
  await expect.poll(() => bot.received("agent-assigned").length).toBe(2);
  const assigned = bot.received("agent-assigned");
  expect(assigned.map((b) => b.remoteConversationId).sort()).toEqual([one.ticket, two.ticket].sort());
  expect(new Set(assigned.map((b) => b.remoteUserId)).size).toBe(2);
  await expect(mine(ana.page)).toHaveCount(1);
  await expect(mine(ben.page)).toHaveCount(1);
  for (const p of [ana.page, ben.page]) {
    await expect.poll(() => p.evaluate(() => (window as any).__notifications)).toContain("A conversation is yours");
  }

  // Ben steps away and closes his: the next customer waits, as Ana is full.
  const bens = (await mine(ben.page).first().getAttribute("data-ticket"))!;
  const benId = assigned.find((b) => b.remoteConversationId === bens)!.remoteUserId;
  const away = ben.page.waitForResponse((r) => r.url().includes("/api/profile/availability/set"));
  await ben.page.getByTestId("availability").selectOption("away");
  expect((await away).status()).toBe(200);
  const closed = await ben.page.request.post("/api/inbox/close", { form: { id: bens } });
  expect(closed.status()).toBe(200);
  await expect(mine(ben.page)).toHaveCount(0);
  const three = await escalate(bot, request, "Auto three");
  await admin.page.goto("/inbox");
  await expect(admin.page.locator(`li[data-ticket="${three.ticket}"]`)).toBeVisible();
  // Negative by nature: give the router ample time to (wrongly) assign it.
  await admin.page.waitForTimeout(1_000);
  expect(bot.received("agent-assigned")).toHaveLength(2);

  // Ben is back: it is his at once.
  await ben.page.getByTestId("availability").selectOption("available");
  await expect.poll(() => bot.received("agent-assigned").length).toBe(3);
  expect(bot.received("agent-assigned")[2]).toEqual({ remoteConversationId: three.ticket, remoteUserId: benId });
  await expect(mine(ben.page)).toHaveCount(1);
  await expect(ben.page.locator(`li[data-ticket="${three.ticket}"]`)).toBeVisible();
  // For the README's team lead guide: the top of the page (the rest is one row per
  // bot and per agent, long on the shared test server).
  await admin.page.setViewportSize({ width: 1280, height: 900 });
  await admin.page.goto("/admin/routing");
  await waitForHydration(admin.page);
  await admin.page.screenshot({
    path: path.join(SCREENSHOTS, "routing-1280.png"),
    animations: "disabled",
  });
  for (const c of [ana.context, ben.context, admin.context]) await c.close();
  bot.close();
});

test("after hours: the customer gets the admin's message and goes back to the bot", async ({ browser, request }) => {
  const bot = await fakeBotpress();
  const admin = await agentPage(browser, "Ada Hours", { role: "admin" });
  await admin.page.goto("/admin/routing");
  await waitForHydration(admin.page);
  const hours = admin.page.locator(`details[data-testid="hours"][data-connection="${bot.name}"]`);
  await hours.locator("summary").click();
  // A time zone and no open day: closed all week.
  await hours.getByLabel("Time zone").fill("Europe/Paris");
  await hours.getByLabel("When nobody can take it").selectOption("hand_back");
  const message = "We are closed now: the bot will take your details.";
  await hours.getByLabel("Message to the customer").fill(message);
  const saved = admin.page.waitForResponse((r) => r.url().includes("/api/admin/routing/hours"));
  await hours.getByRole("button", { name: "Save hours" }).click();
  expect((await saved).status()).toBe(200);
  await expect(hours.locator("summary")).toHaveText(`${bot.name}: hours in Europe/Paris`);
  // For the README's team lead guide: the form as saved.
  if (!(await hours.evaluate((d) => (d as HTMLDetailsElement).open))) await hours.locator("summary").click();
  await admin.page.setViewportSize({ width: 1280, height: 900 });
  await hours.screenshot({
    path: path.join(SCREENSHOTS, "routing-hours-1280.png"),
    animations: "disabled",
  });

  const { ticket } = await escalate(bot, request, "Late customer");
  await expect.poll(() => bot.received("stop-hitl").length, { timeout: 10_000 }).toBe(1);
  expect(bot.received("message-from-agent")).toEqual([
    { remoteConversationId: ticket, remoteUserId: "agt_baton", messageType: "text", payload: { text: message } },
  ]);
  expect(bot.received("stop-hitl")).toEqual([{ remoteConversationId: ticket }]);
  // The agents see why, in the closed conversation.
  await admin.page.goto(`/inbox/${ticket}?view=closed`);
  await expect(admin.page.getByText("Handed back to the bot: outside business hours")).toBeVisible();
  await admin.context.close();
  bot.close();
});
