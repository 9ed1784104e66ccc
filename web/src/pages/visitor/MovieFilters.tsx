// The filter panel, the sort and the page size of a movie list whose state
// is the URL (the catalog, and the favorites, which take the same
// parameters). Selects and pickers apply at once; typed fields apply with
// "Apply filters" or Enter. Every change is a new history entry, so the back
// button walks back through them. The server's 422 messages show by the
// control they are about.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import { navigate } from '../../router';
import { Field, SelectField } from '../../ui/common';
import { useAsync } from '../../ui/hooks';
import {
  DEFAULT_PER_PAGE,
  FILTER_KEYS,
  PER_PAGE,
  SORTS,
  activeFilters,
  change,
  clearFilters,
  writeState,
  type MovieState,
  type StateKey,
} from './filters';
import { PersonPicker } from './Picker';

type Errors = Partial<Record<string, string>>;

/** The label of each control, to name it in the summary of a 422. */
export const LABELS: Record<string, string> = {
  search: 'Keywords',
  genre: 'Genre',
  certification: 'Certification',
  star: 'Star',
  director: 'Director',
  year: 'Exact year',
  year_min: 'From year',
  year_max: 'To year',
  imdb_min: 'IMDb from',
  imdb_max: 'IMDb to',
  price_min: 'Price from',
  price_max: 'Price to',
  sort: 'Sort by',
  per_page: 'Per page',
  page: 'Page',
  cursor: 'Page position',
};

/** The server's 422 as a summary: each bad parameter by its control's label (the controls show theirs too). */
export function InvalidSummary({ errors, clearHref }: { errors: Errors; clearHref: string }) {
  const list = Object.entries(errors);
  return (
    <div class="alert alert-error" role="alert">
      <p>{list.length === 1 ? 'A filter is not valid:' : 'Some filters are not valid:'}</p>
      <ul>
        {list.map(([k, m]) => (
          <li key={k}>
            {LABELS[k] ?? k}: {m}
          </li>
        ))}
      </ul>
      <p>
        <a href={clearHref}>Remove the invalid values</a>
      </p>
    </div>
  );
}

/** The search syntax in a line (MovieSearch in openapi.yaml), tied to the field by aria-describedby. */
function SearchHint() {
  return (
    <>
      <code>"two words"</code> finds a phrase, <code>-word</code> leaves a word out.
    </>
  );
}

function go(basePath: string, s: MovieState): void {
  navigate(basePath + writeState(s), { keepScroll: true });
}

/** A typed field of the draft (applied with the form). */
function DraftField({
  label,
  name,
  draft,
  setDraft,
  error,
  inputMode = 'numeric',
  placeholder,
  hint,
}: {
  label: string;
  name: StateKey;
  draft: MovieState;
  setDraft: (d: MovieState) => void;
  error?: string | undefined;
  inputMode?: 'numeric' | 'decimal' | 'search';
  placeholder?: string;
  hint?: ComponentChildren;
}) {
  return (
    <Field
      label={label}
      error={error}
      hint={hint}
      name={name}
      type={inputMode === 'search' ? 'search' : 'text'}
      inputMode={inputMode === 'search' ? undefined : inputMode}
      autocomplete="off"
      placeholder={placeholder}
      value={draft[name] ?? ''}
      onInput={(e) => setDraft({ ...draft, [name]: e.currentTarget.value })}
    />
  );
}

function wide(): boolean {
  return typeof window.matchMedia !== 'function' || window.matchMedia('(min-width: 900px)').matches;
}

