// The accounts journeys (issue 13): register → the real activation email →
// signed in (journey 1); forgot password → the reset email → new password →
// signed in, and the session opened elsewhere before the reset is gone
// (journey 5); resend activation; the links of the account emails open pages
// of the app; change password, profile with avatar, notifications and
// favorites. axe on every page of the area, and the 375 px layout of a form.
import type { Page } from '@playwright/test';
import { expect, test, type Mail } from './fixtures';

/** The path and query of a link in an email (its origin is PUBLIC_BASE_URL, the stack's own). */
function pathOf(link: string): string {
  const u = new URL(link);
  return u.pathname + u.search;
}

function linkTo(mail: Mail, path: string): string {
  const link = mail.links.find((l) => new URL(l).pathname === path);
  if (!link) throw new Error(`no link to ${path} in "${mail.subject}": ${mail.links.join(' ')}`);
  return link;
}

/** Not the app's 404 page, and exactly one h1. */
async function isAppPage(page: Page): Promise<void> {
  await expect(page.getByRole('heading', { level: 1 })).toHaveCount(1);
  await expect(page.getByRole('heading', { level: 1, name: 'Page not found' })).toHaveCount(0);
}

/** A link of the page's own, followed inside the app (no reload). */
async function follow(page: Page, name: string | RegExp): Promise<void> {
  await page.getByRole('main').getByRole('link', { name }).click();
}

const accountMenu = (page: Page) => page.getByRole('button', { name: 'Account' });

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function only<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`missing: ${what}`);
  return v;
}

// A 1×1 PNG, well formed (the server checks the chunk structure).
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

