// The agent's workspace tools: canned replies, notes, labels, shortcuts, export,
// search, who else is here, the customer. Each test is what a person does.
import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { test, expect, waitForHydration, fakeBotpress, escalate, says, agentPage, row, SCREENSHOTS } from "./fixtures";


test("canned replies: the team's and one's own fill into the composer", async ({
  browser,
  request,
  watch,
  allowedConsoleErrors,
}) => {
  // The refused save below is a 400, which Chromium logs.
  allowedConsoleErrors.push(/\/api\/canned\/create/);
  const bot = await fakeBotpress();
  const tag = randomBytes(3).toString("hex");
  const admin = await agentPage(browser, "Ada Admin", { role: "admin", watch });
  const agent = await agentPage(browser, "Avery Agent", { watch, context: { viewport: { width: 1280, height: 800 } } });

  // The admin adds a team reply; an unknown variable is refused when saving.
  await admin.page.goto("/admin/replies");
  await waitForHydration(admin.page);
  const team = admin.page.getByTestId("team-replies");
  await team.getByLabel("Shortcut").fill(`refund${tag}`);
  await team.getByLabel("Text").fill("Hello {{customer.phone}}");
  await team.getByRole("button", { name: "Add reply" }).click();
  await expect(team.getByRole("alert")).toContainText("{{customer.phone}} is not a variable");
  await team
    .getByLabel("Text")
    .fill("Hi {{customer.name}}, {{agent.name}} here. Refunds for \u201c{{ticket.title}}\u201d take 5 days.");
  await team.getByRole("button", { name: "Add reply" }).click();
  await expect(team.getByTestId("canned-row").filter({ hasText: `/refund${tag}` })).toBeVisible();
  await expect(team.getByLabel("Shortcut")).toHaveValue("");

  // The agent keeps two of their own on the profile page, and sees the team's there.
  await agent.page.goto("/profile");
  await waitForHydration(agent.page);
  const own = agent.page.getByTestId("own-replies");
  for (const [shortcut, text] of [
    [`thanks${tag}`, "Thanks {{customer.name}}!"],
    [`thanks${tag}-long`, "Thank you for your patience, {{customer.name}}. Anything else?"],
  ]) {
    await own.getByLabel("Shortcut").fill(shortcut);
    await own.getByLabel("Text").fill(text);
    await own.getByRole("button", { name: "Add reply" }).click();
    await expect(own.getByTestId("canned-row").filter({ hasText: `/${shortcut}` })).toBeVisible();
  }
  await expect(own.locator("details summary")).toContainText("Team replies");

  // A customer waits; the agent takes the ticket.
  const { ticket, customer } = await escalate(bot, request, "Broken kettle", "Dana Customer");
  await says(bot, request, ticket, customer, { type: "text", text: "My kettle broke, can I get my money back?" });
  await agent.page.goto("/inbox");
  await row(agent.page, ticket).getByRole("link").click();
  await waitForHydration(agent.page);
  await agent.page.getByTestId("take").click();
  await expect(agent.page.getByTestId("held-by")).toHaveText("You");

  // `/` and part of a shortcut: the picker offers the team reply; Enter fills it in.
  const composer = agent.page.getByTestId("composer");
  const picker = agent.page.getByTestId("canned-picker");
  await composer.fill(`/refund${tag}`);
  await expect(picker.getByRole("option")).toHaveCount(1);
  await expect(picker.getByRole("option").first()).toContainText("team");
  await saveScreenshot(agent.page, "canned-picker-1280");
  await composer.press("Enter");
  const filled = `Hi Dana Customer, ${agent.name} here. Refunds for \u201cBroken kettle\u201d take 5 days.`;
  await expect(composer).toHaveValue(filled);
  await expect(picker).toBeHidden();
  // The text is the agent's to edit before it goes; Enter then sends it.
  await composer.press("End");
  await composer.pressSequentially(" Sorry!");
  await composer.press("Enter");
  await expect
    .poll(() => bot.received("message-from-agent").map((m) => m.payload?.text))
    .toContain(`${filled} Sorry!`);

  // Arrows move through several matches (one's own first); Escape closes the picker.
  await composer.fill(`/thanks${tag}`);
  await expect(picker.getByRole("option")).toHaveCount(2);
  await expect(picker.getByRole("option").first()).toHaveAttribute("aria-selected", "true");
  await composer.press("ArrowDown");
  await expect(picker.getByRole("option").nth(1)).toHaveAttribute("aria-selected", "true");
  await composer.press("Enter");
  await expect(composer).toHaveValue("Thank you for your patience, Dana Customer. Anything else?");
  await composer.fill("/nothing-matches-this");
  await expect(picker).toBeHidden();
  await composer.fill(`/thanks${tag}`);
  await expect(picker).toBeVisible();
  await composer.press("Escape");
  await expect(picker).toBeHidden();
  await expect(composer).toHaveValue(`/thanks${tag}`);

  // An edit by the admin is what the picker offers next time.
  await team.getByTestId("canned-row").filter({ hasText: `/refund${tag}` }).getByRole("button", { name: "Edit" }).click();
  await team.getByLabel("Text").fill("Refunds take 3 days, {{customer.name}}.");
  await team.getByRole("button", { name: "Save changes" }).click();
  await expect(team.getByTestId("canned-row").filter({ hasText: "3 days" })).toBeVisible();
  await composer.fill("");
  await composer.fill(`/refund${tag}`);
  await expect(picker.getByRole("option").first()).toContainText("3 days");

  await admin.context.close();
  await agent.context.close();
  bot.close();
});

