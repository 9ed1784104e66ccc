// Fixtures of the browser journeys. Import `test` and `expect` from here, not
// from @playwright/test. The stack is the one scripts/web-test.sh starts; it
// passes its addresses in CINEMA_* variables:
//   CINEMA_BASE_URL    the app and the API (cinema-api serving web/dist)
//   CINEMA_MAIL_DIR    the mail sink's directory (one .eml file a message)
//   CINEMA_API_BIN     cinema-api, for create-user
//   CINEMA_STACK_ENV   the stack's settings file (CINEMA_ENV_FILE for cinema-api)
//   CINEMA_STRIPE_URL  the Stripe fake (its hosted checkout pages are under /checkout/)
import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type Page } from '@playwright/test';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type Group = 'USER' | 'MODERATOR' | 'ADMIN';

export interface User {
  email: string;
  password: string;
}

export interface Mail {
  /** The message's file in the sink's directory. */
  file: string;
  to: string;
  subject: string;
  /** The text/plain part, decoded. */
  text: string;
  /** The text/html part, decoded ("" when there is none). */
  html: string;
  /** Every http(s) URL of the message, in order, without duplicates. */
  links: string[];
}

/** A small JSON client for setting up data (bearer mode, like any API client). */
export interface Api {
  get<T = unknown>(path: string): Promise<T>;
  post<T = unknown>(path: string, body?: unknown): Promise<T>;
  put<T = unknown>(path: string, body?: unknown): Promise<T>;
  patch<T = unknown>(path: string, body?: unknown): Promise<T>;
  delete<T = unknown>(path: string): Promise<T>;
  /** Any method; answers the status and the parsed body without throwing. */
  send(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
}

export interface Stack {
  baseURL: string;
  mailDir: string;
  /** The Stripe fake's base URL (null only outside scripts/web-test.sh). */
  stripeURL: string | null;
  /** A new account with a unique email (active unless active: false). */
  createUser(opts?: { group?: Group; active?: boolean; email?: string; password?: string }): Promise<User>;
  /**
   * The next message to `to` (and whose subject matches), waiting for it.
   * Each call returns a message at most once in a test: call it again for
   * the next one (e.g. a second reset email).
   */
  waitForMail(to: string, subject?: RegExp, timeoutMs?: number): Promise<Mail>;
  /** A JSON client signed in as user (bearer tokens), or anonymous. */
  api(user?: User): Api;
}

export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${JSON.stringify(body)}`);
  }
}

const env = (name: string, fallback = ''): string => process.env[name] ?? fallback;

function uniqueEmail(tag: string): string {
  return `${tag}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}@example.com`;
}

// --- mail ------------------------------------------------------------------

function decodeQuotedPrintable(s: string): string {
  const bytes: number[] = [];
  const text = s.replace(/=\r?\n/g, '');
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const hex = text.slice(i + 1, i + 3);
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      for (const b of Buffer.from(c ?? '', 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** RFC 2047 encoded words (B and Q); the space between two of them is dropped. */
function decodeHeader(v: string): string {
  return v
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_m, _charset: string, enc: string, data: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : decodeQuotedPrintable(data.replace(/_/g, ' ')),
    );
}

function splitHeaders(raw: string): { headers: Map<string, string>; body: string } {
  const at = raw.search(/\r?\n\r?\n/);
  const head = at < 0 ? raw : raw.slice(0, at);
  const body = at < 0 ? '' : raw.slice(at).replace(/^\r?\n\r?\n/, '');
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function decodeBody(headers: Map<string, string>, body: string): string {
  const cte = (headers.get('content-transfer-encoding') ?? '').toLowerCase();
  if (cte === 'quoted-printable') return decodeQuotedPrintable(body);
  if (cte === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

/** Parses one message file of cinema-mailsink (tools/mailsink.c, src/mail/mail.c). */
export function parseMail(file: string, raw: string): Mail {
  const { headers, body } = splitHeaders(raw);
  const type = headers.get('content-type') ?? 'text/plain';
  let text = '';
  let html = '';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    const parts = body.split(`--${boundary}`).slice(1);
    for (const part of parts) {
      if (part.startsWith('--')) break;
      const p = splitHeaders(part.replace(/^\r?\n/, ''));
      const decoded = decodeBody(p.headers, p.body);
      const ptype = (p.headers.get('content-type') ?? '').toLowerCase();
      if (ptype.startsWith('text/plain') && !text) text = decoded;
      else if (ptype.startsWith('text/html') && !html) html = decoded;
    }
  } else if (/^text\/html/i.test(type)) {
    html = decodeBody(headers, body);
  } else {
    text = decodeBody(headers, body);
  }
  const links: string[] = [];
  const add = (u: string) => {
    const url = u.replace(/[.,;:!?]+$/, '');
    if (!links.includes(url)) links.push(url);
  };
  for (const m of text.matchAll(/https?:\/\/[^\s<>"'()]+/g)) add(m[0]);
  for (const m of html.matchAll(/https?:\/\/[^\s<>"']+/g)) add(m[0].replace(/&amp;/g, '&'));
  const to = headers.get('x-sink-rcpt-to') ?? headers.get('to') ?? '';
  return { file, to: to.replace(/^<|>$/g, ''), subject: decodeHeader(headers.get('subject') ?? ''), text, html, links };
}

async function waitForMail(
  dir: string,
  seen: Set<string>,
  to: string,
  subject?: RegExp,
  timeoutMs = 20_000,
): Promise<Mail> {
  const want = to.toLowerCase();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let names: string[] = [];
    try {
      names = readdirSync(dir)
        .filter((n) => n.endsWith('.eml'))
        .sort();
    } catch {
      names = [];
    }
    for (const name of names) {
      const file = join(dir, name);
      if (seen.has(file)) continue;
      const mail = parseMail(file, readFileSync(file, 'utf8'));
      if (mail.to.toLowerCase() !== want) continue;
      if (subject && !subject.test(mail.subject)) continue;
      seen.add(file);
      return mail;
    }
    if (Date.now() > deadline) {
      const got = names
        .map((n) => parseMail(n, readFileSync(join(dir, n), 'utf8')))
        .filter((m) => m.to.toLowerCase() === want)
        .map((m) => `"${m.subject}"`);
      throw new Error(
        `no email to ${to}${subject ? ` with a subject matching ${subject}` : ''} within ${timeoutMs} ms` +
          (got.length ? ` (messages to that address: ${got.join(', ')})` : ' (none to that address)'),
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

// --- API client for setup -------------------------------------------------------

function apiClient(baseURL: string, user?: User): Api {
  let token: { value: string; at: number } | null = null;
  const url = (path: string) => baseURL + (path.startsWith('/api/') ? path : `/api/v1${path.startsWith('/') ? '' : '/'}${path}`);

  async function signIn(): Promise<string> {
    if (!user) throw new Error('anonymous client');
    const res = await fetch(url('/accounts/login'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: user.email, password: user.password }),
    });
    const body = (await res.json().catch(() => null)) as { access_token?: string } | null;
    if (!res.ok || !body?.access_token) throw new ApiCallError(res.status, body, `sign-in of ${user.email}`);
    token = { value: body.access_token, at: Date.now() };
    return body.access_token;
  }

  async function bearer(): Promise<string | null> {
    if (!user) return null;
    // The stack's access tokens live 30 s: sign in again well before.
    if (!token || Date.now() - token.at > 15_000) return signIn();
    return token.value;
  }

  async function send(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const once = async (t: string | null) => {
      const headers: Record<string, string> = {};
      if (t) headers.Authorization = `Bearer ${t}`;
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const res = await fetch(url(path), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body: parsed };
    };
    let r = await once(await bearer());
    if (r.status === 401 && user) r = await once(await signIn());
    return r;
  }

  const call =
    (method: string) =>
    async <T>(path: string, body?: unknown): Promise<T> => {
      const r = await send(method, path, body);
      if (r.status >= 400) throw new ApiCallError(r.status, r.body, `${method} ${path}`);
      return r.body as T;
    };

  return {
    get: (path) => call('GET')(path),
    post: call('POST'),
    put: call('PUT'),
    patch: call('PATCH'),
    delete: (path) => call('DELETE')(path),
    send,
  };
}

// --- fixtures -------------------------------------------------------------------

interface Fixtures {
  stack: Stack;
  /** Signs in through the login page and waits until the app shows the account menu. */
  signIn: (page: Page, user: User) => Promise<void>;
  /** axe-core on the page as it is now: fails on any serious or critical violation. */
  checkA11y: (page: Page, label: string) => Promise<void>;
  /** A PNG of the viewport into web/e2e/screenshots/NAME.png. */
  shot: (page: Page, name: string) => Promise<void>;
}

export const test = base.extend<Fixtures>({
  stack: async ({ baseURL }, use) => {
    const root = baseURL ?? env('CINEMA_BASE_URL');
    const mailDir = env('CINEMA_MAIL_DIR');
    const seen = new Set<string>();
    const stack: Stack = {
      baseURL: root,
      mailDir,
      stripeURL: env('CINEMA_STRIPE_URL') || null,
      async createUser(opts = {}) {
        const group = opts.group ?? 'USER';
        const user = {
          email: opts.email ?? uniqueEmail(group.toLowerCase()),
          password: opts.password ?? `Pw#${randomBytes(4).toString('hex')}aA1`,
        };
        const args = ['create-user', '--email', user.email, '--password', user.password, '--group', group];
        if (opts.active !== false) args.push('--active');
        const bin = env('CINEMA_API_BIN');
        if (!bin) throw new Error('CINEMA_API_BIN is not set: run the browser tests with scripts/web-test.sh');
        await run(bin, args, { env: { ...process.env, CINEMA_ENV_FILE: env('CINEMA_STACK_ENV') } });
        return user;
      },
      waitForMail: (to, subject, timeoutMs) => {
        if (!mailDir) throw new Error('CINEMA_MAIL_DIR is not set: run the browser tests with scripts/web-test.sh');
        return waitForMail(mailDir, seen, to, subject, timeoutMs);
      },
      api: (user) => apiClient(root, user),
    };
    await use(stack);
  },

  // Playwright reads a fixture's dependencies from its first parameter's pattern: none here.
  // eslint-disable-next-line no-empty-pattern
  signIn: async ({}, use) => {
    await use(async (page, user) => {
      await page.goto('/accounts/login');
      await page.getByLabel(/^email/i).fill(user.email);
      await page.getByLabel(/^password/i).fill(user.password);
      await page.getByRole('button', { name: /^sign in$/i }).click();
      await expect(page.getByRole('button', { name: 'Account' })).toBeVisible();
    });
  },

  // eslint-disable-next-line no-empty-pattern
  checkA11y: async ({}, use, testInfo) => {
    await use(async (page, label) => {
      const results = await new AxeBuilder({ page })
        .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
        .analyze();
      const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      await testInfo.attach(`axe-${label}.json`, {
        body: JSON.stringify(results.violations, null, 2),
        contentType: 'application/json',
      });
      const lines = bad.map(
        (v) => `  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n` + v.nodes.map((n) => `      at ${n.target.join(' ')}`).join('\n'),
      );
      expect(bad.length, `axe on "${label}" (${page.url()}):\n${lines.join('\n')}`).toBe(0);
    });
  },

  // eslint-disable-next-line no-empty-pattern
  shot: async ({}, use, testInfo) => {
    await use(async (page, name) => {
      const dir = join(testInfo.project.testDir, 'screenshots');
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: join(dir, `${name}.png`) });
    });
  },
});

export { expect };
