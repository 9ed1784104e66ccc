// Journey 8: the session. A reload keeps it (the refresh token is in an
// HttpOnly cookie, never readable by scripts; the access token only in
// memory); signing out in one tab signs out the other, which goes to the
// sign-in page and comes back where it was; an expired access token is
// renewed without the user noticing. The stack's access tokens live 30 s
// (scripts/web-test.sh: ACCESS_TOKEN_TTL=30).
import type { Page, Response } from '@playwright/test';
import { expect, test } from './fixtures';

const REFRESH = '/api/v1/accounts/refresh';

function signedIn(page: Page) {
  return expect(page.getByRole('button', { name: 'Account' })).toBeVisible();
}

function signedOut(page: Page) {
  return expect(page.getByRole('banner').getByRole('link', { name: 'Sign in' })).toBeVisible();
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Account' }).click();
  await page.getByRole('button', { name: 'Sign out' }).click();
}

/** Every API answer the page gets, in order: "STATUS PATH". */
function apiLog(page: Page): string[] {
  const log: string[] = [];
  page.on('response', (r: Response) => {
    const url = new URL(r.url());
    if (url.pathname.startsWith('/api/')) log.push(`${r.status()} ${url.pathname}`);
  });
  return log;
}

test('a reload keeps the session; no token is readable by scripts or kept in storage', async ({ page, stack, signIn }) => {
  const user = await stack.createUser();
  await signIn(page, user);

  const cookies = await page.context().cookies();
  const refresh = cookies.find((c) => c.name === 'cinema_refresh');
  expect(refresh, 'the refresh cookie').toBeDefined();
  expect(refresh).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: REFRESH });
  const hint = cookies.find((c) => c.name === 'cinema_session');
  expect(hint).toMatchObject({ value: '1', httpOnly: false, path: '/' });

  const log = apiLog(page);
  await page.reload();
  await signedIn(page);
  expect(log).toContain(`200 ${REFRESH}`);

  const seen = await page.evaluate(() => ({
    cookie: document.cookie,
    storage: JSON.stringify([Object.entries(window.localStorage), Object.entries(window.sessionStorage)]),
  }));
  expect(seen.cookie).not.toContain('cinema_refresh');
  expect(seen.cookie).not.toContain(refresh?.value ?? '-');
  expect(seen.storage).not.toMatch(/eyJ[\w-]+\.[\w-]+\./); // no JWT
  expect(seen.storage).not.toContain(refresh?.value ?? '-');
});

test('reloads in three tabs at once keep the session', async ({ page, stack, signIn }) => {
  // Each reload presents the single-use refresh token: the tabs take turns
  // (Web Locks, the cinema-refresh lock), so none presents a used one.
  const user = await stack.createUser();
  await signIn(page, user);
  const tabs = [page, await page.context().newPage(), await page.context().newPage()];
  await Promise.all(tabs.slice(1).map((t) => t.goto('/favorites')));
  for (const t of tabs) await signedIn(t);
  const logs = tabs.map(apiLog);
  for (let round = 0; round < 3; round++) {
    await Promise.all(tabs.map((t) => t.reload()));
    await Promise.all(tabs.map(signedIn));
  }
  const refreshes = logs.flat().filter((l) => l.endsWith(REFRESH));
  // At least one per round; a tab that hears another's new token while it
  // waits for the lock uses that one instead of refreshing itself.
  expect(refreshes.length).toBeGreaterThanOrEqual(3);
  expect(refreshes.filter((l) => !l.startsWith('200 ')), 'a refused refresh').toEqual([]);
  // The server still holds the session: a page opened now signs in from the cookie.
  const fresh = await page.context().newPage();
  await fresh.goto('/favorites');
  await expect(fresh.getByRole('heading', { level: 1, name: 'Favorites' })).toBeVisible();
  await signedIn(fresh);
});

// Known gap (left for the server): a reload the moment a refresh leaves.
// The server may rotate the token while the browser is between pages; the
// refresh is a keepalive request, so its answer still stores the new cookie,
// but when the next page's own refresh leaves before that answer lands it
// presents the used token and the server ends the session as a reuse. On an
// idle machine keepalive wins the race (without it this fails every time);
// under load it still loses at times. Closing it takes a short grace window
// on the server for the token it has just rotated.
test.fixme('a reload while a refresh is on its way keeps the session', async ({ page, stack, signIn }) => {
  const user = await stack.createUser();
  await signIn(page, user);
  const log = apiLog(page);
  for (let i = 0; i < 4; i++) {
    const sent = page.waitForRequest((r) => r.url().endsWith(REFRESH));
    await page.reload({ waitUntil: 'commit' });
    await sent;
  }
  await page.reload();
  await signedIn(page);
  expect(log.filter((l) => l.endsWith(REFRESH) && !l.startsWith('200 ')), 'a refused refresh').toEqual([]);
});