test("private notes: a colleague's note and @mention, never sent to Botpress", async ({ browser, request, watch }) => {
  const bot = await fakeBotpress();
  const holder = await agentPage(browser, "Hana Holder", { watch, context: { viewport: { width: 1280, height: 800 } } });
  const helper = await agentPage(browser, "Hugo Helper", { watch });
  // Alerts are recorded, not shown (see the queued-ticket alert test), and wanted
  // even while the tab is in front.
  await holder.context.addInitScript(() => {
    const w = window as any;
    w.__notifications = [];
    w.Notification = class {
      static permission = "granted";
      static requestPermission() {
        return Promise.resolve("granted");
      }
      constructor(title: string, options: any) {
        w.__notifications.push({ title, body: options?.body });
      }
    };
  });
  const saved = await holder.page.request.post("/api/profile/alerts/save", {
    form: { sound: "on", desktop: "on", when_focused: "on" },
  });
  expect(saved.status()).toBe(200);
  await holder.page.reload();
  await waitForHydration(holder.page);
  await expect(holder.page.getByTestId("live-state")).toHaveText("Live");

  const { ticket, customer } = await escalate(bot, request, "Damaged sofa", "Dana Customer");
  await says(bot, request, ticket, customer, { type: "text", text: "The sofa arrived torn." });
  await row(holder.page, ticket).getByRole("link").click();
  await waitForHydration(holder.page);
  await holder.page.getByTestId("take").click();
  await expect(holder.page.getByTestId("held-by")).toHaveText("You");
  // The holder is on another ticket's list when the note comes.
  await holder.page.goto("/inbox?view=mine");
  await waitForHydration(holder.page);
  await expect(holder.page.getByTestId("live-state")).toHaveText("Live");

  // The helper does not hold the ticket, but may write a note on it.
  await helper.page.goto(`/inbox/${ticket}?view=open`);
  await waitForHydration(helper.page);
  await helper.page.getByTestId("mode-note").click();
  const helperComposer = helper.page.getByTestId("composer");
  await expect(helperComposer).toBeEnabled();
  // Typing `@` and part of a name offers the colleague; Enter puts the whole name in.
  await helperComposer.fill("");
  // (Lower case, and up to the last characters of its random suffix: unique.)
  await helperComposer.pressSequentially(`@${holder.name.slice(0, -2).toLowerCase()}`);
  const mentionPicker = helper.page.getByTestId("mention-picker");
  await expect(mentionPicker).toBeVisible();
  await expect(mentionPicker.getByRole("option").first()).toContainText(holder.name);
  await expect(mentionPicker.getByRole("option", { name: /Hugo Helper/ })).toHaveCount(0);
  await saveScreenshot(helper.page, "mention-picker-1280");
  await helperComposer.press("Enter");
  await expect(mentionPicker).toBeHidden();
  await expect(helperComposer).toHaveValue(`@${holder.name} `);
  await helperComposer.pressSequentially("the photos show transport damage, refund in full.");
  await expect(mentionPicker).toBeHidden();
  await helperComposer.press("Enter");
  const helperNote = helper.page.getByTestId("note").last();
  await expect(helperNote).toContainText("transport damage");
  await expect(helperNote).toContainText("Hugo Helper");

  // The holder is alerted of the mention, live, and the Mentions view counts it.
  await expect(holder.page.getByTestId("count-mentions")).toHaveText("1");
  await expect.poll(() => holder.page.evaluate(() => (window as any).__notifications.map((n: any) => n.title))).toContain(
    "You were mentioned",
  );

  // The Mentions view lists the ticket; opening it shows the note and sees the mention.
  await holder.page.getByTestId("tab-mentions").click();
  await expect(row(holder.page, ticket)).toBeVisible();
  await row(holder.page, ticket).getByRole("link").click();
  const note = holder.page.getByTestId("note").last();
  await expect(note).toContainText("refund in full");
  await expect(note).toContainText("Private note");
  await expect(note).toContainText("Hugo Helper");
  await expect(holder.page.getByTestId("count-mentions")).toHaveText("0");
  await waitForHydration(holder.page);
  await saveScreenshot(holder.page, "note-1280");

  // While the holder has it open, the helper's next note appears live.
  await helperComposer.fill("Warehouse confirms: refund approved.");
  await helperComposer.press("Enter");
  await expect(holder.page.getByTestId("note").last()).toContainText("refund approved");

  // A reply is still a reply: the holder switches back and answers the customer.
  const composer = holder.page.getByTestId("composer");
  await holder.page.getByTestId("mode-note").click();
  await composer.fill("Sent to the warehouse team too.");
  await composer.press("Enter");
  await expect(holder.page.getByTestId("note").last()).toContainText("warehouse team");
  await holder.page.getByTestId("mode-reply").click();
  await composer.fill("We will refund you in full.");
  await composer.press("Enter");
  await expect.poll(() => bot.received("message-from-agent").map((m) => m.payload?.text)).toContain("We will refund you in full.");
  // Notes never reach Botpress.
  const sent = JSON.stringify(bot.calls);
  expect(sent).not.toContain("transport damage");
  expect(sent).not.toContain("warehouse team");

  // An empty note is not saved.
  await helper.page.getByTestId("mode-note").click();
  await helperComposer.fill("   ");
  await helperComposer.press("Enter");
  await expect(helper.page.getByTestId("note")).toHaveCount(3);

  await holder.context.close();
  await helper.context.close();
  bot.close();
});

