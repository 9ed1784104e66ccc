import { describe, expect, it } from 'vitest';
import { passwordOk, passwordRules, safeNext } from './rules';

describe('safeNext', () => {
  it('keeps paths of this site', () => {
    expect(safeNext('/movies/3?x=1#comment-2')).toBe('/movies/3?x=1#comment-2');
    expect(safeNext('/favorites')).toBe('/favorites');
  });
  it('refuses other sites and odd shapes', () => {
    for (const bad of ['//evil.example/x', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', 'movies', '', '/\t/evil.example', '\t/evil.example', ' /evil.example', '/accounts/login?next=/x']) {
      expect(safeNext(bad)).toBe('/movies');
    }
    expect(safeNext(null)).toBe('/movies');
  });
  it('refuses paths whose dot segments resolve to another site', () => {
    for (const bad of ['/.//evil.example', '/./\\evil.example', '/x/..//evil.example/y', '/%2e//evil.example', '/x/%2E%2E//evil.example', '/%2e%2e//evil.example', '/./accounts/login']) {
      expect(safeNext(bad)).toBe('/movies');
    }
  });
  it('keeps encoded slashes as a path of this site', () => {
    expect(safeNext('/%2F%2Fevil.example')).toBe('/%2F%2Fevil.example');
    expect(safeNext('/%5Cevil.example')).toBe('/%5Cevil.example');
    expect(safeNext('/movies/../favorites?x=1')).toBe('/favorites?x=1');
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
