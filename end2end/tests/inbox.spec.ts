import {
  test,
  expect,
  waitForHydration,
  createAccount,
  signIn,
  fakeBotpress,
  escalate,
  says,
  agentPage,
  row,
} from "./fixtures";

const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgAAIAAAUAAen63NgAAAAASUVORK5CYII=",
  "base64",
);

test("two agents work a ticket live: take, reply, image, transfer, close", async ({ browser, request }) => {
  const bot = await fakeBotpress();
  const a = await agentPage(browser, "Avery Agent");
  const b = await agentPage(browser, "Blake Agent");

  // Botpress escalates; both inboxes show it without a reload.
  const { ticket, customer } = await escalate(bot, request, "Refund for order 1234");
  await expect(row(a.page, ticket)).toBeVisible({ timeout: 1_000 });
  await expect(row(b.page, ticket)).toBeVisible({ timeout: 1_000 });
  await says(bot, request, ticket, customer, { type: "text", text: "Hello, I need a human" });
  await expect(row(a.page, ticket)).toContainText("Hello, I need a human");
  await expect(row(a.page, ticket).getByTestId("holder")).toHaveText("Unassigned");

  // A takes it over; B's queue drops it.
  await row(a.page, ticket).getByRole("link").click();
  await expect(a.page.getByTestId("ticket-title")).toHaveText("Refund for order 1234");
  await waitForHydration(a.page);
  await expect(a.page.getByTestId("composer-reason")).toContainText("Take this ticket");
  await a.page.getByTestId("take").click();
  await expect(a.page.getByTestId("held-by")).toHaveText("You");
  await expect(row(b.page, ticket)).toHaveCount(0);
  await expect.poll(() => bot.received("agent-assigned").length).toBe(1);

  // A replies with Enter; the bot's webhook receives it.
  const composer = a.page.getByTestId("composer");
  await composer.fill("Hi Dana, I can help.");
  await composer.press("Enter");
  await expect.poll(() => bot.received("message-from-agent").map((m) => m.payload?.text)).toContain("Hi Dana, I can help.");
  await expect(a.page.locator('[data-origin="agent"]').last().getByTestId("delivery")).toHaveText("Sent");

  // The customer answers; A sees it live.
  await says(bot, request, ticket, customer, { type: "text", text: "Thanks! Order 1234." });
  await expect(a.page.locator('[data-origin="customer"]').last()).toContainText("Thanks! Order 1234.");

  // A sends an image; Botpress gets a URL that serves it.
  await a.page.getByTestId("attach").setInputFiles({ name: "receipt.png", mimeType: "image/png", buffer: PNG });
  await expect.poll(() => bot.received("message-from-agent").filter((m) => m.messageType === "image").length).toBe(1);
  const image = bot.received("message-from-agent").find((m) => m.messageType === "image");
  const fetched = await request.get(image.payload.imageUrl);
  expect(fetched.status()).toBe(200);
  expect(fetched.headers()["content-type"]).toBe("image/png");
  expect(Buffer.from(await fetched.body()).equals(PNG)).toBe(true);
  await expect(a.page.locator('[data-origin="agent"] img.bp-image')).toHaveCount(1);

  // A transfers to B; Botpress hears who holds it now.
  await a.page.getByTestId("open-transfer").click();
  const select = a.page.getByTestId("transfer-to");
  const option = select.locator("option", { hasText: b.name });
  const blakeId = await option.getAttribute("value");
  await select.selectOption(blakeId!);
  await a.page.getByTestId("transfer").click();
  await expect(a.page.getByTestId("held-by")).toHaveText(b.name);
  await expect.poll(() => bot.received("agent-assigned").map((c) => c.remoteUserId)).toContain(blakeId);

  // B finds it under Mine and closes it (after confirming).
  await b.page.goto("/inbox?view=mine");
  await row(b.page, ticket).getByRole("link").click();
  await waitForHydration(b.page);
  b.page.once("dialog", (d) => d.accept());
  await b.page.getByTestId("close").click();
  await expect(b.page.getByTestId("ticket-status")).toHaveText("Closed");
  await expect.poll(() => bot.received("stop-hitl").map((c) => c.remoteConversationId)).toContain(ticket);
  await expect(b.page.getByTestId("composer")).toBeDisabled();

  await a.context.close();
  await b.context.close();
  bot.close();
});

test("messages that arrive while the connection is down all appear, in order", async ({ browser, request }) => {
  const bot = await fakeBotpress();
  const a = await agentPage(browser, "Olive Offline");
  const { ticket, customer } = await escalate(bot, request, "Flaky wifi");
  await says(bot, request, ticket, customer, { type: "text", text: "first" });
  await a.page.goto(`/inbox/${ticket}`);
  await waitForHydration(a.page);
  await expect(a.page.getByTestId("live-state")).toHaveText("Live");

  await a.context.setOffline(true);
  await expect(a.page.getByTestId("live-state")).toHaveText("Offline");
  for (const text of ["one", "two", "three"]) {
    await says(bot, request, ticket, customer, { type: "text", text });
  }
  await a.context.setOffline(false);
  await expect(a.page.getByTestId("live-state")).toHaveText("Live");
  await expect(a.page.locator('[data-origin="customer"] .msg-body')).toHaveText(["first", "one", "two", "three"]);
  await a.context.close();
  bot.close();
});

