// Deleting a movie, with the server's 409 in words: a movie that anyone
// bought or ordered cannot be deleted (order history keeps it); a movie in
// users' carts can be, with force=true, which also takes it out of them.
import { useState } from 'preact/hooks';
import { api } from '../../api/client';
import { ApiError, describe, networkError, toApiError } from '../../api/errors';
import { ConfirmDialog } from './common';

interface Conflict {
  code: 'movie_purchased' | 'movie_in_carts' | 'other';
  carts: number;
  error: unknown;
}

async function remove(id: number, force: boolean): Promise<Conflict | null> {
  let r;
  try {
    r = await api.DELETE('/api/v1/movies/{id}', { params: { path: { id }, query: force ? { force: true } : {} } });
  } catch (e) {
    return { code: 'other', carts: 0, error: e instanceof ApiError ? e : networkError() };
  }
  if (r.response.ok) return null;
  const body = r.error;
  const error = toApiError(r.response, body);
  if (r.response.status === 409 && body?.code === 'movie_purchased') return { code: 'movie_purchased', carts: 0, error };
  if (r.response.status === 409 && body?.code === 'movie_in_carts') return { code: 'movie_in_carts', carts: 'carts' in body ? (body.carts ?? 0) : 0, error };
  return { code: 'other', carts: 0, error };
}

export function DeleteMovie({
  movie,
  onClose,
  onDeleted,
}: {
  movie: { id: number; name: string };
  onClose: () => void;
  onDeleted: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [conflict, setConflict] = useState<Conflict | null>(null);

  async function run(force: boolean) {
    setBusy(true);
    const c = await remove(movie.id, force);
    setBusy(false);
    if (!c) onDeleted();
    else if (c.error instanceof ApiError && c.error.status === 404) onDeleted();
    else setConflict(c);
  }

  const purchased = conflict?.code === 'movie_purchased';
  const inCarts = conflict?.code === 'movie_in_carts';
  const carts = conflict?.carts ?? 0;
  const cartWords = carts === 1 ? 'one user’s cart' : carts > 1 ? `${carts} users’ carts` : 'users’ carts';

  let actions = null;
  if (!conflict || conflict.code === 'other')
    actions = (
      <button type="button" class="btn btn-danger" disabled={busy} onClick={() => void run(false)}>
        {busy ? 'Deleting…' : 'Delete'}
      </button>
    );
  else if (inCarts)
    actions = (
      <button type="button" class="btn btn-danger" disabled={busy} onClick={() => void run(true)}>
        {busy ? 'Deleting…' : `Delete and remove from ${carts === 1 ? '1 cart' : `${carts} carts`}`}
      </button>
    );

  return (
    <ConfirmDialog title={`Delete “${movie.name}”?`} onClose={onClose} actions={actions}>
      {!conflict && (
        <p>
          This deletes the movie with its likes, ratings, favorites and comments. It cannot be undone.
        </p>
      )}
      {purchased && (
        <div class="alert alert-error" role="alert">
          <p>
            <strong>This movie cannot be deleted: it has been bought or ordered.</strong>
          </p>
          <p>
            Buyers keep the movies they paid for, and order history (pending, paid or canceled orders) keeps its movies,
            so the server refuses to delete it. You can still change it instead, for example its price or description.
          </p>
        </div>
      )}
      {inCarts && (
        <div class="alert alert-warning" role="alert">
          <p>
            <strong>This movie is in {cartWords}.</strong>
          </p>
          <p>
            Nobody has ordered it yet, so it can be deleted, but that also takes it out of those carts. The users will
            no longer find it there.
          </p>
        </div>
      )}
      {conflict?.code === 'other' && (
        <div class="alert alert-error" role="alert">
          <p>{describe(conflict.error)}</p>
        </div>
      )}
    </ConfirmDialog>
  );
}
