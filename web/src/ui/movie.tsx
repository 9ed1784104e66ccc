// Movie cards and the generated poster used where a movie has no image yet.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { Schemas } from '../api/client';
import { money } from './format';

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** An SVG poster drawn from the title: two hues from its hash and the title's initials. */
export function PosterPlaceholder({ title, year }: { title: string; year?: number }) {
  const h = hash(title);
  const a = h % 360;
  const b = (a + 40 + ((h >> 9) % 80)) % 360;
  const id = `g${h.toString(36)}`;
  const initials = title
    .split(/\s+/)
    .filter((w) => /^\p{L}|^\p{N}/u.test(w))
    .slice(0, 2)
    .map((w) => [...w][0]?.toUpperCase() ?? '')
    .join('');
  return (
    <svg class="poster" viewBox="0 0 200 300" role="img" aria-label={`Poster of ${title}`}>
      <defs>
        <linearGradient id={id} x1="0" y1="0" x2="1" y2="1">
          <stop offset="0" stop-color={`hsl(${a} 55% 32%)`} />
          <stop offset="1" stop-color={`hsl(${b} 60% 14%)`} />
        </linearGradient>
      </defs>
      <rect width="200" height="300" fill={`url(#${id})`} />
      <circle cx="150" cy="70" r="90" fill="#ffffff" opacity="0.06" />
      <text x="100" y="165" text-anchor="middle" font-size="64" font-weight="700" fill="#ffffff" opacity="0.9">
        {initials}
      </text>
      {year !== undefined && (
        <text x="100" y="270" text-anchor="middle" font-size="20" fill="#ffffff" opacity="0.7">
          {year}
        </text>
      )}
    </svg>
  );
}

/**
 * The movie's poster (its `poster_url`), or the drawn placeholder when it has
 * none or the image fails (a replaced file's old address). 200 × 300 and the
 * CSS aspect ratio reserve its box before it loads, so nothing moves; lazy
 * unless `eager` (a poster at the top of the page).
 */
export function Poster({ title, year, src, eager = false }: { title: string; year?: number; src?: string | null; eager?: boolean }) {
  const [failed, setFailed] = useState<string | null>(null);
  if (src && failed !== src) {
    return (
      <img
        class="poster"
        src={src}
        alt={`Poster of ${title}`}
        loading={eager ? 'eager' : 'lazy'}
        decoding="async"
        width={200}
        height={300}
        onError={() => setFailed(src)}
      />
    );
  }
  return <PosterPlaceholder title={title} year={year} />;
}

type Summary = Pick<Schemas['MovieSummary'], 'id' | 'name' | 'year' | 'price' | 'imdb' | 'rating' | 'genres' | 'poster_url'>;

/** A movie's card; actions (buttons) go at its foot. */
export function MovieCard({ movie, actions }: { movie: Summary; actions?: ComponentChildren }) {
  return (
    <li class="card">
      <a class="card-link" href={`/movies/${movie.id}`}>
        <Poster title={movie.name} year={movie.year} src={movie.poster_url} />
        <span class="card-title">{movie.name}</span>
      </a>
      <div class="card-meta">
        <span>{movie.year}</span>
        <span aria-label={`IMDb ${movie.imdb}`}>★ {movie.imdb.toFixed(1)}</span>
        <span class="price">{money(movie.price)}</span>
      </div>
      {movie.genres.length > 0 && <div class="card-genres">{movie.genres.map((g) => g.name).join(' · ')}</div>}
      {actions && <div class="card-actions">{actions}</div>}
    </li>
  );
}

export function MovieGrid<M extends Summary>({
  movies,
  label = 'Movies',
  actions,
}: {
  movies: M[];
  label?: string;
  actions?: (m: M) => ComponentChildren;
}) {
  return (
    <ul class="grid" aria-label={label}>
      {movies.map((m) => (
        <MovieCard key={m.id} movie={m} actions={actions?.(m)} />
      ))}
    </ul>
  );
}
