import { describe, expect, it } from 'vitest';
import { activeFilters, apiQuery, change, clearFilters, nextState, pageState, readState, writeState } from './filters';

describe('catalog state in the URL', () => {
  it('reads the known parameters and drops empty and unknown ones', () => {
    const s = readState(new URLSearchParams('genre=3&year_min=&foo=1&search=  star wars &sort=-imdb&page=2'));
    expect(s).toEqual({ genre: '3', search: '  star wars ', sort: '-imdb', page: '2' });
  });

  it('writes a stable order without page 1', () => {
    expect(writeState({ sort: 'name', page: '1', genre: '2', year_min: '1990' })).toBe('?year_min=1990&genre=2&sort=name');
    expect(writeState({})).toBe('');
  });

  it('keeps what the user typed, so the server can name a bad value', () => {
    const s = readState(new URLSearchParams('year=abc&imdb_min=7.5'));
    expect(apiQuery(s)).toEqual({ year: 'abc', imdb_min: '7.5' });
    expect(writeState(s)).toBe('?year=abc&imdb_min=7.5');
  });

  it('goes back to page 1 on any change but the page', () => {
    const s = { genre: '1', page: '3' };
    expect(change(s, { genre: '2' })).toEqual({ genre: '2' });
    expect(change(s, { page: '4' })).toEqual({ genre: '1', page: '4' });
    expect(change(s, { genre: '' })).toEqual({});
  });

  it('clears the filters but keeps the search, the sort and the page size', () => {
    const s = { genre: '1', star: '9', year: '2000', search: 'heat', sort: '-year', per_page: '40', page: '2' };
    expect(clearFilters(s)).toEqual({ search: 'heat', sort: '-year', per_page: '40' });
    expect(activeFilters(s)).toBe(3);
    expect(activeFilters(clearFilters(s))).toBe(0);
  });

  it('survives a round trip through the URL', () => {
    const s = { year_max: '2001', price_min: '4.99', certification: '5', director: '12', search: 'la dolce', sort: 'price', per_page: '12', page: '3' };
    expect(readState(new URLSearchParams(writeState(s)))).toEqual(s);
  });

  it('keeps a cursor in the URL, last, through a reload', () => {
    const s = { genre: '3', sort: '-imdb', per_page: '12', page: '7', cursor: 'WyItaW1kYiIsMCwiOS45Iiw5ODk0MV0' };
    const url = writeState(s);
    expect(url).toBe('?genre=3&sort=-imdb&per_page=12&page=7&cursor=WyItaW1kYiIsMCwiOS45Iiw5ODk0MV0');
    expect(readState(new URLSearchParams(url))).toEqual(s);
    expect(apiQuery(s)).toEqual(s);
  });

  it('drops the cursor on any change, and on a numbered page', () => {
    const s = { genre: '3', page: '7', cursor: 'abc' };
    expect(change(s, { sort: 'name' })).toEqual({ genre: '3', sort: 'name' });
    expect(change(s, { per_page: '40' })).toEqual({ genre: '3', per_page: '40' });
    expect(pageState(s, 6)).toEqual({ genre: '3', page: '6' });
    expect(writeState(pageState(s, 1))).toBe('?genre=3');
    expect(clearFilters({ ...s, search: 'heat' })).toEqual({ search: 'heat' });
  });

  it('follows next_page: a number up to page 5, then its cursor', () => {
    expect(nextState('/api/v1/movies?genre=3&page=5&per_page=12')).toEqual({ genre: '3', per_page: '12', page: '5' });
    expect(nextState('/api/v1/movies?genre=3&cursor=c6&page=6&per_page=12')).toEqual({ genre: '3', per_page: '12', page: '6', cursor: 'c6' });
    // The default page size stays out of the URL; the search comes back as it was sent.
    expect(writeState(nextState('/api/v1/movies?search=la%20dolce%20&sort=name&cursor=c7&page=7&per_page=20') ?? {})).toBe(
      '?search=la+dolce+&sort=name&page=7&cursor=c7',
    );
    expect(nextState(null)).toBeNull();
  });
});
