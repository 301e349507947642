import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import http from "node:http";
import { AddressInfo } from "node:net";
import path from "node:path";
import {
  test as base,
  expect,
  APIRequestContext,
  Browser,
  BrowserContext,
  BrowserContextOptions,
  ConsoleMessage,
  Page,
} from "@playwright/test";

/** Something whose console and uncaught errors fail the test: a page, or every page of a context. */
export type Watch = (target: Page | BrowserContext) => void;

type Fixtures = {
  /**
   * URLs whose console errors a test expects (e.g. Chromium logs a deliberate 404
   * document as an error). Push to it before navigating.
   */
  allowedConsoleErrors: RegExp[];
  /**
   * Watches another page or context (one a test makes itself) the way `page` is
   * watched: any uncaught error or unexpected console error fails the test.
   */
  watch: Watch;
  /** A fake Botpress, closed when the test ends. */
  bot: Bot;
};

/** Fails the test on any uncaught page error or unexpected console error. */
export const test = base.extend<Fixtures>({
  allowedConsoleErrors: async ({}, use) => {
    await use([]);
  },
  watch: async ({ allowedConsoleErrors }, use) => {
    const problems: string[] = [];
    const onConsole = (m: ConsoleMessage) => {
      if (m.type() !== "error") return;
      const url = m.location().url;
      if (allowedConsoleErrors.some((re) => re.test(url))) return;
      problems.push(`console.error: ${m.text()} (${url})`);
    };
    await use((target) => {
      if ("pages" in target) {
        target.on("weberror", (e) => problems.push(`pageerror: ${e.error().message}`));
      } else {
        target.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
      }
      target.on("console", onConsole);
    });
    expect(problems, "the page logged errors").toEqual([]);
  },
  page: async ({ page, watch }, use) => {
    watch(page);
    await use(page);
  },
  bot: async ({}, use) => {
    const bot = await fakeBotpress();
    await use(bot);
    bot.close();
  },
});

/** Waits until the wasm has hydrated the page, so clicks reach Leptos handlers. */
export async function waitForHydration(page: Page) {
  await expect(page.locator("[data-hydrated]")).toHaveAttribute("data-hydrated", "true");
}

export { expect };

/**
 * Where screenshots for people to review go: `end2end/screenshots`, which is
 * committed and which the README shows. The run on two PostgreSQL replicas writes
 * its own elsewhere (`SCREENSHOTS_DIR`), so the committed ones stay SQLite's.
 */
export const SCREENSHOTS = process.env.SCREENSHOTS_DIR ?? path.join(__dirname, "..", "screenshots");

/**
 * With two replicas (`cargo xtask test` sets SECOND_URL for its PostgreSQL run), each
 * new agent's browser goes to the next replica in turn, and Botpress calls the
 * second one: agents on different replicas see each other's work, and the bot's.
 */
const SECOND_URL = process.env.SECOND_URL;
let nextReplica = 0;

/** The replica the next agent uses (undefined: the one server, BASE_URL). */
function nextReplicaUrl(): string | undefined {
  if (!SECOND_URL) return undefined;
  nextReplica += 1;
  return nextReplica % 2 === 1 ? process.env.BASE_URL : SECOND_URL;
}

export const PASSWORD = "a long enough password";

/** Runs the real `baton` CLI against the e2e server's database (set up by `cargo xtask test`). */
export function baton(args: string[], input = ""): string {
  const bin = process.env.BATON_BIN;
  if (!bin) throw new Error("BATON_BIN is not set: run the suite with `cargo xtask test e2e`");
  return execFileSync(bin, args, { input, env: process.env, encoding: "utf8" });
}

/** Creates an account with a fresh email and returns the email. */
export function createAccount(role: "admin" | "agent", name = "Test Person"): string {
  const email = `${role}-${randomBytes(6).toString("hex")}@example.com`;
  baton(["user", "create", "--email", email, "--name", name, "--role", role, "--password-stdin"], PASSWORD);
  return email;
}