test("labels: an admin defines one, an agent puts it on, everyone sees it, the inbox filters by it", async ({
  browser,
  request,
  watch,
}) => {
  const bot = await fakeBotpress();
  const tag = randomBytes(3).toString("hex");
  const name = `Refund ${tag}`;
  const admin = await agentPage(browser, "Lee Lead", { role: "admin", watch });
  const agent = await agentPage(browser, "Lou Labeller", { watch, context: { viewport: { width: 1280, height: 800 } } });

  await admin.page.goto("/admin/labels");
  await waitForHydration(admin.page);
  const form = admin.page.getByTestId("label-form");
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Colour").fill("#b42318");
  await form.getByRole("button", { name: "Add label" }).click();
  const chip = admin.page.getByTestId("label-row").filter({ hasText: name }).getByTestId("label");
  await expect(chip).toBeVisible();
  await expect(chip).toHaveCSS("background-color", "rgb(180, 35, 24)");
  await expect(chip).toHaveCSS("color", "rgb(255, 255, 255)");

  const { ticket: kettle } = await escalate(bot, request, `Broken kettle ${tag}`);
  const { ticket: parcel } = await escalate(bot, request, `Late parcel ${tag}`);
  await admin.page.goto("/inbox");
  await waitForHydration(admin.page);
  await expect(row(admin.page, kettle)).toBeVisible();

  // The agent puts the label on the kettle ticket from the conversation.
  await agent.page.goto(`/inbox/${kettle}`);
  await waitForHydration(agent.page);
  await agent.page.getByTestId("add-label").click();
  await agent.page.getByTestId("label-menu").getByRole("button", { name }).click();
  const labels = agent.page.getByTestId("ticket-labels");
  await expect(labels.getByTestId("label")).toHaveText([`${name}×`]);
  await expect(row(agent.page, kettle).getByTestId("label")).toHaveText(name);
  // The admin's inbox shows it without a reload.
  await expect(row(admin.page, kettle).getByTestId("label")).toHaveText(name);
  await expect(row(admin.page, parcel).getByTestId("label")).toHaveCount(0);
  await saveScreenshot(agent.page, "labels-1280");

  // Filtering the queue by the label leaves the kettle ticket only, and the URL says so.
  await admin.page.getByTestId("label-filter").selectOption({ label: name });
  await expect(admin.page).toHaveURL(/label=\d+/);
  await expect(row(admin.page, kettle)).toBeVisible();
  await expect(row(admin.page, parcel)).toHaveCount(0);
  await admin.page.getByTestId("label-filter").selectOption({ label: "All" });
  await expect(row(admin.page, parcel)).toBeVisible();

  // Taking it off shows everywhere too.
  await labels.getByTestId("remove-label").click();
  await expect(labels.getByTestId("label")).toHaveCount(0);
  await expect(row(admin.page, kettle).getByTestId("label")).toHaveCount(0);

  await admin.context.close();
  await agent.context.close();
  bot.close();
});

