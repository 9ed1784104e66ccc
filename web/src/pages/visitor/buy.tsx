// Buying from a movie's page and from the player ("Buy to watch"): the cart
// button, or where the movie already is (in the cart, owned). Shared by
// Movie.tsx and user/Watch.tsx.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, call, type Schemas } from '../../api/client';
import { ApiError } from '../../api/errors';
import { ErrorMessage } from '../../ui/common';
import { money } from '../../ui/format';
import { useAsync } from '../../ui/hooks';

type Movie = Pick<Schemas['MovieDetail'], 'id' | 'name' | 'price' | 'has_feature'>;

/** Runs one action at a time and keeps its error for display next to its controls. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (fn: () => Promise<unknown>): Promise<boolean> => {
    if (busy) return false;
    setBusy(true);
    setError(null);
    try {
      await fn();
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}

/**
 * The cart button of a movie the user does not own: "Buy to watch" when it has
 * a feature to watch (and the user cannot already watch it as a moderator),
 * "Add to cart" otherwise; once added, "In your cart" with the cart's link.
 * An owned movie says so (its "Watch" button is the page's, see WatchActions).
 */
export function Buy({ m, purchased, canWatch = purchased }: { m: Movie; purchased: boolean; canWatch?: boolean }) {
  const cart = useAsync(() => (purchased ? Promise.resolve(null) : call(api.GET('/api/v1/cart'))), [m.id, purchased]);
  const [added, setAdded] = useState(false);
  const [owned, setOwned] = useState(false);
  const a = useAction();
  // The cart's 409s in words: already in the cart, or already bought (the state follows).
  const conflict = a.error instanceof ApiError && a.error.status === 409 ? a.error : null;
  useEffect(() => {
    if (conflict?.code === 'already_in_cart') setAdded(true);
    if (conflict?.code === 'already_purchased') setOwned(true);
  }, [conflict]);
  const note = conflict && (
    <p class="alert alert-info" role="alert">
      {conflict.message}
    </p>
  );
  // The pressed button is replaced by where the movie now is: focus goes to
  // that link rather than to the top of the page.
  const moved = useRef<HTMLAnchorElement>(null);
  useEffect(() => {
    if (added || owned) moved.current?.focus();
  }, [added, owned]);
  const inCart = added || Boolean(cart.data?.items.some((i) => i.movie_id === m.id));
  if (purchased || owned || conflict?.code === 'already_purchased') {
    return (
      <div class="buy">
        <p class="buy-state">
          <span class="status status-paid">Purchased</span>{' '}
          {m.has_feature && purchased ? <span class="muted">It is yours to watch, as often as you like.</span> : <a ref={moved} href="/purchases">
              See it in My movies
            </a>}
        </p>
        {note}
      </div>
    );
  }
  if (inCart || conflict?.code === 'already_in_cart') {
    return (
      <div class="buy">
        <p class="buy-state">
          <span class="status status-pending">In your cart</span>{' '}
          <a ref={moved} href="/cart">
            {m.has_feature && !canWatch ? 'Go to the cart to buy it and watch' : 'Go to the cart'}
          </a>
        </p>
        {note}
      </div>
    );
  }
  const toWatch = m.has_feature && !canWatch;
  return (
    <div class="buy">
      <button
        type="button"
        class="btn btn-primary"
        aria-busy={a.busy}
        onClick={() =>
          void a
            .run(() => call(api.POST('/api/v1/cart/items', { body: { movie_id: m.id } })))
            .then((ok) => {
              if (ok) setAdded(true);
            })
        }
      >
        {toWatch ? 'Buy to watch' : 'Add to cart'} · {money(m.price)}
      </button>
      {note ?? (a.error !== null && <ErrorMessage error={a.error} />)}
    </div>
  );
}
