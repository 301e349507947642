// The agent's three-pane workspace: layout at several sizes and in both colour
// schemes, accessibility, screenshots for review, following the newest message,
// narrow screens, and the small promises of the workspace's DOM contract.

import { mkdirSync } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import AxeBuilder from "@axe-core/playwright";
import {
  APIRequestContext,
  Browser,
  BrowserContext,
  BrowserContextOptions,
  Locator,
  Page,
} from "@playwright/test";
import {
  test,
  expect,
  waitForHydration,
  createAccount,
  signIn,
  baton,
  fakeBotpress,
  escalate,
  says,
  agentPage,
  row,
  Bot,
  Watch,
  SCREENSHOTS,
} from "./fixtures";

const DESKTOP = { width: 1280, height: 800 };
const WIDE = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };
const SIZES = [DESKTOP, WIDE, PHONE];
const SCHEMES = ["light", "dark"] as const;


/** Chromium logs a document's error status as a console error; /setup's status is not part of the contract. */
const SETUP_URL = /\/setup\?token=/;

type Target = {
  name: string;
  /** `:ticket` stands for the seeded conversation, `:customer` for its customer. */
  path: string;
  signedIn: boolean;
  /** The expected HTTP status, or null when any is fine. */
  status: number | null;
};

const PAGES: Target[] = [
  // The Mine view: the tickets this test seeded, not whatever other tests left queued.
  { name: "inbox", path: "/inbox?view=mine", signedIn: true, status: 200 },
  // The queue, with the long title and the long unbroken word seeded below.
  { name: "queue", path: "/inbox", signedIn: true, status: 200 },
  { name: "conversation", path: "/inbox/:ticket?view=mine", signedIn: true, status: 200 },
  { name: "customer", path: "/customers/:customer", signedIn: true, status: 200 },
  { name: "search", path: "/inbox?q=parcel", signedIn: true, status: 200 },
  { name: "agents", path: "/admin/agents", signedIn: true, status: 200 },
  { name: "connections", path: "/admin/connections", signedIn: true, status: 200 },
  { name: "audit", path: "/admin/audit", signedIn: true, status: 200 },
  { name: "replies", path: "/admin/replies", signedIn: true, status: 200 },
  { name: "labels", path: "/admin/labels", signedIn: true, status: 200 },
  { name: "routing", path: "/admin/routing", signedIn: true, status: 200 },
  { name: "reports", path: "/reports", signedIn: true, status: 200 },
  { name: "profile", path: "/profile", signedIn: true, status: 200 },
  { name: "status", path: "/status", signedIn: true, status: 200 },
  { name: "login", path: "/login", signedIn: false, status: 200 },
  { name: "setup", path: "/setup?token=x", signedIn: false, status: null },
];

const AXE_PAGES = PAGES.filter((p) => p.name !== "status" && p.name !== "queue");

/** What a sweep over the pages may take, per page: a guard against a hang, not a
 * speed test (the benchmarks measure speed). Beside two other browser runs on 2 cores,
 * the axe sweep took over 120 s for its 14 pages. */
const PER_PAGE_MS = 20_000;

/** Pages saved as `<name>-<width>.png` at every size, in light mode. */
const SCREENSHOT_PAGES = new Set(["inbox", "conversation", "agents", "login"]);

const LONG_WORD = "https://shop.example.com/track/" + "0123456789abcdef".repeat(8);
const LONG_TITLE =
  "Order 98765: the parcel went to the wrong address, the courier says it was delivered, " +
  "and the customer wants a refund or a resend before the weekend";

const CUSTOMER_SAYS = [
  "Hello, my parcel has not moved since Tuesday.",
  "The tracking page still says it is in transit, and the estimated delivery date has passed twice " +
    "already. Is there anything you can do before the weekend?",
  "Order 1234, the blue one.",
  "Thanks!",
];
const AGENT_SAYS = [
  "Let me look that up for you.",
  "I have asked the carrier; they usually answer within the hour, and I will write as soon as they do.",
  "Could you confirm the postcode?",
];

/** The text of the seeded conversation's message `n`: odd ones are the customer's, even ones the agent's. */
function line(n: number): string {
  const who = n % 2 ? "Customer" : "Agent";
  const texts = n % 2 ? CUSTOMER_SAYS : AGENT_SAYS;
  const link = n === 7 ? ` ${LONG_WORD}` : "";
  return `${who} message ${n}: ${texts[Math.floor(n / 2) % texts.length]}${link}`;
}

// --- Seeding through Baton's REST API --------------------------------------------------

/** A personal API token for the account. */
function apiToken(email: string): string {
  return baton(["token", "create", "--email", email, "--label", "e2e"]).trim().split("\n").pop()!;
}

async function restPost(request: APIRequestContext, token: string, url: string, data: object, status: number) {
  const r = await request.post(url, { headers: { authorization: `Bearer ${token}` }, data });
  expect(r.status(), `POST ${url}: ${await r.text()}`).toBe(status);
}

