// Issue 14 in the browser: watching a film. A moderator links test media
// (generated here with ffmpeg: WebM/VP9 + Opus, which Chromium decodes without
// proprietary codecs; a PNG poster) to a movie through the real API and S3
// (createMediaUpload → PUT to the presigned URL → completeMediaUpload). Then:
//  - a buyer sees the poster and the trailer, buys the film with "Buy to watch"
//    → cart → order → the Stripe fake, opens the player, presses Play and the
//    video plays (its currentTime advances); leaves, comes back: "Resume at"
//    and the video goes on near where it stopped; the film is in "Continue
//    watching" on the home, with "Watch" in My movies; axe, 375 px;
//  - a non-buyer sees "Buy to watch" on the movie and on the player; an
//    anonymous visitor's "Sign in to buy" comes back to the movie;
//  - when the video's URL stops working (S3 refuses it, as after expiry) the
//    player asks /play again and plays on; leaving the page (pagehide) sends
//    the position with a keepalive request.
// The player starts on a click ("Play"): see the top of src/pages/user/Watch.tsx.
import type { Page } from '@playwright/test';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test, type Api, type Stack, type User } from './fixtures';

const run = promisify(execFile);
const FEATURE_S = 30;

interface MovieRef {
  id: number;
  name: string;
}

interface Upload {
  id: string;
  multipart: boolean;
  parts: { number: number; size: number; url: string; headers: Record<string, string> }[];
}

interface Prepared {
  movie: MovieRef;
  moderator: User;
}

/** The test media, made once per worker in a directory of its own. */
async function makeMedia(dir: string): Promise<{ feature: string; trailer: string; poster: string }> {
  const ff = (args: string[]) => run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
  const video = (src: string, seconds: number, out: string) =>
    ff([
      ...['-f', 'lavfi', '-i', `${src}=size=320x180:rate=24`],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
      ...['-t', String(seconds), '-c:v', 'libvpx-vp9', '-b:v', '200k', '-deadline', 'realtime', '-cpu-used', '8'],
      ...['-c:a', 'libopus', '-b:a', '48k', out],
    ]);
  const feature = join(dir, 'feature.webm');
  const trailer = join(dir, 'trailer.webm');
  const poster = join(dir, 'poster.png');
  await Promise.all([
    video('testsrc2', FEATURE_S, feature),
    video('smptebars', 6, trailer),
    ff(['-f', 'lavfi', '-i', 'testsrc2=size=200x300', '-frames:v', '1', poster]),
  ]);
  return { feature, trailer, poster };
}

/** Links a file to the movie the way the studio does: ask, PUT straight to S3, confirm. */
async function upload(api: Api, movieId: number, kind: string, file: string, type: string, durationS?: number): Promise<void> {
  const bytes = readFileSync(file);
  const up = await api.post<Upload>(`/movies/${movieId}/media/${kind}/uploads`, {
    content_type: type,
    size_bytes: bytes.length,
    ...(durationS ? { duration_s: durationS } : {}),
  });
  const etags: { number: number; etag: string }[] = [];
  let offset = 0;
  for (const part of up.parts) {
    const res = await fetch(part.url, { method: 'PUT', headers: part.headers, body: bytes.subarray(offset, offset + part.size) });
    offset += part.size;
    expect(res.status, `PUT part ${part.number} of the ${kind} to S3: ${await res.text()}`).toBe(200);
    etags.push({ number: part.number, etag: res.headers.get('etag') ?? '' });
  }
  await api.post(`/movies/${movieId}/media/${kind}/uploads/${up.id}/complete`, up.multipart ? { parts: etags } : {});
}

