import type { VNode } from 'preact';
import { describe, expect, it } from 'vitest';
import { Pagination, PastTheEnd } from './common';
import { countNumber, countOf, linkPosition, nearPages } from './paging';

/** The links (href and text) and the whole text of a rendered tree (the components have no hooks: call them). */
function walk(node: unknown, out: { links: { href: string; text: string }[]; text: string[] }): string {
  if (node === null || node === undefined || typeof node === 'boolean') return '';
  if (typeof node === 'string' || typeof node === 'number') {
    out.text.push(String(node));
    return String(node);
  }
  if (Array.isArray(node)) return node.map((n) => walk(n, out)).join('');
  const v = node as VNode<Record<string, unknown>>;
  if (typeof v.type === 'function') return walk((v.type as (p: unknown) => unknown)(v.props), out);
  const text = walk(v.props.children, out);
  if (v.type === 'a') out.links.push({ href: String(v.props.href), text });
  return text;
}

function render(node: unknown) {
  const out = { links: [] as { href: string; text: string }[], text: [] as string[] };
  walk(node, out);
  return { links: out.links, text: out.text.join('') };
}

const hrefFor = (p: number) => `/movies?page=${p}`;

describe('counts in words', () => {
  it('formats an exact count with grouping', () => {
    expect(countNumber(268)).toBe('268');
    expect(countNumber(1234567)).toBe('1,234,567');
    expect(countOf(1, true, 'movie', 'movies')).toBe('1 movie');
    expect(countOf(0, true, 'movie', 'movies')).toBe('0 movies');
    expect(countOf(12345, true, 'movie', 'movies')).toBe('12,345 movies');
  });

  it('rounds an estimate to two significant digits, "about"', () => {
    expect(countOf(1234000, false, 'movie', 'movies')).toBe('about 1,200,000 movies');
    expect(countOf(1001, false, 'movie', 'movies')).toBe('about 1,000 movies');
    expect(countOf(1960, false, 'movie', 'movies')).toBe('about 2,000 movies');
    expect(countOf(987654, false, 'movie', 'movies')).toBe('about 990,000 movies');
  });
});

describe('the page numbers of an estimated total', () => {
  it('offers page 1, two pages before, the next ones, and never the last', () => {
    expect(nearPages(1, 61700, true)).toEqual([1, 2, 3, null]);
    expect(nearPages(2, 61700, true)).toEqual([1, 2, 3, 4, null]);
    expect(nearPages(3, 61700, true)).toEqual([1, 2, 3, 4, 5, null]);
    expect(nearPages(4, 61700, true)).toEqual([1, 2, 3, 4, 5, 6, null]);
    expect(nearPages(7, 61700, true)).toEqual([1, null, 5, 6, 7, 8, 9, null]);
    expect(nearPages(7, 61700, true)).not.toContain(61700);
  });

  it('offers no page after this one when nothing follows, whatever the estimate says', () => {
    expect(nearPages(9, 61700, false)).toEqual([1, null, 7, 8, 9]);
  });

  it('offers the next page even past an estimate that was too low', () => {
    // An estimate of 1,001 matches is 51 pages of 20; the list goes on.
    expect(nearPages(60, 51, true)).toEqual([1, null, 58, 59, 60, 61]);
  });
});

describe('the position of an API link', () => {
  it('reads the page and the cursor', () => {
    expect(linkPosition('/api/v1/movies?genre=3&cursor=WyItaW1kYiJd&page=7&per_page=20')).toEqual({ page: '7', cursor: 'WyItaW1kYiJd' });
    expect(linkPosition('/api/v1/movies?genre=3&page=2&per_page=20')).toEqual({ page: '2' });
    expect(linkPosition('/api/v1/movies')).toEqual({});
  });
});

describe('Pagination', () => {
  it('with an exact total: page x of n, numbered previous and next (as before)', () => {
    const r = render(Pagination({ page: 2, totalPages: 23, hrefFor }));
    expect(r.text).toContain('Page 2 of 23');
    expect(r.links).toEqual([
      { href: '/movies?page=1', text: '← Previous' },
      { href: '/movies?page=3', text: 'Next →' },
    ]);
    expect(Pagination({ page: 1, totalPages: 1, hrefFor })).toBeNull();
  });

  it('follows the given next link (a cursor past page 5)', () => {
    const r = render(Pagination({ page: 5, totalPages: 23, hrefFor, next: '/movies?page=6&cursor=abc' }));
    expect(r.links.at(-1)).toEqual({ href: '/movies?page=6&cursor=abc', text: 'Next →' });
    const last = render(Pagination({ page: 23, totalPages: 23, hrefFor, next: null }));
    expect(last.links.map((l) => l.text)).toEqual(['← Previous']);
  });

  it('with an estimated total: no "of n", no jump to the estimated last page', () => {
    const next = '/movies?page=8&cursor=c8';
    const r = render(Pagination({ page: 7, totalPages: 61700, hrefFor, next, estimated: true }));
    expect(r.text).not.toMatch(/of|61,?700/);
    expect(r.links.map((l) => l.href)).toEqual([
      '/movies?page=6', // Previous
      '/movies?page=1',
      '/movies?page=5',
      '/movies?page=6',
      next, // page 8 is the next page: its cursor
      '/movies?page=9',
      next, // Next
    ]);
    expect(r.links.map((l) => l.text)).toEqual(['← Previous', 'Page 1', 'Page 5', 'Page 6', 'Page 8', 'Page 9', 'Next →']);
    expect(r.text).toContain('Page 7');
  });

  it('with an estimated total on page 1 without a next page: nothing', () => {
    expect(Pagination({ page: 1, totalPages: 60, hrefFor, next: null, estimated: true })).toBeNull();
  });
});

describe('past the end', () => {
  it('offers the last page when the total is counted', () => {
    const r = render(PastTheEnd({ totalPages: 14, exact: true, hrefFor }));
    expect(r.text).toContain('There are only 14 pages.');
    expect(r.links).toEqual([{ href: '/movies?page=14', text: 'Go to the last page' }]);
    expect(render(PastTheEnd({ totalPages: 1, exact: true, hrefFor })).text).toContain('There is only 1 page.');
  });

  it('offers the first page when the total is an estimate', () => {
    const r = render(PastTheEnd({ totalPages: 61700, exact: false, hrefFor }));
    expect(r.text).not.toMatch(/61,?700/);
    expect(r.links).toEqual([{ href: '/movies?page=1', text: 'Back to the first page' }]);
  });
});
