import { api, call } from '../../api/client';
import { queryString, useLocation } from '../../router';
import { Empty, ErrorMessage, Loading, Pagination } from '../../ui/common';
import { useAsync, useTitle } from '../../ui/hooks';
import { MovieGrid } from '../../ui/movie';

/** The catalog. Skeleton: page and search only; the full filter panel comes with the visitor pages. */
export default function Catalog() {
  const { query } = useLocation();
  const page = Number(query.get('page') ?? '1') || 1;
  const search = query.get('search') ?? undefined;
  useTitle(search ? `“${search}”` : 'Movies');
  const list = useAsync(() => call(api.GET('/api/v1/movies', { params: { query: { page, search } } })), [page, search]);
  return (
    <section class="page">
      <div class="page-head">
        <h1>{search ? `Results for “${search}”` : 'Movies'}</h1>
        {list.data && <p class="muted">{list.data.total_items} movies</p>}
      </div>
      <ErrorMessage error={list.error} retry={list.reload} />
      {list.loading && !list.data && <Loading />}
      {list.data &&
        (list.data.items.length ? <MovieGrid movies={list.data.items} /> : <Empty>No movie matches.</Empty>)}
      {list.data && (
        <Pagination page={page} totalPages={list.data.total_pages} hrefFor={(p) => `/movies${queryString({ search, page: p })}`} />
      )}
    </section>
  );
}
