// Accessibility and layout of every page of the app, including those the
// journeys do not reach: each route of src/pages/*/routes.ts (and its empty,
// error and filled states) at 1440 px and at 375 px, signed in as the user
// the page is for. On each: axe (no serious or critical violation), no
// sideways scrolling at 375 px, and with A11Y_SHOTS=1 a full-page screenshot
// of each in the test's output folder (test-results/) to look at. Then the keyboard: the skip link
// comes first, the header's controls next, the account menu opens with Enter
// and closes with Escape, giving focus back to its button, and every control
// reached by Tab shows a focus ring.
import type { Page } from '@playwright/test';
import { expect, test, type Api, type Stack } from './fixtures';

const WIDTHS = [1440, 375] as const;
const SHOTS = process.env.A11Y_SHOTS === '1';

interface Visit {
  /** The address, e.g. /orders?status=paid. */
  path: string;
  /** A short name for screenshots and messages. */
  name: string;
  /** The h1 the page shows once loaded (a string matches exactly). */
  h1?: string | RegExp;
}

interface MovieRef {
  id: number;
  name: string;
}

type CheckA11y = (page: Page, label: string) => Promise<void>;

/** Opens each page at each width; collects every problem, fails once at the end with all of them. */
async function sweep(page: Page, checkA11y: CheckA11y, visits: Visit[], outputPath: (name: string) => string): Promise<void> {
  const problems: string[] = [];
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: width === 375 ? 812 : 900 });
    for (const v of visits) {
      const label = `${v.name} @${width}`;
      await page.goto(v.path);
      const main = page.locator('main');
      const h1 = main.getByRole('heading', { level: 1, ...(v.h1 ? { name: v.h1 } : {}) });
      try {
        await expect(h1).toBeVisible();
        await expect(main.getByRole('status').filter({ hasText: /^Loading/ })).toHaveCount(0);
      } catch (e) {
        problems.push(`${label}: did not load (${String(e).split('\n')[0]})`);
        continue;
      }
      // Fonts and lazy images settle before the measure and the picture.
      await page.evaluate(() => document.fonts.ready);
      if (width === 375) {
        const sw = await page.evaluate(() => document.documentElement.scrollWidth);
        if (sw > 375) {
          const wide = await page.evaluate(() =>
            [...document.querySelectorAll<HTMLElement>('body *')]
              .filter((el) => el.getBoundingClientRect().right > 375.5 && el.getClientRects().length > 0)
              .slice(0, 5)
              .map((el) => `${el.tagName.toLowerCase()}.${el.className || '-'} (right ${Math.round(el.getBoundingClientRect().right)})`),
          );
          problems.push(`${label}: scrollWidth ${sw} > 375; wide: ${wide.join(', ')}`);
        }
      }
      try {
        await checkA11y(page, label);
      } catch (e) {
        problems.push(String(e instanceof Error ? e.message : e).split('\n\nExpected')[0] ?? label);
      }
      if (SHOTS) await page.screenshot({ path: outputPath(`${v.name.replace(/[^a-z0-9]+/gi, '-')}-${width}.png`), fullPage: true });
    }
  }
  expect(problems, problems.join('\n\n')).toEqual([]);
}

async function movies(stack: Stack, count: number, skip: number): Promise<MovieRef[]> {
  const page = await stack.api().get<{ items: MovieRef[] }>(`/movies?sort=-year&per_page=${count + skip}`);
  const out = page.items.slice(skip, skip + count);
  expect(out, 'the seeded catalog has enough movies').toHaveLength(count);
  return out;
}

/** Pays a pending order through the app and the Stripe fake's hosted page. */
async function pay(page: Page, stack: Stack, orderId: number): Promise<void> {
  await page.goto(`/orders/${orderId}`);
  await page.getByRole('button', { name: /^Pay( again)?$/ }).click();
  await page.waitForURL((u) => u.origin !== new URL(stack.baseURL).origin && u.pathname.startsWith('/checkout/'));
  await page.getByRole('button', { name: /^Pay\b/ }).click();
  await page.waitForURL(`${stack.baseURL}/orders/${orderId}?checkout=success`);
  await expect(page.getByText(/Payment received/)).toBeVisible({ timeout: 25_000 });
}

