// The movie page (/movies/:id): everything GET /api/v1/movies/{id} returns;
// the poster and the trailer; for a signed-in user "Watch" / "Resume at" (an
// owner or a moderator) or "Buy to watch", the reaction, rating, favorite and
// cart controls; then the comments. An unknown id gets a friendly "movie not found".
import { useEffect, useId, useState } from 'preact/hooks';
import { api, call, type Schemas } from '../../api/client';
import { ApiError } from '../../api/errors';
import { useLocation } from '../../router';
import { ErrorMessage, Loading } from '../../ui/common';
import { clock, date, money, minutes, spokenClock } from '../../ui/format';
import { useAsync, useSession, useTitle } from '../../ui/hooks';
import { Poster } from '../../ui/movie';
import type { PageProps } from '../../routes';
import '../../styles/visitor.css';
import { resumeAt } from '../user/progress';
import { Buy, useAction } from './buy';
import { Comments } from './Comments';

type Movie = Schemas['MovieDetail'];
type Ref = Schemas['CatalogRef'];

const ID = /^[1-9]\d{0,17}$/;
const count = new Intl.NumberFormat('en-US');
const dollars = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 });

/** A promise that never settles: used while the session is still being restored. */
const waiting = <T,>() => new Promise<T>(() => undefined);

export function MovieNotFound() {
  useTitle('Movie not found');
  return (
    <section class="page narrow not-found">
      <h1>Movie not found</h1>
      <p>We have no movie at this address. It may have been removed, or the link may be mistyped.</p>
      <p>
        <a class="btn btn-primary" href="/movies">
          Browse the catalog
        </a>
      </p>
    </section>
  );
}