test("keyboard: j/k move, Enter opens, t takes, r and n write, Esc leaves, ? lists the keys", async ({
  browser,
  request,
  watch,
}) => {
  const bot = await fakeBotpress();
  const tag = randomBytes(3).toString("hex");
  const agent = await agentPage(browser, "Kay Keys", { watch, context: { viewport: { width: 1280, height: 800 } } });
  const page = agent.page;
  const { ticket: first } = await escalate(bot, request, `First ${tag}`);
  const { ticket: second } = await escalate(bot, request, `Second ${tag}`);
  await expect(row(page, first)).toBeVisible();
  await expect(row(page, second)).toBeVisible();
  const link = (t: string) => row(page, t).getByRole("link");

  // The queue is oldest first: j steps onto the rows, k steps back. Other tests'
  // tickets may be queued ahead of these two, so walk to ours.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  for (let i = 0; i < 200 && !(await link(first).evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press("j");
  }
  await expect(link(first)).toBeFocused();
  await page.keyboard.press("j");
  await expect(link(second)).toBeFocused();
  await page.keyboard.press("k");
  await expect(link(first)).toBeFocused();

  // Enter opens it; t takes it and the cursor lands in the reply box.
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("ticket-title")).toHaveText(`First ${tag}`);
  await page.keyboard.press("t");
  await expect(page.getByTestId("held-by")).toHaveText("You");
  const composer = page.getByTestId("composer");
  await expect(composer).toBeFocused();
  // Keys typed in a field are text, not shortcuts; Esc leaves the field.
  await page.keyboard.type("just typing j and k");
  await expect(composer).toHaveValue("just typing j and k");
  await expect(page.getByTestId("ticket-title")).toHaveText(`First ${tag}`);
  await page.keyboard.press("Escape");
  await expect(composer).not.toBeFocused();
  // n: a private note, r: back to a reply, each with the cursor in the box.
  await page.keyboard.press("n");
  await expect(page.getByTestId("mode-note")).toHaveAttribute("aria-pressed", "true");
  await expect(composer).toBeFocused();
  await page.keyboard.press("Escape");
  await page.keyboard.press("r");
  await expect(page.getByTestId("mode-reply")).toHaveAttribute("aria-pressed", "true");
  await expect(composer).toBeFocused();
  await page.keyboard.press("Escape");

  // ? lists the keys; Esc closes the list, then the conversation.
  const help = page.getByTestId("shortcut-help");
  await page.keyboard.press("?");
  await expect(help).toBeVisible();
  await expect(help).toContainText("Take the open conversation");
  await page.keyboard.press("Escape");
  await expect(help).toBeHidden();
  await page.keyboard.press("Escape");
  await expect(page).toHaveURL(/\/inbox(\?.*)?$/);
  await expect(page.getByTestId("no-conversation")).toBeVisible();

  await agent.context.close();
  bot.close();
});

