// Journey 6 (issue 13): a moderator creates a movie with its lookups
// (genre, star, director, certification), changes its price, and cannot
// delete it once someone ordered it, and is told why. Then the lookups' 409s
// (in use, name taken), deleting a movie that sits in carts (force), and the
// sales pages with their filters. axe on every studio page visited.
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';

interface Movie {
  id: number;
  name: string;
  price: string;
  genres: { id: number; name: string }[];
  stars: { id: number; name: string }[];
  directors: { id: number; name: string }[];
  certification: { id: number; name: string };
}

const tag = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

function studioTab(page: Page, name: string) {
  return page.getByRole('navigation', { name: 'Studio' }).getByRole('link', { name, exact: true });
}

test('journey 6: a moderator creates a movie with lookups, changes its price, and cannot delete it once ordered', async ({
  page,
  stack,
  signIn,
  checkA11y,
}) => {
  const t = tag();
  const moderator = await stack.createUser({ group: 'MODERATOR' });
  await signIn(page, moderator);

  // The studio is in the account menu.
  await page.getByRole('button', { name: 'Account' }).click();
  await page.getByRole('link', { name: 'Studio', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Movies' })).toBeVisible();
  await expect(studioTab(page, 'Movies')).toHaveAttribute('aria-current', 'page');
  await checkA11y(page, 'studio movies');

  // A genre and a certification of our own, through their pages.
  const genre = `Genre ${t}`;
  await studioTab(page, 'Genres').click();
  await expect(page.getByRole('heading', { level: 1, name: 'Genres' })).toBeVisible();
  await page.getByLabel('New genre').fill(genre);
  await page.getByRole('button', { name: 'Add genre' }).click();
  await expect(page.getByText(`Added the genre “${genre}”.`)).toBeVisible();
  await checkA11y(page, 'studio genres');

  const cert = `C${t}`.slice(0, 32);
  await studioTab(page, 'Certifications').click();
  await expect(page.getByRole('heading', { level: 1, name: 'Certifications' })).toBeVisible();
  await page.getByLabel('New certification').fill(cert);
  await page.getByRole('button', { name: 'Add certification' }).click();
  await expect(page.getByText(`Added the certification “${cert}”.`)).toBeVisible();
  await checkA11y(page, 'studio certifications');

  // The movie, with a new star and a new director added from the pickers.
  const name = `Studio Journey ${t}`;
  const star = `Star ${t}`;
  const director = `Director ${t}`;
  await studioTab(page, 'Movies').click();
  await page.getByRole('link', { name: 'New movie', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'New movie' })).toBeVisible();

  // Submitting it empty marks the fields the form cannot send.
  await page.getByRole('button', { name: 'Create movie' }).click();
  await expect(page.getByLabel('Name', { exact: true })).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Certification')).toHaveAttribute('aria-invalid', 'true');

  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Year').fill('2025');
  await page.getByLabel('Running time (minutes)').fill('97');
  await page.getByLabel('Price (USD)').fill('6.99');
  await page.getByLabel('Certification').selectOption({ label: cert });
  await page.getByLabel('Description').fill('A moderator made this movie in a browser test.');
  await page.getByLabel('IMDb rating').fill('7.4');
  await page.getByLabel('IMDb votes').fill('1200');
  await page.getByLabel('Metascore').fill('70');

  const genres = page.getByRole('combobox', { name: 'Genres' });
  await genres.fill(genre);
  await page.getByRole('listbox', { name: 'Genres' }).getByRole('option', { name: genre, exact: true }).click();
  await expect(page.getByRole('button', { name: `Remove ${genre}` })).toBeVisible();

  await page.getByRole('combobox', { name: 'Stars' }).fill(star);
  await page.getByRole('option', { name: `Add “${star}” as a new star` }).click();
  await expect(page.getByRole('button', { name: `Remove ${star}` })).toBeVisible();

  const directors = page.getByRole('combobox', { name: 'Directors' });
  await directors.fill(director);
  // Keyboard: the new item is the only option; Enter chooses it.
  await expect(page.getByRole('option', { name: `Add “${director}” as a new director` })).toBeVisible();
  await directors.press('ArrowDown');
  await directors.press('Enter');
  await expect(page.getByRole('button', { name: `Remove ${director}` })).toBeVisible();
  await checkA11y(page, 'studio movie form');

  await page.getByRole('button', { name: 'Create movie' }).click();
  await expect(page.getByText('The movie is created.')).toBeVisible();
  await expect(page.getByRole('heading', { level: 1, name: `Edit “${name}”` })).toBeVisible();
  const id = Number(/\/studio\/movies\/(\d+)/.exec(page.url())?.[1]);
  expect(id).toBeGreaterThan(0);

  const api = stack.api(moderator);
  const made = await api.get<Movie>(`/movies/${id}`);
  expect(made.price).toBe('6.99');
  expect(made.certification.name).toBe(cert);
  expect(made.genres.map((g) => g.name)).toEqual([genre]);
  expect(made.stars.map((s) => s.name)).toEqual([star]);
  expect(made.directors.map((d) => d.name)).toEqual([director]);

  // A wrong price is refused on its field; a right one is saved.
  await page.getByLabel('Price (USD)').fill('12.345');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByLabel('Price (USD)')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByRole('alert').filter({ hasText: /decimal/ })).toBeVisible();
  await page.getByLabel('Price (USD)').fill('12.5');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByText('Your changes are saved.')).toBeVisible();
  await expect(page.getByLabel('Price (USD)')).toHaveValue('12.50');
  expect((await api.get<Movie>(`/movies/${id}`)).price).toBe('12.50');
  await checkA11y(page, 'studio movie saved');

  // Someone orders it (the order need not be paid: order history keeps its movies).
  const buyer = await stack.createUser();
  const shopper = stack.api(buyer);
  await shopper.post('/cart/items', { movie_id: id });
  await shopper.post('/orders', {});

  // The moderator tries to delete it and is told why not.
  await page.getByRole('button', { name: 'Delete movie' }).click();
  const dialog = page.getByRole('dialog', { name: `Delete “${name}”?` });
  await expect(dialog).toBeVisible();
  await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(dialog.getByRole('alert')).toContainText('This movie cannot be deleted: it has been bought or ordered.');
  await expect(dialog.getByRole('button', { name: 'Delete', exact: true })).toHaveCount(0);
  await checkA11y(page, 'studio delete refused');
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toBeHidden();
  expect((await api.get<Movie>(`/movies/${id}`)).name).toBe(name);

  // The list finds it, and its delete button says the same.
  await studioTab(page, 'Movies').click();
  const find = page.getByRole('search', { name: 'Find movies' });
  await find.getByLabel('Search').fill(name);
  await find.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/\/studio\/movies\?search=/);
  await page.getByRole('button', { name: `Delete ${name}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(page.getByRole('dialog').getByRole('alert')).toContainText('bought or ordered');
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toBeHidden();

  // The order shows in the sales pages, found by its buyer.
  const me = await shopper.get<{ id: number }>('/accounts/me');
  await studioTab(page, 'Sales').click();
  await expect(page.getByRole('heading', { level: 1, name: 'Sales' })).toBeVisible();
  await checkA11y(page, 'studio sales carts');
  await page.getByRole('navigation', { name: 'Sales' }).getByRole('link', { name: 'Orders' }).click();
  await page.getByLabel('User id').fill(String(me.id));
  await page.getByLabel('Status').selectOption('pending');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(new RegExp(`tab=orders&user_id=${me.id}&status=pending`));
  await expect(page.getByText('1 order matches the filters')).toBeVisible();
  await expect(page.getByRole('region', { name: 'Orders' })).toContainText(name);
  await expect(page.getByRole('region', { name: 'Orders' })).toContainText('$12.50');
  await checkA11y(page, 'studio sales orders');
  // The state is in the URL: a reload keeps it.
  await page.reload();
  await expect(page.getByLabel('User id')).toHaveValue(String(me.id));
  await expect(page.getByRole('region', { name: 'Orders' })).toContainText(name);
  await page.getByRole('navigation', { name: 'Sales' }).getByRole('link', { name: 'Payments' }).click();
  await expect(page.getByText(/0 payments match the filters|No payment matches/).first()).toBeVisible();
  await checkA11y(page, 'studio sales payments');
});

test('the lookups explain their 409s, and a movie in carts can be deleted with force', async ({ page, stack, signIn, checkA11y }) => {
  const t = tag();
  const moderator = await stack.createUser({ group: 'MODERATOR' });
  const api = stack.api(moderator);
  const genre = await api.post<{ id: number; name: string }>('/genres', { name: `Used ${t}` });
  const star = await api.post<{ id: number; name: string }>('/stars', { name: `Used Star ${t}` });
  const certs = await api.get<{ id: number; name: string }[]>('/certifications');
  const cert = certs[0];
  if (!cert) throw new Error('the seeded stack has no certification');
  const movie = await api.post<Movie>('/movies', {
    name: `Carted ${t}`,
    year: 2020,
    time: 90,
    imdb: 6.5,
    votes: 10,
    description: '',
    price: '3.00',
    certification_id: cert.id,
    genre_ids: [genre.id],
    star_ids: [star.id],
  });
  const buyer = await stack.createUser();
  await stack.api(buyer).post('/cart/items', { movie_id: movie.id });

  await signIn(page, moderator);

  // A genre that movies use cannot be deleted; the dialog says why and links to them.
  await page.goto(`/studio/genres?search=${encodeURIComponent(genre.name)}`);
  await expect(page.getByRole('heading', { level: 1, name: 'Genres' })).toBeVisible();
  await page.getByRole('button', { name: `Delete ${genre.name}` }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(dialog.getByRole('alert')).toContainText(`“${genre.name}” cannot be deleted while movies use it.`);
  await expect(dialog.getByRole('alert')).toContainText('This genre is still used by 1 movie');
  await expect(dialog.getByRole('link', { name: 'See the movies that use it' })).toHaveAttribute('href', `/movies?genre=${genre.id}`);
  await checkA11y(page, 'studio genre in use');
  await dialog.getByRole('button', { name: 'Close' }).click();

  // A name that another genre has: on the field, in words.
  await page.getByLabel('New genre').fill(genre.name);
  await page.getByRole('button', { name: 'Add genre' }).click();
  await expect(page.getByLabel('New genre')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByRole('alert').filter({ hasText: 'already exists' })).toBeVisible();

  // Rename: to a taken name is refused, to a free one works.
  const other = await api.post<{ id: number; name: string }>('/genres', { name: `Other ${t}` });
  await page.getByLabel('Search genres').fill(t);
  await expect(page.getByRole('button', { name: `Rename ${other.name}` })).toBeVisible();
  await page.getByRole('button', { name: `Rename ${other.name}` }).click();
  await page.getByLabel(`New name for “${other.name}”`).fill(genre.name);
  await page.getByRole('button', { name: 'Save name' }).click();
  await expect(page.getByRole('table').getByRole('alert').filter({ hasText: 'already exists' })).toBeVisible();
  await page.getByLabel(`New name for “${other.name}”`).fill(`Renamed ${t}`);
  await page.getByRole('button', { name: 'Save name' }).click();
  await expect(page.getByText(`Renamed “${other.name}” to “Renamed ${t}”.`)).toBeVisible();
  // ...and a genre no movie uses can be deleted.
  await page.getByRole('button', { name: `Delete Renamed ${t}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(page.getByText(`Deleted the genre “Renamed ${t}”.`)).toBeVisible();
  await expect(page.getByRole('button', { name: `Delete Renamed ${t}` })).toHaveCount(0);

  // Stars (searched on the server): the same 409.
  await page.goto('/studio/stars');
  await checkA11y(page, 'studio stars');
  await page.getByLabel('Search stars').fill(star.name);
  await expect(page).toHaveURL(/search=/);
  await page.getByRole('button', { name: `Delete ${star.name}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(page.getByRole('dialog').getByRole('alert')).toContainText('This star is still used by 1 movie');
  await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();

  await page.goto('/studio/directors');
  await expect(page.getByRole('heading', { level: 1, name: 'Directors' })).toBeVisible();
  await checkA11y(page, 'studio directors');

  // The movie is in a cart: deleting it offers to take it out of the cart too.
  await page.goto(`/studio/movies/${movie.id}`);
  await page.getByRole('button', { name: 'Delete movie' }).click();
  const d = page.getByRole('dialog');
  await d.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(d.getByRole('alert')).toContainText('This movie is in one user’s cart.');
  await checkA11y(page, 'studio movie in carts');
  await d.getByRole('button', { name: 'Delete and remove from 1 cart' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Movies' })).toBeVisible();
  await expect(page.getByText(`“${movie.name}” is deleted.`)).toBeVisible();
  expect((await api.send('GET', `/movies/${movie.id}`)).status).toBe(404);
  expect((await stack.api(buyer).get<{ items: unknown[] }>('/cart')).items).toHaveLength(0);
});

test('the studio at 375 px: tabs, the movie list and the sales cards fit the screen', async ({ page, stack, signIn, checkA11y }) => {
  await page.setViewportSize({ width: 375, height: 800 });
  const moderator = await stack.createUser({ group: 'MODERATOR' });
  await signIn(page, moderator);
  for (const path of ['/studio/movies', '/studio/movies/new', '/studio/genres', '/studio/sales?tab=orders']) {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await expect(page.getByRole('status').filter({ hasText: 'Loading' })).toHaveCount(0);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width, `${path} is wider than the screen`).toBeLessThanOrEqual(375);
    await checkA11y(page, `studio 375 ${path}`);
  }
});

test('the movie form changes a movie’s lists, keeping some items and adding others', async ({ page, stack, signIn }) => {
  const t = tag();
  const moderator = await stack.createUser({ group: 'MODERATOR' });
  const api = stack.api(moderator);
  const [a, b] = [await api.post<{ id: number; name: string }>('/genres', { name: `Keep ${t}` }), await api.post<{ id: number; name: string }>('/genres', { name: `Add ${t}` })];
  const s1 = await api.post<{ id: number; name: string }>('/stars', { name: `Kept Star ${t}` });
  const cert = (await api.get<{ id: number; name: string }[]>('/certifications'))[0];
  if (!cert) throw new Error('the seeded stack has no certification');
  const movie = await api.post<Movie>('/movies', {
    name: `Lists ${t}`,
    year: 2021,
    time: 88,
    imdb: 5,
    votes: 1,
    description: '',
    price: '2.00',
    certification_id: cert.id,
    genre_ids: [a.id],
    star_ids: [s1.id],
  });

  await signIn(page, moderator);
  await page.goto(`/studio/movies/${movie.id}`);
  await expect(page.getByRole('button', { name: `Remove ${a.name}` })).toBeVisible();
  await page.getByRole('combobox', { name: 'Genres' }).fill(b.name);
  await page.getByRole('listbox', { name: 'Genres' }).getByRole('option', { name: b.name, exact: true }).click();
  await page.getByRole('combobox', { name: 'Stars' }).fill(`New Star ${t}`);
  await page.getByRole('option', { name: `Add “New Star ${t}” as a new star` }).click();
  await expect(page.getByRole('button', { name: `Remove New Star ${t}` })).toBeVisible();
  await expect(page.getByRole('button', { name: `Remove ${b.name}` })).toBeVisible();
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByText('Your changes are saved.')).toBeVisible();
  const after = await api.get<Movie>(`/movies/${movie.id}`);
  expect(after.genres.map((g) => g.name).sort()).toEqual([a.name, b.name].sort());
  expect(after.stars.map((s) => s.name).sort()).toEqual([`Kept Star ${t}`, `New Star ${t}`].sort());
});
