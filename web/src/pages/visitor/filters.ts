// The catalog's state, kept in the URL: every filter, the search, the sort
// and the page of GET /api/v1/movies (and of GET /api/v1/favorites, which
// takes the same parameters), and the `cursor` of a keyset page (the API's
// `next_page` carries one after page 5). Values are passed to the server as
// typed, so the server's 422 names the bad one and the page shows it by its
// control.
import type { paths } from '../../api/schema';
import { queryString } from '../../router';

/** The query parameters, in the order the URL writes them. */
export const FILTER_KEYS = [
  'year',
  'year_min',
  'year_max',
  'imdb_min',
  'imdb_max',
  'price_min',
  'price_max',
  'genre',
  'certification',
  'star',
  'director',
] as const;

/** The cursor goes last: it is long, and what comes before it is what people read in a URL. */
export const STATE_KEYS = [...FILTER_KEYS, 'search', 'sort', 'per_page', 'page', 'cursor'] as const;
export type StateKey = (typeof STATE_KEYS)[number];

export type MovieState = Partial<Record<StateKey, string>>;

/** The keys of `sort`, each of which also sorts descending with "-" in front. */
export const SORTS: { key: string; label: string; asc: string; desc: string }[] = [
  { key: 'popularity', label: 'Popularity', asc: 'least popular first', desc: 'most popular first' },
  { key: 'name', label: 'Title', asc: 'A to Z', desc: 'Z to A' },
  { key: 'year', label: 'Year', asc: 'oldest first', desc: 'newest first' },
  { key: 'price', label: 'Price', asc: 'lowest first', desc: 'highest first' },
  { key: 'imdb', label: 'IMDb rating', asc: 'lowest first', desc: 'highest first' },
  { key: 'votes', label: 'IMDb votes', asc: 'fewest first', desc: 'most first' },
  { key: 'rating', label: 'Site rating', asc: 'lowest first', desc: 'highest first' },
  { key: 'created_at', label: 'Added', asc: 'oldest first', desc: 'newest first' },
];

export const PER_PAGE = [12, 20, 40, 60, 100];
export const DEFAULT_PER_PAGE = 20;

/** Reads the state from a query string (unknown parameters are dropped; empty values too). */
export function readState(query: URLSearchParams): MovieState {
  const s: MovieState = {};
  for (const k of STATE_KEYS) {
    const v = query.get(k);
    if (v !== null && v.trim() !== '') s[k] = k === 'search' ? v : v.trim();
  }
  return s;
}

/** The query string of a state ("" when empty), in a stable order. */
export function writeState(s: MovieState): string {
  const params: Record<string, string | undefined> = {};
  for (const k of STATE_KEYS) params[k] = s[k];
  if (params.page === '1') params.page = undefined;
  return queryString(params);
}

/**
 * The state after changing some values: any change but the page goes back
 * to page 1, and any change at all drops the cursor (it belongs to one
 * page of one list) unless the patch brings one.
 */
export function change(s: MovieState, patch: MovieState): MovieState {
  const next: MovieState = {};
  for (const k of STATE_KEYS) {
    const v = k in patch ? patch[k] : s[k];
    if ((k === 'page' || k === 'cursor') && !(k in patch)) continue;
    if (v !== undefined && v.trim() !== '') next[k] = v;
  }
  return next;
}

/** The state of page p, by number (no cursor): Previous and the page numbers. */
export function pageState(s: MovieState, p: number): MovieState {
  return change(s, { page: String(p) });
}

/**
 * The state of the API's `next_page` link (its query: the parameters of the
 * page shown, its next page number and, past page 5, a cursor), so that
 * reading on costs what page 1 costs and a reload or the back button asks
 * for the same page again. Taken whole from the link, not merged into the
 * URL's state: while a new list loads, the page still shows the old one,
 * whose Next must not carry its cursor into the new query. The default page
 * size is left out, as the app's own URLs do. Null when there is no next page.
 */
export function nextState(nextPage: string | null | undefined): MovieState | null {
  if (!nextPage) return null;
  const q = nextPage.includes('?') ? nextPage.slice(nextPage.indexOf('?') + 1) : '';
  const s = readState(new URLSearchParams(q));
  if (s.per_page === String(DEFAULT_PER_PAGE)) delete s.per_page;
  return s;
}

/** The state without any filter (search, sort and page size stay; the page and cursor go). */
export function clearFilters(s: MovieState): MovieState {
  const next: MovieState = {};
  if (s.search) next.search = s.search;
  if (s.sort) next.sort = s.sort;
  if (s.per_page) next.per_page = s.per_page;
  return next;
}

export function activeFilters(s: MovieState): number {
  return FILTER_KEYS.filter((k) => s[k] !== undefined).length;
}

/** The query of GET /api/v1/movies (and of GET /api/v1/favorites, the same parameters). */
export type MoviesQuery = NonNullable<paths['/api/v1/movies']['get']['parameters']['query']>;

/**
 * The state as the API's query object. Values stay as the user typed them
 * (strings, where the schema has numbers and enums): the server checks them
 * and names each bad one in a 422, which the page shows by its control.
 */
export function apiQuery(s: MovieState): MoviesQuery {
  const q: Record<string, string> = {};
  for (const k of STATE_KEYS) {
    const v = s[k];
    if (v !== undefined) q[k] = v;
  }
  return q as unknown as MoviesQuery;
}
