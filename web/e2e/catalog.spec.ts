// Journey 2: filter, sort, search and paginate the catalog; the state lives
// in the URL, so a reload keeps it and the back button restores the previous
// one; a genre opens its movies. Plus axe on the catalog and the genres, and
// the catalog at 375 px.
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';

interface Lookup {
  id: number;
  name: string;
  movie_count: number;
}
interface MoviePage {
  items: { id: number; name: string }[];
  total_items: number;
  total_pages: number;
}

/** The movies the cards link to, in order. */
async function shown(page: Page): Promise<string[]> {
  const grid = page.getByRole('list', { name: 'Movies' });
  if ((await grid.count()) === 0) return [];
  return grid.getByRole('link').evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
}

/** Waits until the cards are the API's answer for the same query, in the same order. */
async function expectSameAs(page: Page, expected: MoviePage): Promise<void> {
  await expect.poll(() => shown(page)).toEqual(expected.items.map((m) => `/movies/${m.id}`));
}

function count(n: number): RegExp {
  return n === 1 ? /^1 movie( matches the filters)?$/ : new RegExp(`^${n} movies( match the filters)?$`);
}

/** The result count, a live status next to the heading. */
function resultCount(page: Page) {
  return page.getByRole('status').filter({ hasText: /^\d+ movies?/ });
}