// One movie per worker, far from the ones the other journeys take (they take
// the first ones by name, year, IMDb score): its media replaced once.
let prepared: Promise<Prepared> | null = null;
function prepare(stack: Stack, worker: number): Promise<Prepared> {
  prepared ??= (async () => {
    const list = await stack.api().get<{ items: MovieRef[] }>('/movies?sort=-name&per_page=40');
    const movie = list.items[12 + worker];
    if (!movie) throw new Error('the seeded catalog has too few movies');
    const moderator = await stack.createUser({ group: 'MODERATOR' });
    const api = stack.api(moderator);
    const dir = mkdtempSync(join(tmpdir(), 'cinema-watch-'));
    try {
      const media = await makeMedia(dir);
      await upload(api, movie.id, 'feature', media.feature, 'video/webm', FEATURE_S);
      await upload(api, movie.id, 'trailer', media.trailer, 'video/webm', 6);
      await upload(api, movie.id, 'poster', media.poster, 'image/png');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return { movie, moderator };
  })();
  return prepared;
}

/** The quickest real purchase: cart → order → checkout session → the Stripe fake's Pay (it sends the webhook). */
async function buyThroughApi(stack: Stack, api: Api, movieId: number): Promise<void> {
  await api.post('/cart/items', { movie_id: movieId });
  const { order } = await api.post<{ order: { id: number } }>('/orders', {});
  const session = await api.post<{ checkout_url: string }>(`/orders/${order.id}/checkout`);
  const paid = await fetch(`${session.checkout_url}/pay`, { method: 'POST', redirect: 'manual' });
  expect([302, 303], `the Stripe fake's Pay: HTTP ${paid.status}`).toContain(paid.status);
  await expect.poll(async () => (await api.get<{ status: string }>(`/orders/${order.id}`)).status).toBe('paid');
}

/** A movie's name inside a RegExp. */
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const video = (page: Page) => page.locator('video.player-video');
const currentTime = (page: Page) => video(page).evaluate((v: HTMLVideoElement) => v.currentTime);

async function noSidewaysScroll(page: Page): Promise<void> {
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
}

test.describe('issue 14: watching', () => {
  test('a buyer buys with “Buy to watch”, plays the film, leaves, comes back and resumes; continue watching; My movies', async ({
    page,
    stack,
    signIn,
    checkA11y,
    shot,
  }, testInfo) => {
    test.skip(!stack.stripeURL, 'this stack has no Stripe fake');
    test.setTimeout(180_000);
    const { movie } = await prepare(stack, testInfo.parallelIndex);
    const buyer = await stack.createUser();
    await signIn(page, buyer);

    // The movie page: the poster (through the public redirect to S3), the trailer, "Buy to watch".
    await page.goto(`/movies/${movie.id}`);
    await expect(page.getByRole('heading', { level: 1, name: movie.name })).toBeVisible();
    const poster = page.locator('.movie-poster').getByRole('img', { name: `Poster of ${movie.name}` });
    await expect(poster).toHaveJSProperty('complete', true);
    expect(await poster.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(200);
    const trailer = page.getByLabel(`Trailer of ${movie.name}`);
    await expect(trailer).toHaveAttribute('preload', 'metadata');
    await expect.poll(() => trailer.evaluate((v: HTMLVideoElement) => v.readyState), { message: 'the trailer’s metadata loads from S3' }).toBeGreaterThanOrEqual(1);
    expect(await trailer.evaluate((v: HTMLVideoElement) => Math.round(v.duration))).toBe(6);
    await expect(page.getByRole('link', { name: `Watch ${movie.name}` })).toHaveCount(0);

    // Buy: the cart, the order, the Stripe fake.
    await page.getByRole('button', { name: /^Buy to watch/ }).click();
    await expect(page.getByText('In your cart')).toBeVisible();
    await page.getByRole('link', { name: /^Go to the cart/ }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Your cart' })).toBeVisible();
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.waitForURL(/\/orders\/\d+$/);
    const orderId = Number(/\/orders\/(\d+)$/.exec(new URL(page.url()).pathname)?.[1]);
    await page.getByRole('button', { name: /^Pay$/ }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/checkout/'));
    await page.getByRole('button', { name: /^Pay\b/ }).click();
    await page.waitForURL(`${stack.baseURL}/orders/${orderId}?checkout=success`);
    await expect(page.getByText(/Payment received/)).toBeVisible({ timeout: 25_000 });

    // Now "Watch" on the movie page opens the player.
    await page.goto(`/movies/${movie.id}`);
    await page.getByRole('link', { name: `Watch ${movie.name}` }).click();
    await expect(page).toHaveURL(new RegExp(`/movies/${movie.id}/watch$`));
    await expect(page.getByRole('heading', { level: 1, name: movie.name })).toBeVisible();
    await expect(page).toHaveTitle(`Watching ${movie.name} · Cinema`);
    await checkA11y(page, 'player, before play');
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    // It plays: currentTime advances past 7 s (a resume needs more than 5).
    await expect.poll(() => currentTime(page), { timeout: 30_000, message: 'the film plays' }).toBeGreaterThan(7);
    await checkA11y(page, 'player, playing');
    await shot(page, 'watch-playing-1440');

    // Leave through the back link: the player reports where it was (a
    // keepalive PUT, whose body Playwright does not see: read it back).
    await page.getByRole('link', { name: 'Back to the movie page' }).click();
    await expect(page.getByRole('heading', { level: 1, name: movie.name })).toBeVisible();
    const where = () => stack.api(buyer).get<{ position_s: number | null; duration_s: number | null }>(`/movies/${movie.id}/play`);
    await expect.poll(async () => (await where()).position_s ?? 0, { message: 'the position is recorded' }).toBeGreaterThan(7);
    const left = (await where()).position_s ?? 0;

    // Back on the movie page: "Resume at m:ss"; the player resumes there.
    await page.reload();
    const resume = page.getByRole('link', { name: new RegExp(`^Resume ${esc(movie.name)} at`) });
    await expect(resume).toBeVisible();
    await expect(resume).toContainText(/Resume at 0:\d\d/);
    await resume.click();
    await page.getByRole('button', { name: /^Resume at/ }).click();
    await expect.poll(() => currentTime(page), { timeout: 20_000, message: 'it plays on from where it stopped' }).toBeGreaterThan(left + 0.5);
    const at = await currentTime(page);
    expect(at, `resumed at ${at} s, left at ${left} s`).toBeGreaterThan(left - 2);
    expect(at).toBeLessThan(left + 15);

    // 375 px: the player fits.
    await page.setViewportSize({ width: 375, height: 812 });
    await noSidewaysScroll(page);
    await checkA11y(page, 'player at 375 px');
    await shot(page, 'watch-playing-375');
    await video(page).evaluate((v: HTMLVideoElement) => v.pause());
    await page.setViewportSize({ width: 1440, height: 900 });

    // The home: "Continue watching" has the film, with its progress.
    await page.goto('/');
    const row = page.getByRole('region', { name: 'Continue watching' });
    await expect(row.getByRole('link', { name: new RegExp(`^Resume ${esc(movie.name)} at`) })).toBeVisible();
    await expect(row.getByRole('progressbar', { name: new RegExp(`^${esc(movie.name)}: \\d+ % watched$`) })).toBeVisible();
    await checkA11y(page, 'home with continue watching');
    await shot(page, 'continue-watching-1440');
    await page.setViewportSize({ width: 375, height: 812 });
    await page.reload();
    await expect(row).toBeVisible();
    await noSidewaysScroll(page);
    await checkA11y(page, 'home with continue watching at 375 px');
    await shot(page, 'continue-watching-375');
    await page.setViewportSize({ width: 1440, height: 900 });
    await row.getByRole('link', { name: new RegExp(`^Resume ${esc(movie.name)} at`) }).click();
    await expect(page).toHaveURL(new RegExp(`/movies/${movie.id}/watch$`));
    await expect(page.getByRole('button', { name: /^Resume at/ })).toBeVisible();

    // My movies: "Watch".
    await page.goto('/purchases');
    await page.getByRole('list', { name: 'Your movies' }).getByRole('link', { name: `Watch ${movie.name}` }).click();
    await expect(page).toHaveURL(new RegExp(`/movies/${movie.id}/watch$`));
  });

  test('a non-buyer sees “Buy to watch”; an anonymous visitor signs in to buy and comes back to the movie', async ({
    page,
    stack,
    checkA11y,
    shot,
  }, testInfo) => {
    const { movie } = await prepare(stack, testInfo.parallelIndex);
    const user = await stack.createUser();

    // Anonymous: "Sign in to buy" returns to the movie once signed in.
    await page.goto(`/movies/${movie.id}`);
    await expect(page.getByRole('heading', { level: 1, name: movie.name })).toBeVisible();
    await page.getByRole('link', { name: /^Sign in to buy/ }).click();
    await expect(page).toHaveURL(/\/accounts\/login\?next=/);
    await page.getByLabel(/^email/i).fill(user.email);
    await page.getByLabel(/^password/i).fill(user.password);
    await page.getByRole('button', { name: /^sign in$/i }).click();
    await expect(page).toHaveURL(new RegExp(`/movies/${movie.id}$`));

    // Signed in, not bought: "Buy to watch", no "Watch".
    await expect(page.getByRole('button', { name: /^Buy to watch/ })).toBeVisible();
    await expect(page.getByRole('link', { name: `Watch ${movie.name}` })).toHaveCount(0);

    // The player's address says the same, with the cart button.
    await page.goto(`/movies/${movie.id}/watch`);
    await expect(page.getByRole('heading', { level: 1, name: movie.name })).toBeVisible();
    await expect(page.getByText('You have not bought this film yet')).toBeVisible();
    await expect(page.locator('video')).toHaveCount(0);
    await checkA11y(page, 'player, not bought');
    await page.setViewportSize({ width: 375, height: 812 });
    await noSidewaysScroll(page);
    await shot(page, 'watch-not-bought-375');
    await page.getByRole('button', { name: /^Buy to watch/ }).click();
    await expect(page.getByText('In your cart')).toBeVisible();
    // The pressed button is gone: focus is on the link that took its place.
    await expect(page.getByRole('link', { name: /^Go to the cart/ })).toBeFocused();
    await checkA11y(page, 'player, not bought, in the cart');
    // Nothing was recorded for a film the user cannot watch.
    const cw = await stack.api(user).get<{ items: unknown[] }>('/me/continue-watching');
    expect(cw.items).toHaveLength(0);
    await page.goto('/');
    await expect(page.getByRole('heading', { level: 1, name: 'Movies' })).toBeVisible();
    await expect(page.getByRole('region', { name: 'Continue watching' })).toHaveCount(0);
  });

  test('when the film’s URL stops working, the player asks for a new one and plays on; pagehide reports the position', async ({ page, stack, signIn }, testInfo) => {
    test.skip(!stack.stripeURL, 'this stack has no Stripe fake');
    const { movie } = await prepare(stack, testInfo.parallelIndex);
    const buyer = await stack.createUser();
    await buyThroughApi(stack, stack.api(buyer), movie.id);
    await signIn(page, buyer);

    // S3 refuses the first URL the API signs (as it does once one has expired).
    const plays: string[] = [];
    page.on('response', (r) => {
      if (r.url().endsWith(`/movies/${movie.id}/play`)) plays.push(r.url());
    });
    let refused = 0;
    await page.route(
      (u) => u.pathname.includes(`/media/${movie.id}/feature/`) && u.searchParams.has('X-Amz-Signature'),
      async (route) => {
        if (refused === 0) {
          refused++;
          await route.fulfill({ status: 403, contentType: 'application/xml', body: '<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>' });
        } else {
          await route.continue();
        }
      },
    );
    await page.goto(`/movies/${movie.id}/watch`);
    await expect(page.getByRole('heading', { level: 1, name: movie.name })).toBeVisible();
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    await expect.poll(() => currentTime(page), { timeout: 30_000, message: 'it plays from the new URL' }).toBeGreaterThan(1);
    expect(refused).toBe(1);
    expect(plays.length, 'GET /play asked again').toBeGreaterThanOrEqual(2);
    await expect(page.getByRole('alert')).toHaveCount(0);

    // Leaving the page for another site (here: a full load) sends the position
    // on pagehide, as a keepalive request that outlives the page.
    // (Past 6.5 s: the position is sent in tenths, and 6.02 would be recorded as 6.)
    await expect.poll(() => currentTime(page), { timeout: 30_000 }).toBeGreaterThan(6.5);
    await page.goto('/genres');
    await expect
      .poll(async () => (await stack.api(buyer).get<{ position_s: number | null }>(`/movies/${movie.id}/play`)).position_s ?? 0, {
        message: 'the position sent on pagehide is recorded',
      })
      .toBeGreaterThan(6);
  });
});
