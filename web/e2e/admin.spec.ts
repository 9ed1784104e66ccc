// Journey 7 (issue 13): an administrator promotes a user to moderator; that
// user, signed in elsewhere all along, reloads and now has the studio (before,
// /studio said "Not for this account"). The administrator cannot change their
// own group (the server's sentence is shown), and can activate an account.
import { expect, test } from './fixtures';

test('journey 7: an admin promotes a user, who sees the studio after a reload', async ({ page, browser, stack, signIn, checkA11y }) => {
  const admin = await stack.createUser({ group: 'ADMIN' });
  const user = await stack.createUser();

  // The user, in a browser of their own: no studio yet.
  const theirs = await browser.newContext({ baseURL: stack.baseURL });
  const userPage = await theirs.newPage();
  await signIn(userPage, user);
  await userPage.goto('/studio');
  await expect(userPage.getByRole('heading', { level: 1, name: 'Not for this account' })).toBeVisible();
  await userPage.getByRole('button', { name: 'Account' }).click();
  await expect(userPage.getByRole('link', { name: 'Profile', exact: true })).toBeVisible();
  await expect(userPage.getByRole('link', { name: 'Studio', exact: true })).toHaveCount(0);
  await userPage.goto('/admin/users');
  await expect(userPage.getByRole('heading', { level: 1, name: 'Not for this account' })).toBeVisible();

  // The administrator finds them and makes them a moderator.
  await signIn(page, admin);
  await page.getByRole('button', { name: 'Account' }).click();
  await page.getByRole('link', { name: 'Users', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
  await checkA11y(page, 'admin users');
  await page.getByLabel('Email contains').fill(user.email);
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/\/admin\/users\?email=/);
  await expect(page.getByText('1 account matches')).toBeVisible();
  const group = page.getByLabel(`Group of ${user.email}`);
  await expect(group).toHaveValue('USER');
  await group.selectOption('MODERATOR');
  await page.getByRole('button', { name: 'Change group' }).click();
  await expect(page.getByText('Now in the group Moderator.')).toBeVisible();
  await checkA11y(page, 'admin user promoted');

  // Filters are in the URL: a reload shows the same list, with the new group.
  await page.reload();
  await expect(page.getByLabel(`Group of ${user.email}`)).toHaveValue('MODERATOR');

  // The user reloads: the studio is theirs now.
  await userPage.reload();
  await userPage.getByRole('button', { name: 'Account' }).click();
  await userPage.getByRole('link', { name: 'Studio', exact: true }).click();
  await expect(userPage).toHaveURL(/\/studio\/movies$/);
  await expect(userPage.getByRole('heading', { level: 1, name: 'Movies' })).toBeVisible();
  await expect(userPage.getByRole('table')).toBeVisible();
  await theirs.close();

  // The administrator cannot change their own group: the server says so on the row.
  await page.getByLabel('Email contains').fill(admin.email);
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page.getByText('(you)')).toBeVisible();
  await page.getByLabel(`Group of ${admin.email}`).selectOption('USER');
  await page.getByRole('button', { name: 'Change group' }).click();
  await expect(page.getByRole('alert')).toContainText('Administrators cannot change their own group or status.');
  await expect(page.getByLabel(`Group of ${admin.email}`)).toHaveValue('ADMIN');
  // ...nor deactivate themselves.
  await page.getByRole('button', { name: `Deactivate ${admin.email}` }).click();
  await expect(page.getByRole('alert')).toContainText('Administrators cannot change their own group or status.');
  await checkA11y(page, 'admin self-modification refused');
});

test('an admin filters by status and activates an account', async ({ page, stack, signIn, checkA11y }) => {
  const admin = await stack.createUser({ group: 'ADMIN' });
  const sleeper = await stack.createUser({ active: false });
  await signIn(page, admin);
  await page.goto(`/admin/users?email=${encodeURIComponent(sleeper.email)}&is_active=false`);
  await expect(page.getByLabel('Status')).toHaveValue('false');
  await expect(page.getByRole('row', { name: new RegExp(sleeper.email) })).toContainText('Inactive');
  await page.getByRole('button', { name: `Activate ${sleeper.email}` }).click();
  await expect(page.getByText('Activated.')).toBeVisible();
  await expect(page.getByRole('button', { name: `Deactivate ${sleeper.email}` })).toBeVisible();
  await checkA11y(page, 'admin user activated');

  // The account can sign in now.
  const r = await stack.api(sleeper).send('GET', '/accounts/me');
  expect(r.status).toBe(200);

  // At 375 px the list still fits.
  await page.setViewportSize({ width: 375, height: 800 });
  await page.goto('/admin/users');
  await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  await checkA11y(page, 'admin users 375');
});