/** The token's owner takes the ticket. */
const take = (request: APIRequestContext, token: string, ticket: string) =>
  restPost(request, token, `/api/v1/tickets/${ticket}/assign`, {}, 200);

/** The token's owner replies (the ticket must be theirs). */
const reply = (request: APIRequestContext, token: string, ticket: string, text: string) =>
  restPost(request, token, `/api/v1/tickets/${ticket}/messages`, { text }, 201);

/** A ticket the token's owner holds, with `count` messages alternating customer and agent. */
async function seedConversation(bot: Bot, request: APIRequestContext, token: string, title: string, count: number) {
  const { ticket, customer } = await escalate(bot, request, title, "Dana Customer");
  await take(request, token, ticket);
  for (let n = 1; n <= count; n++) {
    if (n % 2) await says(bot, request, ticket, customer, { type: "text", text: line(n) });
    else await reply(request, token, ticket, line(n));
  }
  return { ticket, customer };
}

/** An agent, signed in on a live inbox, holding one ticket per title (each with a customer message). */
async function agentHolding(
  browser: Browser,
  request: APIRequestContext,
  bot: Bot,
  watch: Watch,
  name: string,
  titles: string[],
  context: BrowserContextOptions = {},
) {
  const agent = await agentPage(browser, name, { context, watch });
  const token = apiToken(agent.email);
  const tickets: { ticket: string; customer: string; title: string }[] = [];
  for (const title of titles) {
    const { ticket, customer } = await escalate(bot, request, title);
    await says(bot, request, ticket, customer, { type: "text", text: `Hello, a question about: ${title}` });
    await take(request, token, ticket);
    tickets.push({ ticket, customer, title });
  }
  return { ...agent, token, tickets };
}

// --- Looking at the page ---------------------------------------------------------------

/** Lets layout settle: fonts loaded, two frames painted. */
async function settle(page: Page) {
  await page.evaluate(async () => {
    await document.fonts.ready;
    await new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r())));
  });
}

/** Visits a page, checks its status, and waits until it has hydrated. */
async function open(page: Page, url: string, status: number | null = 200) {
  const response = await page.goto(url);
  if (status !== null) expect(response?.status(), `GET ${url}`).toBe(status);
  await waitForHydration(page);
  await settle(page);
}

/** "none", or why the document is wider than the window (naming the innermost elements that stick out). */
async function sidewaysOverflow(page: Page): Promise<string> {
  return page.evaluate(() => {
    const root = document.documentElement;
    if (root.scrollWidth <= root.clientWidth) return "none";
    const wide = new Set(
      Array.from(document.querySelectorAll<HTMLElement>("body *")).filter(
        (el) => el.getBoundingClientRect().right > root.clientWidth + 1,
      ),
    );
    const innermost = Array.from(wide)
      .filter((el) => !Array.from(el.children).some((c) => wide.has(c as HTMLElement)))
      .slice(0, 5)
      .map((el) => {
        const id = el.getAttribute("data-testid") ?? el.id;
        const cls = typeof el.className === "string" && el.className ? `.${el.className.trim().split(/\s+/).join(".")}` : "";
        return `${el.tagName.toLowerCase()}${id ? `[${id}]` : ""}${cls} (right ${Math.round(el.getBoundingClientRect().right)})`;
      });
    return `scrollWidth ${root.scrollWidth} > clientWidth ${root.clientWidth}; sticking out: ${innermost.join(", ")}`;
  });
}

/** "none", or how much wider the transcript's content is than the transcript. */
async function transcriptOverflow(page: Page): Promise<string> {
  return page.getByTestId("transcript-scroll").evaluate((el) =>
    el.scrollWidth <= el.clientWidth ? "none" : `scrollWidth ${el.scrollWidth} > clientWidth ${el.clientWidth}`,
  );
}

/**
 * "in view" when the first or last message is inside the visible part of the
 * transcript's scroll container and inside the window; otherwise where it is.
 * A message taller than the container counts when its end is in view.
 */
async function messagePlacement(page: Page, which: "first" | "last"): Promise<string> {
  return page.evaluate((which) => {
    const scroller = document.querySelector('[data-testid="transcript-scroll"]');
    if (!scroller) return "there is no transcript-scroll";
    const messages = scroller.querySelectorAll('[data-testid="transcript"] [data-testid="message"]');
    const message = which === "first" ? messages[0] : messages[messages.length - 1];
    if (!message) return "there are no messages";
    const m = message.getBoundingClientRect();
    const s = scroller.getBoundingClientRect();
    const top = Math.max(m.top, m.bottom - s.height);
    const r = Math.round;
    const slack = 2;
    if (top < s.top - slack || m.bottom > s.bottom + slack) {
      return (
        `outside the transcript's visible part: message ${r(m.top)}..${r(m.bottom)}, ` +
        `visible ${r(s.top)}..${r(s.bottom)}, scrollTop ${r(scroller.scrollTop)}, ` +
        `scrollHeight ${r(scroller.scrollHeight)}, clientHeight ${r(scroller.clientHeight)}`
      );
    }
    if (top < -slack || m.bottom > window.innerHeight + slack) {
      return `outside the window: message ${r(m.top)}..${r(m.bottom)}, window 0..${window.innerHeight}`;
    }
    return "in view";
  }, which);
}

