// Issue 14, item 5: the moderators' media form, on the real stack (the API
// signs, the local S3 server stores and verifies the signatures). A moderator
// uploads a poster (one presigned PUT, never with the app's token) and sees
// it in the form and on the catalog card; uploads a WebM trailer of ~11 MiB
// (a multipart upload: the stack's MEDIA_PART_BYTES is 8 MiB), sees the
// progress reach 100 % and the file linked; cancels a feature upload mid-way,
// and nothing is linked; removes a poster; sees the server's sniff refuse a
// file the client let through; cannot remove a bought movie's feature, only
// replace it. axe on the form, and no sideways scrolling at 375 px. The media
// are made by ffmpeg here (a real PNG, real WebMs, the big one padded to size
// by a high bitrate over random frames).
import type { Page, Route } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Api, type Stack } from './fixtures';

interface Movie {
  id: number;
  name: string;
  poster_url?: string | null;
  trailer_url?: string | null;
}
interface Media {
  kind: string;
  content_type: string;
  size_bytes: number;
  duration_s: number | null;
}

const dir = join(tmpdir(), `cinema-studio-media-${process.pid}`);
const POSTER = join(dir, 'poster.png');
const VIDEO = join(dir, 'trailer.webm');
const SMALL = join(dir, 'small.webm');

test.beforeAll(() => {
  mkdirSync(dir, { recursive: true });
  const ff = (args: string[]) => execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { timeout: 60_000 });
  ff(['-f', 'lavfi', '-i', 'color=c=0x3060a0:s=200x300', '-frames:v', '1', POSTER]);
  // Random frames are incompressible: 4 s at 40 Mbit/s is ~11 MiB, two parts of 8 MiB.
  ff(
    ['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', '320x240', '-r', '25', '-i', '/dev/urandom', '-t', '4']
      .concat(['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8'])
      .concat(['-b:v', '40M', '-minrate', '40M', '-maxrate', '40M', '-bufsize', '40M', '-an', VIDEO]),
  );
  expect(statSync(VIDEO).size).toBeGreaterThan(9 * 1024 * 1024);
  ff(['-f', 'lavfi', '-i', 'testsrc2=s=160x120:r=10', '-t', '2', '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-an', SMALL]);
});

const tag = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

async function newMovie(api: Api, name: string): Promise<Movie> {
  const certs = await api.get<{ id: number }[]>('/certifications');
  const cert = certs[0];
  if (!cert) throw new Error('the seeded stack has no certification');
  return api.post<Movie>('/movies', {
    name,
    year: 2024,
    time: 95,
    imdb: 7.1,
    votes: 100,
    description: 'A movie whose media a moderator uploads in a browser test.',
    price: '4.00',
    certification_id: cert.id,
  });
}

function slot(page: Page, label: string) {
  return page.getByRole('region', { name: label, exact: true });
}

async function noSidewaysScroll(page: Page): Promise<void> {
  const sw = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(sw, 'the page scrolls sideways at 375 px').toBeLessThanOrEqual(375);
}

