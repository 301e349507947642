import { readFileSync } from "node:fs";
import path from "node:path";
import { test, expect, waitForHydration, fakeBotpress, escalate, says, agentPage, SCREENSHOTS } from "./fixtures";

test("reports: a lead reads today's numbers for one bot, with charts, tables and CSV", async ({ browser, request }) => {
  const bot = await fakeBotpress();
  const admin = await agentPage(browser, "Lea Lead", { role: "admin" });
  // Two customers today: one is answered and handed back, the other still waits.
  const answered = await escalate(bot, request, "Answered today");
  await escalate(bot, request, "Still waiting");
  await says(bot, request, answered.ticket, answered.customer, { type: "text", text: "Hello?" });
  for (const [fn, form] of [
    ["take", { id: answered.ticket }],
    ["reply", { id: answered.ticket, text: "Hi, I am here" }],
    ["close", { id: answered.ticket }],
  ] as const) {
    const r = await admin.page.request.post(`/api/inbox/${fn}`, { form });
    expect(r.status(), fn).toBe(200);
  }

  await admin.page.getByRole("link", { name: "Reports" }).click();
  await expect(admin.page.getByRole("heading", { name: "Reports" })).toBeVisible();
  await waitForHydration(admin.page);
  const filter = admin.page.getByTestId("report-filter");
  await filter.getByLabel("Time zone").fill("UTC");
  await filter.getByLabel("Bot").selectOption({ label: bot.name });
  await filter.getByRole("button", { name: "Show" }).click();
  await expect(admin.page).toHaveURL(/connection=\d+/);
  const counts = admin.page.getByTestId("report-counts");
  const tile = (name: string) => counts.locator(".stat", { hasText: name }).locator(".stat-value");
  await expect(tile("Created")).toHaveText("2");
  await expect(tile("Taken")).toHaveText("1");
  await expect(tile("Closed")).toHaveText("1");
  await expect(tile("Handed back")).toHaveText("1");
  await expect(tile("Abandoned")).toHaveText("0");
  // The customer's message and the agent's reply, over two conversations.
  await expect(tile("Messages per conversation")).toHaveText("1.0");
  await expect(admin.page.getByTestId("report-times").locator("tr", { hasText: "First response" })).not.toContainText("–");
  // The charts are pictures with a name, drawn by the server.
  await expect(admin.page.getByRole("img", { name: "Conversations per day" })).toBeVisible();
  await expect(admin.page.getByRole("img", { name: "Conversations by hour of the week" })).toBeVisible();
  const today = new Date().toISOString().slice(0, 10);
  await admin.page.getByText("Per day, as a table").click();
  await expect(admin.page.getByTestId("report-daily").locator("tr", { hasText: today })).toContainText("2");
  await expect(admin.page.getByTestId("report-agents").locator("tr", { hasText: admin.name })).toContainText("1");
  // Per bot: created, taken, closed, handed back, abandoned.
  const row = admin.page.getByTestId("report-bots").locator("tr", { hasText: bot.name }).locator("td");
  await expect(row).toHaveText(["2", "1", "1", "1", "0", /\d+ s|min/, /\d+ s|min/, /\d+ s|min/]);

  // Arrivals by hour of the week, as a table and as CSV: both conversations.
  await admin.page.getByText("By hour, as a table").click();
  const hours = admin.page.waitForEvent("download");
  await admin.page.getByRole("link", { name: "Download by hour (CSV)" }).click();
  const byHour = readFileSync((await (await hours).path())!, "utf8").trim().split("\r\n");
  expect(byHour[0]).toMatch(/^"weekday","00","01",/);
  const cells = byHour.slice(1).flatMap((line) =>
    line
      .split(",")
      .slice(1)
      .map((cell) => Number(cell.replace(/"/g, ""))),
  );
  expect(cells).toHaveLength(7 * 24);
  expect(cells.reduce((a, b) => a + b, 0)).toBe(2);

  const download = admin.page.waitForEvent("download");
  await admin.page.getByRole("link", { name: "Download the summary (CSV)" }).click();
  const file = await (await download).path();
  const csv = readFileSync(file!, "utf8");
  expect(csv.split("\r\n")[1]).toMatch(/^"2","1","1","1","0",/);

  await admin.page.setViewportSize({ width: 1280, height: 1000 });
  await admin.page.evaluate(() => window.scrollTo(0, 0));
  await admin.page.screenshot({
    path: path.join(SCREENSHOTS, "reports-1280.png"),
    animations: "disabled",
  });
  await admin.context.close();
  bot.close();
});