/** "in view" when the element lies wholly inside the window; otherwise where it is. */
async function placement(locator: Locator): Promise<string> {
  return locator.evaluate((el) => {
    const b = el.getBoundingClientRect();
    const slack = 2;
    const inside =
      b.top >= -slack &&
      b.left >= -slack &&
      b.bottom <= window.innerHeight + slack &&
      b.right <= window.innerWidth + slack;
    const r = Math.round;
    return inside
      ? "in view"
      : `at ${r(b.left)},${r(b.top)}..${r(b.right)},${r(b.bottom)} in a window of ${window.innerWidth}×${window.innerHeight}`;
  });
}

async function expectNewestInView(page: Page, soft = false) {
  const e = soft ? expect.soft : expect;
  await e
    .poll(() => messagePlacement(page, "last"), { message: "the newest message is in view", timeout: 5_000 })
    .toBe("in view");
}

/** The element Tab reaches first, by the HTML rules for sequential focus order. */
async function firstTabStop(page: Page) {
  return page.evaluate(() => {
    const focusable = Array.from(
      document.querySelectorAll<HTMLElement>(
        'a[href], area[href], button, input, select, textarea, iframe, summary, [tabindex], [contenteditable="true"]',
      ),
    ).filter((el) => {
      if ((el as HTMLButtonElement).disabled) return false;
      if (el instanceof HTMLInputElement && el.type === "hidden") return false;
      if (el.tabIndex < 0 || el.closest("[inert]")) return false;
      const style = getComputedStyle(el);
      return style.visibility !== "hidden" && style.display !== "none" && el.getClientRects().length > 0;
    });
    const positive = focusable.filter((el) => el.tabIndex > 0).sort((a, b) => a.tabIndex - b.tabIndex);
    const first = positive[0] ?? focusable[0];
    if (!first) return null;
    return { tag: first.tagName.toLowerCase(), text: (first.textContent ?? "").trim(), href: first.getAttribute("href") };
  });
}