test("hostile customer content renders inert", async ({ browser, request }) => {
  const bot = await fakeBotpress();
  const a = await agentPage(browser, "Sam Secure");
  const hostile: string[] = [];
  a.page.on("dialog", (d) => {
    hostile.push(d.message());
    d.dismiss();
  });
  a.page.on("request", (r) => {
    if (r.url().includes("evil.example")) hostile.push(r.url());
  });
  const payload = `<img src="https://evil.example/x.png" onerror="alert(1)"><script>alert(2)</script>`;
  const { ticket, customer } = await escalate(bot, request, `<b>title</b><script>alert(3)</script>`, `<svg onload=alert(4)>`);
  await says(bot, request, ticket, customer, { type: "text", text: payload });
  await says(bot, request, ticket, "BOT", {
    type: "markdown",
    markdown:
      "[click me](javascript:alert(5)) <iframe src=https://evil.example/></iframe> **bold** " +
      "<svg><script>alert(10)</script></svg> [data](data:text/html,<script>alert(11)</script>)",
  });
  await says(bot, request, ticket, customer, { type: "image", imageUrl: "javascript:alert(6)" });
  // SVG carrying script, as an image and as a file, and a script link as a file.
  await says(bot, request, ticket, customer, {
    type: "image",
    imageUrl: "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' onload='alert(7)'/>",
  });
  await says(bot, request, ticket, customer, { type: "file", fileUrl: "javascript:alert(8)", title: "<svg/onload=alert(9)>" });
  await a.page.goto(`/inbox/${ticket}`);
  await waitForHydration(a.page);
  await expect(a.page.locator('[data-origin="customer"] .msg-body').first()).toHaveText(payload);
  await expect(a.page.getByTestId("ticket-title")).toHaveText("<b>title</b><script>alert(3)</script>");
  await expect(a.page.getByTestId("customer")).toContainText("<svg onload=alert(4)>");
  const markdown = a.page.locator('[data-origin="system"] .markdown');
  await expect(markdown.locator("strong")).toHaveText("bold");
  await expect(markdown.locator("iframe")).toHaveCount(0);
  expect(await markdown.locator("a").count()).toBe(0);
  await a.page.goto("/inbox");
  await expect(row(a.page, ticket)).toBeVisible();
  expect(hostile).toEqual([]);
  await a.context.close();
  bot.close();
});

test("a queued ticket alerts: notification, sound and a count in the title", async ({ browser, request }) => {
  const bot = await fakeBotpress();
  const context = await browser.newContext();
  // The page's Notification and AudioContext are stubs that record what they are asked.
  await context.addInitScript(() => {
    const w = window as any;
    w.__notifications = [];
    w.__sounds = 0;
    class FakeNotification {
      static permission = "granted";
      static requestPermission() {
        return Promise.resolve("granted");
      }
      constructor(title: string, options: any) {
        w.__notifications.push({ title, body: options?.body });
      }
    }
    w.Notification = FakeNotification;
    const node = () => ({ connect() {}, frequency: { setValueAtTime() {}, set value(_v: number) {} }, gain: { value: 0, linearRampToValueAtTime() {} }, start() { w.__sounds++; }, stop() {} });
    w.AudioContext = class {
      currentTime = 0;
      destination = {};
      createOscillator() { return node(); }
      createGain() { return node(); }
    };
  });
  const page = await context.newPage();
  await signIn(page, createAccount("agent", "Nia Notified"));
  await expect(page).toHaveURL(/\/inbox$/);
  await waitForHydration(page);
  // Alert even though this tab is in front (an agent setting).
  const saved = await page.request.post("/api/profile/alerts/save", {
    form: { sound: "on", desktop: "on", when_focused: "on" },
  });
  expect(saved.status()).toBe(200);
  await page.reload();
  await waitForHydration(page);
  await expect(page.getByTestId("live-state")).toHaveText("Live");

  const { ticket } = await escalate(bot, request, "Alert me");
  await expect(row(page, ticket)).toBeVisible();
  await expect.poll(() => page.evaluate(() => (window as any).__notifications.length)).toBeGreaterThan(0);
  const first = await page.evaluate(() => (window as any).__notifications[0]);
  expect(first.title).toBe("A customer is waiting");
  expect(await page.evaluate(() => (window as any).__sounds)).toBeGreaterThan(0);
  await expect(page).toHaveTitle(/^\(\d+\) Baton$/);
  await context.close();
  bot.close();
});

test("a long conversation opens at its end and shows earlier messages on request", async ({ browser, request }) => {
  const bot = await fakeBotpress();
  const { ticket, customer } = await escalate(bot, request, "Long story");
  for (let n = 1; n <= 130; n++) {
    await says(bot, request, ticket, customer, { type: "text", text: `line ${n}` });
  }
  const { context, page } = await agentPage(browser, "Lea Longread");
  await page.goto(`/inbox/${ticket}`);
  await waitForHydration(page);
  const transcript = page.getByTestId("transcript");
  // The latest hundred, newest last; the first thirty wait behind a button.
  await expect(transcript).toHaveAttribute("data-count", "100");
  await expect(transcript.getByText("line 130", { exact: true })).toBeVisible();
  await expect(transcript.getByText("line 30", { exact: true })).toHaveCount(0);
  const earlier = page.getByTestId("show-earlier");
  await expect(earlier).toHaveText("Show earlier messages (30 more)");
  await earlier.click();
  await expect(transcript).toHaveAttribute("data-count", "130");
  await expect(transcript.getByText("line 1", { exact: true })).toBeVisible();
  await expect(earlier).toHaveCount(0);
  // A new message refetches the conversation and keeps what the agent opened.
  await says(bot, request, ticket, customer, { type: "text", text: "line 131" });
  await expect(transcript).toHaveAttribute("data-count", "131");
  await expect(transcript.getByText("line 1", { exact: true })).toBeVisible();
  await context.close();
  bot.close();
});
