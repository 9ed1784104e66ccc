// "My movies": the movies the user owns (paid orders, until refunded). The
// page and, past page 5, the cursor of the API's next_page are in the URL.
import type { Schemas } from '../../api/client';
import { api, call } from '../../api/client';
import { queryString, useLocation } from '../../router';
import { Empty, ErrorMessage, Loading, Pagination, PastTheEnd } from '../../ui/common';
import { useAsync, useTitle } from '../../ui/hooks';
import { Poster } from '../../ui/movie';
import { countOf, linkPosition } from '../../ui/paging';
import '../../styles/commerce.css';

type Movie = Schemas['MovieSummary'];

/** What one can do with an owned movie: watch it (the player says when it has no video yet), or read about it. */
function PurchaseActions({ movie }: { movie: Movie }) {
  return (
    <div class="purchase-actions">
      <a class="btn btn-small btn-primary" href={`/movies/${movie.id}/watch`} aria-label={`Watch ${movie.name}`}>
        <span aria-hidden="true">▶</span> Watch
      </a>
      <a class="btn btn-small" href={`/movies/${movie.id}`} aria-label={`Details of ${movie.name}`}>
        Details
      </a>
    </div>
  );
}

function PurchaseCard({ movie }: { movie: Movie }) {
  return (
    <li class="card">
      <a class="card-link" href={`/movies/${movie.id}`}>
        {/* The link's name is the title alone; the poster only repeats it. */}
        <span class="card-poster" aria-hidden="true">
          <Poster title={movie.name} year={movie.year} src={movie.poster_url} />
        </span>
        <span class="card-title">{movie.name}</span>
      </a>
      <div class="card-meta">
        <span>{movie.year}</span>
      </div>
      {movie.genres.length > 0 && <div class="card-genres">{movie.genres.map((g) => g.name).join(' · ')}</div>}
      <PurchaseActions movie={movie} />
    </li>
  );
}

export default function Purchases() {
  useTitle('My movies');
  const { query } = useLocation();
  const page = Math.max(1, Number(query.get('page') ?? '1') || 1);
  const cursor = query.get('cursor') || undefined;
  const list = useAsync(() => call(api.GET('/api/v1/purchases', { params: { query: cursor ? { page, cursor } : { page } } })), [page, cursor]);
  const d = list.data;
  const hrefFor = (p: number) => `/purchases${queryString({ page: p })}`;
  const at = d?.next_page ? linkPosition(d.next_page) : null;
  const next = at ? `/purchases${queryString({ page: at.page ?? page + 1, cursor: at.cursor })}` : null;
  return (
    <section class="page">
      <div class="page-head">
        <h1>My movies</h1>
        {d && d.total_items > 0 && (
          <p class="muted">
            {countOf(d.total_items, d.total_items_exact, 'movie', 'movies')}
          </p>
        )}
      </div>
      <ErrorMessage error={list.error} retry={list.reload} />
      {list.loading && !d && <Loading label="Loading your movies…" />}
      {d && d.items.length === 0 && d.total_items > 0 && (
        <PastTheEnd totalPages={d.total_pages} exact={d.total_items_exact} hrefFor={hrefFor} />
      )}
      {d && d.items.length === 0 && d.total_items === 0 && (
        <Empty>
          {page > 1 ? (
            <p>
              There is no page {page}. <a href="/purchases">Back to the first page</a>.
            </p>
          ) : (
            <>
              <p>You have not bought any movie yet.</p>
              <p>
                <a class="btn btn-primary" href="/movies">
                  Browse the catalog
                </a>
              </p>
            </>
          )}
        </Empty>
      )}
      {d && d.items.length > 0 && (
        <ul class="grid" aria-label="Your movies">
          {d.items.map((m) => (
            <PurchaseCard key={m.id} movie={m} />
          ))}
        </ul>
      )}
      {d && (d.items.length > 0 || d.total_items_exact) && (
        <Pagination page={page} totalPages={d.total_pages} hrefFor={hrefFor} next={next} estimated={!d.total_items_exact} />
      )}
    </section>
  );
}