/** Saves a screenshot of the window for review. */
async function keep(page: Page, file: string) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${file}.png`), animations: "disabled" });
}

const ticketUrl = (ticket: string) => new RegExp(`/inbox/${ticket}(\\?.*)?$`);
const capitalised = /^\s*[A-Z]/;

// --- Every page, at every size, in both schemes ----------------------------------------

// Tagged so the run on two PostgreSQL replicas can leave it out (`cargo xtask test`
// does): every page at every size, light and dark, and its accessibility scan test
// how the same HTML lays out, which does not depend on the engine behind it; they
// are a third of the suite's time.
test.describe("every page", { tag: "@layout" }, () => {
  type Shared = {
    bot: Bot;
    ticket: string;
    customer: string;
    storageState: Awaited<ReturnType<BrowserContext["storageState"]>>;
  };
  let shared: Shared | undefined;

  // One admin, signed in once; one conversation of forty messages that they hold,
  // and a queued ticket with a long title and a long unbroken word.
  test.beforeAll(async ({ browser, request }) => {
    const bot = await fakeBotpress();
    const email = createAccount("admin", `Ada Layout ${randomBytes(3).toString("hex")}`);
    const token = apiToken(email);
    const { ticket, customer } = await seedConversation(bot, request, token, "Parcel stuck in transit since Tuesday", 40);
    // Two more of theirs, so the list beside the conversation looks like a working day.
    for (const [title, name, text] of [
      ["Refund for a damaged kettle", "Priya Raman", "The lid arrived cracked. Can I get a refund?"],
      ["Change of delivery address", "Jonas Weber", "I moved last week; can you send it to my new flat?"],
    ]) {
      const other = await escalate(bot, request, title, name);
      await says(bot, request, other.ticket, other.customer, { type: "text", text });
      await take(request, token, other.ticket);
    }
    const queued = await escalate(bot, request, LONG_TITLE, "Maximilian Alexander Featherstonehaugh-Worthington");
    await says(bot, request, queued.ticket, queued.customer, { type: "text", text: `Where is it? ${LONG_WORD}` });
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, email);
    await expect(page).toHaveURL(/\/inbox$/);
    const storageState = await context.storageState();
    await context.close();
    shared = { bot, ticket, customer, storageState };
  });

  test.afterAll(() => {
    shared?.bot.close();
  });

  const seeded = (): Shared => {
    if (!shared) throw new Error("the conversation was not seeded");
    return shared;
  };
  const at = (target: Target) => target.path.replace(":ticket", seeded().ticket).replace(":customer", seeded().customer);

  /** One signed-in and one signed-out page with the given options, watched for errors. */
  async function pages(browser: Browser, watch: Watch, options: BrowserContextOptions) {
    const signedIn = await browser.newContext({ ...options, storageState: seeded().storageState });
    const anonymous = await browser.newContext(options);
    watch(signedIn);
    watch(anonymous);
    const pair = { signedIn: await signedIn.newPage(), anonymous: await anonymous.newPage() };
    return {
      for: (target: Target) => (target.signedIn ? pair.signedIn : pair.anonymous),
      close: async () => {
        await signedIn.close();
        await anonymous.close();
      },
    };
  }

  for (const size of SIZES) {
    for (const colorScheme of SCHEMES) {
      test(`${size.width}×${size.height}, ${colorScheme}: no page scrolls sideways; a conversation shows its newest message and the composer`, async ({
        browser,
        watch,
        allowedConsoleErrors,
      }) => {
        test.setTimeout(PAGES.length * PER_PAGE_MS);
        allowedConsoleErrors.push(SETUP_URL);
        const session = await pages(browser, watch, { viewport: size, colorScheme });
        for (const target of PAGES) {
          await test.step(target.path, async () => {
            const page = session.for(target);
            await open(page, at(target), target.status);
            if (target.name === "conversation") {
              await expect(page.getByTestId("conversation-pane")).toBeVisible();
              await expect(page.getByTestId("transcript").getByTestId("message").last()).toContainText(line(40));
              await expectNewestInView(page, true);
              await expect
                .soft.poll(() => placement(page.getByTestId("composer")), { message: "the composer is in the window", timeout: 5_000 })
                .toBe("in view");
              await expect
                .soft.poll(() => transcriptOverflow(page), { message: "the transcript does not scroll sideways", timeout: 2_000 })
                .toBe("none");
              if (size.width >= 1280) {
                await expect.soft(page.getByTestId("list-pane"), "the list beside the conversation").toBeVisible();
              } else {
                await expect.soft(page.getByTestId("list-pane"), "no list beside the conversation").toBeHidden();
                await expect.soft(page.getByTestId("back-to-list")).toBeVisible();
              }
            }
            if (target.name === "setup") {
              await expect.soft(page.getByTestId("setup-unavailable")).toBeVisible();
            }
            if (colorScheme === "light" && SCREENSHOT_PAGES.has(target.name)) {
              await keep(page, `${target.name}-${size.width}`);
            }
            if (colorScheme === "dark" && size.width === 1280 && target.name === "conversation") {
              await keep(page, "conversation-1280-dark");
            }
            await expect
              .soft.poll(() => sidewaysOverflow(page), { message: `${target.path} does not scroll sideways`, timeout: 2_000 })
              .toBe("none");
          });
        }
        await session.close();
      });
    }
  }

  for (const colorScheme of SCHEMES) {
    test(`axe finds nothing serious or critical on any page at 1280×800, ${colorScheme}`, async ({
      browser,
      watch,
      allowedConsoleErrors,
    }) => {
      test.setTimeout(AXE_PAGES.length * PER_PAGE_MS);
      allowedConsoleErrors.push(SETUP_URL);
      const session = await pages(browser, watch, { viewport: DESKTOP, colorScheme });
      for (const target of AXE_PAGES) {
        await test.step(target.path, async () => {
          const page = session.for(target);
          await open(page, at(target), target.status);
          if (target.name === "conversation") await expectNewestInView(page, true);
          const results = await new AxeBuilder({ page }).analyze();
          const serious = results.violations
            .filter((v) => v.impact === "serious" || v.impact === "critical")
            .map(
              (v) =>
                `${v.id} (${v.impact}): ${v.help}\n` +
                v.nodes.map((n) => `      ${n.target.map(String).join(" ")}`).join("\n"),
            );
          expect.soft(serious, `serious or critical axe violations on ${target.path} (${colorScheme})`).toEqual([]);
        });
      }
      await session.close();
    });
  }

  test("every page starts with a Skip to content link to #main", async ({ browser, watch, allowedConsoleErrors }) => {
    test.setTimeout(PAGES.length * PER_PAGE_MS);
    allowedConsoleErrors.push(SETUP_URL);
    const session = await pages(browser, watch, { viewport: DESKTOP });
    for (const target of PAGES) {
      await test.step(target.path, async () => {
        const page = session.for(target);
        await open(page, at(target), target.status);
        expect
          .soft(await firstTabStop(page), `the first thing Tab reaches on ${target.path}`)
          .toEqual({ tag: "a", text: "Skip to content", href: "#main" });
        await expect.soft(page.locator("#main"), `#main on ${target.path}`).toHaveCount(1);
        // Where nothing has the focus yet, pressing Tab really lands there.
        if (await page.evaluate(() => !document.activeElement || document.activeElement === document.body)) {
          await page.keyboard.press("Tab");
          await expect.soft(page.locator(":focus"), `Tab on ${target.path}`).toHaveText("Skip to content");
        }
      });
    }
    await session.close();
  });
});