test('signing out in one tab signs out the other, which signs in again and returns', async ({ page, stack, signIn }) => {
  const user = await stack.createUser();
  await signIn(page, user);
  const other = await page.context().newPage();
  await other.goto('/favorites');
  await expect(other.getByRole('heading', { level: 1, name: 'Favorites' })).toBeVisible();
  await signedIn(other);
  const oldRefresh = (await page.context().cookies()).find((c) => c.name === 'cinema_refresh')?.value;
  expect(oldRefresh).toBeTruthy();

  await signOut(page);
  await signedOut(page);

  // The other tab is sent to sign in, and knows where it was.
  await expect(other).toHaveURL(/\/accounts\/login\?next=%2Ffavorites/);
  await expect(other.getByText('Your session ended; sign in again.')).toBeVisible();
  await signedOut(other);

  // The session is over on the server: its refresh token is refused, and a reload stays signed out.
  const replay = await page.request.post(REFRESH, {
    headers: { 'X-Cinema-Session': 'cookie', Cookie: `cinema_refresh=${oldRefresh}` },
    data: {},
  });
  expect(replay.status()).toBe(401);
  await other.reload();
  await signedOut(other);
  expect((await page.context().cookies()).map((c) => c.name)).not.toContain('cinema_refresh');

  // Signing in again there leads back to the page it was on.
  await other.getByLabel(/^email/i).fill(user.email);
  await other.getByLabel(/^password/i).fill(user.password);
  await other.getByRole('button', { name: /^sign in$/i }).click();
  await expect(other).toHaveURL(/\/favorites$/);
  await expect(other.getByRole('heading', { level: 1, name: 'Favorites' })).toBeVisible();
  await signedIn(other);
});

test('an expired access token is renewed silently', async ({ page, stack, signIn }) => {
  test.setTimeout(120_000);
  const user = await stack.createUser();
  // The app's clock and timers are fake from here: frozen below, so the app
  // neither renews on time nor sees its token age; the server's clock runs.
  await page.clock.install();
  await signIn(page, user);
  // Paused a little ahead of the page's own clock (not the test's: under load
  // the two drift, and pausing in the page's past throws).
  const pageNow = await page.evaluate(() => Date.now());
  await page.clock.pauseAt(pageNow + 5_000);

  // ACCESS_TOKEN_TTL=30: the token in the app's memory expires meanwhile.
  await new Promise((r) => setTimeout(r, 32_000));
  const log = apiLog(page);
  // A signed-in page, opened inside the app: its call carries the expired
  // token, gets 401, the app renews and retries.
  await page.getByRole('button', { name: 'Account' }).click();
  await page.getByRole('link', { name: 'Favorites' }).click();
  await expect(page).toHaveURL(/\/favorites$/);
  // Preact runs effects (the page's loading) after a frame: let the frozen
  // clock move by small steps, far from the app's renewal time (22.5 s).
  const heading = page.getByRole('heading', { level: 1, name: 'Favorites' });
  const loaded = () => log.some((l) => l.startsWith('200 /api/v1/favorites'));
  await expect
    .poll(
      async () => {
        await page.clock.runFor(100);
        return loaded() && (await heading.isVisible());
      },
      { timeout: 15_000, message: 'the favorites page loads its list' },
    )
    .toBe(true);
  await signedIn(page);
  expect(log).toContain(`200 ${REFRESH}`);
  const firstRefresh = log.indexOf(`200 ${REFRESH}`);
  expect(log.slice(0, firstRefresh).some((l) => l.startsWith('401 '))).toBe(true);
  expect(log.slice(firstRefresh).some((l) => l.startsWith('200 /api/v1/favorites'))).toBe(true);
  expect(page.url()).not.toContain('/accounts/login');
});

test('the access token is renewed before it expires', async ({ page, stack, signIn }) => {
  const user = await stack.createUser();
  await page.clock.install();
  await signIn(page, user);
  const log = apiLog(page);
  const renewed = page.waitForResponse((r) => new URL(r.url()).pathname === REFRESH && r.status() === 200);
  // 30 s tokens are renewed at three quarters of their life: 22.5 s.
  await page.clock.runFor(23_000);
  await renewed;
  await page.getByRole('button', { name: 'Account' }).click();
  await page.getByRole('link', { name: 'Favorites' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Favorites' })).toBeVisible();
  await signedIn(page);
  expect(log.filter((l) => l.startsWith('401 '))).toEqual([]);
});