test('a moderator uploads a poster and a multipart trailer, and cancels a feature upload', async ({ page, stack, signIn, checkA11y, shot }) => {
  test.setTimeout(120_000);
  const moderator = await stack.createUser({ group: 'MODERATOR' });
  const api = stack.api(moderator);
  const name = `Media Journey ${tag()}`;
  const movie = await newMovie(api, name);

  await signIn(page, moderator);
  await page.goto(`/studio/movies/${movie.id}`);
  await expect(page.getByRole('heading', { level: 2, name: 'Media' })).toBeVisible();
  const poster = slot(page, 'Poster');
  const trailer = slot(page, 'Trailer');
  const feature = slot(page, 'Feature');
  await expect(poster.getByText('No poster yet.')).toBeVisible();
  await expect(feature.getByText('No feature yet.')).toBeVisible();
  await checkA11y(page, 'studio media empty');

  // The client refuses a file of the wrong type before anything is sent.
  await poster.getByLabel('Poster file').setInputFiles(VIDEO);
  await expect(poster.getByText(/a poster must be JPEG, PNG or WebP/)).toBeVisible();
  await expect(poster.getByRole('button', { name: 'Upload poster' })).toBeDisabled();
  // A long file name without spaces (as downloads are named) wraps at 375 px.
  const wide = page.viewportSize() ?? { width: 1280, height: 720 };
  await page.setViewportSize({ width: 375, height: 800 });
  await poster.getByLabel('Poster file').setInputFiles({ name: `${'The.Long.Movie.Name.1994.1080p.BluRay'.repeat(3)}.gif`, mimeType: 'image/gif', buffer: Buffer.from('GIF89a') });
  await expect(poster.getByText(/a poster must be JPEG, PNG or WebP/)).toBeVisible();
  await noSidewaysScroll(page);
  await page.setViewportSize(wide);

  // The poster: one presigned PUT straight to S3, never with the app's token.
  const puts: { url: string; auth: string | undefined }[] = [];
  page.on('request', (r) => {
    if (r.method() === 'PUT' && !r.url().startsWith(stack.baseURL)) puts.push({ url: r.url(), auth: r.headers().authorization });
  });
  await poster.getByLabel('Poster file').setInputFiles(POSTER);
  await poster.getByRole('button', { name: 'Upload poster' }).click();
  await expect(poster.getByText('The poster is uploaded.')).toBeVisible();
  await expect(poster.getByText('PNG image')).toBeVisible();
  const img = poster.getByRole('img', { name: `Poster of ${name}` });
  await expect(img).toHaveJSProperty('complete', true);
  expect(await img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(200);
  expect(puts).toHaveLength(1);
  expect(puts[0]?.auth).toBeUndefined();

  // The trailer: ~11 MiB, so two parts; the confirmation is held until the progress shows 100 %.
  let releaseComplete: () => void = () => undefined;
  const held = new Promise<void>((r) => (releaseComplete = r));
  await page.route('**/media/trailer/uploads/*/complete', async (route: Route) => {
    await held;
    await route.continue();
  });
  await trailer.getByLabel('Trailer file').setInputFiles(VIDEO);
  await trailer.getByRole('button', { name: 'Upload trailer' }).click();
  const bar = trailer.getByRole('progressbar');
  await expect(bar).toBeVisible();
  await expect(trailer.getByText(/: 100 %/)).toBeVisible({ timeout: 30_000 });
  const [value, max] = await bar.evaluate((el) => [(el as HTMLProgressElement).value, (el as HTMLProgressElement).max]);
  expect(value).toBe(max);
  await expect(trailer.getByText(/ MiB of /)).toHaveText(/^(\S+ MiB) of \1$/);
  await shot(page, 'studio-media-progress');
  releaseComplete();
  await expect(trailer.getByText('The trailer is uploaded.')).toBeVisible({ timeout: 30_000 });
  await expect(trailer.getByText('WebM video')).toBeVisible();
  await expect(trailer.getByText('0:04')).toBeVisible(); // the duration read by a hidden <video>
  await page.unroute('**/media/trailer/uploads/*/complete');
  const s3puts = puts.slice(1);
  expect(s3puts.length).toBe(2);
  for (const p of s3puts) {
    expect(p.url).toMatch(/partNumber=[12]/);
    expect(p.auth).toBeUndefined();
  }

  const linked = await api.get<{ items: Media[] }>(`/movies/${movie.id}/media`);
  const t = linked.items.find((m) => m.kind === 'trailer');
  expect(t?.content_type).toBe('video/webm');
  expect(t?.size_bytes).toBe(statSync(VIDEO).size);
  expect(t?.duration_s).toBeCloseTo(4, 0);

  // The feature: part 2 is held at S3's door; cancel mid-way, nothing is linked.
  const heldParts: Route[] = [];
  const s3part2 = (u: URL) => u.searchParams.get('partNumber') === '2';
  await page.route(s3part2, async (route) => {
    if (route.request().method() !== 'PUT') return route.fallback();
    heldParts.push(route);
  });
  await feature.getByLabel('Feature file').setInputFiles(VIDEO);
  await feature.getByRole('button', { name: 'Upload feature' }).click();
  await expect(feature.getByText(/: ([1-9]|[1-9]\d) %/)).toBeVisible({ timeout: 30_000 });
  await expect.poll(() => heldParts.length).toBe(1);
  // The focused "Upload" became "Cancel upload": focus followed it (not lost to the top of the page).
  await expect(feature.getByRole('button', { name: 'Cancel upload' })).toBeFocused();
  const cancelled = page.waitForResponse((r) => r.request().method() === 'DELETE' && /\/media\/feature\/uploads\/[^/]+$/.test(r.url()));
  await feature.getByRole('button', { name: 'Cancel upload' }).click();
  expect((await cancelled).status()).toBe(204);
  await expect(feature.getByText('The upload is cancelled; nothing was changed.')).toBeVisible();
  await expect(feature.getByRole('button', { name: 'Upload feature' })).toBeFocused();
  for (const r of heldParts) await r.abort().catch(() => undefined);
  await page.unroute(s3part2);
  const after = await api.get<{ items: Media[] }>(`/movies/${movie.id}/media`);
  expect(after.items.map((m) => m.kind).sort()).toEqual(['poster', 'trailer']);

  await checkA11y(page, 'studio media filled');
  await shot(page, 'studio-media-1440');
  await page.setViewportSize({ width: 375, height: 800 });
  await noSidewaysScroll(page);
  await checkA11y(page, 'studio media filled @375');
  await page.getByRole('heading', { level: 2, name: 'Media' }).scrollIntoViewIfNeeded();
  await shot(page, 'studio-media-375');
});

test('the uploaded poster shows on the movie’s card in the catalog', async ({ page, stack, signIn }) => {
  const moderator = await stack.createUser({ group: 'MODERATOR' });
  const api = stack.api(moderator);
  const name = `Media Card ${tag()}`;
  const movie = await newMovie(api, name);
  await signIn(page, moderator);
  await page.goto(`/studio/movies/${movie.id}`);
  const poster = slot(page, 'Poster');
  await poster.getByLabel('Poster file').setInputFiles(POSTER);
  await poster.getByRole('button', { name: 'Upload poster' }).click();
  await expect(poster.getByText('The poster is uploaded.')).toBeVisible();

  const card = await api.get<{ items: Movie[] }>(`/movies?search=${encodeURIComponent(name)}`);
  const url = card.items.find((m) => m.id === movie.id)?.poster_url;
  expect(url).toMatch(new RegExp(`^/api/v1/media/${movie.id}/poster/`));
  await page.goto(`/movies?search=${encodeURIComponent(name)}`);
  const cardImg = page.locator('li.card').filter({ hasText: name }).getByRole('img', { name: `Poster of ${name}` });
  await expect(cardImg).toHaveAttribute('src', url ?? '');
  await expect.poll(() => cardImg.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(200);
});

test('removing a poster, and the server’s sniff refusing what the client let through', async ({ page, stack, signIn }) => {
  const moderator = await stack.createUser({ group: 'MODERATOR' });
  const api = stack.api(moderator);
  const movie = await newMovie(api, `Media Remove ${tag()}`);
  await signIn(page, moderator);
  await page.goto(`/studio/movies/${movie.id}`);
  const poster = slot(page, 'Poster');

  // A file named .png whose bytes are a WebM: the type is declared from the name, the server's sniff refuses it.
  await poster.getByLabel('Poster file').setInputFiles({ name: 'fake.png', mimeType: 'image/png', buffer: Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 1, 2, 3, 4]) });
  await poster.getByRole('button', { name: 'Upload poster' }).click();
  await expect(poster.getByRole('alert')).toContainText('is not what was declared');
  await expect(poster.getByText('No poster yet.')).toBeVisible();

  await poster.getByLabel('Poster file').setInputFiles(POSTER);
  await poster.getByRole('button', { name: 'Upload poster' }).click();
  await expect(poster.getByText('The poster is uploaded.')).toBeVisible();
  // Uploaded: the buttons it pressed are gone, focus is on the (new) file input.
  await expect(poster.getByLabel('New poster file')).toBeFocused();
  await poster.getByRole('button', { name: 'Remove poster' }).click();
  const dialog = page.getByRole('dialog', { name: 'Remove the poster?' });
  await dialog.getByRole('button', { name: 'Remove poster' }).click();
  await expect(poster.getByText('The poster is removed.')).toBeVisible();
  await expect(poster.getByText('No poster yet.')).toBeVisible();
  const left = await api.get<{ items: Media[] }>(`/movies/${movie.id}/media`);
  expect(left.items).toEqual([]);
});