// --- Following the newest message ------------------------------------------------------

test("the transcript follows the newest message, and offers a pill for new ones when scrolled up", async ({
  browser,
  request,
  bot,
  watch,
}) => {
  const a = await agentPage(browser, "Finn Follow", { context: { viewport: DESKTOP }, watch });
  const token = apiToken(a.email);
  const { ticket, customer } = await seedConversation(bot, request, token, "Follow the newest", 40);
  const page = a.page;
  await open(page, `/inbox/${ticket}`);
  await expect(page.getByTestId("live-state")).toHaveText("Live");
  const messages = page.getByTestId("transcript").getByTestId("message");

  // It opens at the end.
  await expect(messages.last()).toContainText(line(40));
  await expectNewestInView(page);

  // The agent's own reply is the newest, in view.
  const composer = page.getByTestId("composer");
  await composer.fill("On it: I have asked the carrier.");
  await composer.press("Enter");
  await expect(messages.last()).toContainText("On it: I have asked the carrier.");
  await expect(messages.last()).toHaveAttribute("data-origin", "agent");
  await expectNewestInView(page);

  // So is the customer's answer, arriving live.
  await says(bot, request, ticket, customer, { type: "text", text: "It moved! Out for delivery now." });
  await expect(messages.last()).toContainText("It moved! Out for delivery now.");
  await expect(messages.last()).toHaveAttribute("data-origin", "customer");
  await expectNewestInView(page);
  const pill = page.getByTestId("new-messages");
  await expect(pill).toBeHidden();

  // The agent scrolls up to the start (with the wheel, as a person would).
  await page.getByTestId("transcript-scroll").hover();
  await expect
    .poll(
      async () => {
        await page.mouse.wheel(0, -4_000);
        return messagePlacement(page, "first");
      },
      { message: "scrolled to the first message" },
    )
    .toBe("in view");
  await settle(page);

  // A new message does not pull them down; a pill says it is there.
  await says(bot, request, ticket, customer, { type: "text", text: "Is anyone still there?" });
  await expect(pill).toBeVisible();
  await expect(pill).toHaveText(/^\s*1 new message(?!s)/);
  await expect(messages.last()).toContainText("Is anyone still there?");
  expect(await messagePlacement(page, "last"), "the newest stays out of view while scrolled up").not.toBe("in view");
  expect(await messagePlacement(page, "first"), "the agent is left where they were").toBe("in view");

  // The pill takes them to it, and goes.
  await pill.click();
  await expectNewestInView(page);
  await expect(pill).toBeHidden();
  await a.context.close();
});

test("a ticket opened again starts at the first unread message, marked", async ({ browser, request, bot, watch }) => {
  const a = await agentPage(browser, "Uma Unread", { context: { viewport: DESKTOP }, watch });
  const token = apiToken(a.email);
  const { ticket, customer } = await seedConversation(bot, request, token, "Read some, then more", 12);
  const page = a.page;
  const marker = page.getByTestId("unread-marker");
  const messages = page.getByTestId("transcript").getByTestId("message");
  const pill = page.getByTestId("new-messages");

  // A first visit: everything is new, so nothing is marked; reading it marks it read.
  await open(page, `/inbox/${ticket}`);
  await expect(messages.last()).toContainText(line(12));
  await expect(marker).toHaveCount(0);
  await expect(row(page, ticket).getByTestId("unread")).toHaveCount(0);

  // Away from it, the customer writes thirty times, more than the screen holds.
  await open(page, "/inbox?view=mine");
  for (let n = 1; n <= 30; n++) {
    await says(bot, request, ticket, customer, { type: "text", text: `Later message ${n}` });
  }
  await expect(row(page, ticket).getByTestId("unread")).toHaveText("30");

  // Back to it: it opens at the first of them, marked, and the pill counts them.
  await row(page, ticket).getByRole("link").click();
  await expect(messages.last()).toContainText("Later message 30");
  await expect(marker).toHaveCount(1);
  await expect(marker).toHaveText("New messages");
  await expect(marker.locator("xpath=following-sibling::li[1]")).toContainText("Later message 1");
  await expect
    .poll(() => transcriptPlacement(marker), { message: "the marker is in view", timeout: 5_000 })
    .toBe("in view");
  expect(await messagePlacement(page, "last"), "the newest is further down").not.toBe("in view");
  await expect(pill).toHaveText(/^\s*30 new messages/);

  // Reading marks them read, and the marker stays where it was while the agent reads on.
  await expect(row(page, ticket).getByTestId("unread")).toHaveCount(0);
  await expect(marker).toHaveCount(1);
  await pill.click();
  await expectNewestInView(page);
  await expect(pill).toBeHidden();

  // A few new ones fit on the screen: marked, and the newest is in view.
  await open(page, "/inbox?view=mine");
  await says(bot, request, ticket, customer, { type: "text", text: "One more thing" });
  await says(bot, request, ticket, customer, { type: "text", text: "And another" });
  await expect(row(page, ticket).getByTestId("unread")).toHaveText("2");
  await row(page, ticket).getByRole("link").click();
  await expect(messages.last()).toContainText("And another");
  await expect(marker.locator("xpath=following-sibling::li[1]")).toContainText("One more thing");
  await expectNewestInView(page);
  await expect(pill).toBeHidden();
  await a.context.close();
});

