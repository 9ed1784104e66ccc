// What the pagination of a list shows, as pure functions (vitest): counts in
// words, exact or estimated, and which page numbers to offer when the total
// is only an estimate. The lists of movies (GET /movies, /favorites,
// /purchases) count exactly up to 1,000 matches and estimate past that
// (`total_items_exact` false): an estimated total is a size, never a page to
// jump to.

const grouped = new Intl.NumberFormat('en-US');
const rounded = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 2 });

/** "268", "1,234,567"; an estimate rounded to two significant digits: "about 1,200,000". */
export function countNumber(n: number, exact = true): string {
  return exact ? grouped.format(n) : `about ${rounded.format(n)}`;
}

/** "1 movie", "268 movies", "about 1,200,000 movies". */
export function countOf(n: number, exact: boolean, one: string, many: string): string {
  return `${countNumber(n, exact)} ${exact && n === 1 ? one : many}`;
}

/**
 * The page numbers offered around `page` when the total is estimated, null
 * for a gap: page 1, up to two pages before this one, this one, and after
 * it only the next page (when the answer says one follows) and the one
 * after that (when the estimate has room for it); a trailing gap says that
 * more follow. Never the estimated last page: the estimate may be far off,
 * and a page that deep would be an OFFSET walk over most of the catalog.
 */
export function nearPages(page: number, totalPages: number, hasNext: boolean): (number | null)[] {
  const out: (number | null)[] = [];
  const from = Math.max(1, page - 2);
  if (from > 1) out.push(1);
  if (from === 3) out.push(2);
  else if (from > 3) out.push(null);
  for (let p = from; p <= page; p++) out.push(p);
  if (hasNext) {
    out.push(page + 1);
    if (page + 2 <= totalPages) out.push(page + 2);
    if (page + 2 < totalPages) out.push(null);
  }
  return out;
}

/**
 * The `page` and `cursor` of a link of the API (`next_page`: up to page 5
 * a page number, after it a cursor too), to carry into the app's own URL.
 */
export function linkPosition(href: string): { page?: string; cursor?: string } {
  const q = new URLSearchParams(href.includes('?') ? href.slice(href.indexOf('?') + 1) : '');
  const out: { page?: string; cursor?: string } = {};
  const page = q.get('page');
  const cursor = q.get('cursor');
  if (page) out.page = page;
  if (cursor) out.cursor = cursor;
  return out;
}