test("export: a conversation as a text transcript, and tickets as CSV for admins", async ({ browser, request, watch }) => {
  const bot = await fakeBotpress();
  const tag = randomBytes(3).toString("hex");
  const admin = await agentPage(browser, "Eve Exporter", { role: "admin", watch });
  const { ticket, customer } = await escalate(bot, request, `Export me ${tag}`, "Dana Customer");
  await says(bot, request, ticket, customer, { type: "text", text: "Please keep a record of this." });

  // The conversation's details offer the transcript; the browser saves it.
  await admin.page.goto(`/inbox/${ticket}`);
  await waitForHydration(admin.page);
  const [text] = await Promise.all([admin.page.waitForEvent("download"), admin.page.getByTestId("export-text").click()]);
  expect(text.suggestedFilename()).toBe(`${ticket}.txt`);
  const transcript = fs.readFileSync(await text.path(), "utf8");
  expect(transcript).toContain(`Conversation: Export me ${tag}`);
  expect(transcript).toContain("Dana Customer (customer): Please keep a record of this.");

  // Admins export the tickets of a date range from the audit page.
  await admin.page.goto("/admin/audit");
  await waitForHydration(admin.page);
  const today = new Date().toISOString().slice(0, 10);
  const form = admin.page.getByTestId("export-form");
  await form.getByLabel("From").fill(today);
  await form.getByLabel("To").fill(today);
  const [csv] = await Promise.all([admin.page.waitForEvent("download"), form.getByRole("button", { name: "Download CSV" }).click()]);
  expect(csv.suggestedFilename()).toBe(`tickets-${today}-${today}.csv`);
  const rows = fs.readFileSync(await csv.path(), "utf8");
  expect(rows.split("\r\n")[0]).toBe(
    '"ticket","status","title","bot","customer_name","customer_email","agent","created_at","closed_at","closed_reason","messages","labels"',
  );
  expect(rows).toContain(`"${ticket}","queued","Export me ${tag}",`);

  await admin.context.close();
  bot.close();
});

test("search: one box finds a message far back, opens the conversation at it, filters narrow it", async ({
  browser,
  request,
  watch,
}) => {
  const bot = await fakeBotpress();
  const tag = randomBytes(3).toString("hex");
  const agent = await agentPage(browser, "Sol Searcher", { watch, context: { viewport: { width: 1280, height: 800 } } });
  const { ticket, customer } = await escalate(bot, request, `Kettle ${tag}`, "Zoë Martin");
  // The words to find, then enough after them that the conversation does not
  // open anywhere near them.
  await says(bot, request, ticket, customer, { type: "text", text: `The gizmo${tag} in my kettle rattles` });
  for (let i = 0; i < 110; i++) {
    await says(bot, request, ticket, customer, { type: "text", text: `still waiting ${i}` });
  }

  // `/` goes to the box; the hit shows the words around the match, marked.
  await agent.page.keyboard.press("/");
  await expect(agent.page.getByTestId("search-input")).toBeFocused();
  await agent.page.keyboard.type(`gizmo${tag.slice(0, 4)}`);
  await agent.page.keyboard.press("Enter");
  await expect(agent.page).toHaveURL(new RegExp(`q=gizmo${tag.slice(0, 4)}`));
  const hits = agent.page.getByTestId("search-hit");
  await expect(hits).toHaveCount(1);
  await expect(hits.first()).toHaveAttribute("data-kind", "message");
  await expect(hits.first().locator("mark")).toHaveText(`gizmo${tag}`);
  await expect(hits.first()).toContainText("Zoë Martin");

  // Opening it shows that message, 110 messages back, in view and marked.
  await hits.first().getByRole("link").click();
  await expect(agent.page).toHaveURL(new RegExp(`/inbox/${ticket}\\?.*message=\\d+`));
  const found = agent.page.locator("[data-found]");
  await expect(found).toContainText(`gizmo${tag} in my kettle`);
  await expect(found).toBeInViewport();
  await expect(hits).toHaveCount(1);
  await saveScreenshot(agent.page, "search");

  // A ticket is found by its title; filters narrow.
  await agent.page.getByTestId("search-input").fill(`kettle ${tag}`);
  await agent.page.getByTestId("search-submit").click();
  await expect(hits.first()).toHaveAttribute("data-kind", "ticket");
  await agent.page.getByTestId("search-input").fill(`gizmo${tag}`);
  await agent.page.getByTestId("search-filters").click();
  await agent.page.getByTestId("filter-status").selectOption("closed");
  await agent.page.getByTestId("search-submit").click();
  await expect(agent.page).toHaveURL(/status=closed/);
  await expect(agent.page.getByTestId("search-empty")).toBeVisible();
  await agent.page.getByTestId("filter-status").selectOption("queued");
  await agent.page.getByTestId("search-submit").click();
  await expect(hits).toHaveCount(1);

  // Clearing the search brings the views back.
  await agent.page.getByTestId("search-clear").click();
  await expect(agent.page.getByTestId("tab-queued")).toBeVisible();
  await expect(agent.page.getByTestId("search-results")).toHaveCount(0);

  await agent.context.close();
  bot.close();
});