test.describe('every page: axe, 1440 px and 375 px', () => {
  test.describe.configure({ mode: 'parallel', timeout: 240_000 });

  test('visitor and account pages, signed out', async ({ page, stack, checkA11y }, testInfo) => {
    const [movie] = await movies(stack, 1, 0);
    const genres = await stack.api().get<{ id: number; name: string }[] | { items: { id: number; name: string }[] }>('/genres');
    const genre = (Array.isArray(genres) ? genres : genres.items)[0];
    await sweep(
      page,
      checkA11y,
      [
        { path: '/', name: 'home', h1: 'Movies' },
        { path: `/movies?sort=-year&search=the${genre ? `&genre=${genre.id}` : ''}`, name: 'catalog filtered', h1: /^Results for/ },
        { path: '/movies?search=zzzznothing', name: 'catalog no results', h1: /^Results for/ },
        { path: `/movies/${movie?.id}`, name: 'movie', h1: movie?.name },
        { path: '/movies/999999999', name: 'movie not found' },
        { path: '/genres', name: 'genres', h1: 'Genres' },
        { path: '/accounts/register', name: 'register' },
        { path: '/accounts/activate', name: 'activate without token' },
        { path: '/accounts/activate?token=not-a-real-token', name: 'activate bad token' },
        { path: '/accounts/activation/resend', name: 'resend activation' },
        { path: '/accounts/login', name: 'login' },
        { path: '/accounts/password/forgot', name: 'forgot password' },
        { path: '/accounts/password/reset', name: 'reset without token' },
        { path: '/accounts/password/reset?token=not-a-real-token', name: 'reset bad token' },
        { path: '/no/such/page', name: '404', h1: 'Page not found' },
      ],
      (n) => testInfo.outputPath(n),
    );
    // The bad tokens say so once submitted (reset) or at once (activate).
    await page.goto('/accounts/password/reset?token=not-a-real-token');
    const pw = page.getByLabel(/^New password/i);
    if (await pw.count()) {
      await pw.fill('Aa1#aaaaaaaaaa');
      const again = page.getByLabel(/^(Repeat|Confirm)/i);
      if (await again.count()) await again.fill('Aa1#aaaaaaaaaa');
      await page.getByRole('button', { name: /password/i }).click();
      await expect(page.getByRole('alert').first()).toBeVisible();
      await checkA11y(page, 'reset bad token, submitted');
      await page.screenshot({ path: testInfo.outputPath('reset-bad-token-submitted.png'), fullPage: true });
    }
  });

  test('a user’s pages: empty, then filled', async ({ page, stack, signIn, checkA11y }, testInfo) => {
    test.skip(!stack.stripeURL, 'this stack has no Stripe fake');
    const user = await stack.createUser();
    const other = await stack.createUser();
    await signIn(page, user);
    const out = (n: string) => testInfo.outputPath(n);

    // Empty states.
    await sweep(
      page,
      checkA11y,
      [
        { path: '/notifications', name: 'notifications empty' },
        { path: '/favorites', name: 'favorites empty' },
        { path: '/cart', name: 'cart empty' },
        { path: '/orders', name: 'orders empty' },
        { path: '/payments', name: 'payments empty' },
        { path: '/purchases', name: 'purchases empty' },
        { path: '/accounts/profile', name: 'profile' },
        { path: '/accounts/password/change', name: 'change password' },
        { path: '/studio/movies', name: 'studio forbidden', h1: 'Not for this account' },
        { path: '/admin/users', name: 'admin forbidden', h1: 'Not for this account' },
      ],
      out,
    );

    // Filled: favorites, a paid order, a pending one, a cart, a reply notification.
    const api: Api = stack.api(user);
    const ms = await movies(stack, 5, 3);
    const [a, b, c, d, e] = ms as [MovieRef, MovieRef, MovieRef, MovieRef, MovieRef];
    for (const m of [a, b, c]) await api.put(`/favorites/${m.id}`);
    await api.post('/cart/items', { movie_id: a.id });
    await api.post('/cart/items', { movie_id: b.id });
    const paid = await api.post<{ order: { id: number } }>('/orders', {});
    await pay(page, stack, paid.order.id);
    await api.post('/cart/items', { movie_id: c.id });
    const pending = await api.post<{ order: { id: number } }>('/orders', {});
    await api.post('/cart/items', { movie_id: d.id });
    await api.post('/cart/items', { movie_id: e.id });
    const comment = await api.post<{ id: number }>(`/movies/${a.id}/comments`, { text: 'A comment to reply to.' });
    await stack.api(other).post(`/movies/${a.id}/comments`, { text: 'A reply, so there is a notification.', parent_id: comment.id });

    await sweep(
      page,
      checkA11y,
      [
        { path: '/notifications', name: 'notifications' },
        { path: '/favorites', name: 'favorites' },
        { path: '/cart', name: 'cart' },
        { path: '/orders', name: 'orders' },
        { path: `/orders/${paid.order.id}`, name: 'order paid' },
        { path: `/orders/${pending.order.id}`, name: 'order pending' },
        { path: `/orders/${pending.order.id}?checkout=cancel`, name: 'order checkout canceled' },
        { path: '/payments', name: 'payments' },
        { path: '/purchases', name: 'purchases' },
        { path: `/movies/${a.id}`, name: 'movie signed in, purchased, thread' },
        { path: `/movies/${d.id}`, name: 'movie signed in, in cart' },
      ],
      out,
    );
  });

  // Issue 14: the player's states without a video (e2e/watch.spec.ts has it
  // playing, with axe at both widths). A test of its own: the user's pages
  // above already take most of their time budget.
  test('the player, for a user', async ({ page, stack, signIn, checkA11y }, testInfo) => {
    test.skip(!stack.stripeURL, 'this stack has no Stripe fake');
    const user = await stack.createUser();
    await signIn(page, user);
    const [owned, other] = (await movies(stack, 2, 9)) as [MovieRef, MovieRef];
    const api: Api = stack.api(user);
    await api.post('/cart/items', { movie_id: owned.id });
    const order = await api.post<{ order: { id: number } }>('/orders', {});
    await pay(page, stack, order.order.id);
    await sweep(
      page,
      checkA11y,
      [
        { path: `/movies/${owned.id}/watch`, name: 'watch, owned, no video yet', h1: owned.name },
        { path: `/movies/${other.id}/watch`, name: 'watch, not bought', h1: other.name },
        { path: '/movies/999999999/watch', name: 'watch, no such movie', h1: 'Movie not found' },
      ],
      (n) => testInfo.outputPath(n),
    );
  });

  test('the studio, for a moderator', async ({ page, stack, signIn, checkA11y }, testInfo) => {
    const moderator = await stack.createUser({ group: 'MODERATOR' });
    await signIn(page, moderator);
    const [movie] = await movies(stack, 1, 0);
    await sweep(
      page,
      checkA11y,
      [
        { path: '/studio', name: 'studio home' },
        { path: '/studio/movies', name: 'studio movies' },
        { path: '/studio/movies/new', name: 'studio movie new' },
        { path: `/studio/movies/${movie?.id}`, name: 'studio movie edit' },
        { path: '/studio/genres', name: 'studio genres', h1: 'Genres' },
        { path: '/studio/stars', name: 'studio stars', h1: 'Stars' },
        { path: '/studio/directors', name: 'studio directors', h1: 'Directors' },
        { path: '/studio/certifications', name: 'studio certifications', h1: 'Certifications' },
        { path: '/studio/sales', name: 'studio sales carts' },
        { path: '/studio/sales?tab=orders', name: 'studio sales orders' },
        { path: '/studio/sales?tab=payments', name: 'studio sales payments' },
        { path: '/admin/users', name: 'admin forbidden for a moderator', h1: 'Not for this account' },
      ],
      (n) => testInfo.outputPath(n),
    );
  });

  test('the administrators’ pages', async ({ page, stack, signIn, checkA11y }, testInfo) => {
    const admin = await stack.createUser({ group: 'ADMIN' });
    await stack.createUser({ active: false });
    await signIn(page, admin);
    await sweep(
      page,
      checkA11y,
      [
        { path: '/admin', name: 'admin home' },
        { path: '/admin/users', name: 'admin users' },
        { path: '/admin/users?is_active=false', name: 'admin users inactive' },
        { path: '/admin/users?email=nobody-at-all', name: 'admin users none' },
      ],
      (n) => testInfo.outputPath(n),
    );
  });
});

