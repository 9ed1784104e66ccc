// Journey 4: buy two movies. Cart (set up through the API) → place the order
// → Pay → the Stripe fake's hosted page → Pay → back on
// /orders/{id}?checkout=success → "Payment received" → both in My movies →
// the confirmation email, whose links open app pages. Then a second order
// canceled on the Stripe page: back on ?checkout=cancel, still pending.
// axe on the cart, orders, order, payments and purchases pages; the cart at 375 px.
import type { Page } from '@playwright/test';
import { expect, test, type Api, type Stack } from './fixtures';

interface MovieRef {
  id: number;
  name: string;
}

/** Movies from the seeded catalog, skipping `skip` of them (each test takes its own). */
async function movies(stack: Stack, count: number, skip: number): Promise<MovieRef[]> {
  const page = await stack.api().get<{ items: MovieRef[] }>(`/movies?sort=name&per_page=${count + skip}`);
  const out = page.items.slice(skip, skip + count).map((m) => ({ id: m.id, name: m.name }));
  expect(out, 'the seeded catalog has enough movies').toHaveLength(count);
  return out;
}

async function addToCart(api: Api, movie: MovieRef): Promise<void> {
  await api.post('/cart/items', { movie_id: movie.id });
}

/** From the cart page: "Place order" opens the new order's page; returns its id. */
async function placeOrder(page: Page): Promise<number> {
  await page.getByRole('button', { name: 'Place order' }).click();
  await page.waitForURL(/\/orders\/\d+$/);
  const id = Number(/\/orders\/(\d+)$/.exec(new URL(page.url()).pathname)?.[1]);
  await expect(page.getByRole('heading', { level: 1, name: `Order #${id}` })).toBeVisible();
  return id;
}

/** On the order page: "Pay" sends the window to the Stripe fake's hosted checkout page. */
async function goToStripe(page: Page, baseURL: string): Promise<void> {
  await page.getByRole('button', { name: /^Pay( again)?$/ }).click();
  await page.waitForURL((u) => u.origin !== new URL(baseURL).origin && u.pathname.startsWith('/checkout/'));
}