export async function signIn(page: Page, email: string, password = PASSWORD) {
  await page.goto("/login");
  await waitForHydration(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

export type Call = { path: string; body: any };

/** A webhook that records every JSON body posted to it and answers 200. */
async function recordingWebhook() {
  const calls: Call[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      calls.push({ path: req.url ?? "", body: body ? JSON.parse(body) : null });
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return { calls, server, port };
}

/** A fake Botpress: records what Baton posts to the bot's webhook. */
export async function fakeBotpress() {
  const { calls, server, port } = await recordingWebhook();
  const name = `bot-${randomBytes(4).toString("hex")}`;
  const out = baton(["connection", "create", "--name", name, "--webhook-url", `http://127.0.0.1:${port}/hook`]);
  const token = out.trim().split("\n").pop()!.split("/botpress/")[1];
  return {
    calls,
    /** The connection's name, as admins see it. */
    name,
    /** Calls one of Baton's five Botpress endpoints, as the integration does. */
    post: async (request: APIRequestContext, route: string, data: object) => {
      const r = await request.post(`${SECOND_URL ?? ""}/botpress/${token}/${route}`, { data });
      expect(r.status(), `${route}: ${await r.text()}`).toBe(200);
      return r.json();
    },
    received: (route: string) => calls.filter((c) => c.path === `/hook/${route}`).map((c) => c.body),
    close: () => server.close(),
  };
}

export type Bot = Awaited<ReturnType<typeof fakeBotpress>>;

/**
 * A bot on Baton's own integration (HITL 2.1): a connection made for it, registered
 * with a fake webhook that records what Baton sends, and the integration's calls.
 */
export async function fakeBatonIntegration(request: APIRequestContext) {
  const { calls, server, port } = await recordingWebhook();
  const name = `bot-${randomBytes(4).toString("hex")}`;
  const out = baton(["connection", "create", "--integration", "baton", "--name", name]);
  const token = out.trim().split("\n").pop()!.split("/botpress/")[1];
  const post = async (route: string, data: object) => {
    const r = await request.post(`${SECOND_URL ?? ""}/botpress/${token}/${route}`, { data });
    expect(r.status(), `${route}: ${await r.text()}`).toBe(200);
    return r.json();
  };
  const registered = await post("register", { webhookUrl: `http://127.0.0.1:${port}/hook`, botId: "bot_e2e" });
  return {
    calls,
    name,
    signingKey: registered.signingKey as string,
    /** Calls one of the routes Baton's integration calls. */
    post,
    received: (route: string) => calls.filter((c) => c.path === `/hook/${route}`).map((c) => c.body),
    close: () => server.close(),
  };
}

/** Botpress hands a customer's conversation over; returns the ticket id and customer id. */
export async function escalate(bot: Bot, request: APIRequestContext, title: string, customer = "Dana Customer") {
  const user = await bot.post(request, "createRemoteUser", {
    type: "createRemoteUser",
    payload: { role: "end-user", name: customer, email: `dana-${randomBytes(3).toString("hex")}@example.org` },
  });
  const ticket = await bot.post(request, "createRemoteConversation", {
    type: "createRemoteConversation",
    payload: { title, description: "Escalated by the bot" },
  });
  return { ticket: ticket.id as string, customer: user.id as string };
}

export async function says(bot: Bot, request: APIRequestContext, ticket: string, user: string, payload: object) {
  await bot.post(request, "botSendsMessage", {
    type: "botSendsMessage",
    remoteConversationId: ticket,
    remoteUserId: user,
    payload,
  });
}

export type AgentPageOptions = {
  /** Options for the agent's browser context (viewport, colorScheme, timezoneId…). */
  context?: BrowserContextOptions;
  role?: "agent" | "admin";
  /** Pass the `watch` fixture to fail the test on the agent's page errors too. */
  watch?: Watch;
};

/** An agent signed in, in a browser context of their own, on a live inbox. */
export async function agentPage(browser: Browser, name: string, options: AgentPageOptions = {}) {
  const replica = nextReplicaUrl();
  const context = await browser.newContext({ ...(replica ? { baseURL: replica } : {}), ...options.context });
  options.watch?.(context);
  const page = await context.newPage();
  name = `${name} ${randomBytes(3).toString("hex")}`;
  const email = createAccount(options.role ?? "agent", name);
  await signIn(page, email);
  await expect(page).toHaveURL(/\/inbox$/);
  await waitForHydration(page);
  await expect(page.getByTestId("live-state")).toHaveText("Live");
  return { context, page, email, name };
}

/** A ticket's row in the inbox list. */
export const row = (page: Page, ticket: string) => page.locator(`li[data-ticket="${ticket}"]`);