test('filter, sort, search and paginate; reload and back keep the state', async ({ page, stack, checkA11y }) => {
  const api = stack.api();
  const genres = await api.get<Lookup[]>('/genres');
  // A genre with enough movies to have two pages of 12.
  const genre = genres.filter((g) => g.movie_count > 24).sort((a, b) => a.movie_count - b.movie_count)[0];
  expect(genre, 'a seeded genre with more than 24 movies').toBeTruthy();
  if (!genre) return;

  await page.goto('/movies');
  await expect(page.getByRole('heading', { level: 1, name: 'Movies' })).toBeVisible();
  const all = await api.get<MoviePage>('/movies');
  await expect(resultCount(page)).toHaveText(count(all.total_items));
  await checkA11y(page, 'catalog');

  // Genre (applies at once), then the sort, then the page size.
  await page.getByLabel('Genre').selectOption(String(genre.id));
  await expect(page).toHaveURL(new RegExp(`[?&]genre=${genre.id}(&|$)`));
  await expect(resultCount(page)).toHaveText(count(genre.movie_count));

  await page.getByLabel('Sort by').selectOption('-imdb');
  await expect(page).toHaveURL(/[?&]sort=-imdb(&|$)/);
  await page.getByLabel('Per page').selectOption('12');
  await expect(page).toHaveURL(/[?&]per_page=12(&|$)/);
  const page1 = await api.get<MoviePage>(`/movies?genre=${genre.id}&sort=-imdb&per_page=12`);
  await expectSameAs(page, page1);

  // Next page.
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: /Next/ }).click();
  await expect(page).toHaveURL(/[?&]page=2(&|$)/);
  await expect(page.getByText(`Page 2 of ${page1.total_pages}`)).toBeVisible();
  const page2 = await api.get<MoviePage>(`/movies?genre=${genre.id}&sort=-imdb&per_page=12&page=2`);
  await expectSameAs(page, page2);

  // A reload keeps everything: the cards and the controls.
  await page.reload();
  await expectSameAs(page, page2);
  await expect(page.getByLabel('Genre')).toHaveValue(String(genre.id));
  await expect(page.getByLabel('Sort by')).toHaveValue('-imdb');
  await expect(page.getByLabel('Per page')).toHaveValue('12');

  // Back: page 1 again, then the default page size.
  await page.goBack();
  await expect(page).not.toHaveURL(/[?&]page=/);
  await expectSameAs(page, page1);
  await page.goBack();
  await expect(page).not.toHaveURL(/per_page=/);
  await expect(page.getByLabel('Per page')).toHaveValue('20');
  await expect(page.getByLabel('Sort by')).toHaveValue('-imdb');

  // Typed filters apply with the button (or Enter): a year range and a minimum IMDb rating.
  await page.getByLabel('From year').fill('1990');
  await page.getByLabel('IMDb from').fill('7');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/[?&]year_min=1990(&|$)/);
  await expect(page).toHaveURL(/[?&]imdb_min=7(&|$)/);
  const ranged = await api.get<MoviePage>(`/movies?genre=${genre.id}&sort=-imdb&year_min=1990&imdb_min=7`);
  await expect(resultCount(page)).toHaveText(count(ranged.total_items));
  if (ranged.total_items > 0) await expectSameAs(page, ranged);
  await expect(page.getByText('(3 active)')).toBeVisible();

  // The search of the header starts a new search; the catalog's keywords refine it.
  const word = all.items[0]?.name.split(/\s+/).find((w) => /^[A-Za-z]{4,}$/.test(w)) ?? 'the';
  await page.getByRole('searchbox', { name: 'Search movies' }).fill(word);
  await page.getByRole('searchbox', { name: 'Search movies' }).press('Enter');
  await expect(page).toHaveURL(new RegExp(`/movies\\?search=${word}$`));
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Results for “${word}”`);
  const found = await api.get<MoviePage>(`/movies?search=${encodeURIComponent(word)}`);
  await expectSameAs(page, found);
  await expect(page.getByLabel('Keywords')).toHaveValue(word);

  // A star, chosen from the search-as-you-type picker.
  const stars = await api.get<{ items: Lookup[] }>('/stars?search=tom&per_page=10');
  const star = stars.items.find((s) => s.movie_count > 0);
  if (star) {
    await page.goto('/movies');
    const picker = page.getByRole('combobox', { name: 'Star' });
    await picker.fill(star.name);
    const listbox = page.getByRole('listbox', { name: 'Star suggestions' });
    await listbox.getByRole('option', { name: new RegExp(`^${star.name} \\(`) }).click();
    await expect(page).toHaveURL(new RegExp(`[?&]star=${star.id}(&|$)`));
    await expect(resultCount(page)).toHaveText(count(star.movie_count));
    await page.reload();
    await expect(page.getByRole('combobox', { name: 'Star' })).toHaveValue(star.name);
    // Keyboard: clear it with its button.
    await page.getByRole('button', { name: 'Clear star' }).click();
    await expect(page).not.toHaveURL(/star=/);
  }

  // A bad value: the server's 422 shows next to the control it is about.
  await page.goto('/movies?year_min=abc&sort=-imdb');
  const from = page.getByLabel('From year');
  await expect(from).toHaveAttribute('aria-invalid', 'true');
  await expect(from).toHaveValue('abc');
  await expect(page.getByRole('alert').filter({ hasText: /whole number/ }).first()).toBeVisible();
  await checkA11y(page, 'catalog with an invalid filter');
  await page.getByRole('link', { name: 'Remove the invalid values' }).click();
  await expect(page).toHaveURL(/\/movies\?sort=-imdb$/);
  await expect(page.getByLabel('From year')).not.toHaveAttribute('aria-invalid', 'true');

  // "Clear filters" keeps the sort but drops the filters.
  await page.getByLabel('Certification').selectOption({ index: 1 });
  await expect(page).toHaveURL(/certification=/);
  await page.getByRole('link', { name: 'Clear filters' }).first().click();
  await expect(page).toHaveURL(/\/movies\?sort=-imdb$/);
});

test('Next past page 5 follows cursors: no movie repeats, the URL keeps the cursor', async ({ page, stack }) => {
  // Oldest first: movies the other journeys add meanwhile come after the
  // seeded ones, so the first 8 pages of 12 are the API's first 96 rows.
  const expected = await stack.api().get<MoviePage>('/movies?sort=created_at&per_page=96');
  expect(expected.total_items, 'the demo catalog has more than 8 pages of 12').toBeGreaterThan(96);
  const pages = 8;

  await page.goto('/movies');
  await page.getByLabel('Sort by').selectOption('created_at');
  await expect(page).toHaveURL(/[?&]sort=created_at(&|$)/);
  await page.getByLabel('Per page').selectOption('12');
  await expect(page).toHaveURL(/[?&]per_page=12(&|$)/);

  const nav = page.getByRole('navigation', { name: 'Pages' });
  const seen: string[] = [];
  for (let n = 1; n <= pages; n++) {
    if (n > 1) {
      await nav.getByRole('link', { name: /Next/ }).click();
      await expect(page).toHaveURL(new RegExp(`[?&]page=${n}(&|$)`));
    }
    // Up to page 5 the pages are numbered; after it the URL carries the API's cursor.
    if (n > 5) await expect(page).toHaveURL(/[?&]cursor=[\w-]+/);
    else await expect(page).not.toHaveURL(/cursor=/);
    const want = expected.items.slice((n - 1) * 12, n * 12).map((m) => `/movies/${m.id}`);
    await expect.poll(() => shown(page)).toEqual(want);
    await expect(nav.getByText(new RegExp(`^Page ${n} of \\d+$`))).toBeVisible();
    seen.push(...want);
  }
  expect(new Set(seen).size, 'no movie shows twice').toBe(pages * 12);

  // A reload of a cursor page asks for the same page; back returns to the one before.
  const url = page.url();
  await page.reload();
  await expect.poll(() => shown(page)).toEqual(seen.slice(-12));
  await page.goBack();
  await expect(page).toHaveURL(new RegExp(`[?&]page=${pages - 1}(&|$)`));
  await expect(page).toHaveURL(/[?&]cursor=/);
  await expect.poll(() => shown(page)).toEqual(seen.slice(-24, -12));
  await page.goForward();
  expect(page.url()).toBe(url);
  await expect.poll(() => shown(page)).toEqual(seen.slice(-12));

  // Previous is a numbered page (the API has no cursor backwards): the same movies.
  await nav.getByRole('link', { name: /Previous/ }).click();
  await expect(page).not.toHaveURL(/cursor=/);
  await expect(page).toHaveURL(new RegExp(`[?&]page=${pages - 1}(&|$)`));
  await expect.poll(() => shown(page)).toEqual(seen.slice(-24, -12));
});

test('a genre opens its movies', async ({ page, stack, checkA11y }) => {
  const genres = await stack.api().get<Lookup[]>('/genres');
  const genre = genres.find((g) => g.movie_count > 0);
  expect(genre).toBeTruthy();
  if (!genre) return;
  await page.goto('/genres');
  await expect(page.getByRole('heading', { level: 1, name: 'Genres' })).toBeVisible();
  await expect(page.getByRole('link', { name: new RegExp(`^${genre.name} ${genre.movie_count} movies?$`) })).toBeVisible();
  await checkA11y(page, 'genres');
  await page.getByRole('link', { name: new RegExp(`^${genre.name} `) }).click();
  await expect(page).toHaveURL(new RegExp(`/movies\\?genre=${genre.id}$`));
  await expect(page.getByLabel('Genre')).toHaveValue(String(genre.id));
  await expect(resultCount(page)).toHaveText(count(genre.movie_count));
  // Back to the genres.
  await page.goBack();
  await expect(page.getByRole('heading', { level: 1, name: 'Genres' })).toBeVisible();
});

test('the catalog at 375 px: filters folded, no sideways scrolling', async ({ page, checkA11y, shot }) => {
  await page.setViewportSize({ width: 375, height: 800 });
  await page.goto('/movies');
  await expect(page.getByRole('list', { name: 'Movies' }).getByRole('listitem').first()).toBeVisible();
  // The filter panel is a disclosure, closed on a phone.
  await expect(page.getByLabel('Genre')).toBeHidden();
  await page.getByText('Filters', { exact: true }).click();
  await expect(page.getByLabel('Genre')).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await checkA11y(page, 'catalog 375 px');
  await page.getByText('Filters', { exact: true }).click();
  await shot(page, 'catalog-375');
});
