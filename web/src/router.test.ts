import { describe, expect, it } from 'vitest';
import { match, queryString } from './router';

describe('match', () => {
  it('reads named parts', () => {
    expect(match('/movies/:id', '/movies/42')).toEqual({ id: '42' });
    expect(match('/movies/:id', '/movies/42/')).toEqual({ id: '42' });
    expect(match('/orders/:id', '/orders/%31')).toEqual({ id: '1' });
  });
  it('refuses other shapes', () => {
    expect(match('/movies/:id', '/movies')).toBeNull();
    expect(match('/movies/:id', '/movies/1/x')).toBeNull();
    expect(match('/movies', '/genres')).toBeNull();
  });
  it('matches the root', () => {
    expect(match('/', '/')).toEqual({});
    expect(match('/', '/movies')).toBeNull();
  });
});

describe('queryString', () => {
  it('drops empty values and encodes the rest', () => {
    expect(queryString({ page: 2, search: 'a b&c', genre: '', year: undefined, sort: null })).toBe('?page=2&search=a+b%26c');
    expect(queryString({})).toBe('');
  });
});