test("who else is here: two agents on one conversation see each other, and who is typing", async ({
  browser,
  request,
  watch,
}) => {
  const bot = await fakeBotpress();
  const tag = randomBytes(3).toString("hex");
  const ana = await agentPage(browser, "Ana Here", { watch, context: { viewport: { width: 1280, height: 800 } } });
  const ben = await agentPage(browser, "Ben Here", { watch });
  const { ticket, customer } = await escalate(bot, request, `Shared ${tag}`, "Dana Customer");
  await says(bot, request, ticket, customer, { type: "text", text: "Is anyone there?" });

  await ana.page.goto(`/inbox/${ticket}`);
  await waitForHydration(ana.page);
  await expect(ana.page.getByTestId("also-here")).toHaveCount(0);
  await ben.page.goto(`/inbox/${ticket}`);
  await waitForHydration(ben.page);
  await expect(ana.page.getByTestId("also-here")).toContainText(`${ben.name} has this conversation open too`);
  await expect(ben.page.getByTestId("also-here")).toContainText(`${ana.name} has this conversation open too`);

  // Ben writes a note: Ana sees him typing, and it stops a few seconds after he does.
  await ben.page.getByTestId("mode-note").click();
  await ben.page.getByTestId("composer").pressSequentially("Checking the order", { delay: 30 });
  await expect(ana.page.getByTestId("typing")).toHaveText(`${ben.name} is typing…`);
  await saveScreenshot(ana.page, "who-else-is-here");
  await expect(ana.page.getByTestId("typing")).toHaveText("", { timeout: 8_000 });
  // Sending ends it at once.
  await ben.page.getByTestId("composer").pressSequentially(" now", { delay: 30 });
  await expect(ana.page.getByTestId("typing")).toHaveText(`${ben.name} is typing…`);
  await ben.page.getByTestId("composer").press("Enter");
  await expect(ana.page.getByTestId("typing")).toHaveText("", { timeout: 2_000 });

  // Ben leaves for the list, then comes back and closes the tab: gone each time.
  await ben.page.keyboard.press("Escape");
  await ben.page.keyboard.press("Escape");
  await expect(ben.page).toHaveURL(/\/inbox$/);
  await expect(ana.page.getByTestId("also-here")).toHaveCount(0);
  await ben.page.goto(`/inbox/${ticket}`);
  await expect(ana.page.getByTestId("also-here")).toContainText(ben.name);
  await ben.context.close();
  await expect(ana.page.getByTestId("also-here")).toHaveCount(0, { timeout: 5_000 });

  await ana.context.close();
  bot.close();
});