/** "in view" when the element lies inside the transcript's visible part; otherwise where it is. */
async function transcriptPlacement(locator: Locator): Promise<string> {
  return locator.evaluate((el) => {
    const scroller = el.closest('[data-testid="transcript-scroll"]');
    if (!scroller) return "not in the transcript";
    const b = el.getBoundingClientRect();
    const s = scroller.getBoundingClientRect();
    return b.top >= s.top - 2 && b.bottom <= s.bottom + 2
      ? "in view"
      : `at ${Math.round(b.top)}..${Math.round(b.bottom)}, visible ${Math.round(s.top)}..${Math.round(s.bottom)}`;
  });
}

// --- Narrow screens and switching tickets ---------------------------------------------

test("at 390×844 an open ticket takes the whole screen, and the back link returns to the list", async ({
  browser,
  request,
  bot,
  watch,
}) => {
  const a = await agentHolding(browser, request, bot, watch, "Nora Narrow", ["Small screen question"], {
    viewport: PHONE,
  });
  const [t] = a.tickets;
  const page = a.page;
  await open(page, "/inbox?view=mine");
  const list = page.getByTestId("list-pane");
  await expect(list).toBeVisible();

  await row(page, t.ticket).getByRole("link").click();
  await expect(page).toHaveURL(ticketUrl(t.ticket));
  await expect(page.getByTestId("ticket-title")).toHaveText(t.title);
  await expect(page.getByTestId("conversation-pane")).toBeVisible();
  await expect(list).toBeHidden();
  await expect(page.getByTestId("context-pane")).toBeHidden();
  const back = page.getByTestId("back-to-list");
  await expect(back).toBeVisible();
  await expect.poll(() => placement(page.getByTestId("composer")), { message: "the composer is in the window" }).toBe("in view");
  await expect.poll(() => sidewaysOverflow(page)).toBe("none");

  await back.click();
  await expect(list).toBeVisible();
  await expect(page.getByTestId("conversation-pane")).toBeHidden();
  await expect(page).not.toHaveURL(ticketUrl(t.ticket));
  await a.context.close();
});

test("opening another ticket from the list swaps the conversation without reloading the page", async ({
  browser,
  request,
  bot,
  watch,
}) => {
  const a = await agentHolding(browser, request, bot, watch, "Sol Switch", ["First of two", "Second of two"], {
    viewport: DESKTOP,
  });
  const [one, two] = a.tickets;
  const page = a.page;
  await open(page, "/inbox?view=mine");
  const list = page.getByTestId("list-pane");
  // Marks that a reload or a re-rendered list pane would lose.
  await list.evaluate((el) => {
    (el as any).__sameNode = true;
  });
  await page.evaluate(() => {
    (window as any).__sameDocument = true;
  });
  const documents: string[] = [];
  page.on("request", (r) => {
    if (r.isNavigationRequest() && r.frame() === page.mainFrame()) documents.push(r.url());
  });
  const unchanged = async () => ({
    list: await list.evaluate((el) => (el as any).__sameNode === true),
    document: await page.evaluate(() => (window as any).__sameDocument === true),
  });

  for (const t of [one, two]) {
    await row(page, t.ticket).getByRole("link").click();
    await expect(page).toHaveURL(ticketUrl(t.ticket));
    await expect(page.getByTestId("ticket-title")).toHaveText(t.title);
    expect(await unchanged(), `after opening ${t.title}`).toEqual({ list: true, document: true });
  }
  expect(documents, "pages loaded by opening tickets").toEqual([]);
  await expect(list).toBeVisible();
  await expect(page.getByTestId("conversation-pane")).toBeVisible();
  await a.context.close();
});

