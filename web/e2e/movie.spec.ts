// Journey 3 (the first user's half and the notification): like, rate,
// favorite, add to the cart and comment on a movie; a second user replies;
// the first sees the notification badge and follows it to the comment. Plus
// the movie page for a visitor, an unknown movie, axe, and 375 px.
import { expect, test, type Api } from './fixtures';

interface MovieDetail {
  id: number;
  name: string;
  likes: number;
  dislikes: number;
  rating: number | null;
  rating_count: number;
  me: { reaction: string | null; rating: number | null; is_favorite: boolean; is_purchased: boolean } | null;
}
interface MoviePage {
  items: { id: number; name: string }[];
}
interface CommentPage {
  items: { id: number; text: string; replies: { id: number; text: string }[] }[];
}

/** A movie that is ours alone in this test as far as counters go: picked at random among the seeded ones. */
async function someMovie(api: Api): Promise<MovieDetail> {
  const list = await api.get<MoviePage>(`/movies?sort=name&per_page=100&page=${1 + Math.floor(Math.random() * 2)}`);
  const pick = list.items[Math.floor(Math.random() * list.items.length)];
  if (!pick) throw new Error('no seeded movie');
  return api.get<MovieDetail>(`/movies/${pick.id}`);
}

test('like, rate, favorite, cart and comment; a reply notifies the author, who follows it to the comment', async ({
  page,
  browser,
  stack,
  signIn,
  checkA11y,
}) => {
  const first = await stack.createUser();
  const second = await stack.createUser();
  const movie = await someMovie(stack.api(first));
  const api = stack.api(first);

  await signIn(page, first);
  await page.goto(`/movies/${movie.id}`);
  await expect(page.getByRole('heading', { level: 1, name: movie.name })).toBeVisible();
  await checkA11y(page, 'movie page, signed in');

  // Like, then dislike (switches), then like again.
  const like = page.getByRole('button', { name: /^Like/ });
  const dislike = page.getByRole('button', { name: /^Dislike/ });
  await expect(like).toHaveAttribute('aria-pressed', 'false');
  await like.click();
  await expect(like).toHaveAttribute('aria-pressed', 'true');
  await expect(like).toContainText(String(movie.likes + 1));
  await dislike.click();
  await expect(dislike).toHaveAttribute('aria-pressed', 'true');
  await expect(like).toHaveAttribute('aria-pressed', 'false');
  await like.click();
  await expect(like).toHaveAttribute('aria-pressed', 'true');
  await expect(dislike).toHaveAttribute('aria-pressed', 'false');

  // Rate 8, then see it back after a reload.
  await page.getByLabel('Your rating').selectOption('8');
  await page.getByRole('button', { name: 'Rate' }).click();
  await expect(page.getByText('You rated it 8 / 10.')).toBeVisible();

  // Favorite.
  const fav = page.getByRole('button', { name: /Favorite/ });
  await expect(fav).toHaveAttribute('aria-pressed', 'false');
  await fav.click();
  await expect(fav).toHaveAttribute('aria-pressed', 'true');

  // Add to the cart: the button becomes "In your cart".
  await page.getByRole('button', { name: /^Add to cart/ }).click();
  await expect(page.getByText('In your cart', { exact: true })).toBeVisible();

  await page.reload();
  await expect(page.getByRole('button', { name: /^Like/ })).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByRole('button', { name: /Favorite/ })).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByLabel('Your rating')).toHaveValue('8');
  await expect(page.getByText('In your cart', { exact: true })).toBeVisible();
  const me = await api.get<MovieDetail>(`/movies/${movie.id}`);
  expect(me.me).toMatchObject({ reaction: 'like', rating: 8, is_favorite: true });

  // Comment.
  const text = `What a film! ${Date.now().toString(36)}`;
  await page.getByLabel('Write a comment').fill(text);
  await page.getByRole('button', { name: 'Post comment' }).click();
  const mine = page.getByRole('listitem').filter({ hasText: text }).first();
  await expect(mine).toBeVisible();
  const posted = (await api.get<CommentPage>(`/movies/${movie.id}/comments?per_page=100&page=1`)).items.find((c) => c.text === text);
  expect(posted, 'the comment is stored').toBeTruthy();

  // The second user replies, in a browser of their own.
  const other = await browser.newContext();
  const page2 = await other.newPage();
  await signIn(page2, second);
  await page2.goto(`/movies/${movie.id}`);
  const theirView = page2.getByRole('listitem').filter({ hasText: text }).first();
  await theirView.getByRole('button', { name: 'Reply' }).first().click();
  const reply = `Agreed, the ending! ${Date.now().toString(36)}`;
  await page2.getByLabel(/^Your reply to/).fill(reply);
  await page2.getByRole('button', { name: 'Post reply' }).click();
  await expect(page2.getByText(reply)).toBeVisible();
  await checkA11y(page2, 'movie page with a thread');
  await other.close();

  // The first user sees the badge, opens the notifications and follows the link to the reply.
  await page.goto('/movies');
  const badge = page.getByRole('link', { name: /^Notifications, \d+ unread$/ });
  await expect(badge).toBeVisible({ timeout: 15_000 });
  await badge.click();
  await expect(page).toHaveURL(/\/notifications/);
  await page.getByRole('link', { name: new RegExp(`replied to your comment on ${movie.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) }).first().click();
  await expect(page).toHaveURL(new RegExp(`/movies/${movie.id}(\\?[^#]*)?#comment-\\d+$`));
  const target = page.getByRole('listitem').filter({ hasText: reply }).last();
  await expect(target).toBeFocused();
  await expect(target).toBeInViewport();
  await expect(target.getByText('(the comment you followed)')).toBeAttached();

  // The reply's email links to the movie's page of the app.
  const mail = await stack.waitForMail(first.email, /repl/i);
  const link = mail.links.find((l) => new URL(l).pathname === `/movies/${movie.id}`);
  expect(link, `the reply email links to /movies/${movie.id}: ${mail.links.join(' ')}`).toBeTruthy();
  await page.goto(link ?? '/');
  await expect(page.getByRole('heading', { level: 1, name: movie.name })).toBeVisible();
});

test('a comment like, a delete, and the cart 409 in words', async ({ page, stack, signIn }) => {
  const user = await stack.createUser();
  const movie = await someMovie(stack.api(user));
  await signIn(page, user);
  await page.goto(`/movies/${movie.id}`);
  await expect(page.getByRole('heading', { level: 1, name: movie.name })).toBeVisible();

  // A blank comment is refused with a message on the field.
  await page.getByRole('button', { name: 'Post comment' }).click();
  await expect(page.getByLabel('Write a comment')).toHaveAttribute('aria-invalid', 'true');

  const text = `Short-lived ${Date.now().toString(36)}`;
  await page.getByLabel('Write a comment').fill(text);
  await page.getByRole('button', { name: 'Post comment' }).click();
  const item = page.getByRole('listitem').filter({ hasText: text }).first();
  const likeIt = item.getByRole('button', { name: /^Like the comment by/ });
  await likeIt.click();
  await expect(likeIt).toHaveAttribute('aria-pressed', 'true');
  await expect(likeIt).toHaveText(/1/);
  await item.getByRole('button', { name: 'Delete' }).click();
  await item.getByRole('button', { name: 'Yes, delete' }).click();
  await expect(page.getByText(text)).toHaveCount(0);

  // In the cart from elsewhere (another tab, the API): adding again says so in words.
  await stack.api(user).post('/cart/items', { movie_id: movie.id });
  await page.getByRole('button', { name: /^Add to cart/ }).click();
  await expect(page.getByText(/already in your cart/i)).toBeVisible();
  await expect(page.getByText('In your cart', { exact: true })).toBeVisible();
});

test('a visitor sees the movie and is asked to sign in; an unknown movie is not found', async ({ page, stack, checkA11y }) => {
  const movie = await someMovie(stack.api());
  await page.goto(`/movies/${movie.id}`);
  await expect(page.getByRole('heading', { level: 1, name: movie.name })).toBeVisible();
  await expect(page.getByRole('button', { name: /^Like/ })).toHaveCount(0);
  const signInLink = page.getByRole('link', { name: 'Sign in to like, rate and comment' });
  await expect(signInLink).toHaveAttribute('href', `/accounts/login?next=${encodeURIComponent(`/movies/${movie.id}`)}`);
  await checkA11y(page, 'movie page, visitor');

  // Genres, stars and directors open the catalog filtered on them.
  const detail = await stack.api().get<{ genres: { id: number; name: string }[] }>(`/movies/${movie.id}`);
  const genre = detail.genres[0];
  if (genre) {
    await page.getByRole('link', { name: genre.name, exact: true }).first().click();
    await expect(page).toHaveURL(new RegExp(`/movies\\?genre=${genre.id}$`));
    await page.goBack();
    await expect(page.getByRole('heading', { level: 1, name: movie.name })).toBeVisible();
  }

  await page.goto('/movies/999999999');
  await expect(page.getByRole('heading', { level: 1, name: 'Movie not found' })).toBeVisible();
  await checkA11y(page, 'movie not found');
  await page.goto('/movies/not-a-number');
  await expect(page.getByRole('heading', { level: 1, name: 'Movie not found' })).toBeVisible();
});

test('the movie page at 375 px', async ({ page, stack, signIn, checkA11y, shot }) => {
  const user = await stack.createUser();
  const movie = await someMovie(stack.api(user));
  await page.setViewportSize({ width: 375, height: 800 });
  await signIn(page, user);
  await page.goto(`/movies/${movie.id}`);
  await expect(page.getByRole('heading', { level: 1, name: movie.name })).toBeVisible();
  await expect(page.getByRole('button', { name: /^Add to cart/ })).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await checkA11y(page, 'movie page 375 px');
  await shot(page, 'movie-375');
});