function Links({ label, items, param }: { label: string; items: Ref[]; param: string }) {
  if (items.length === 0) return null;
  return (
    <div class="movie-links">
      <h2 class="label">{label}</h2>
      <ul class="chips">
        {items.map((r) => (
          <li key={r.id}>
            <a class="chip" href={`/movies?${param}=${r.id}`}>
              {r.name}
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}

function Facts({ m }: { m: Movie }) {
  return (
    <dl class="facts">
      <div>
        <dt>Year</dt>
        <dd>
          <a href={`/movies?year=${m.year}`}>{m.year}</a>
        </dd>
      </div>
      <div>
        <dt>Running time</dt>
        <dd>{minutes(m.time)}</dd>
      </div>
      <div>
        <dt>Certification</dt>
        <dd>
          <a href={`/movies?certification=${m.certification.id}`}>{m.certification.name}</a>
        </dd>
      </div>
      <div>
        <dt>IMDb</dt>
        <dd>
          ★ {m.imdb.toFixed(1)} / 10 <span class="muted">({count.format(m.votes)} votes)</span>
        </dd>
      </div>
      <div>
        <dt>Metascore</dt>
        <dd>{m.meta_score ?? <span class="muted">not known</span>}</dd>
      </div>
      <div>
        <dt>Gross</dt>
        <dd>{m.gross !== null ? dollars.format(m.gross) : <span class="muted">not known</span>}</dd>
      </div>
      <div>
        <dt>Site rating</dt>
        <dd>
          {m.rating !== null ? (
            <>
              {m.rating.toFixed(1)} / 10{' '}
              <span class="muted">
                ({m.rating_count} {m.rating_count === 1 ? 'rating' : 'ratings'})
              </span>
            </>
          ) : (
            <span class="muted">not rated yet</span>
          )}
        </dd>
      </div>
      <div>
        <dt>Likes</dt>
        <dd>{count.format(m.likes)}</dd>
      </div>
      <div>
        <dt>Dislikes</dt>
        <dd>{count.format(m.dislikes)}</dd>
      </div>
      <div>
        <dt>Favorites</dt>
        <dd>{count.format(m.favorite_count)}</dd>
      </div>
      <div>
        <dt>Popularity</dt>
        <dd>{count.format(m.popularity)}</dd>
      </div>
      <div>
        <dt>Added</dt>
        <dd>
          <time dateTime={m.created_at}>{date(m.created_at)}</time>
        </dd>
      </div>
      <div>
        <dt>Comments</dt>
        <dd>
          <a href="#comments">{count.format(m.comment_count)}</a>
        </dd>
      </div>
    </dl>
  );
}

function Reactions({ m, me, onChange }: { m: Movie; me: Schemas['MovieMe']; onChange: () => void }) {
  const a = useAction();
  const path = { params: { path: { id: m.id } } };
  const toggle = (r: 'like' | 'dislike') =>
    void a
      .run(() =>
        me.reaction === r
          ? call(api.DELETE('/api/v1/movies/{id}/reaction', path))
          : call(api.PUT('/api/v1/movies/{id}/reaction', { ...path, body: { reaction: r } })),
      )
      .then((ok) => ok && onChange());
  const fav = () =>
    void a
      .run(() => (me.is_favorite ? call(api.DELETE('/api/v1/favorites/{movie_id}', { params: { path: { movie_id: m.id } } })) : call(api.PUT('/api/v1/favorites/{movie_id}', { params: { path: { movie_id: m.id } } }))))
      .then((ok) => ok && onChange());
  return (
    <div class="engage">
      <div class="row" role="group" aria-label="Your reaction">
        <button type="button" class="btn" aria-pressed={me.reaction === 'like'} onClick={() => toggle('like')}>
          <span aria-hidden="true">▲</span> Like <span class="count">{count.format(m.likes)}</span>
        </button>
        <button type="button" class="btn" aria-pressed={me.reaction === 'dislike'} onClick={() => toggle('dislike')}>
          <span aria-hidden="true">▼</span> Dislike <span class="count">{count.format(m.dislikes)}</span>
        </button>
        <button type="button" class="btn" aria-pressed={me.is_favorite} onClick={fav}>
          <span aria-hidden="true">{me.is_favorite ? '★' : '☆'}</span> Favorite
        </button>
      </div>
      {a.error !== null && <ErrorMessage error={a.error} />}
    </div>
  );
}

function Rating({ m, me, onChange }: { m: Movie; me: Schemas['MovieMe']; onChange: () => void }) {
  const id = useId();
  const [score, setScore] = useState(me.rating !== null ? String(me.rating) : '');
  useEffect(() => setScore(me.rating !== null ? String(me.rating) : ''), [me.rating]);
  const a = useAction();
  const path = { params: { path: { id: m.id } } };
  const scoreError = a.error instanceof ApiError ? a.error.field('score') : undefined;
  return (
    <form
      class="rate"
      aria-label="Rate this movie"
      onSubmit={(e) => {
        e.preventDefault();
        if (!score) {
          a.setError(new ApiError(422, 'validation_failed', 'Choose a score from 1 to 10.', [{ field: 'score', message: 'Choose a score from 1 to 10.' }]));
          return;
        }
        void a.run(() => call(api.PUT('/api/v1/movies/{id}/rating', { ...path, body: { score: Number(score) } }))).then((ok) => ok && onChange());
      }}
    >
      <div class={`field${scoreError ? ' field-invalid' : ''}`}>
        <label for={id}>Your rating</label>
        <div class="row">
          <select
            id={id}
            value={score}
            aria-invalid={scoreError ? 'true' : undefined}
            aria-describedby={scoreError ? `${id}-err` : undefined}
            onChange={(e) => setScore(e.currentTarget.value)}
          >
            <option value="">Choose…</option>
            {[10, 9, 8, 7, 6, 5, 4, 3, 2, 1].map((n) => (
              <option key={n} value={String(n)}>
                {n} / 10
              </option>
            ))}
          </select>
          <button type="submit" class="btn">
            {me.rating !== null ? 'Change rating' : 'Rate'}
          </button>
          {me.rating !== null && (
            <button
              type="button"
              class="btn btn-small"
              onClick={() => void a.run(() => call(api.DELETE('/api/v1/movies/{id}/rating', path))).then((ok) => ok && onChange())}
            >
              Remove my rating
            </button>
          )}
        </div>
        <p class="hint" role="status">
          {me.rating !== null ? `You rated it ${me.rating} / 10.` : 'You have not rated it yet.'}
        </p>
        {scoreError && (
          <p class="field-error" id={`${id}-err`} role="alert">
            {scoreError}
          </p>
        )}
      </div>
      {a.error !== null && !scoreError && <ErrorMessage error={a.error} />}
    </form>
  );
}

/** "Watch", "Resume at m:ss" or "Watch again" for those who may watch the feature (owners, moderators). */
function WatchActions({ m, me }: { m: Movie; me: Schemas['MovieMe'] }) {
  const at = resumeAt(me.progress);
  const href = `/movies/${m.id}/watch`;
  return (
    <div class="watch-actions row">
      {at > 0 ? (
        <>
          <a class="btn btn-primary btn-watch" href={href} aria-label={`Resume ${m.name} at ${spokenClock(at)}`}>
            <span aria-hidden="true">▶</span> Resume at {clock(at)}
          </a>
          <a class="btn" href={`${href}?start=0`} aria-label={`Watch ${m.name} from the beginning`}>
            From the beginning
          </a>
        </>
      ) : (
        <a class="btn btn-primary btn-watch" href={href} aria-label={me.progress?.finished ? `Watch ${m.name} again` : `Watch ${m.name}`}>
          <span aria-hidden="true">▶</span> {me.progress?.finished ? 'Watch again' : 'Watch'}
        </a>
      )}
    </div>
  );
}

/** The public trailer (a relative address that redirects to S3); only its metadata loads until played. */
function Trailer({ m }: { m: Movie }) {
  if (!m.trailer_url) return null;
  return (
    <section class="trailer" aria-labelledby="trailer-title">
      <h2 id="trailer-title">Trailer</h2>
      <video class="trailer-video" controls preload="metadata" playsInline src={m.trailer_url} aria-label={`Trailer of ${m.name}`} width={640} height={360}>
        Your browser cannot play this trailer.
      </video>
    </section>
  );
}

export default function MoviePage({ params }: PageProps) {
  const raw = params.id ?? '';
  const valid = ID.test(raw);
  const id = valid ? Number(raw) : 0;
  const s = useSession();
  const loc = useLocation();
  const who = s.status === 'unknown' ? 'wait' : (s.user?.id ?? 0);
  const movie = useAsync<Movie>(
    () => (!valid ? Promise.reject(new ApiError(404, 'not_found', 'No movie has this id.')) : who === 'wait' ? waiting<Movie>() : call(api.GET('/api/v1/movies/{id}', { params: { path: { id } } }))),
    [raw, who],
  );
  const m = movie.data && movie.data.id === id ? movie.data : undefined;
  useTitle(m ? m.name : 'Movie');

  if (movie.error instanceof ApiError && movie.error.status === 404) return <MovieNotFound />;
  if (!m) {
    return (
      <section class="page">
        <ErrorMessage error={movie.error} retry={movie.reload} />
        {!movie.error && <Loading label="Loading the movie…" />}
      </section>
    );
  }
  const me = s.status === 'signed-in' ? m.me : null;
  // Owners watch; so do moderators (GET /play lets them), bought or not.
  const canWatch = Boolean(me && m.has_feature && (me.is_purchased || s.user?.group !== 'USER'));
  const next = encodeURIComponent(loc.href);
  return (
    <article class="page movie" aria-busy={movie.loading}>
      <div class="movie-top">
        <div class="movie-poster">
          <Poster title={m.name} year={m.year} src={m.poster_url} eager />
        </div>
        <div class="movie-info">
          <h1>{m.name}</h1>
          <p class="movie-sub muted">
            {m.year} · {minutes(m.time)} · {m.certification.name} · <span class="price">{money(m.price)}</span>
          </p>
          {movie.error !== null && <ErrorMessage error={movie.error} retry={movie.reload} />}
          <p class="movie-description">{m.description}</p>
          {me ? (
            <div class="movie-actions" key={m.id}>
              {canWatch && <WatchActions m={m} me={me} />}
              <Buy m={m} purchased={me.is_purchased} canWatch={canWatch} />
              <Reactions m={m} me={me} onChange={movie.reload} />
              <Rating m={m} me={me} onChange={movie.reload} />
            </div>
          ) : (
            s.status === 'anonymous' && (
              <div class="alert alert-info movie-signin">
                {m.has_feature && (
                  <p class="row">
                    <a class="btn btn-primary" href={`/accounts/login?next=${next}`}>
                      Sign in to buy · {money(m.price)}
                    </a>
                    <span>and watch it here.</span>
                  </p>
                )}
                <p>
                  <a href={`/accounts/login?next=${next}`}>Sign in to like, rate and comment</a>
                  {m.has_feature ? '.' : `, or to buy this movie for ${money(m.price)}.`}
                </p>
              </div>
            )
          )}
          <Trailer m={m} />
          <Facts m={m} />
          <Links label="Genres" items={m.genres} param="genre" />
          <Links label="Stars" items={m.stars} param="star" />
          <Links label="Directors" items={m.directors} param="director" />
        </div>
      </div>
      <Comments key={m.id} movieId={m.id} total={m.comment_count} onChange={movie.reload} />
    </article>
  );
}