test("on a slow network, opening another ticket keeps the nav and the list on screen", async ({
  browser,
  request,
  bot,
  watch,
}) => {
  const a = await agentHolding(browser, request, bot, watch, "Stan Slow", ["Slow first", "Slow second"], {
    viewport: DESKTOP,
  });
  const [one, two] = a.tickets;
  const page = a.page;
  await open(page, "/inbox?view=mine");
  await row(page, one.ticket).getByRole("link").click();
  await expect(page.getByTestId("ticket-title")).toHaveText(one.title);

  await page.route(
    (url) => url.pathname.includes("/api/"),
    async (route) => {
      await new Promise((r) => setTimeout(r, 1_500));
      await route.continue().catch(() => {});
    },
  );
  const nav = page.locator("nav.nav").first();
  const list = page.getByTestId("list-pane").first();
  const clicked = Date.now();
  await row(page, two.ticket).getByRole("link").click();
  // Sample while the answer is held back: nothing may blank the frame.
  const gaps: string[] = [];
  while (Date.now() - clicked < 1_300) {
    const shown = { nav: await nav.isVisible(), list: await list.isVisible() };
    if (!shown.nav || !shown.list) gaps.push(`${Date.now() - clicked} ms after the click: ${JSON.stringify(shown)}`);
    await page.waitForTimeout(100);
  }
  expect(gaps, "moments the nav or the list was missing").toEqual([]);
  await expect(page.getByTestId("ticket-title")).toHaveText(two.title, { timeout: 15_000 });
  await expect(page).toHaveURL(ticketUrl(two.ticket));
  await page.unrouteAll({ behavior: "ignoreErrors" });
  await a.context.close();
});

// --- The small promises ---------------------------------------------------------------

test("signing in lands on the inbox workspace, and / leads there too", async ({ page }) => {
  await signIn(page, createAccount("agent", "Sid Signin"));
  await expect(page).toHaveURL(/\/inbox$/);
  await expect(page.getByTestId("workspace")).toBeVisible();
  await expect(page.locator("nav.nav").first()).toBeVisible();
  await expect(page.getByTestId("nav-inbox")).toBeVisible();
  await expect(page.getByTestId("list-pane")).toBeVisible();
  await expect(page.getByTestId("tab-queued")).toBeVisible();
  await expect(page.getByTestId("no-conversation")).toBeVisible();
  await waitForHydration(page);

  await page.goto("/");
  await expect(page).toHaveURL(/\/inbox$/);
  const status = await page.goto("/status");
  expect(status?.status()).toBe(200);
  await waitForHydration(page);
});

test("an unknown ticket answers 404 and says so", async ({ page, allowedConsoleErrors }) => {
  // Chromium reports the document's own 404 status as a console error.
  allowedConsoleErrors.push(/\/inbox\/tkt_0{20}$/);
  await signIn(page, createAccount("agent", "Uma Unknown"));
  await expect(page).toHaveURL(/\/inbox$/);
  const response = await page.goto("/inbox/tkt_00000000000000000000");
  expect(response?.status()).toBe(404);
  await expect(page.getByText("No such conversation").first()).toBeVisible();
  await waitForHydration(page);
  await expect(page.getByText("No such conversation").first()).toBeVisible();
});

test("setup with any token, once accounts exist, says so and offers no form", async ({ page, allowedConsoleErrors }) => {
  allowedConsoleErrors.push(SETUP_URL);
  for (const token of ["x", randomBytes(32).toString("base64url")]) {
    await page.goto(`/setup?token=${token}`);
    const unavailable = page.getByTestId("setup-unavailable");
    await expect(unavailable).toBeVisible();
    await expect(unavailable).toHaveText(capitalised);
    await expect(page.locator("input[name=password]")).toHaveCount(0);
    await waitForHydration(page);
    await expect(unavailable).toBeVisible();
    await expect(page.locator("input[name=password]")).toHaveCount(0);
  }
});

test("the transfer list offers colleagues but not the agent themself", async ({ browser, request, bot, watch }) => {
  const colleague = `Cole Colleague ${randomBytes(3).toString("hex")}`;
  createAccount("agent", colleague);
  const a = await agentHolding(browser, request, bot, watch, "Tess Transfer", ["Transfer me"]);
  const [t] = a.tickets;
  await open(a.page, `/inbox/${t.ticket}`);
  await expect(a.page.getByTestId("held-by")).toHaveText("You");
  await a.page.getByTestId("open-transfer").click();
  const select = a.page.getByTestId("transfer-to");
  await expect(select.locator("option", { hasText: colleague })).toHaveCount(1);
  await expect(select.locator("option", { hasText: a.name })).toHaveCount(0);
  await a.context.close();
});

test("taking a queued ticket puts the focus in the composer", async ({ browser, request, bot, watch }) => {
  const a = await agentPage(browser, "Fay Focus", { watch });
  const { ticket, customer } = await escalate(bot, request, "Focus after take");
  await says(bot, request, ticket, customer, { type: "text", text: "Hello?" });
  await open(a.page, `/inbox/${ticket}`);
  const reason = a.page.getByTestId("composer-reason");
  await expect(reason).toContainText(/take/i);
  await expect(reason).toHaveText(capitalised);
  await a.page.getByTestId("take").click();
  await expect(a.page.getByTestId("held-by")).toHaveText("You");
  const composer = a.page.getByTestId("composer");
  await expect(composer).toBeEnabled();
  await expect(composer).toBeFocused();
  await expect(reason).toBeHidden();
  await a.context.close();
});