test("the customer: details corrected, a note about them, every ticket, live for a colleague", async ({
  browser,
  request,
  watch,
}) => {
  const bot = await fakeBotpress();
  const tag = randomBytes(3).toString("hex");
  const ana = await agentPage(browser, "Ana Account", { watch, context: { viewport: { width: 1280, height: 800 } } });
  const ben = await agentPage(browser, "Ben Account", { watch });
  // One customer, two tickets (the same email is the same customer).
  const email = `carla-${tag}@example.org`;
  const user = await bot.post(request, "createRemoteUser", {
    type: "createRemoteUser",
    payload: { role: "end-user", name: "Carla Diaz", email },
  });
  const older = await bot.post(request, "createRemoteConversation", {
    type: "createRemoteConversation",
    payload: { title: `Old order ${tag}`, description: "from the bot" },
  });
  await says(bot, request, older.id, user.id, { type: "text", text: "About my old order" });
  const ticket = await bot.post(request, "createRemoteConversation", {
    type: "createRemoteConversation",
    payload: { title: `New order ${tag}`, description: "from the bot" },
  });
  await says(bot, request, ticket.id, user.id, { type: "text", text: "And my new one" });

  // Ana, in the conversation, corrects the details in the right pane.
  await ana.page.goto(`/inbox/${ticket.id}`);
  await waitForHydration(ana.page);
  const pane = ana.page.getByTestId("customer-profile");
  await expect(pane.getByTestId("customer-ticket")).toHaveCount(2);
  await expect(pane.getByTestId("customer-tickets")).toContainText(`Old order ${tag}`);
  await pane.getByTestId("edit-customer").click();
  const form = pane.getByTestId("customer-edit");
  await form.getByLabel("Phone").fill("+34 600 000 000");
  await form.getByLabel("Company").fill("Diaz & Co");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(pane.getByTestId("customer-phone")).toHaveText("+34 600 000 000");
  await expect(pane.getByTestId("customer-company")).toHaveText("Diaz & Co");

  // Ben has the customer page open: the change and Ana's note reach him live.
  await ben.page.goto(`/customers/${user.id}`);
  await waitForHydration(ben.page);
  await expect(ben.page.getByTestId("customer-name")).toHaveText("Carla Diaz");
  await expect(ben.page.getByTestId("customer-phone")).toHaveText("+34 600 000 000");
  await pane.getByTestId("customer-note-text").fill("Speaks Spanish; prefers email.");
  await pane.getByTestId("add-customer-note").click();
  await expect(pane.getByTestId("customer-note")).toContainText("Speaks Spanish");
  await expect(pane.getByTestId("customer-note-text")).toHaveValue("");
  await expect(ben.page.getByTestId("customer-note")).toContainText("Speaks Spanish; prefers email.");
  await expect(ben.page.getByTestId("customer-ticket")).toHaveCount(2);
  await saveScreenshot(ben.page, "customer");

  // A ticket on the customer page opens its conversation; the note is there too.
  await ben.page.getByRole("link", { name: `Old order ${tag}` }).click();
  await expect(ben.page).toHaveURL(new RegExp(`/inbox/${older.id}$`));
  await expect(ben.page.getByTestId("customer-note")).toContainText("Speaks Spanish");

  await ana.context.close();
  await ben.context.close();
  bot.close();
});

/** Saves a screenshot of the window for the README's agent guide. */
async function saveScreenshot(page: import("@playwright/test").Page, file: string) {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${file}.png`), animations: "disabled" });
}

test("availability: an agent chooses Away, it survives a reload, and colleagues see it until the tab closes", async ({
  browser,
  watch,
}) => {
  const agent = await agentPage(browser, "Avery Away", { watch });
  const admin = await agentPage(browser, "Ada Admin", { role: "admin", watch });
  const choice = agent.page.getByTestId("availability");
  await expect(choice).toHaveValue("available");
  await expect(agent.page.getByTestId("live-state")).toHaveText("Live");

  // A second tab of the same person follows the choice made in the first.
  const second = await agent.context.newPage();
  await second.goto("/inbox");
  await waitForHydration(second);
  await expect(second.getByTestId("live-state")).toHaveText("Live");
  await expect(second.getByTestId("availability")).toHaveValue("available");

  const stored = agent.page.waitForResponse((r) => r.url().includes("/api/profile/availability/set"));
  await choice.selectOption("away");
  expect((await stored).status()).toBe(200);
  await expect(second.getByTestId("availability")).toHaveValue("away");
  await second.close();
  // Kept across a reload: rendered so by the server, not only set by the script.
  await agent.page.reload();
  await waitForHydration(agent.page);
  await expect(choice).toHaveValue("away");
  await expect(agent.page.getByTestId("live-state")).toHaveText("Live");

  // An admin sees it on the Agents page while the agent's tab is open, offline after.
  const agentRow = admin.page.locator(`tr[data-email="${agent.email}"]`);
  await admin.page.goto("/admin/agents");
  await waitForHydration(admin.page);
  await expect(agentRow.getByTestId("presence")).toHaveText("away");
  await agent.context.close();
  await expect
    .poll(async () => {
      await admin.page.reload();
      return agentRow.getByTestId("presence").textContent();
    })
    .toBe("offline");
  await admin.context.close();
});