/** A buyer of the movie: cart, order, and the Stripe fake's hosted page. */
async function buy(page: Page, stack: Stack, movieId: number, signIn: (p: Page, u: { email: string; password: string }) => Promise<void>) {
  const buyer = await stack.createUser();
  const api = stack.api(buyer);
  await api.post('/cart/items', { movie_id: movieId });
  const { order } = await api.post<{ order: { id: number } }>('/orders', {});
  await signIn(page, buyer);
  await page.goto(`/orders/${order.id}`);
  await page.getByRole('button', { name: /^Pay( again)?$/ }).click();
  await page.waitForURL((u) => u.origin !== new URL(stack.baseURL).origin && u.pathname.startsWith('/checkout/'));
  await page.getByRole('button', { name: /^Pay\b/ }).click();
  await page.waitForURL(`${stack.baseURL}/orders/${order.id}?checkout=success`);
  await expect(page.getByText(/Payment received/)).toBeVisible({ timeout: 25_000 });
}

test('a bought movie’s feature cannot be removed, only replaced', async ({ page, browser, stack, signIn }) => {
  test.setTimeout(90_000);
  const moderator = await stack.createUser({ group: 'MODERATOR' });
  const movie = await newMovie(stack.api(moderator), `Media Bought ${tag()}`);
  await signIn(page, moderator);
  await page.goto(`/studio/movies/${movie.id}`);
  const feature = slot(page, 'Feature');
  await feature.getByLabel('Feature file').setInputFiles(SMALL);
  await feature.getByRole('button', { name: 'Upload feature' }).click();
  await expect(feature.getByText('The feature is uploaded.')).toBeVisible();

  const context = await browser.newContext();
  await buy(await context.newPage(), stack, movie.id, signIn);
  await context.close();

  await feature.getByRole('button', { name: 'Remove feature' }).click();
  await page.getByRole('dialog', { name: 'Remove the feature?' }).getByRole('button', { name: 'Remove feature' }).click();
  await expect(feature.getByRole('alert')).toContainText('its feature cannot be removed');
  await expect(feature.getByText('WebM video')).toBeVisible();

  await feature.getByLabel('New feature file').setInputFiles(SMALL);
  await feature.getByRole('button', { name: 'Replace feature' }).click();
  await expect(feature.getByText('The feature is uploaded and replaces the previous file.')).toBeVisible();
  const media = await stack.api(moderator).get<{ items: Media[] }>(`/movies/${movie.id}/media`);
  expect(media.items.map((m) => m.kind)).toEqual(['feature']);
});