test.describe('journey 4: buying movies', () => {
  test('cart → order → pay on Stripe → payment received → My movies → email; a canceled checkout stays pending', async ({
    page,
    stack,
    signIn,
    checkA11y,
    shot,
  }) => {
    test.skip(!stack.stripeURL, 'this stack has no Stripe fake');
    test.setTimeout(180_000);
    const base = stack.baseURL;
    const user = await stack.createUser();
    const api = stack.api(user);
    const [first, second, third] = await movies(stack, 3, 0);
    if (!first || !second || !third) throw new Error('unreachable');
    await addToCart(api, first);
    await addToCart(api, second);

    await signIn(page, user);

    // The cart: both movies with their prices and the total.
    await page.goto('/cart');
    await expect(page.getByRole('heading', { level: 1, name: 'Your cart' })).toBeVisible();
    const cart = page.getByRole('list', { name: 'Movies in your cart' });
    await expect(cart.getByRole('listitem')).toHaveCount(2);
    await expect(cart.getByRole('link', { name: first.name })).toBeVisible();
    await expect(cart.getByRole('link', { name: second.name })).toBeVisible();
    await expect(page.getByText('Total', { exact: true })).toBeVisible();
    await checkA11y(page, 'cart');

    // The cart at 375 px: nothing wider than the screen, the order button in reach.
    await page.setViewportSize({ width: 375, height: 812 });
    await expect(page.getByRole('button', { name: 'Place order' })).toBeVisible();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await checkA11y(page, 'cart at 375 px');
    await shot(page, 'cart-375');
    await page.setViewportSize({ width: 1280, height: 900 });

    // Place the order: its page lists both movies, pending.
    const orderId = await placeOrder(page);
    await expect(page.getByText('Pending payment')).toBeVisible();
    await expect(page.getByRole('link', { name: first.name })).toBeVisible();
    await expect(page.getByRole('link', { name: second.name })).toBeVisible();
    await checkA11y(page, 'order (pending)');

    // Pay on the Stripe fake's page; it sends the webhook and returns us.
    await goToStripe(page, base);
    await page.getByRole('button', { name: /^Pay\b/ }).click();
    await page.waitForURL(`${base}/orders/${orderId}?checkout=success`);
    await expect(page.getByText(/Payment received/)).toBeVisible({ timeout: 25_000 });
    await expect(page.getByText('Paid', { exact: true })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Request a refund' })).toBeVisible();
    await checkA11y(page, 'order (paid)');
    await shot(page, 'order-paid');

    // Both movies are in My movies.
    await page.getByRole('link', { name: 'My movies' }).first().click();
    await expect(page.getByRole('heading', { level: 1, name: 'My movies' })).toBeVisible();
    const mine = page.getByRole('list', { name: 'Your movies' });
    await expect(mine.getByRole('link', { name: first.name, exact: true })).toBeVisible();
    await expect(mine.getByRole('link', { name: second.name, exact: true })).toBeVisible();
    await checkA11y(page, 'purchases');
    await shot(page, 'purchases');

    // Orders and payments list it.
    await page.goto('/orders');
    await expect(page.getByRole('heading', { level: 1, name: 'Your orders' })).toBeVisible();
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: `Order #${orderId}` }) });
    await expect(row.getByText('Paid', { exact: true })).toBeVisible();
    await checkA11y(page, 'orders');
    await page.goto('/payments');
    await expect(page.getByRole('heading', { level: 1, name: 'Payment history' })).toBeVisible();
    const payment = page.getByRole('row').filter({ has: page.getByRole('link', { name: `Order #${orderId}` }) });
    await expect(payment.getByText('Successful')).toBeVisible();
    await checkA11y(page, 'payments');

    // The confirmation email arrived; its /purchases link opens My movies.
    const mail = await stack.waitForMail(user.email, new RegExp(`order ${orderId} is paid`, 'i'));
    expect(mail.text).toContain(first.name);
    expect(mail.text).toContain(second.name);
    const purchasesLink = mail.links.find((l) => new URL(l).pathname === '/purchases');
    expect(purchasesLink, mail.links.join('\n')).toBeTruthy();
    await page.goto(purchasesLink ?? '/purchases');
    await expect(page.getByRole('heading', { level: 1, name: 'My movies' })).toBeVisible();
    // The orders link of the emails (/orders/{id}) opens the order page.
    await page.goto(`${base}/orders/${orderId}`);
    await expect(page.getByRole('heading', { level: 1, name: `Order #${orderId}` })).toBeVisible();
    await expect(page.getByText('Paid', { exact: true })).toBeVisible();

    // A second order, canceled on the Stripe page: back on ?checkout=cancel, still pending.
    await addToCart(api, third);
    await page.goto('/cart');
    await expect(page.getByRole('link', { name: third.name })).toBeVisible();
    const secondId = await placeOrder(page);
    expect(secondId).not.toBe(orderId);
    await goToStripe(page, base);
    await page.getByRole('button', { name: /^Cancel\b/ }).click();
    await page.waitForURL(`${base}/orders/${secondId}?checkout=cancel`);
    await expect(page.getByText('Payment canceled — your order is still pending')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Pay again' })).toBeVisible();
    await checkA11y(page, 'order (checkout canceled)');
    await page.reload();
    await expect(page.getByText('Pending payment')).toBeVisible();
    expect((await api.get<{ status: string }>(`/orders/${secondId}`)).status).toBe('pending');
    // Not bought: the third movie is not in My movies.
    await page.goto('/purchases');
    await expect(page.getByRole('link', { name: first.name, exact: true })).toBeVisible();
    await expect(page.getByRole('link', { name: third.name, exact: true })).toHaveCount(0);

    // The paid order can be refunded: the request is accepted (the order stays paid until Stripe confirms).
    await page.goto(`/orders/${orderId}`);
    await page.getByRole('button', { name: 'Request a refund' }).click();
    await page.getByRole('button', { name: 'Yes, request the refund' }).click();
    await expect(page.getByText(/The refund was requested/)).toBeVisible();
    await expect(page.getByRole('button', { name: 'Request a refund' })).toHaveCount(0);
    await checkA11y(page, 'order (refund requested)');
  });

  test('placing an order explains the movies it left out, as the API reports them', async ({ page, stack, signIn, checkA11y }) => {
    const user = await stack.createUser();
    const api = stack.api(user);
    const [a, b] = await movies(stack, 2, 3);
    if (!a || !b) throw new Error('unreachable');
    // a goes into a pending order first; then the cart holds a and b again.
    await addToCart(api, a);
    await api.post('/orders');
    await addToCart(api, a);
    await addToCart(api, b);

    await signIn(page, user);
    await page.goto('/cart');
    await placeOrder(page);
    const note = page.getByRole('status').filter({ hasText: 'left out of this order' });
    await expect(note.getByRole('link', { name: a.name })).toBeVisible();
    await expect(note).toContainText('already in another of your orders waiting for payment');
    await expect(page.getByRole('table').getByRole('link', { name: b.name })).toBeVisible();
    await checkA11y(page, 'order with exclusions');

    // Only movies that are in a pending order: 409 cart_empty, explained on the cart page.
    await addToCart(api, a);
    await page.goto('/cart');
    await page.getByRole('button', { name: 'Place order' }).click();
    const refusal = page.getByRole('alert').filter({ hasText: 'Nothing in the cart can be ordered' });
    await expect(refusal.getByRole('link', { name: a.name })).toBeVisible();
    await expect(page).toHaveURL(/\/cart$/);

    // Cancel that pending order from its page.
    await page.getByRole('link', { name: 'See your orders' }).click();
    await page.getByRole('row').filter({ hasText: a.name }).first().getByRole('link', { name: /^Order #/ }).click();
    await page.getByRole('button', { name: 'Cancel order' }).click();
    await page.getByRole('button', { name: 'Yes, cancel the order' }).click();
    await expect(page.getByText('Canceled', { exact: true })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Pay', exact: true })).toHaveCount(0);

    // The cart still holds a (the refused order changed nothing): remove one movie, then clear the rest.
    await addToCart(api, b);
    await page.goto('/cart');
    const cart = page.getByRole('list', { name: 'Movies in your cart' });
    await expect(cart.getByRole('listitem')).toHaveCount(2);
    await page.getByRole('button', { name: `Remove ${b.name} from the cart` }).click();
    await expect(cart.getByRole('listitem')).toHaveCount(1);
    await page.getByRole('button', { name: 'Clear cart' }).click();
    await expect(page.getByRole('button', { name: 'Clear cart' })).toHaveAttribute('aria-expanded', 'true');
    await page.getByRole('button', { name: 'Yes, clear the cart' }).click();
    await expect(page.getByText('Your cart is empty.')).toBeVisible();
    expect((await api.get<{ items: unknown[] }>('/cart')).items).toHaveLength(0);
  });

  test('back from Stripe before the payment is confirmed: the page keeps asking, then says it is still processing', async ({
    page,
    stack,
    signIn,
    checkA11y,
  }) => {
    test.setTimeout(90_000);
    const user = await stack.createUser();
    const api = stack.api(user);
    const [m] = await movies(stack, 1, 5);
    if (!m) throw new Error('unreachable');
    await addToCart(api, m);
    const placed = await api.post<{ order: { id: number } }>('/orders');
    const id = placed.order.id;

    // No payment reaches the API for this order: the return page polls for about 20 s.
    await signIn(page, user);
    await page.goto(`/orders/${id}?checkout=success`);
    await expect(page.getByText('Confirming your payment…')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Pay', exact: true })).toHaveCount(0);
    await expect(page.getByText(/still processing.*we will email you/i)).toBeVisible({ timeout: 30_000 });
    await expect(page.getByText('Confirming your payment…')).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Check again' })).toBeVisible();
    await checkA11y(page, 'order (payment still processing)');
  });
});
