// The catalog (/ and /movies): every filter, sort and the search of
// GET /api/v1/movies, with the whole state in the URL so a link can be
// shared, a reload keeps it and the back button restores the previous one.
// Next follows the API's next_page (a cursor past page 5); a total that is
// PostgreSQL's estimate reads "about N movies" and offers no last page.
import { api, call } from '../../api/client';
import { ApiError } from '../../api/errors';
import { useLocation } from '../../router';
import { Empty, ErrorMessage, Loading, Pagination, PastTheEnd } from '../../ui/common';
import { useAsync, useSession, useTitle } from '../../ui/hooks';
import { MovieGrid } from '../../ui/movie';
import { countOf } from '../../ui/paging';
import '../../styles/visitor.css';
import { ContinueWatching } from './ContinueWatching';
import { activeFilters, apiQuery, clearFilters, nextState, pageState, readState, writeState } from './filters';
import { FilterPanel, InvalidSummary, SortBar } from './MovieFilters';


export default function Catalog() {
  const loc = useLocation();
  const state = readState(loc.query);
  const key = writeState(state);
  const basePath = '/movies';
  useTitle(state.search ? `“${state.search}”` : 'Movies');
  const list = useAsync(() => call(api.GET('/api/v1/movies', { params: { query: apiQuery(state) } })), [key]);

  const invalid = list.error instanceof ApiError && list.error.status === 422 ? list.error : null;
  const errors: Record<string, string> = invalid ? invalid.fields : {};
  const page = list.data?.page ?? (Number(state.page) || 1);
  const filtered = activeFilters(state) > 0;
  const total = list.data?.total_items ?? 0;
  const exact = list.data?.total_items_exact ?? true;
  const hrefFor = (p: number) => basePath + writeState(pageState(state, p));
  const next = list.data ? nextState(list.data.next_page) : null;
  // The home (no search, filter or page): a signed-in user's unfinished films first.
  const s = useSession();
  const home = !state.search && !filtered && !state.cursor && (Number(state.page) || 1) === 1;

  return (
    <section class="page catalog">
      <div class="page-head">
        <h1>{state.search ? `Results for “${state.search}”` : 'Movies'}</h1>
        <p class="muted result-count" role="status" aria-live="polite">
          {list.data && !invalid && !list.loading
            ? `${countOf(total, exact, 'movie', 'movies')}${filtered ? (exact && total === 1 ? ' matches the filters' : ' match the filters') : ''}`
            : ''}
        </p>
      </div>
      {home && s.status === 'signed-in' && s.user && <ContinueWatching userId={s.user.id} />}
      <div class="catalog-layout">
        <FilterPanel basePath={basePath} state={state} errors={errors} />
        <div class="catalog-results" aria-busy={list.loading}>
          <SortBar basePath={basePath} state={state} errors={errors} />
          {invalid ? (
            <InvalidSummary
              errors={errors}
              clearHref={basePath + writeState(Object.fromEntries(Object.entries(state).filter(([k]) => !(k in errors))))}
            />
          ) : (
            <ErrorMessage error={list.error} retry={list.reload} />
          )}
          {list.loading && !list.data && <Loading label="Loading movies…" />}
          {list.data &&
            !invalid &&
            (list.data.items.length ? (
              <MovieGrid movies={list.data.items} />
            ) : total > 0 ? (
              <PastTheEnd totalPages={list.data.total_pages} exact={exact} hrefFor={hrefFor} />
            ) : (
              <Empty>
                <p>No movie matches{state.search ? ` “${state.search}”` : ''}{filtered ? ' with these filters' : ''}.</p>
                {filtered && <a href={basePath + writeState(clearFilters(state))}>Clear filters</a>}
                {!filtered && page > 1 && <a href={hrefFor(1)}>Back to the first page</a>}
              </Empty>
            ))}
          {list.data && !invalid && (list.data.items.length > 0 || exact) && (
            <Pagination page={page} totalPages={list.data.total_pages} hrefFor={hrefFor} next={next && basePath + writeState(next)} estimated={!exact} />
          )}
        </div>
      </div>
    </section>
  );
}