/** The filters (and the search) as a form in a disclosure: open on wide screens, folded on phones. */
export function FilterPanel({ basePath, state, errors }: { basePath: string; state: MovieState; errors: Errors }) {
  const [draft, setDraft] = useState<MovieState>(state);
  const [open, setOpen] = useState(wide);
  const key = writeState(state);
  useEffect(() => setDraft(state), [key]);
  const filterError = FILTER_KEYS.some((k) => errors[k]) || Boolean(errors.search);
  useEffect(() => {
    if (filterError) setOpen(true);
  }, [filterError]);

  const genres = useAsync(() => call(api.GET('/api/v1/genres')), []);
  const certs = useAsync(() => call(api.GET('/api/v1/certifications')), []);

  const apply = (patch: MovieState = {}) => go(basePath, change(state, { ...draftPatch(draft), ...patch }));
  const count = activeFilters(state);
  const clearHref = basePath + writeState(clearFilters(state));

  return (
    <details class="filter-panel" open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>
        Filters{count > 0 && <span class="filter-count"> ({count} active)</span>}
      </summary>
      <form
        class="filter-form"
        aria-label="Filters"
        onSubmit={(e) => {
          e.preventDefault();
          apply();
        }}
      >
        <DraftField
          label="Keywords"
          name="search"
          draft={draft}
          setDraft={setDraft}
          error={errors.search}
          inputMode="search"
          placeholder="Title, star, director…"
          hint={<SearchHint />}
        />
        <SelectField label="Genre" value={state.genre ?? ''} error={errors.genre} onChange={(e) => apply({ genre: e.currentTarget.value })}>
          <option value="">Any genre</option>
          {genres.data?.map((g) => (
            <option key={g.id} value={String(g.id)}>
              {g.name} ({g.movie_count})
            </option>
          ))}
          {state.genre && !genres.data?.some((g) => String(g.id) === state.genre) && <option value={state.genre}>#{state.genre}</option>}
        </SelectField>
        <SelectField label="Certification" value={state.certification ?? ''} error={errors.certification} onChange={(e) => apply({ certification: e.currentTarget.value })}>
          <option value="">Any certification</option>
          {certs.data?.map((c) => (
            <option key={c.id} value={String(c.id)}>
              {c.name} ({c.movie_count})
            </option>
          ))}
          {state.certification && !certs.data?.some((c) => String(c.id) === state.certification) && (
            <option value={state.certification}>#{state.certification}</option>
          )}
        </SelectField>
        <PersonPicker kind="stars" label="Star" value={state.star} error={errors.star} onChange={(v) => apply({ star: v ?? '' })} />
        <PersonPicker kind="directors" label="Director" value={state.director} error={errors.director} onChange={(v) => apply({ director: v ?? '' })} />
        <fieldset class="filter-range filter-range-3">
          <legend>Release year</legend>
          <DraftField label="Exact year" name="year" draft={draft} setDraft={setDraft} error={errors.year} placeholder="1994" />
          <DraftField label="From year" name="year_min" draft={draft} setDraft={setDraft} error={errors.year_min} placeholder="1888" />
          <DraftField label="To year" name="year_max" draft={draft} setDraft={setDraft} error={errors.year_max} placeholder="2100" />
        </fieldset>
        <fieldset class="filter-range">
          <legend>IMDb rating</legend>
          <DraftField label="IMDb from" name="imdb_min" draft={draft} setDraft={setDraft} error={errors.imdb_min} inputMode="decimal" placeholder="0" />
          <DraftField label="IMDb to" name="imdb_max" draft={draft} setDraft={setDraft} error={errors.imdb_max} inputMode="decimal" placeholder="10" />
        </fieldset>
        <fieldset class="filter-range">
          <legend>Price (USD)</legend>
          <DraftField label="Price from" name="price_min" draft={draft} setDraft={setDraft} error={errors.price_min} inputMode="decimal" placeholder="0" />
          <DraftField label="Price to" name="price_max" draft={draft} setDraft={setDraft} error={errors.price_max} inputMode="decimal" placeholder="99.99" />
        </fieldset>
        {(genres.error || certs.error) && (
          <p class="field-error" role="alert">
            The genre or certification list could not be loaded.{' '}
            <button
              type="button"
              class="linklike"
              onClick={() => {
                genres.reload();
                certs.reload();
              }}
            >
              Try again
            </button>
          </p>
        )}
        <div class="row filter-actions">
          <button type="submit" class="btn btn-primary">
            Apply filters
          </button>
          <a href={clearHref}>Clear filters</a>
        </div>
      </form>
    </details>
  );
}

/** The typed fields of the draft (the selects and pickers apply from the URL state directly). */
function draftPatch(d: MovieState): MovieState {
  const typed: StateKey[] = ['search', 'year', 'year_min', 'year_max', 'imdb_min', 'imdb_max', 'price_min', 'price_max'];
  const p: MovieState = {};
  for (const k of typed) p[k] = (d[k] ?? '').trim();
  return p;
}

/** Sort (every key both ways) and page size; apply at once. */
export function SortBar({ basePath, state, errors }: { basePath: string; state: MovieState; errors: Errors }) {
  const sortKnown = !state.sort || SORTS.some((s) => state.sort === s.key || state.sort === `-${s.key}`);
  return (
    <div class="sort-bar">
      <SelectField label="Sort by" value={state.sort ?? ''} error={errors.sort} onChange={(e) => go(basePath, change(state, { sort: e.currentTarget.value }))}>
        <option value="">{state.search ? 'Relevance' : 'Default (most popular first)'}</option>
        {SORTS.map((s) => [
          <option key={`-${s.key}`} value={`-${s.key}`}>
            {s.label}: {s.desc}
          </option>,
          <option key={s.key} value={s.key}>
            {s.label}: {s.asc}
          </option>,
        ])}
        {!sortKnown && <option value={state.sort}>{state.sort}</option>}
      </SelectField>
      <SelectField
        label="Per page"
        value={state.per_page ?? String(DEFAULT_PER_PAGE)}
        error={errors.per_page}
        onChange={(e) => go(basePath, change(state, { per_page: e.currentTarget.value === String(DEFAULT_PER_PAGE) ? '' : e.currentTarget.value }))}
      >
        {PER_PAGE.map((n) => (
          <option key={n} value={String(n)}>
            {n}
          </option>
        ))}
        {state.per_page && !PER_PAGE.map(String).includes(state.per_page) && <option value={state.per_page}>{state.per_page}</option>}
      </SelectField>
    </div>
  );
}
