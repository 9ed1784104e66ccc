// The signed-in user's favorites with the catalog's filter panel, sort and
// pagination (GET /api/v1/favorites takes the same parameters as
// GET /api/v1/movies), the state in the URL; each card can be removed (with
// undo).
import { useState } from 'preact/hooks';
import { api, call, type Schemas } from '../../api/client';
import { ApiError } from '../../api/errors';
import { navigate, useLocation } from '../../router';
import { Empty, ErrorMessage, Loading, Notice, Pagination, PastTheEnd } from '../../ui/common';
import { useAsync, useTitle } from '../../ui/hooks';
import { MovieGrid } from '../../ui/movie';
import { countOf } from '../../ui/paging';
import '../../styles/visitor.css';
import { activeFilters, apiQuery, nextState, pageState, readState, writeState } from '../visitor/filters';
import { FilterPanel, InvalidSummary, SortBar } from '../visitor/MovieFilters';

type Movie = Schemas['MovieSummary'];

const basePath = '/favorites';

export default function Favorites() {
  const loc = useLocation();
  const state = readState(loc.query);
  const key = writeState(state);
  useTitle('Favorites');
  const list = useAsync(() => call(api.GET('/api/v1/favorites', { params: { query: apiQuery(state) } })), [key]);

  const [removed, setRemoved] = useState<Movie | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [pending, setPending] = useState<number | null>(null);

  const invalid = list.error instanceof ApiError && list.error.status === 422 ? list.error : null;
  const errors: Record<string, string> = invalid ? invalid.fields : {};
  const page = list.data?.page ?? (Number(state.page) || 1);
  const filtered = activeFilters(state) > 0 || Boolean(state.search);
  const hrefFor = (p: number) => basePath + writeState(pageState(state, p));

  const remove = async (m: Movie) => {
    setPending(m.id);
    setActionError(null);
    try {
      await call(api.DELETE('/api/v1/favorites/{movie_id}', { params: { path: { movie_id: m.id } } }));
      setRemoved(m);
      const d = list.data;
      if (d && d.items.length === 1 && page > 1) navigate(hrefFor(page - 1), { replace: true });
      else list.reload();
    } catch (err) {
      setActionError(err);
    } finally {
      setPending(null);
    }
  };

  const undo = async (m: Movie) => {
    setActionError(null);
    try {
      await call(api.PUT('/api/v1/favorites/{movie_id}', { params: { path: { movie_id: m.id } } }));
      setRemoved(null);
      list.reload();
    } catch (err) {
      setActionError(err);
    }
  };

  const d = list.data;
  const next = d ? nextState(d.next_page) : null;
  return (
    <section class="page favorites">
      <div class="page-head">
        <h1>Favorites</h1>
        <p class="muted result-count" role="status" aria-live="polite">
          {d && !list.error
            ? `${countOf(d.total_items, d.total_items_exact, 'movie', 'movies')}${filtered ? (d.total_items_exact && d.total_items === 1 ? ' matches' : ' match') : ''}`
            : ''}
        </p>
      </div>
      <div class="catalog-layout">
        <FilterPanel basePath={basePath} state={state} errors={errors} />
        <div class="catalog-results" aria-busy={list.loading}>
          <SortBar basePath={basePath} state={state} errors={errors} />
          {removed && (
            <Notice kind="info">
              <span>{removed.name} was removed from your favorites. </span>
              <button type="button" class="btn btn-small" onClick={() => void undo(removed)}>
                Undo
              </button>
            </Notice>
          )}
          <ErrorMessage error={actionError} />
          {invalid ? (
            <InvalidSummary
              errors={errors}
              clearHref={basePath + writeState(Object.fromEntries(Object.entries(state).filter(([k]) => !(k in errors))))}
            />
          ) : (
            <ErrorMessage error={list.error} retry={list.reload} />
          )}
          {list.loading && !d && <Loading />}
          {d &&
            !list.error &&
            (d.items.length === 0 && d.total_items > 0 ? (
              <PastTheEnd totalPages={d.total_pages} exact={d.total_items_exact} hrefFor={hrefFor} />
            ) : d.items.length === 0 ? (
              <Empty>
                {filtered ? (
                  <>
                    No favorite matches these filters. <a href={basePath}>Show all favorites</a>.
                  </>
                ) : (
                  <>
                    No favorites yet. Open a movie in the <a href="/movies">catalog</a> and add it to your favorites.
                  </>
                )}
              </Empty>
            ) : (
              <MovieGrid
                movies={d.items}
                label="Favorite movies"
                actions={(m) => (
                  <button
                    type="button"
                    class="btn btn-small btn-danger"
                    disabled={pending === m.id}
                    aria-label={`Remove ${m.name} from favorites`}
                    onClick={() => void remove(m)}
                  >
                    {pending === m.id ? 'Removing…' : 'Remove'}
                  </button>
                )}
              />
            ))}
          {d && !list.error && (d.items.length > 0 || d.total_items_exact) && (
            <Pagination
              page={page}
              totalPages={d.total_pages}
              hrefFor={hrefFor}
              next={next && basePath + writeState(next)}
              estimated={!d.total_items_exact}
            />
          )}
        </div>
      </div>
    </section>
  );
}