test('journey 1: register, open the activation email, sign in', async ({ page, stack, checkA11y }) => {
  const email = `reg-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const password = 'Cinema#2026ok';

  await page.goto('/accounts/register');
  await expect(page.getByRole('heading', { level: 1, name: 'Create an account' })).toBeVisible();
  await checkA11y(page, 'register');

  // The rules are ticked as you type.
  const rules = page.getByRole('list').filter({ hasText: '8 to 128 characters' });
  await page.getByLabel('Password', { exact: true }).fill('abc');
  await expect(rules.getByRole('listitem').filter({ hasText: 'lower-case' })).toContainText('(done)');
  await expect(rules.getByRole('listitem').filter({ hasText: 'upper-case' })).toContainText('(missing)');

  // The server's 422 messages land on their fields.
  await page.getByLabel('Email').fill('not-an-email');
  await page.getByLabel('Confirm password').fill('abc');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByText('must be a valid email address')).toBeVisible();
  await expect(page.getByText('must be at least 8 characters long')).toBeVisible();
  await expect(page.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');
  await checkA11y(page, 'register with errors');

  // The two passwords must agree (checked here, before the server).
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Confirm password').fill(`${password}x`);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByText('The two passwords differ.')).toBeVisible();
  await expect(rules.getByRole('listitem').filter({ hasText: '(done)' })).toHaveCount(5);

  await page.getByLabel('Confirm password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Check your email' })).toBeVisible();
  await expect(page.getByText(email)).toBeVisible();
  await checkA11y(page, 'register: check your email');

  const mail = await stack.waitForMail(email, /activate/i);
  const activation = linkTo(mail, '/accounts/activate');

  // The real link from the email, in this browser.
  await page.goto(pathOf(activation));
  await expect(page.getByRole('heading', { level: 1, name: 'Account activated' })).toBeVisible();
  await expect(page.getByText('Account activated — sign in')).toBeVisible();
  await checkA11y(page, 'activated');

  await follow(page, 'Sign in');
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  await expect(page.getByLabel('Email')).toHaveValue(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(accountMenu(page)).toBeVisible();
  await expect(page).toHaveURL(/\/movies$/);

  // The link is single-use: a second visit explains and offers a new one.
  await page.goto(pathOf(activation));
  await expect(page.getByRole('heading', { level: 1, name: 'This link does not work' })).toBeVisible();
  await expect(page.getByRole('alert')).toContainText('not valid');
  await expect(page.getByRole('link', { name: 'Send a new activation link' })).toBeVisible();
  await checkA11y(page, 'activation link used');
});

test('resend activation: from the sign-in page and from its own page', async ({ page, stack, checkA11y }) => {
  const user = await stack.createUser({ active: false });

  // Signing in to an inactive account explains it and offers a new link.
  await page.goto('/accounts/login');
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  const alert = page.getByRole('alert').filter({ hasText: 'not active yet' });
  await expect(alert).toBeVisible();
  await checkA11y(page, 'login: account inactive');
  await alert.getByRole('button', { name: 'Send the activation link again' }).click();
  await expect(page.getByRole('status').filter({ hasText: /activation link/i })).toBeVisible();
  const first = await stack.waitForMail(user.email, /activate/i);

  // The resend page: the same answer whatever the address.
  await page.goto('/accounts/activation/resend');
  await expect(page.getByRole('heading', { level: 1, name: 'Send a new activation link' })).toBeVisible();
  await checkA11y(page, 'resend activation');
  await page.getByLabel('Email').fill(user.email);
  await page.getByRole('button', { name: 'Send the link' }).click();
  await expect(page.getByRole('status').filter({ hasText: /activation link/i })).toBeVisible();
  const second = await stack.waitForMail(user.email, /activate/i);

  // The newer link replaced the older one.
  await page.goto(pathOf(linkTo(first, '/accounts/activate')));
  await expect(page.getByRole('heading', { level: 1, name: 'This link does not work' })).toBeVisible();
  await page.goto(pathOf(linkTo(second, '/accounts/activate')));
  await expect(page.getByRole('heading', { level: 1, name: 'Account activated' })).toBeVisible();

  // An activation address without its token explains what it needs.
  await page.goto('/accounts/activate');
  await expect(page.getByRole('heading', { level: 1, name: 'Activate your account' })).toBeVisible();
  await checkA11y(page, 'activate without token');
});

test('journey 5: forgot password, the reset email, a new password; the old session is gone', async ({
  page,
  browser,
  stack,
  signIn,
  checkA11y,
}) => {
  const user = await stack.createUser();
  const newPassword = 'Brand-new#Pass9';

  await page.goto('/accounts/login');
  await follow(page, 'Forgot your password?');
  await expect(page.getByRole('heading', { level: 1, name: 'Forgot your password?' })).toBeVisible();
  await checkA11y(page, 'forgot password');
  await page.getByLabel('Email').fill(user.email);
  await page.getByRole('button', { name: 'Send the reset link' }).click();
  await expect(page.getByRole('status').filter({ hasText: /reset the password/i })).toBeVisible();

  const mail = await stack.waitForMail(user.email, /reset/i);
  await page.goto(pathOf(linkTo(mail, '/accounts/password/reset')));
  await expect(page.getByRole('heading', { level: 1, name: 'Choose a new password' })).toBeVisible();
  await checkA11y(page, 'reset password');

  // A weak password: the server's messages on the field; the token stays usable.
  await page.getByLabel('New password', { exact: true }).fill('weakpass');
  await page.getByLabel('Confirm new password').fill('weakpass');
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await expect(page.getByText(/must contain an upper-case letter/)).toBeVisible();

  // Another browser signed in before the reset.
  const other = await browser.newContext();
  const elsewhere = await other.newPage();
  await signIn(elsewhere, user);
  await expect(accountMenu(elsewhere)).toBeVisible();

  await page.getByLabel('New password', { exact: true }).fill(newPassword);
  await page.getByLabel('Confirm new password').fill(newPassword);
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Password changed' })).toBeVisible();
  await expect(page.getByText('Password changed, sign in')).toBeVisible();
  await checkA11y(page, 'password changed');

  await follow(page, 'Sign in');
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(newPassword);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(accountMenu(page)).toBeVisible();

  // The other browser's next action finds its session ended and asks to sign in again.
  await elsewhere.evaluate(() => {
    history.pushState(null, '', '/favorites');
    dispatchEvent(new PopStateEvent('popstate'));
  });
  await expect(elsewhere).toHaveURL(/\/accounts\/login\?next=%2Ffavorites/);
  await expect(elsewhere.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  await expect(accountMenu(elsewhere)).toHaveCount(0);
  // ...and a reload does not bring it back.
  await elsewhere.goto('/accounts/profile');
  await expect(elsewhere).toHaveURL(/\/accounts\/login\?next=/);
  await expect(accountMenu(elsewhere)).toHaveCount(0);
  await other.close();

  // The reset link is used up: the page says so once it is tried.
  await page.goto(pathOf(linkTo(mail, '/accounts/password/reset')));
  await page.getByLabel('New password', { exact: true }).fill('Another#Pass77');
  await page.getByLabel('Confirm new password').fill('Another#Pass77');
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'This link does not work' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Send a new reset link' })).toBeVisible();
});

test('sign in: next, expired sessions, wrong passwords, 375 px', async ({ page, browser, stack, checkA11y }) => {
  const user = await stack.createUser();
  await page.setViewportSize({ width: 375, height: 800 });

  await page.goto('/accounts/login?next=//evil.example/x&expired=1');
  await expect(page.getByText('Your session ended; sign in again')).toBeVisible();
  await checkA11y(page, 'login expired (375 px)');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);

  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill('Wrong#Pass1');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('The email or password is wrong.');

  // A next address of another site is ignored: the catalog instead.
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(accountMenu(page)).toBeVisible();
  await expect(page).toHaveURL(/\/movies$/);

  // The register form at 375 px: no sideways scrolling.
  const small = await browser.newContext({ viewport: { width: 375, height: 800 } });
  const reg = await small.newPage();
  await reg.goto('/accounts/register');
  await reg.getByLabel('Password', { exact: true }).fill('abc');
  await checkA11y(reg, 'register (375 px)');
  expect(await reg.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
  await small.close();

  // A signed-in page sends an anonymous visitor to sign in and back.
  const fresh = await browser.newContext();
  const p2 = await fresh.newPage();
  await p2.goto('/notifications?filter=unread');
  await expect(p2).toHaveURL(/\/accounts\/login\?next=%2Fnotifications%3Ffilter%3Dunread$/);
  await p2.getByLabel('Email').fill(user.email);
  await p2.getByLabel('Password').fill(user.password);
  await p2.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(p2).toHaveURL(/\/notifications\?filter=unread$/);
  await expect(p2.getByRole('heading', { level: 1, name: 'Notifications' })).toBeVisible();
  await fresh.close();
});

test('change password; the email of the change links to a page of the app', async ({ page, stack, signIn, checkA11y }) => {
  const user = await stack.createUser();
  await signIn(page, user);
  await accountMenu(page).click();
  await page.getByRole('link', { name: 'Change password' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Change password' })).toBeVisible();
  await checkA11y(page, 'change password');

  const next = 'Changed#Pass42';
  await page.getByLabel('Current password').fill('Not#ThePass1');
  await page.getByLabel('New password', { exact: true }).fill(next);
  await page.getByLabel('Confirm new password').fill(next);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByText('The current password is wrong.')).toBeVisible();
  await expect(page.getByLabel('Current password')).toHaveAttribute('aria-invalid', 'true');

  await page.getByLabel('Current password').fill(user.password);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByText(/Password changed\. You stay signed in here/)).toBeVisible();
  // This session goes on.
  await page.reload();
  await expect(accountMenu(page)).toBeVisible();
  await expect(page.getByRole('heading', { level: 1, name: 'Change password' })).toBeVisible();

  // password_changed's "reset your password now" link.
  const mail = await stack.waitForMail(user.email, /password was changed/i);
  await page.goto(pathOf(linkTo(mail, '/accounts/password/forgot')));
  await expect(page.getByRole('heading', { level: 1, name: 'Forgot your password?' })).toBeVisible();
  await isAppPage(page);
});

test('the links of the account emails open pages of the app', async ({ page, stack }) => {
  // activation and password reset: the landing pages, whatever the token.
  const inactive = await stack.createUser({ active: false });
  await stack.api().post('/accounts/activation/resend', { email: inactive.email });
  const activation = await stack.waitForMail(inactive.email, /activate/i);
  await page.goto(pathOf(linkTo(activation, '/accounts/activate')));
  await expect(page.getByRole('heading', { level: 1, name: 'Account activated' })).toBeVisible();
  await isAppPage(page);

  const user = await stack.createUser();
  await stack.api().post('/accounts/password/forgot', { email: user.email });
  const reset = await stack.waitForMail(user.email, /reset/i);
  await page.goto(pathOf(linkTo(reset, '/accounts/password/reset')));
  await expect(page.getByRole('heading', { level: 1, name: 'Choose a new password' })).toBeVisible();
  await isAppPage(page);

  for (const path of ['/accounts/password/forgot', '/accounts/activation/resend', '/accounts/register', '/accounts/login']) {
    await page.goto(path);
    await isAppPage(page);
  }
});

test('profile: details, email notifications, avatar with preview', async ({ page, stack, signIn, checkA11y }) => {
  const user = await stack.createUser();
  await signIn(page, user);
  await accountMenu(page).click();
  await page.getByRole('link', { name: 'Profile' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Profile' })).toBeVisible();
  await expect(page.getByText(user.email)).toBeVisible();
  await checkA11y(page, 'profile');

  // Details: a server 422 on its field, then a save that sticks.
  await page.getByLabel('First name').fill('Ada');
  await page.getByLabel('Last name').fill('Lovelace');
  await page.getByLabel('Gender').selectOption('WOMAN');
  await page.getByLabel('Date of birth').fill('2999-01-01');
  await page.getByRole('button', { name: 'Save profile' }).click();
  await expect(page.getByLabel('Date of birth')).toHaveAttribute('aria-invalid', 'true');
  await page.getByLabel('Date of birth').fill('1990-12-10');
  await page.getByLabel('About me').fill('Likes <b>noir</b> films.');
  await page.getByRole('button', { name: 'Save profile' }).click();
  await expect(page.getByText('Profile saved.')).toBeVisible();

  // Email notifications: saved at once.
  const toggle = page.getByLabel('Email me when someone replies to or likes my comments');
  await expect(toggle).toBeChecked();
  await toggle.uncheck();
  await expect(page.getByText('Saved: no more emails about replies and likes.')).toBeVisible();

  // Avatar: a wrong type is explained before any upload; a PNG is previewed, then uploaded.
  const file = page.getByLabel('Choose an image');
  await file.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await expect(page.getByText('“notes.txt” is not a PNG, JPEG or WebP image.', { exact: false })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Upload' })).toHaveCount(0);
  await file.setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: PNG });
  const preview = page.getByRole('img', { name: 'Preview of the chosen image' });
  await expect(preview).toHaveAttribute('src', /^blob:/);
  await checkA11y(page, 'profile with avatar preview');
  await page.getByRole('button', { name: 'Upload' }).click();
  await expect(page.getByText('Avatar saved.')).toBeVisible();
  await expect(page.getByRole('img', { name: 'Your avatar' })).toBeVisible();

  // Everything is still there after a reload (and the text stayed text).
  await page.reload();
  await expect(page.getByLabel('First name')).toHaveValue('Ada');
  await expect(page.getByLabel('Last name')).toHaveValue('Lovelace');
  await expect(page.getByLabel('Gender')).toHaveValue('WOMAN');
  await expect(page.getByLabel('Date of birth')).toHaveValue('1990-12-10');
  await expect(page.getByLabel('About me')).toHaveValue('Likes <b>noir</b> films.');
  await expect(page.getByLabel('Email me when someone replies to or likes my comments')).not.toBeChecked();
  await expect(page.getByLabel('Replace the avatar')).toBeVisible();
});

test('notifications: unread filter, open one at its comment, mark all read', async ({ page, stack, signIn, checkA11y }) => {
  const author = await stack.createUser();
  const other = await stack.createUser();
  const movies = await stack.api().get<{ items: { id: number; name: string }[] }>('/movies?per_page=1&sort=name');
  const movie = only(movies.items[0], 'a movie');
  const mine = await stack.api(author).post<{ id: number }>(`/movies/${movie.id}/comments`, { text: 'First thoughts.' });
  const reply = await stack.api(other).post<{ id: number }>(`/movies/${movie.id}/comments`, { text: 'A reply.', parent_id: mine.id });
  await stack.api(other).put(`/comments/${mine.id}/like`);

  await signIn(page, author);
  await page.getByRole('link', { name: /Notifications, 2 unread/ }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Notifications' })).toBeVisible();
  const list = page.getByRole('list', { name: 'Notifications' });
  await expect(list.getByRole('listitem')).toHaveCount(2);
  await checkA11y(page, 'notifications');

  await page.getByRole('link', { name: 'Unread', exact: true }).click();
  await expect(page).toHaveURL(/\/notifications\?filter=unread$/);
  await expect(page.getByRole('link', { name: 'Unread', exact: true })).toHaveAttribute('aria-current', 'page');

  // A notification opens its movie at the comment, and is read from then on.
  await page.getByRole('link', { name: new RegExp(`replied to your comment on ${escape(movie.name)}`) }).click();
  await expect(page).toHaveURL(new RegExp(`/movies/${movie.id}#comment-${reply.id}$`));
  await page.goBack();
  await expect(page.getByRole('list', { name: 'Unread notifications' }).getByRole('listitem')).toHaveCount(1);

  await page.getByRole('button', { name: 'Mark all as read' }).click();
  await expect(page.getByText('Nothing unread. You are all caught up.')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Notifications', exact: true })).toBeVisible();
  await checkA11y(page, 'notifications: none unread');
});

test('favorites: filters and sort in the URL, remove and undo', async ({ page, stack, signIn, checkA11y }) => {
  const user = await stack.createUser();
  const api = stack.api(user);
  const movies = await stack.api().get<{ items: { id: number; name: string; year: number }[] }>('/movies?per_page=5&sort=-imdb');
  for (const m of movies.items) await api.put(`/favorites/${m.id}`);
  const first = only(movies.items[0], 'a movie');
  const second = only(movies.items[1], 'a second movie');

  await signIn(page, user);
  await accountMenu(page).click();
  await page.getByRole('link', { name: 'Favorites' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Favorites' })).toBeVisible();
  const grid = page.getByRole('list', { name: 'Favorite movies' });
  await expect(grid.getByRole('listitem')).toHaveCount(5);
  await checkA11y(page, 'favorites');

  // Sort and search go into the URL; a reload keeps them (the catalog's filter panel).
  await page.getByLabel('Sort by').selectOption('-imdb');
  await expect(page).toHaveURL(/sort=-imdb/);
  await page.getByLabel('Keywords').fill(first.name);
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/search=/);
  await expect(grid.getByRole('link', { name: new RegExp(escape(first.name)) })).toBeVisible();
  await page.reload();
  await expect(page.getByLabel('Sort by')).toHaveValue('-imdb');
  await expect(page.getByLabel('Keywords')).toHaveValue(first.name);

  // A bad filter is explained on its field.
  await page.getByLabel('From year').fill('12');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page.getByLabel('From year')).toHaveAttribute('aria-invalid', 'true');
  await checkA11y(page, 'favorites: bad filter');

  // Remove one, then undo.
  await page.goto('/favorites');
  await expect(grid.getByRole('listitem')).toHaveCount(5);
  await page.getByRole('button', { name: `Remove ${second.name} from favorites` }).click();
  await expect(grid.getByRole('listitem')).toHaveCount(4);
  await expect(page.getByText(`${second.name} was removed from your favorites.`)).toBeVisible();
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(grid.getByRole('listitem')).toHaveCount(5);

  // The back button restores the earlier filters.
  await page.goBack();
  await expect(page).toHaveURL(/year_min=12/);
  await page.setViewportSize({ width: 375, height: 800 });
  await page.goto('/favorites');
  await expect(grid.getByRole('listitem')).toHaveCount(5);
  await checkA11y(page, 'favorites (375 px)');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});
