// The signed-in user's favorites with every filter, the search, the sort and
// the pagination of the catalog (GET /api/v1/favorites takes the same
// parameters), the state in the URL; each card can be removed (with undo).
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { api, call, type Schemas } from '../../api/client';
import { ApiError } from '../../api/errors';
import type { components } from '../../api/schema';
import { navigate, queryString, useLocation } from '../../router';
import { Empty, ErrorMessage, FormError, Loading, Notice, Pagination, fieldError } from '../../ui/common';
import { useAsync, useTitle } from '../../ui/hooks';
import { MovieGrid } from '../../ui/movie';
import '../../styles/accounts.css';

type Movie = Schemas['MovieSummary'];
type MovieSort = components['parameters']['MovieSort'];

const KEYS = [
  'search',
  'genre',
  'certification',
  'star',
  'director',
  'year',
  'year_min',
  'year_max',
  'imdb_min',
  'imdb_max',
  'price_min',
  'price_max',
  'sort',
  'per_page',
] as const;
type Key = (typeof KEYS)[number];
type Filters = Record<Key, string>;

const SORTS: [string, string][] = [
  ['', 'Default (popularity; relevance when searching)'],
  ['-popularity', 'Most popular'],
  ['name', 'Title A–Z'],
  ['-name', 'Title Z–A'],
  ['-year', 'Newest'],
  ['year', 'Oldest'],
  ['-imdb', 'IMDb rating, highest'],
  ['imdb', 'IMDb rating, lowest'],
  ['-rating', 'Site rating, highest'],
  ['rating', 'Site rating, lowest'],
  ['-votes', 'Most IMDb votes'],
  ['price', 'Price, lowest'],
  ['-price', 'Price, highest'],
  ['-created_at', 'Recently added'],
  ['created_at', 'First added'],
];

function read(q: URLSearchParams): Filters {
  const f = {} as Filters;
  for (const k of KEYS) f[k] = q.get(k) ?? '';
  return f;
}

const num = (s: string): number | undefined => (s === '' ? undefined : Number(s));

