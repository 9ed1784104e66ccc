// /studio/movies/new and /studio/movies/:id: every field of createMovie /
// updateMovie, with pickers for the genres, stars and directors and a select
// for the certification. The server's 422 messages go on their fields; a
// delete explains the server's 409 (bought or ordered; in carts, with force).
import { useEffect, useState } from 'preact/hooks';
import { api, call, type Schemas } from '../../api/client';
import { ApiError } from '../../api/errors';
import { navigate, useLocation } from '../../router';
import type { PageProps } from '../../routes';
import { ErrorMessage, Field, FormError, Loading, Notice, SelectField, TextAreaField } from '../../ui/common';
import { dateTime } from '../../ui/format';
import { useAsync, useTitle } from '../../ui/hooks';
import { StudioPage } from './common';
import { createLookup, searchLookups } from './lookupApi';
import { MediaSection } from './MediaSection';
import { DeleteMovie } from './MovieDelete';
import { Picker, type Option } from './Picker';

type Detail = Schemas['MovieDetail'];
type Body = Schemas['MovieCreate'];

interface Form {
  name: string;
  year: string;
  time: string;
  imdb: string;
  votes: string;
  meta_score: string;
  gross: string;
  description: string;
  price: string;
  certification_id: string;
  genres: Option[];
  stars: Option[];
  directors: Option[];
}

const EMPTY: Form = {
  name: '',
  year: '',
  time: '',
  imdb: '',
  votes: '',
  meta_score: '',
  gross: '',
  description: '',
  price: '',
  certification_id: '',
  genres: [],
  stars: [],
  directors: [],
};

function fromDetail(d: Detail): Form {
  return {
    name: d.name,
    year: String(d.year),
    time: String(d.time),
    imdb: String(d.imdb),
    votes: String(d.votes),
    meta_score: d.meta_score === null ? '' : String(d.meta_score),
    gross: d.gross === null ? '' : String(d.gross),
    description: d.description,
    price: d.price,
    certification_id: String(d.certification.id),
    genres: d.genres,
    stars: d.stars,
    directors: d.directors,
  };
}

/** The body to send, or the fields that cannot be sent as typed. */
function toBody(f: Form): { body: Body } | { errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const whole = (k: keyof Form, required = true): number | null => {
    const v = String(f[k]).trim();
    if (v === '') {
      if (required) errors[k] = 'is required';
      return null;
    }
    if (!/^\d+$/.test(v)) {
      errors[k] = 'must be a whole number';
      return null;
    }
    return Number(v);
  };
  const decimal = (k: keyof Form, required: boolean): number | null => {
    const v = String(f[k]).trim();
    if (v === '') {
      if (required) errors[k] = 'is required';
      return null;
    }
    const n = Number(v);
    if (!/^\d+(\.\d+)?$/.test(v) || !Number.isFinite(n)) {
      errors[k] = 'must be a number such as 7.5';
      return null;
    }
    return n;
  };
  if (f.name.trim() === '') errors.name = 'is required';
  const year = whole('year');
  const time = whole('time');
  const imdb = decimal('imdb', true);
  const votes = whole('votes');
  const meta = decimal('meta_score', false);
  const gross = decimal('gross', false);
  if (f.price.trim() === '') errors.price = 'is required';
  const cert = Number(f.certification_id);
  if (!f.certification_id) errors.certification_id = 'choose a certification';
  if (Object.keys(errors).length) return { errors };
  return {
    body: {
      name: f.name,
      year: year ?? 0,
      time: time ?? 0,
      imdb: imdb ?? 0,
      votes: votes ?? 0,
      meta_score: meta,
      gross,
      description: f.description,
      price: f.price.trim(),
      certification_id: cert,
      genre_ids: f.genres.map((o) => o.id),
      star_ids: f.stars.map((o) => o.id),
      director_ids: f.directors.map((o) => o.id),
    },
  };
}