test("times show in the browser's time zone, with the UTC instant in datetime", async ({
  browser,
  request,
  bot,
  watch,
}) => {
  const timeZone = "America/Los_Angeles";
  const a = await agentPage(browser, "Lou Local", { context: { timezoneId: timeZone }, watch });
  const { ticket, customer } = await escalate(bot, request, "What time is it there?");
  await says(bot, request, ticket, customer, { type: "text", text: "Is it morning where you are?" });
  await open(a.page, `/inbox/${ticket}`);

  const time = a.page.getByTestId("transcript").getByTestId("message").first().locator("time").first();
  await expect(time).toHaveAttribute("datetime", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|\+00:00)$/);
  const instant = new Date((await time.getAttribute("datetime"))!);
  expect(Math.abs(instant.getTime() - Date.now()), "the message was sent just now").toBeLessThan(10 * 60_000);
  await expect(time).not.toContainText("UTC");
  await expect(time).toHaveAttribute("title", /\S/);

  // The title shows the Los Angeles wall clock (24- or 12-hour), not the UTC one.
  const clock = (zone: string) => {
    const parts = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hour: "numeric",
      minute: "2-digit",
      hourCycle: "h23",
    }).formatToParts(instant);
    const hour = Number(parts.find((p) => p.type === "hour")!.value);
    const minute = parts.find((p) => p.type === "minute")!.value;
    return { hour, minute };
  };
  const local = clock(timeZone);
  const utc = clock("UTC");
  const pad = (n: number) => String(n).padStart(2, "0");
  const localForms = [pad(local.hour), String(local.hour), String(local.hour % 12 || 12)].map(
    (h) => `${h}:${local.minute}`,
  );
  const title = (await time.getAttribute("title"))!;
  expect(
    localForms.some((f) => title.includes(f)),
    `title "${title}" shows the Los Angeles time (one of ${localForms.join(", ")})`,
  ).toBe(true);
  expect(title, "the title does not show the UTC wall clock").not.toContain(`${pad(utc.hour)}:${utc.minute}`);

  // No time on the page is written in UTC.
  for (const text of await a.page.locator("time").allTextContents()) {
    expect(text).not.toContain("UTC");
  }
  await a.context.close();
});

test("an admin taking over from a colleague asks first; the colleague sees who has it now, and other agents why they cannot", async ({
  browser,
  request,
  bot,
  watch,
}) => {
  const a = await agentHolding(browser, request, bot, watch, "Avery Holder", ["Hand it over"]);
  const b = await agentPage(browser, "Blake Lead", { watch, role: "admin" });
  const c = await agentPage(browser, "Casey Colleague", { watch });
  const [t] = a.tickets;
  for (const page of [a.page, b.page, c.page]) {
    await open(page, `/inbox/${t.ticket}`);
    await expect(page.getByTestId("live-state")).toHaveText("Live");
  }
  await expect(a.page.getByTestId("held-by")).toHaveText("You");
  await expect(a.page.getByTestId("composer")).toBeEnabled();
  await expect(a.page.getByTestId("activity").last()).toContainText(`${a.name} took this conversation`);

  // Another agent sees the actions, off, and why.
  const held = c.page.getByTestId("held-note");
  await expect(held).toHaveText(`Held by ${a.name}: only ${a.name} or an admin can take it over, transfer it or close it.`);
  for (const action of ["take", "open-transfer", "close"]) {
    await expect(c.page.getByTestId(action), action).toBeDisabled();
  }
  await c.context.close();

  const takeOver = b.page.getByTestId("take");
  await expect(takeOver).toHaveText(`Take over from ${a.name}`);
  const dialogs: { type: string; message: string }[] = [];
  b.page.on("dialog", (d) => {
    dialogs.push({ type: d.type(), message: d.message() });
    void d.accept();
  });
  await takeOver.click();
  await expect.poll(() => dialogs.length).toBe(1);
  expect(dialogs[0].type).toBe("confirm");
  expect(dialogs[0].message).toContain(a.name);
  await expect(b.page.getByTestId("held-by")).toHaveText("You");
  await expect(b.page.getByTestId("composer")).toBeFocused();

  // The former holder, looking at it, is told at once and can no longer write.
  const notice = a.page.getByTestId("taken-notice");
  await expect(notice).toBeVisible();
  await expect(notice).toContainText(b.name);
  await expect(notice).toHaveText(capitalised);
  await expect(a.page.getByTestId("composer")).toBeDisabled();
  const reason = a.page.getByTestId("composer-reason");
  await expect(reason).toContainText(b.name);
  await expect(reason).toHaveText(capitalised);
  await expect(a.page.getByTestId("held-by")).toHaveText(b.name);
  // And the transcript says so, for anyone who reads it later.
  await expect(a.page.getByTestId("activity").last()).toContainText(`${b.name} took this conversation over from ${a.name}`);
  await a.context.close();
  await b.context.close();
});
