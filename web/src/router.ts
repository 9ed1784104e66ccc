// A small history router: the URL is the state. Same-origin <a> clicks are
// turned into pushState navigations; pages read the path and query from
// useLocation() and write filters back with navigate(), so a link can be
// shared, reloaded, and the back button restores the previous state.
import { useEffect, useState } from 'preact/hooks';

export interface Loc {
  path: string;
  query: URLSearchParams;
  /** path + search, e.g. "/movies?page=2" */
  href: string;
}

type Listener = (loc: Loc) => void;
const listeners = new Set<Listener>();

function read(): Loc {
  const { pathname, search } = window.location;
  return { path: pathname, query: new URLSearchParams(search), href: pathname + search };
}

let current: Loc | null = null;
export function location(): Loc {
  current ??= read();
  return current;
}

function emit(): void {
  current = read();
  for (const l of listeners) l(current);
}

/** Goes to href (same origin). replace: no new history entry (filters typed as you go). */
export function navigate(href: string, opts: { replace?: boolean; keepScroll?: boolean } = {}): void {
  const url = new URL(href, window.location.href);
  const next = url.pathname + url.search + url.hash;
  if (next === window.location.pathname + window.location.search + window.location.hash) return;
  if (opts.replace) history.replaceState(null, '', next);
  else history.pushState(null, '', next);
  emit();
  if (!opts.keepScroll) window.scrollTo(0, 0);
}

/** The query string of params, without empty values, in a stable order. */
export function queryString(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function useLocation(): Loc {
  const [loc, setLoc] = useState(location);
  useEffect(() => {
    listeners.add(setLoc);
    return () => listeners.delete(setLoc);
  }, []);
  return loc;
}

/** Matches "/movies/:id" against a path; returns the named parts or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/');
  const s = path.replace(/\/+$/, '').split('/');
  if (path === '/') s.length = 2;
  if (p.length !== s.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const a = p[i] ?? '';
    const b = s[i] ?? '';
    if (a.startsWith(':')) {
      if (!b) return null;
      out[a.slice(1)] = decodeURIComponent(b);
    } else if (a !== b) return null;
  }
  return out;
}

/** Installs the link interception and the back/forward listener (once, at start). */
export function startRouter(): void {
  window.addEventListener('popstate', emit);
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || a.target || a.hasAttribute('download') || a.origin !== window.location.origin) return;
    const path = a.pathname;
    if (path.startsWith('/api/') || path.startsWith('/docs') || path.startsWith('/openapi.')) return;
    // A fragment of this very page (the skip link, "#comments"): the browser
    // scrolls to it and moves the focus there, which pushState would not.
    const here = window.location;
    if (a.hash && path === here.pathname && a.search === here.search) return;
    e.preventDefault();
    navigate(a.pathname + a.search + a.hash);
  });
}
