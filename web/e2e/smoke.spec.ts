// The app answers at all: the catalog shows the seeded movies, an unknown
// address shows the app's 404 page (an unknown API path keeps its JSON 404),
// and axe finds nothing serious on either.
import { expect, test } from './fixtures';

test('the catalog lists the seeded movies', async ({ page, checkA11y }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'Movies' })).toBeVisible();
  const grid = page.getByRole('list', { name: 'Movies' });
  await expect(grid.getByRole('listitem').first()).toBeVisible();
  expect(await grid.getByRole('listitem').count()).toBeGreaterThan(1);
  await expect(page).toHaveTitle(/Movies/);
  await checkA11y(page, 'catalog');
});

test('an unknown address shows the 404 page', async ({ page, request, checkA11y }) => {
  const res = await page.goto('/no/such/page');
  expect(res?.status()).toBe(200); // index.html: the app decides
  await expect(page.getByRole('heading', { level: 1, name: 'Page not found' })).toBeVisible();
  await checkA11y(page, 'not found');
  await page.getByRole('link', { name: 'Browse the catalog' }).click();
  await expect(page).toHaveURL(/\/movies$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Movies' })).toBeVisible();

  const api = await request.get('/api/v1/no-such-thing');
  expect(api.status()).toBe(404);
  expect(api.headers()['content-type']).toContain('application/json');
});
