// The cart: each movie with its price, year and genres, the total at current
// prices, remove one or clear all, and "Place order", which turns the cart
// into a pending order and opens it. Movies the order left out (owned, in
// another pending order, not for sale) are explained as the API reports them.
import { useState } from 'preact/hooks';
import { api, call, type Schemas } from '../../api/client';
import { toApiError } from '../../api/errors';
import { navigate } from '../../router';
import { Empty, ErrorMessage, Loading } from '../../ui/common';
import { money } from '../../ui/format';
import { useAsync, useTitle } from '../../ui/hooks';
import { Poster } from '../../ui/movie';
import { ConfirmAction, ExcludedList, rememberExcluded, type ExcludedMovie } from './commerce';

type CartItem = Schemas['CartItem'];

function isCartEmpty(v: unknown): v is Schemas['CartEmpty'] {
  return typeof v === 'object' && v !== null && (v as { code?: unknown }).code === 'cart_empty' && Array.isArray((v as { excluded?: unknown }).excluded);
}

function CartRow({ item, busy, error, onRemove }: { item: CartItem; busy: boolean; error: unknown; onRemove: () => void }) {
  return (
    <li class="cart-item">
      <div class="cart-poster" aria-hidden="true">
        <Poster title={item.name} year={item.year} />
      </div>
      <div class="cart-info">
        <h2 class="cart-title">
          <a href={`/movies/${item.movie_id}`}>{item.name}</a>
        </h2>
        <p class="muted">
          {item.year}
          {item.genres.length > 0 && ` · ${item.genres.join(', ')}`}
        </p>
        <ErrorMessage error={error} />
      </div>
      <div class="cart-side">
        <span class="cart-price">{money(item.price)}</span>
        <button type="button" class="btn btn-small" disabled={busy} onClick={onRemove} aria-label={`Remove ${item.name} from the cart`}>
          Remove
        </button>
      </div>
    </li>
  );
}

export default function Cart() {
  useTitle('Cart');
  const cart = useAsync(() => call(api.GET('/api/v1/cart')), []);
  const [busy, setBusy] = useState<string | null>(null);
  const [rowError, setRowError] = useState<{ id: number; error: unknown } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [refused, setRefused] = useState<{ detail: string; excluded: ExcludedMovie[] } | null>(null);
  const items = cart.data?.items ?? [];
  const names = new Map(items.map((i) => [i.movie_id, i.name]));

  async function remove(item: CartItem) {
    setBusy(`remove-${item.movie_id}`);
    setRowError(null);
    try {
      await call(api.DELETE('/api/v1/cart/items/{movie_id}', { params: { path: { movie_id: item.movie_id } } }));
      cart.reload();
    } catch (e) {
      setRowError({ id: item.movie_id, error: e });
    } finally {
      setBusy(null);
    }
  }

  async function clear() {
    setBusy('clear');
    setError(null);
    try {
      await call(api.DELETE('/api/v1/cart'));
      setRefused(null);
      cart.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  }

  async function place() {
    setBusy('place');
    setError(null);
    setRefused(null);
    try {
      const r = await api.POST('/api/v1/orders');
      if (r.data) {
        const excluded = r.data.excluded.map((x) => ({ ...x, name: names.get(x.movie_id) ?? null }));
        rememberExcluded(r.data.order.id, excluded);
        navigate(`/orders/${r.data.order.id}`);
        return;
      }
      if (r.response.status === 409 && isCartEmpty(r.error)) {
        setRefused({ detail: r.error.detail, excluded: r.error.excluded.map((x) => ({ ...x, name: names.get(x.movie_id) ?? null })) });
        cart.reload();
        return;
      }
      throw toApiError(r.response, r.error);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  }

  return (
    <section class="page cart-page">
      <div class="page-head">
        <h1>Your cart</h1>
        {cart.data && items.length > 0 && (
          <p class="muted">
            {items.length} {items.length === 1 ? 'movie' : 'movies'}
          </p>
        )}
      </div>
      <ErrorMessage error={cart.error} retry={cart.reload} />
      {cart.loading && !cart.data && <Loading label="Loading your cart…" />}
      {refused && (
        <div class="alert alert-warning" role="alert">
          <p>{refused.detail}</p>
          {refused.excluded.length > 0 && <ExcludedList excluded={refused.excluded} />}
        </div>
      )}
      {cart.data && items.length === 0 && (
        <Empty>
          <p>Your cart is empty.</p>
          <p>
            <a class="btn btn-primary" href="/movies">
              Browse the catalog
            </a>
          </p>
        </Empty>
      )}
      {cart.data && items.length > 0 && (
        <div class="cart-layout">
          <ul class="cart-list" aria-label="Movies in your cart">
            {items.map((item) => (
              <CartRow
                key={item.movie_id}
                item={item}
                busy={busy !== null}
                error={rowError?.id === item.movie_id ? rowError.error : null}
                onRemove={() => void remove(item)}
              />
            ))}
          </ul>
          <aside class="cart-summary" aria-labelledby="cart-summary-title">
            <h2 id="cart-summary-title">Summary</h2>
            <p class="cart-total">
              <span>Total</span> <strong>{money(cart.data.total)}</strong>
            </p>
            <p class="hint">
              Placing the order keeps these prices until you pay. Movies you already own or that are in another pending order
              are left out, and we tell you which.
            </p>
            <ErrorMessage error={error} />
            <button type="button" class="btn btn-primary btn-block" disabled={busy !== null} onClick={() => void place()}>
              {busy === 'place' ? 'Placing the order…' : 'Place order'}
            </button>
            <ConfirmAction
              toggleClass="btn btn-block"
              label="Clear cart"
              question={`Remove all ${items.length} ${items.length === 1 ? 'movie' : 'movies'} from your cart?`}
              confirmLabel="Yes, clear the cart"
              busyLabel="Clearing…"
              keepLabel="Keep them"
              busy={busy === 'clear'}
              disabled={busy !== null}
              onConfirm={() => void clear()}
            />
          </aside>
        </div>
      )}
    </section>
  );
}