/** What has the focus: its role-ish description, and whether a focus indicator shows. */
async function focused(page: Page): Promise<{ tag: string; text: string; visible: boolean; ring: boolean }> {
  // A ring is an outline of 2 px or more, or a box shadow.
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return { tag: 'body', text: '', visible: false, ring: false };
    const s = getComputedStyle(el);
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
    const shadow = s.boxShadow !== 'none';
    const r = el.getBoundingClientRect();
    return {
      tag: el.tagName.toLowerCase() + (el.getAttribute('type') ? `[type=${el.getAttribute('type')}]` : ''),
      text: (el.getAttribute('aria-label') ?? el.textContent ?? (el as HTMLInputElement).value ?? '').trim().slice(0, 40) || el.id,
      visible: r.width > 0 && r.height > 0,
      ring: outline || shadow,
    };
  });
}

/** Tabs through the whole page; every stop must show a focus ring. */
async function tabThrough(page: Page, label: string, max = 120): Promise<string[]> {
  const problems: string[] = [];
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const seen: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (f.tag === 'body') break;
    const key = `${f.tag} "${f.text}"`;
    if (seen.length > 2 && seen[0] === key) break; // wrapped around
    seen.push(key);
    if (!f.ring) problems.push(`${label}: no visible focus on ${key}`);
    if (!f.visible) problems.push(`${label}: focus on an invisible ${key}`);
  }
  return problems;
}

