// The password rules of the `Password` schema (openapi.yaml) and the safe
// "next" address after sign-in: plain functions, unit-tested.

export interface Rule {
  key: string;
  label: string;
  ok: boolean;
}

/** The five rules of the Password schema: 8 to 128 characters, a-z, A-Z, 0-9, a special character. */
export function passwordRules(pw: string): Rule[] {
  const length = [...pw].length;
  return [
    { key: 'length', label: '8 to 128 characters', ok: length >= 8 && length <= 128 },
    { key: 'lower', label: 'a lower-case letter (a–z)', ok: /[a-z]/.test(pw) },
    { key: 'upper', label: 'an upper-case letter (A–Z)', ok: /[A-Z]/.test(pw) },
    { key: 'digit', label: 'a digit (0–9)', ok: /[0-9]/.test(pw) },
    // Anything but ASCII letters, digits, white space and control characters.
    // eslint-disable-next-line no-control-regex
    { key: 'special', label: 'a special character (such as ! # - or é)', ok: /[^\u0000-\u0020A-Za-z0-9\u007F]/u.test(pw) },
  ];
}

export function passwordOk(pw: string): boolean {
  return passwordRules(pw).every((r) => r.ok);
}

/**
 * Where to go after signing in: `next` only when it is a path of this site
 * ("/..." but not "//..." nor "/\..."), else the catalog.
 */
export function safeNext(next: string | null | undefined, fallback = '/movies'): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return fallback;
  // No control characters or white space (browsers drop some, which could turn "/\t/x" into "//x").
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007F]/.test(next)) return fallback;
  if (next.startsWith('/accounts/login')) return fallback;
  try {
    const base = 'https://cinema.invalid';
    const u = new URL(next, base);
    if (u.origin !== base) return fallback;
    // Dot segments are resolved here: "/.//evil" or "/x/%2e%2e//evil" become "//evil", which a
    // link would take to another site.
    const path = u.pathname + u.search + u.hash;
    if (path.startsWith('//') || path.startsWith('/accounts/login')) return fallback;
    return path;
  } catch {
    return fallback;
  }
}