export default function Favorites() {
  const loc = useLocation();
  const applied = read(loc.query);
  const page = Math.max(1, Number(loc.query.get('page') ?? '1') || 1);
  const key = loc.query.toString();
  useTitle('Favorites');

  const list = useAsync(
    () =>
      call(
        api.GET('/api/v1/favorites', {
          params: {
            query: {
              search: applied.search || undefined,
              genre: num(applied.genre),
              certification: num(applied.certification),
              star: num(applied.star),
              director: num(applied.director),
              year: num(applied.year),
              year_min: num(applied.year_min),
              year_max: num(applied.year_max),
              imdb_min: num(applied.imdb_min),
              imdb_max: num(applied.imdb_max),
              price_min: num(applied.price_min),
              price_max: num(applied.price_max),
              // Sent as found in the URL: the server answers a bad one with a 422 naming `sort`.
              sort: (applied.sort || undefined) as MovieSort | undefined,
              page,
              per_page: num(applied.per_page),
            },
          },
        }),
      ),
    [key],
  );

  const genres = useAsync(() => call(api.GET('/api/v1/genres')), []);
  const certs = useAsync(() => call(api.GET('/api/v1/certifications')), []);
  const [removed, setRemoved] = useState<Movie | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [pending, setPending] = useState<number | null>(null);

  const href = (f: Partial<Filters>, p?: number) => `/favorites${queryString({ ...f, page: p && p > 1 ? p : undefined })}`;

  const remove = async (m: Movie) => {
    setPending(m.id);
    setActionError(null);
    try {
      await call(api.DELETE('/api/v1/favorites/{movie_id}', { params: { path: { movie_id: m.id } } }));
      setRemoved(m);
      const d = list.data;
      if (d && d.items.length === 1 && page > 1) navigate(href(applied, page - 1), { replace: true });
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

  const filtered = KEYS.some((k) => k !== 'sort' && k !== 'per_page' && applied[k] !== '');
  const d = list.data;
  const queryError = list.error;
  return (
    <section class="page favorites">
      <div class="page-head">
        <h1>Favorites</h1>
        {d && !queryError && (
          <p class="muted" role="status">
            {d.total_items === 1 ? '1 movie' : `${d.total_items} movies`}
            {filtered ? ' match' : ''}
          </p>
        )}
      </div>
      <FilterForm key={key} applied={applied} error={queryError} genres={genres.data} certs={certs.data} onApply={(f) => navigate(href(f))} />
      {removed && (
        <Notice kind="info">
          <span>{removed.name} was removed from your favorites. </span>
          <button type="button" class="btn btn-small" onClick={() => void undo(removed)}>
            Undo
          </button>
        </Notice>
      )}
      <ErrorMessage error={actionError} />
      {queryError !== null && !(queryError instanceof ApiError && queryError.status === 422) && (
        <ErrorMessage error={queryError} retry={list.reload} />
      )}
      {list.loading && !d && <Loading />}
      {d && !queryError &&
        (d.items.length === 0 ? (
          <Empty>
            {filtered ? (
              <>
                No favorite matches these filters. <a href="/favorites">Show all favorites</a>.
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
      {d && !queryError && <Pagination page={page} totalPages={d.total_pages} hrefFor={(p) => href(applied, p)} />}
    </section>
  );
}

interface Lookup {
  id: number;
  name: string;
}

function FilterForm({
  applied,
  error,
  genres,
  certs,
  onApply,
}: {
  applied: Filters;
  error: unknown;
  genres: Lookup[] | undefined;
  certs: Lookup[] | undefined;
  onApply: (f: Filters) => void;
}) {
  const [f, setF] = useState<Filters>(applied);
  const [pickErrors, setPickErrors] = useState<Partial<Record<Key, string>>>({});
  const set = (k: Key, v: string) => setF((old) => ({ ...old, [k]: v }));
  const ids = { genre: useId(), certification: useId(), sort: useId(), per_page: useId() };
  const err = (k: Key) => pickErrors[k] ?? fieldError(error, k);
  const [open, setOpen] = useState(KEYS.some((k) => !['search', 'sort', 'per_page', 'genre'].includes(k) && applied[k] !== ''));

  const submit = (e: Event) => {
    e.preventDefault();
    const bad: Partial<Record<Key, string>> = {};
    for (const k of ['star', 'director'] as const) if (f[k] === 'unresolved') bad[k] = `Choose a ${k} from the suggestions, or clear the field.`;
    setPickErrors(bad);
    if (Object.keys(bad).length) return;
    onApply(f);
  };

  const select = (k: 'genre' | 'certification', label: string, items: Lookup[] | undefined) => (
    <div class={`field${err(k) ? ' field-invalid' : ''}`}>
      <label for={ids[k]}>{label}</label>
      <select
        id={ids[k]}
        value={f[k]}
        aria-invalid={err(k) ? 'true' : undefined}
        aria-describedby={err(k) ? `${ids[k]}-err` : undefined}
        onChange={(e) => set(k, e.currentTarget.value)}
      >
        <option value="">Any</option>
        {items?.map((g) => (
          <option key={g.id} value={String(g.id)}>
            {g.name}
          </option>
        ))}
        {f[k] && items && !items.some((g) => String(g.id) === f[k]) && <option value={f[k]}>#{f[k]}</option>}
      </select>
      {err(k) && (
        <p class="field-error" id={`${ids[k]}-err`}>
          {err(k)}
        </p>
      )}
    </div>
  );

  const input = (k: Key, label: string, props: Record<string, string> = {}) => (
    <SmallField label={label} value={f[k]} error={err(k)} onInput={(v) => set(k, v)} {...props} />
  );

  return (
    <form class="filters fav-filters" role="search" aria-label="Filter favorites" onSubmit={submit} noValidate>
      <FormError error={error instanceof ApiError && error.status === 422 ? error : null} shown={KEYS.filter((k) => k !== 'sort' && k !== 'per_page')} />
      {input('search', 'Search', { type: 'search', placeholder: 'Title, star, director' })}
      {select('genre', 'Genre', genres)}
      <div class="field">
        <label for={ids.sort}>Sort by</label>
        <select id={ids.sort} value={f.sort} onChange={(e) => set('sort', e.currentTarget.value)}>
          {SORTS.map(([v, l]) => (
            <option key={v} value={v}>
              {l}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for={ids.per_page}>Per page</label>
        <select id={ids.per_page} value={f.per_page} onChange={(e) => set('per_page', e.currentTarget.value)}>
          <option value="">20</option>
          <option value="40">40</option>
          <option value="100">100</option>
        </select>
      </div>
      <div class="fav-more">
        <button type="button" class="btn btn-small" aria-expanded={open} aria-controls="fav-more" onClick={() => setOpen(!open)}>
          {open ? 'Fewer filters' : 'More filters'}
        </button>
      </div>
      <div id="fav-more" class="fav-more-fields" hidden={!open}>
        {select('certification', 'Certification', certs)}
        <LookupPicker kind="stars" label="Star" value={f.star} error={err('star')} onChange={(v) => set('star', v)} />
        <LookupPicker kind="directors" label="Director" value={f.director} error={err('director')} onChange={(v) => set('director', v)} />
        {input('year', 'Year', { inputMode: 'numeric' })}
        {input('year_min', 'From year', { inputMode: 'numeric' })}
        {input('year_max', 'To year', { inputMode: 'numeric' })}
        {input('imdb_min', 'IMDb from', { inputMode: 'decimal' })}
        {input('imdb_max', 'IMDb to', { inputMode: 'decimal' })}
        {input('price_min', 'Price from ($)', { inputMode: 'decimal' })}
        {input('price_max', 'Price to ($)', { inputMode: 'decimal' })}
      </div>
      <div class="row fav-actions">
        <button type="submit" class="btn btn-primary">
          Apply
        </button>
        <a class="btn" href="/favorites">
          Clear
        </a>
      </div>
    </form>
  );
}

function SmallField({
  label,
  value,
  error,
  onInput,
  ...rest
}: {
  label: string;
  value: string;
  error: string | undefined;
  onInput: (v: string) => void;
  [attr: string]: unknown;
}) {
  const id = useId();
  return (
    <div class={`field${error ? ' field-invalid' : ''}`}>
      <label for={id}>{label}</label>
      <input
        id={id}
        value={value}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? `${id}-err` : undefined}
        onInput={(e) => onInput(e.currentTarget.value)}
        {...rest}
      />
      {error && (
        <p class="field-error" id={`${id}-err`}>
          {error}
        </p>
      )}
    </div>
  );
}

/**
 * A star or director by name: suggestions from the API as you type (a
 * datalist); the filter takes the id of the name chosen. `value` is the id,
 * '' for none, or 'unresolved' while the text names nobody in the list.
 */
function LookupPicker({
  kind,
  label,
  value,
  error,
  onChange,
}: {
  kind: 'stars' | 'directors';
  label: string;
  value: string;
  error: string | undefined;
  onChange: (v: string) => void;
}) {
  const id = useId();
  const [text, setText] = useState('');
  const [options, setOptions] = useState<Lookup[]>([]);
  const seq = useRef(0);

  // The name of the id in the URL.
  useEffect(() => {
    const n = Number(value);
    if (!value || value === 'unresolved' || !Number.isInteger(n) || n < 1 || text) return;
    const get =
      kind === 'stars'
        ? call(api.GET('/api/v1/stars/{id}', { params: { path: { id: n } } }))
        : call(api.GET('/api/v1/directors/{id}', { params: { path: { id: n } } }));
    get.then(
      (l) => {
        setText(l.name);
        setOptions([l]);
      },
      () => setText(`#${value}`),
    );
  }, []);

  const search = (t: string) => {
    const n = ++seq.current;
    const q = { search: t, per_page: 20 };
    const get = kind === 'stars' ? call(api.GET('/api/v1/stars', { params: { query: q } })) : call(api.GET('/api/v1/directors', { params: { query: q } }));
    get.then(
      (p) => n === seq.current && setOptions(p.items),
      () => undefined,
    );
  };

  const onInput = (t: string) => {
    setText(t);
    const trimmed = t.trim();
    if (!trimmed) {
      onChange('');
      return;
    }
    const hit = options.find((o) => o.name.toLowerCase() === trimmed.toLowerCase());
    onChange(hit ? String(hit.id) : 'unresolved');
    if (!hit) search(trimmed);
  };

  // A suggestion that arrives after the text was typed in full resolves it too.
  useEffect(() => {
    if (value !== 'unresolved') return;
    const hit = options.find((o) => o.name.toLowerCase() === text.trim().toLowerCase());
    if (hit) onChange(String(hit.id));
  }, [options]);

  return (
    <div class={`field${error ? ' field-invalid' : ''}`}>
      <label for={id}>{label}</label>
      <input
        id={id}
        type="text"
        list={`${id}-list`}
        autoComplete="off"
        placeholder="Type a name"
        value={text}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? `${id}-err` : undefined}
        onInput={(e) => onInput(e.currentTarget.value)}
      />
      <datalist id={`${id}-list`}>
        {options.map((o) => (
          <option key={o.id} value={o.name} />
        ))}
      </datalist>
      {error && (
        <p class="field-error" id={`${id}-err`}>
          {error}
        </p>
      )}
    </div>
  );
}
