import { describe, expect, it } from 'vitest';
import { passwordOk, passwordRules, safeNext } from './rules';

describe('safeNext', () => {
  it('keeps paths of this site', () => {
    expect(safeNext('/movies/3?x=1#comment-2')).toBe('/movies/3?x=1#comment-2');
    expect(safeNext('/favorites')).toBe('/favorites');
  });
  it('refuses other sites and odd shapes', () => {
    for (const bad of ['//evil.example/x', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', 'movies', '', '/\t/evil.example', '/accounts/login?next=/x']) {
      expect(safeNext(bad)).toBe('/movies');
    }
    expect(safeNext(null)).toBe('/movies');
  });
});

describe('passwordRules', () => {
  it('ticks each rule of the Password schema', () => {
    const ok = (pw: string) => passwordRules(pw).filter((r) => r.ok).map((r) => r.key);
    expect(ok('')).toEqual([]);
    expect(ok('abc')).toEqual(['lower']);
    expect(ok('Abcdefg1')).toEqual(['length', 'lower', 'upper', 'digit']);
    expect(ok('Abcdef g1')).toEqual(['length', 'lower', 'upper', 'digit']);
    expect(passwordOk('Corr3ct-horse')).toBe(true);
    expect(passwordOk('Corr3cthorsé')).toBe(true);
    expect(passwordOk('Aa1!'.repeat(33))).toBe(false);
  });
});

describe('ApiError fields (the register and password forms show them)', () => {
  it('keeps every message of a field, in order', async () => {
    const { ApiError } = await import('../../api/errors');
    const e = new ApiError(422, 'validation_failed', 'The request has invalid fields.', [
      { field: 'password', message: 'must contain a digit' },
      { field: 'email', message: 'must be a valid email address' },
      { field: 'password', message: 'must contain a special character' },
    ]);
    expect(e.field('password')).toBe('must contain a digit; must contain a special character');
    expect(e.field('email')).toBe('must be a valid email address');
    expect(e.field('confirm')).toBeUndefined();
  });
});