function sameIds(a: number[] | undefined, b: number[] | undefined): boolean {
  const x = [...(a ?? [])].sort((p, q) => p - q);
  const y = [...(b ?? [])].sort((p, q) => p - q);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Only the fields that differ from the movie as loaded (PATCH changes what it is given). */
function changes(before: Body, after: Body): Schemas['MovieUpdate'] {
  const out: Schemas['MovieUpdate'] = {};
  const put = <K extends keyof Body>(k: K) => {
    if (before[k] !== after[k]) Object.assign(out, { [k]: after[k] });
  };
  (['name', 'year', 'time', 'imdb', 'votes', 'meta_score', 'gross', 'description', 'certification_id'] as const).forEach(put);
  if (Number(before.price) !== Number(after.price) || !/^\d+\.\d\d$/.test(after.price)) out.price = after.price;
  if (!sameIds(before.genre_ids, after.genre_ids)) out.genre_ids = after.genre_ids ?? [];
  if (!sameIds(before.star_ids, after.star_ids)) out.star_ids = after.star_ids ?? [];
  if (!sameIds(before.director_ids, after.director_ids)) out.director_ids = after.director_ids ?? [];
  return out;
}

export default function MovieEdit({ params }: PageProps) {
  const isNew = !params.id;
  const id = Number(params.id);
  const { query } = useLocation();
  const movie = useAsync<Detail | null>(
    () => (isNew ? Promise.resolve(null) : call(api.GET('/api/v1/movies/{id}', { params: { path: { id } } }))),
    [params.id],
  );
  const certs = useAsync(() => call(api.GET('/api/v1/certifications')), []);
  const [form, setForm] = useState<Form>(EMPTY);
  const [local, setLocal] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState<string | null>(query.get('created') ? 'The movie is created.' : null);
  const [deleting, setDeleting] = useState(false);
  useTitle(isNew ? 'New movie' : movie.data ? `Edit ${movie.data.name}` : 'Edit movie');

  // The form follows the movie as loaded and as saved (the server's price, "12.50").
  useEffect(() => {
    if (movie.data) setForm(fromDetail(movie.data));
  }, [movie.data]);

  const set = <K extends keyof Form>(k: K, v: Form[K]) => {
    setForm((f) => ({ ...f, [k]: v }));
    setSaved(null);
    if (local[k]) setLocal(({ [k]: _gone, ...rest }) => rest);
  };
  const err = (k: string): string | undefined =>
    local[k] ?? (error instanceof ApiError && error.status === 422 ? error.field(k) : undefined);

  async function submit(e: Event) {
    e.preventDefault();
    setSaved(null);
    setError(null);
    const r = toBody(form);
    if ('errors' in r) {
      setLocal(r.errors);
      document.querySelector<HTMLElement>('.movie-form [aria-invalid="true"]')?.focus();
      return;
    }
    setLocal({});
    setBusy(true);
    try {
      if (isNew) {
        const made = await call(api.POST('/api/v1/movies', { body: r.body }));
        navigate(`/studio/movies/${made.id}?created=1`, { replace: true });
      } else {
        const before = movie.data ? toBody(fromDetail(movie.data)) : null;
        const body = before && 'body' in before ? changes(before.body, r.body) : r.body;
        const next = await call(api.PATCH('/api/v1/movies/{id}', { params: { path: { id } }, body }));
        movie.set(next);
        setSaved('Your changes are saved.');
      }
    } catch (x) {
      setError(x);
      setTimeout(() => document.querySelector<HTMLElement>('.movie-form [aria-invalid="true"]')?.focus(), 0);
    } finally {
      setBusy(false);
    }
  }

  const title = isNew ? 'New movie' : movie.data ? `Edit “${movie.data.name}”` : 'Edit movie';
  const shown = ['name', 'year', 'time', 'imdb', 'votes', 'meta_score', 'gross', 'description', 'price', 'certification_id', 'genre_ids', 'star_ids', 'director_ids'];

  if (!isNew && movie.error) {
    return (
      <StudioPage>
        <h1>Edit movie</h1>
        {movie.error instanceof ApiError && movie.error.status === 404 ? (
          <Notice kind="warning">
            This movie does not exist (any more). Back to the <a href="/studio/movies">movies</a>.
          </Notice>
        ) : (
          <ErrorMessage error={movie.error} retry={movie.reload} />
        )}
      </StudioPage>
    );
  }
  if (!isNew && !movie.data) {
    return (
      <StudioPage>
        <h1>Edit movie</h1>
        <Loading />
      </StudioPage>
    );
  }

  return (
    <StudioPage>
      <div class="page-head">
        <h1>{title}</h1>
        {movie.data && (
          <p class="row">
            <a href={`/movies/${movie.data.id}`}>View on the site</a>
            <button type="button" class="btn btn-danger btn-small" onClick={() => setDeleting(true)}>
              Delete movie
            </button>
          </p>
        )}
      </div>
      {movie.data && (
        <p class="muted">
          Added {dateTime(movie.data.created_at)} · last changed {dateTime(movie.data.updated_at)}
        </p>
      )}
      {saved && <Notice kind="success">{saved}</Notice>}
      <FormError error={error instanceof ApiError && error.status === 409 && error.code === 'movie_exists' ? null : error} shown={shown} />
      {error instanceof ApiError && error.code === 'movie_exists' && (
        <div class="alert alert-error" role="alert">
          <p>
            {error.message} Change the name, the year or the running time: together they must be unique.
          </p>
        </div>
      )}
      <form class="movie-form" noValidate onSubmit={(e) => void submit(e)}>
        <fieldset>
          <legend>The movie</legend>
          <div class="form-grid">
            <div class="span-2">
              <Field label="Name" value={form.name} maxLength={300} onInput={(e) => set('name', e.currentTarget.value)} error={err('name')} required />
            </div>
            <Field label="Year" inputMode="numeric" value={form.year} onInput={(e) => set('year', e.currentTarget.value)} error={err('year')} hint="1888 to 2100" required />
            <Field
              label="Running time (minutes)"
              inputMode="numeric"
              value={form.time}
              onInput={(e) => set('time', e.currentTarget.value)}
              error={err('time')}
              hint="1 to 1500"
              required
            />
            <Field label="Price (USD)" inputMode="decimal" value={form.price} onInput={(e) => set('price', e.currentTarget.value)} error={err('price')} hint="For example 9.99" required />
            <SelectField
              label="Certification"
              value={form.certification_id}
              onChange={(e) => set('certification_id', e.currentTarget.value)}
              error={err('certification_id') ?? (certs.error ? 'The certifications could not be loaded; try again.' : undefined)}
              required
            >
              <option value="">Choose a certification</option>
              {certs.data?.map((c) => (
                <option key={c.id} value={String(c.id)}>
                  {c.name}
                </option>
              ))}
            </SelectField>
            <div class="span-2">
              <TextAreaField
                label="Description"
                rows={5}
                maxLength={10000}
                value={form.description}
                onInput={(e) => set('description', e.currentTarget.value)}
                error={err('description')}
              />
            </div>
          </div>
        </fieldset>
        <fieldset>
          <legend>Scores</legend>
          <div class="form-grid">
            <Field label="IMDb rating" inputMode="decimal" value={form.imdb} onInput={(e) => set('imdb', e.currentTarget.value)} error={err('imdb')} hint="0 to 10, two decimals at most" required />
            <Field label="IMDb votes" inputMode="numeric" value={form.votes} onInput={(e) => set('votes', e.currentTarget.value)} error={err('votes')} required />
            <Field label="Metascore" inputMode="decimal" value={form.meta_score} onInput={(e) => set('meta_score', e.currentTarget.value)} error={err('meta_score')} hint="0 to 100; optional" />
            <Field label="Gross (USD)" inputMode="decimal" value={form.gross} onInput={(e) => set('gross', e.currentTarget.value)} error={err('gross')} hint="Box office; optional" />
          </div>
        </fieldset>
        <fieldset>
          <legend>People and genres</legend>
          <div class="form-grid">
            <Picker
              label="Genres"
              noun="genre"
              selected={form.genres}
              onChange={(v) => set('genres', v)}
              search={(t) => searchLookups('genre', t)}
              create={(n) => createLookup('genre', n)}
              error={err('genre_ids')}
            />
            <Picker
              label="Stars"
              noun="star"
              selected={form.stars}
              onChange={(v) => set('stars', v)}
              search={(t) => searchLookups('star', t)}
              create={(n) => createLookup('star', n)}
              error={err('star_ids')}
            />
            <Picker
              label="Directors"
              noun="director"
              selected={form.directors}
              onChange={(v) => set('directors', v)}
              search={(t) => searchLookups('director', t)}
              create={(n) => createLookup('director', n)}
              error={err('director_ids')}
            />
          </div>
        </fieldset>
        <div class="row">
          <button type="submit" class="btn btn-primary" disabled={busy}>
            {busy ? 'Saving…' : isNew ? 'Create movie' : 'Save changes'}
          </button>
          <a class="btn" href="/studio/movies">
            Back to movies
          </a>
        </div>
      </form>
      {movie.data ? (
        <MediaSection movieId={movie.data.id} title={movie.data.name} />
      ) : (
        <p class="muted media-later">Once the movie is created, its poster, trailer and feature can be uploaded here.</p>
      )}
      {deleting && movie.data && (
        <DeleteMovie
          movie={movie.data}
          onClose={() => setDeleting(false)}
          onDeleted={() => navigate(`/studio/movies?deleted=${encodeURIComponent(movie.data?.name ?? '')}`)}
        />
      )}
    </StudioPage>
  );
}
