// /studio/movies: the catalog as moderators manage it: search, sort and
// pages in the URL, each movie with edit and delete.
import { useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import { navigate, queryString, useLocation } from '../../router';
import { Empty, ErrorMessage, Loading, Notice, Pagination, SelectField } from '../../ui/common';
import { money } from '../../ui/format';
import { useAsync, useTitle } from '../../ui/hooks';
import { intParam, StudioPage, useChanged } from './common';
import { DeleteMovie } from './MovieDelete';

function listMovies(q: { search?: string | undefined; sort?: SortKey | undefined; page: number }) {
  return call(api.GET('/api/v1/movies', { params: { query: { ...q, per_page: 20 } } }));
}

type SortKey = '-created_at' | 'created_at' | 'name' | '-name' | '-year' | 'year' | '-price' | 'price' | '-popularity';

const SORTS: [SortKey | '', string][] = [
  ['', 'Relevance, then popularity'],
  ['-created_at', 'Newest added first'],
  ['created_at', 'Oldest added first'],
  ['name', 'Name, A to Z'],
  ['-name', 'Name, Z to A'],
  ['-year', 'Year, newest first'],
  ['year', 'Year, oldest first'],
  ['-price', 'Price, highest first'],
  ['price', 'Price, lowest first'],
];

function isSort(v: string | null): v is SortKey {
  return SORTS.some(([k]) => k !== '' && k === v);
}

export default function Movies() {
  const { query } = useLocation();
  const page = intParam(query.get('page'), 1);
  const search = query.get('search') ?? '';
  const rawSort = query.get('sort');
  const sort = isSort(rawSort) ? rawSort : undefined;
  const deleted = query.get('deleted');
  const [text, setText] = useState(search);
  const [removing, setRemoving] = useState<{ id: number; name: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(deleted ? `“${deleted}” is deleted.` : null);
  useTitle('Studio: movies');
  useChanged(search, () => setText(search));

  const list = useAsync(() => listMovies({ search: search || undefined, sort, page }), [search, sort, page]);
  const href = (p: Partial<{ search: string; sort: string; page: number }>) =>
    `/studio/movies${queryString({ search, sort, page: page > 1 ? page : undefined, ...p })}`;

  return (
    <StudioPage>
      <div class="page-head">
        <h1>Movies</h1>
        <a class="btn btn-primary" href="/studio/movies/new">
          New movie
        </a>
      </div>
      {notice && <Notice kind="success">{notice}</Notice>}
      <form
        class="filters filters-wide"
        role="search"
        aria-label="Find movies"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(href({ search: text.trim(), page: undefined }));
        }}
      >
        <div class="field">
          <label for="studio-movie-search">Search</label>
          <input id="studio-movie-search" type="search" value={text} placeholder="Title, star, director" onInput={(e) => setText(e.currentTarget.value)} />
        </div>
        <SelectField label="Order" value={sort ?? ''} onChange={(e) => navigate(href({ sort: e.currentTarget.value, page: undefined }), { replace: true })}>
          {SORTS.map(([k, label]) => (
            <option key={k} value={k}>
              {label}
            </option>
          ))}
        </SelectField>
        <div class="row filters-actions">
          <button type="submit" class="btn">
            Search
          </button>
          {(search || sort) && (
            <a class="btn" href="/studio/movies">
              Clear
            </a>
          )}
        </div>
      </form>
      <ErrorMessage error={list.error} retry={list.reload} />
      {list.loading && !list.data && <Loading />}
      {list.data && (
        <>
          <p class="muted" role="status">
            {list.data.total_items === 1 ? '1 movie' : `${list.data.total_items} movies`}
            {search ? ` ${list.data.total_items === 1 ? 'matches' : 'match'} “${search}”` : ''}
          </p>
          {list.data.items.length === 0 ? (
            <Empty>
              {search ? `No movie matches “${search}”.` : 'No movies yet.'} <a href="/studio/movies/new">Add a movie</a>.
            </Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <caption class="visually-hidden">Movies, page {page}</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Year</th>
                    <th scope="col" class="num">
                      Price
                    </th>
                    <th scope="col" class="hide-narrow">
                      Certification
                    </th>
                    <th scope="col" class="hide-narrow">
                      Genres
                    </th>
                    <th scope="col">
                      <span class="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {list.data.items.map((m) => (
                    <tr key={m.id}>
                      <td>
                        <a href={`/studio/movies/${m.id}`}>{m.name}</a>
                      </td>
                      <td>{m.year}</td>
                      <td class="num">{money(m.price)}</td>
                      <td class="hide-narrow">{m.certification.name}</td>
                      <td class="hide-narrow">{m.genres.map((g) => g.name).join(', ')}</td>
                      <td>
                        <div class="row row-tight">
                          <a class="btn btn-small" href={`/studio/movies/${m.id}`} aria-label={`Edit ${m.name}`}>
                            Edit
                          </a>
                          <button type="button" class="btn btn-small btn-danger" aria-label={`Delete ${m.name}`} onClick={() => setRemoving(m)}>
                            Delete
                          </button>
                        </div>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <Pagination page={page} totalPages={list.data.total_pages} hrefFor={(p) => href({ page: p })} />
        </>
      )}
      {removing && (
        <DeleteMovie
          movie={removing}
          onClose={() => setRemoving(null)}
          onDeleted={() => {
            setNotice(`“${removing.name}” is deleted.`);
            setRemoving(null);
            list.reload();
          }}
        />
      )}
    </StudioPage>
  );
}