test('leaving the page mid-upload asks first, and cancels the upload', async ({ page, stack, signIn }) => {
  const moderator = await stack.createUser({ group: 'MODERATOR' });
  const api = stack.api(moderator);
  const movie = await newMovie(api, `Media Leave ${tag()}`);
  await signIn(page, moderator);
  await page.goto(`/studio/movies/${movie.id}`);
  // Every PUT to S3 is held: the upload stays in progress.
  const held: Route[] = [];
  const toS3 = (u: URL) => u.origin !== new URL(stack.baseURL).origin && u.pathname.includes('/media/');
  await page.route(toS3, async (route) => {
    if (route.request().method() !== 'PUT') return route.fallback();
    held.push(route);
  });
  const feature = slot(page, 'Feature');
  await feature.getByLabel('Feature file').setInputFiles(SMALL);
  await feature.getByRole('button', { name: 'Upload feature' }).click();
  await expect(feature.getByText(/Uploading “small\.webm”: 0 %/)).toBeVisible();
  await expect.poll(() => held.length).toBe(1);

  // Closing the tab: the browser asks (beforeunload); stay.
  const asked = new Promise<string>((resolve) =>
    page.once('dialog', (d) => {
      resolve(d.type());
      void d.dismiss();
    }),
  );
  await page.close({ runBeforeUnload: true });
  expect(await asked).toBe('beforeunload');
  expect(page.isClosed()).toBe(false);

  // An in-app link: the app asks; leaving cancels the upload.
  page.once('dialog', (d) => {
    expect(d.message()).toMatch(/upload is in progress/);
    void d.accept();
  });
  const cancelled = page.waitForResponse((r) => r.request().method() === 'DELETE' && /\/media\/feature\/uploads\/[^/]+$/.test(r.url()));
  await page.getByRole('link', { name: 'View on the site' }).click();
  expect((await cancelled).status()).toBe(204);
  await expect(page).toHaveURL(new RegExp(`/movies/${movie.id}$`));
  for (const r of held) await r.abort().catch(() => undefined);
  const media = await api.get<{ items: Media[] }>(`/movies/${movie.id}/media`);
  expect(media.items).toEqual([]);
});