test.describe('the keyboard', () => {
  test('skip link first, then the header; the account menu opens with Enter and closes with Escape', async ({ page, stack, signIn }) => {
    const user = await stack.createUser();
    await signIn(page, user);
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 800 });
      await page.goto('/movies');
      await expect(page.getByRole('heading', { level: 1, name: 'Movies' })).toBeVisible();
      await page.keyboard.press('Tab');
      const skip = page.getByRole('link', { name: 'Skip to content' });
      await expect(skip).toBeFocused();
      await expect(skip).toBeInViewport();
      const order = [
        page.getByRole('link', { name: 'Cinema, home' }),
        page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Movies' }),
        page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Genres' }),
        page.getByRole('searchbox', { name: 'Search movies' }),
        page.getByRole('search').getByRole('button', { name: 'Search' }),
        page.getByRole('link', { name: /^Notifications/ }),
        page.locator('header').getByRole('link', { name: 'Cart' }),
        page.getByRole('button', { name: 'Account' }),
      ];
      for (const loc of order) {
        await page.keyboard.press('Tab');
        await expect(loc).toBeFocused();
      }
      const account = page.getByRole('button', { name: 'Account' });
      await page.keyboard.press('Enter');
      await expect(account).toHaveAttribute('aria-expanded', 'true');
      const menu = page.locator('#account-menu');
      await expect(menu).toBeVisible();
      // Escape from the button closes the menu, the focus stays on the button.
      await page.keyboard.press('Escape');
      await expect(menu).toBeHidden();
      await expect(account).toBeFocused();
      // Escape from inside the menu gives the focus back to the button.
      await page.keyboard.press('Enter');
      await page.keyboard.press('Tab');
      await expect(menu.getByRole('link', { name: 'My movies' })).toBeFocused();
      await page.keyboard.press('Escape');
      await expect(menu).toBeHidden();
      await expect(account).toBeFocused();
      await expect(account).toHaveAttribute('aria-expanded', 'false');
      // The skip link moves the focus to the content.
      await page.goto('/movies');
      await expect(page.getByRole('heading', { level: 1, name: 'Movies' })).toBeVisible();
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await expect(page.locator('main')).toBeFocused();
      await page.keyboard.press('Tab');
      const first = await focused(page);
      expect(await page.evaluate(() => !!document.activeElement?.closest('main')), `after the skip link: ${first.tag} "${first.text}"`).toBe(true);
    }
    // A link to a part of the same page (the movie's comment count) goes there.
    const [movie] = await movies(stack, 1, 0);
    await page.goto(`/movies/${movie?.id}`);
    await page.locator('.facts a[href="#comments"]').click();
    await expect(page.getByRole('heading', { level: 2, name: /^Comments/ })).toBeInViewport();
    expect(new URL(page.url()).hash).toBe('#comments');
  });

  test('every control reached by Tab shows its focus', async ({ page, stack, signIn }) => {
    test.setTimeout(180_000);
    const [movie] = await movies(stack, 1, 0);
    const problems: string[] = [];
    await page.goto('/movies');
    await expect(page.getByRole('heading', { level: 1, name: 'Movies' })).toBeVisible();
    problems.push(...(await tabThrough(page, 'catalog (visitor)')));
    await page.goto('/accounts/register');
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    problems.push(...(await tabThrough(page, 'register')));

    const moderator = await stack.createUser({ group: 'MODERATOR' });
    await stack.api(moderator).post('/cart/items', { movie_id: movie?.id });
    await signIn(page, moderator);
    for (const [path, name] of [
      [`/movies/${movie?.id}`, 'movie'],
      ['/cart', 'cart'],
      ['/accounts/profile', 'profile'],
      ['/favorites', 'favorites'],
      ['/studio/movies', 'studio movies'],
      ['/studio/movies/new', 'studio movie form'],
      ['/studio/genres', 'studio genres'],
      ['/studio/sales?tab=orders', 'studio sales'],
    ] as const) {
      await page.goto(path);
      await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
      await expect(page.locator('main').getByRole('status').filter({ hasText: /^Loading/ })).toHaveCount(0);
      problems.push(...(await tabThrough(page, name)));
    }
    // The open account menu's items too.
    await page.goto('/movies');
    await page.getByRole('button', { name: 'Account' }).focus();
    await page.keyboard.press('Enter');
    for (let i = 0; i < 9; i++) {
      await page.keyboard.press('Tab');
      const f = await focused(page);
      if (!f.ring) problems.push(`account menu: no visible focus on ${f.tag} "${f.text}"`);
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });
});

