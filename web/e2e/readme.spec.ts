// The README's screenshots: the catalog, a movie page, the cart on a phone
// and the studio, from the seeded demo stack. Always taken (into
// e2e/screenshots/); with README_SHOTS=1 they are written to docs/img/ as
// well, to be committed: `README_SHOTS=1 scripts/web-test.sh e2e/readme.spec.ts`.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';

const docs = join(import.meta.dirname, '..', '..', 'docs', 'img');

async function keep(page: Page, shot: (p: Page, n: string) => Promise<void>, name: string): Promise<void> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await shot(page, name);
  if (process.env.README_SHOTS === '1') {
    mkdirSync(docs, { recursive: true });
    copyFileSync(join(import.meta.dirname, 'screenshots', `${name}.png`), join(docs, `${name}.png`));
  }
}

test('the README screenshots', async ({ page, browser, stack, signIn, shot }) => {
  test.setTimeout(90_000);
  await page.setViewportSize({ width: 1000, height: 640 });
  await page.goto('/movies?sort=-imdb');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await expect(page.getByRole('link', { name: /.+/ }).first()).toBeVisible();
  await page.waitForLoadState('networkidle');
  await keep(page, shot, 'catalog');

  const user = await stack.createUser();
  const api = stack.api(user);
  const list = await stack.api().get<{ items: { id: number }[] }>('/movies?sort=-imdb&per_page=2');
  const [a, b] = list.items;
  if (!a || !b) throw new Error('the seeded catalog is empty');
  await api.post('/cart/items', { movie_id: a.id });
  await api.post('/cart/items', { movie_id: b.id });
  await signIn(page, user);

  await page.setViewportSize({ width: 900, height: 700 });
  await page.goto(`/movies/${a.id}`);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await page.waitForLoadState('networkidle');
  await keep(page, shot, 'movie');

  await page.setViewportSize({ width: 375, height: 700 });
  await page.goto('/cart');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await page.waitForLoadState('networkidle');
  await keep(page, shot, 'cart-375');

  const mod = await stack.createUser({ group: 'MODERATOR' });
  const ctx = await browser.newContext({ baseURL: stack.baseURL, viewport: { width: 900, height: 700 } });
  const studio = await ctx.newPage();
  await signIn(studio, mod);
  await studio.goto('/studio/movies');
  await expect(studio.getByRole('heading', { level: 1 })).toBeVisible();
  await studio.waitForLoadState('networkidle');
  await keep(studio, shot, 'studio');
  await ctx.close();
});
