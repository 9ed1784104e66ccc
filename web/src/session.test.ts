// The session's renewal logic with fake dependencies: a scripted server
// (fetch), an in-process lock, a BroadcastChannel between Session objects
// (tabs), and vitest's fake clock and timers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from './api/errors';
import { Session, type SessionDeps, type User } from './session';

const USER: User = {
  id: 7,
  email: 'ann@example.com',
  group: 'USER',
  is_active: true,
  created_at: '2026-01-01T00:00:00Z',
  profile: {},
} as unknown as User;

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

type Handler = (init: RequestInit | undefined) => Response | Promise<Response>;

/** A scripted server: per path, a queue of answers (the last one repeats). */
class FakeServer {
  calls: { path: string; init: RequestInit | undefined }[] = [];
  private routes = new Map<string, Handler[]>();
  private tokens = 0;

  constructor() {
    this.on('/api/v1/accounts/me', () => json(200, USER));
    this.on('/api/v1/accounts/refresh', () => this.tokenAnswer(900));
    this.on('/api/v1/accounts/login', () => this.tokenAnswer(900));
    this.on('/api/v1/accounts/logout', () => new Response(null, { status: 204 }));
  }

  tokenAnswer(expiresIn: number): Response {
    this.tokens += 1;
    return json(200, { access_token: `t${this.tokens}`, token_type: 'Bearer', expires_in: expiresIn });
  }

  /** Replaces the answers of a path (each handler answers once; the last one repeats). */
  on(path: string, ...handlers: Handler[]): void {
    this.routes.set(path, handlers);
  }

  count(path: string): number {
    return this.calls.filter((c) => c.path === path).length;
  }

  fetch: typeof fetch = async (input, init) => {
    const path = String(input);
    this.calls.push({ path, init });
    const hs = this.routes.get(path);
    if (!hs?.length) return json(404, { code: 'not_found', detail: 'no route' });
    const h = (hs.length > 1 ? hs.shift() : hs[0]) as Handler;
    return h(init);
  };
}

/** A BroadcastChannel between tabs: a message goes to every other tab, asynchronously. */
class Bus {
  private tabs: ((m: unknown) => void)[] = [];
  channel(): SessionDeps['channel'] {
    let mine: ((m: unknown) => void) | null = null;
    return {
      post: (m) => {
        for (const t of this.tabs) if (t !== mine) queueMicrotask(() => t(structuredClone(m)));
      },
      listen: (fn) => {
        mine = fn as (m: unknown) => void;
        this.tabs.push(mine);
      },
    };
  }
}

/** One lock shared by every tab, like navigator.locks. */
function lock(): SessionDeps['withLock'] {
  let chain: Promise<unknown> = Promise.resolve();
  return <T>(_name: string, fn: () => Promise<T>) => {
    const p = chain.then(fn, fn);
    chain = p.catch(() => undefined);
    return p;
  };
}

interface Tab {
  session: Session;
  expired: ReturnType<typeof vi.fn>;
}

function tab(
  server: FakeServer,
  opts: { hint?: boolean; bus?: Bus; withLock?: SessionDeps['withLock']; clearSessionHint?: () => void } = {},
): Tab {
  const session = new Session({
    clearSessionHint: opts.clearSessionHint,
    fetch: server.fetch,
    withLock: opts.withLock ?? lock(),
    channel: opts.bus?.channel() ?? null,
    hasSessionHint: () => opts.hint ?? false,
    now: () => Date.now(),
    setTimer: (fn, ms) => setTimeout(fn, ms),
    clearTimer: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
  });
  const expired = vi.fn();
  session.onExpired = expired;
  return { session, expired };
}

async function signedIn(server: FakeServer, opts: Parameters<typeof tab>[1] = {}): Promise<Tab> {
  const t = tab(server, { hint: true, ...opts });
  await t.session.boot();
  expect(t.session.current.status).toBe('signed-in');
  return t;
}

function headers(init: RequestInit | undefined): Record<string, string> {
  return Object.fromEntries(new Headers(init?.headers).entries());
}

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-12-05T06:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('boot', () => {
  it('without the hint cookie: anonymous, and nothing is asked of the server', async () => {
    const server = new FakeServer();
    const { session } = tab(server, { hint: false });
    const seen: string[] = [];
    session.subscribe((s) => seen.push(s.status));
    expect(session.current.status).toBe('unknown');
    await session.boot();
    expect(session.current).toEqual({ status: 'anonymous', user: null });
    expect(seen).toEqual(['anonymous']);
    expect(server.calls).toEqual([]);
    expect(await session.token()).toBeNull();
  });

  it('with the hint cookie: renews from the cookie in cookie mode and loads the user', async () => {
    const server = new FakeServer();
    const { session, expired } = tab(server, { hint: true });
    await session.boot();
    expect(session.current).toEqual({ status: 'signed-in', user: USER });
    const refresh = server.calls[0];
    expect(refresh?.path).toBe('/api/v1/accounts/refresh');
    expect(refresh?.init?.method).toBe('POST');
    expect(refresh?.init?.credentials).toBe('same-origin');
    expect(headers(refresh?.init)['x-cinema-session']).toBe('cookie');
    expect(refresh?.init?.body).toBe('{}');
    // A reload during the refresh must not cancel it (the rotated cookie would be lost).
    expect(refresh?.init?.keepalive).toBe(true);
    const me = server.calls[1];
    expect(me?.path).toBe('/api/v1/accounts/me');
    expect(headers(me?.init).authorization).toBe('Bearer t1');
    expect(await session.token()).toBe('t1');
    expect(expired).not.toHaveBeenCalled();
  });

  it('with a stale hint cookie: anonymous, without sending anyone to sign in', async () => {
    const server = new FakeServer();
    server.on('/api/v1/accounts/refresh', () => json(401, { code: 'invalid_token', detail: 'The session has ended.' }));
    const { session, expired } = tab(server, { hint: true });
    await session.boot();
    expect(session.current.status).toBe('anonymous');
    expect(expired).not.toHaveBeenCalled();
    expect(await session.token()).toBeNull();
  });

  it('boots once however often it is asked', async () => {
    const server = new FakeServer();
    const { session } = tab(server, { hint: true });
    await Promise.all([session.boot(), session.boot(), session.token()]);
    expect(server.count('/api/v1/accounts/refresh')).toBe(1);
  });
});

describe('renewal before expiry', () => {
  it('renews 60 s before a 15-minute token expires, and again after that', async () => {
    const server = new FakeServer();
    const { session } = await signedIn(server);
    await vi.advanceTimersByTimeAsync(839_000);
    expect(server.count('/api/v1/accounts/refresh')).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(server.count('/api/v1/accounts/refresh')).toBe(2);
    expect(await session.token()).toBe('t2');
    await vi.advanceTimersByTimeAsync(840_000);
    expect(server.count('/api/v1/accounts/refresh')).toBe(3);
    expect(session.current.status).toBe('signed-in');
    // The user is not loaded again on renewal.
    expect(server.count('/api/v1/accounts/me')).toBe(1);
  });

  it('renews a short-lived token at three quarters of its lifetime', async () => {
    const server = new FakeServer();
    server.on('/api/v1/accounts/refresh', () => server.tokenAnswer(30));
    const { session } = await signedIn(server);
    await vi.advanceTimersByTimeAsync(22_400);
    expect(server.count('/api/v1/accounts/refresh')).toBe(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(server.count('/api/v1/accounts/refresh')).toBe(2);
    expect(await session.token()).toBe('t2');
  });

  it('a token about to expire is renewed before it is handed out', async () => {
    const server = new FakeServer();
    const { session } = await signedIn(server);
    // The timer did not run (a sleeping laptop): the clock jumps close to expiry.
    vi.setSystemTime(Date.now() + 897_000);
    expect(await session.token()).toBe('t2');
    expect(server.count('/api/v1/accounts/refresh')).toBe(2);
  });

  it('offline during a renewal: keeps the token it has and stays signed in', async () => {
    const server = new FakeServer();
    const { session, expired } = await signedIn(server);
    server.on('/api/v1/accounts/refresh', () => Promise.reject(new TypeError('Failed to fetch')));
    await vi.advanceTimersByTimeAsync(840_000);
    expect(session.current.status).toBe('signed-in');
    expect(expired).not.toHaveBeenCalled();
    expect(await session.renew('t1')).toBe('t1');
  });
});

describe('a refresh the server cannot answer', () => {
  it('503 on a renewal: stays signed in, no sign-in page, and renew() gives nothing to retry with', async () => {
    const server = new FakeServer();
    const { session, expired } = await signedIn(server);
    server.on('/api/v1/accounts/refresh', () => json(503, { code: 'database_busy', detail: 'Busy.' }));
    expect(await session.renew('t1')).toBeNull();
    expect(session.current.status).toBe('signed-in');
    expect(expired).not.toHaveBeenCalled();
  });
});

describe('a 401 on a call', () => {
  it('renew() refreshes once, and a second call with the same old token gets the new one without a refresh', async () => {
    const server = new FakeServer();
    const { session } = await signedIn(server);
    expect(await session.renew('t1')).toBe('t2');
    expect(await session.renew('t1')).toBe('t2');
    expect(server.count('/api/v1/accounts/refresh')).toBe(2); // boot + one renewal
  });

  it('two concurrent renewals make one refresh call', async () => {
    const server = new FakeServer();
    const { session } = await signedIn(server);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    server.on('/api/v1/accounts/refresh', async () => {
      await gate;
      return server.tokenAnswer(900);
    });
    const a = session.renew('t1');
    const b = session.renew('t1');
    release();
    expect(await Promise.all([a, b])).toEqual(['t2', 't2']);
    expect(server.count('/api/v1/accounts/refresh')).toBe(2); // boot + one renewal
  });

  it('a failed refresh signs out, tells the other tabs and calls onExpired once', async () => {
    const server = new FakeServer();
    const bus = new Bus();
    const withLock = lock();
    const a = await signedIn(server, { bus, withLock });
    const b = await signedIn(server, { bus, withLock });
    server.on('/api/v1/accounts/refresh', () => json(401, { code: 'invalid_token', detail: 'The session has ended.' }));
    expect(await a.session.renew((await a.session.token()) ?? '')).toBeNull();
    expect(a.session.current).toEqual({ status: 'anonymous', user: null });
    expect(a.expired).toHaveBeenCalledTimes(1);
    expect(await a.session.token()).toBeNull();
    await vi.advanceTimersByTimeAsync(0);
    expect(b.session.current.status).toBe('anonymous');
    expect(b.expired).toHaveBeenCalledTimes(1);
    // Signed out: no timer renews anything any more.
    const calls = server.calls.length;
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(server.calls.length).toBe(calls);
  });

  it('expired() signs out and calls onExpired; when already signed out it does nothing', async () => {
    const server = new FakeServer();
    const { session, expired } = await signedIn(server);
    session.expired();
    expect(session.current.status).toBe('anonymous');
    session.expired();
    expect(expired).toHaveBeenCalledTimes(1);
  });
});

describe('sign-in and sign-out', () => {
  it('login in cookie mode: signed in with the user; a refused login throws the ApiError', async () => {
    const server = new FakeServer();
    const { session } = tab(server);
    await session.boot();
    server.on(
      '/api/v1/accounts/login',
      () => json(401, { code: 'invalid_credentials', detail: 'The email or password is wrong.' }),
      () => server.tokenAnswer(900),
    );
    const refused = await session.login('ann@example.com', 'nope').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 401, code: 'invalid_credentials', message: 'The email or password is wrong.' });
    expect(session.current.status).toBe('anonymous');

    await session.login('ann@example.com', 'Secret#123');
    expect(session.current).toEqual({ status: 'signed-in', user: USER });
    const login = server.calls.filter((c) => c.path === '/api/v1/accounts/login')[1];
    expect(headers(login?.init)['x-cinema-session']).toBe('cookie');
    expect(login?.init?.credentials).toBe('same-origin');
    expect(JSON.parse(String(login?.init?.body))).toEqual({ email: 'ann@example.com', password: 'Secret#123' });
  });

  it('logout ends the session on the server and in the other tab', async () => {
    const server = new FakeServer();
    const bus = new Bus();
    const withLock = lock();
    const a = await signedIn(server, { bus, withLock });
    const b = await signedIn(server, { bus, withLock });
    const token = await a.session.token();
    await a.session.logout();
    const logout = server.calls.find((c) => c.path === '/api/v1/accounts/logout');
    expect(headers(logout?.init).authorization).toBe(`Bearer ${token}`);
    expect(headers(logout?.init)['x-cinema-session']).toBe('cookie');
    expect(logout?.init?.keepalive).toBe(true);
    expect(a.session.current.status).toBe('anonymous');
    expect(a.expired).not.toHaveBeenCalled(); // the user chose to leave: no "session expired"
    await vi.advanceTimersByTimeAsync(0);
    expect(b.session.current.status).toBe('anonymous');
    expect(b.expired).toHaveBeenCalledTimes(1); // the other tab goes to the sign-in page
    expect(await b.session.token()).toBeNull();
  });

  it('logout after the token expired unseen (a sleeping laptop) renews it first, so the server ends the session', async () => {
    const server = new FakeServer();
    const { session } = await signedIn(server);
    vi.setSystemTime(Date.now() + 3_600_000); // the renewal timer never ran
    await session.logout();
    const logout = server.calls.find((c) => c.path === '/api/v1/accounts/logout');
    expect(headers(logout?.init).authorization).toBe('Bearer t2');
    expect(server.count('/api/v1/accounts/refresh')).toBe(2);
    expect(session.current.status).toBe('anonymous');
  });

  it('logout answered 401 (the token was revoked) renews once and tries again', async () => {
    const server = new FakeServer();
    server.on(
      '/api/v1/accounts/logout',
      () => json(401, { code: 'token_expired', detail: 'The access token has expired.' }),
      () => new Response(null, { status: 204 }),
    );
    const { session, expired } = await signedIn(server);
    await session.logout();
    const logouts = server.calls.filter((c) => c.path === '/api/v1/accounts/logout');
    expect(logouts.map((c) => headers(c.init).authorization)).toEqual(['Bearer t1', 'Bearer t2']);
    expect(session.current.status).toBe('anonymous');
    expect(expired).not.toHaveBeenCalled();
  });

  it('logout while the server cannot be reached still signs out here, and drops the hint cookie', async () => {
    const server = new FakeServer();
    server.on('/api/v1/accounts/logout', () => Promise.reject(new TypeError('Failed to fetch')));
    const clearSessionHint = vi.fn();
    const { session } = await signedIn(server, { clearSessionHint });
    await session.logout();
    expect(session.current.status).toBe('anonymous');
    expect(clearSessionHint).toHaveBeenCalledTimes(1); // a reload does not sign back in
  });

  it('a logout the server confirms leaves the cookies to its answer', async () => {
    const server = new FakeServer();
    const clearSessionHint = vi.fn();
    const { session } = await signedIn(server, { clearSessionHint });
    await session.logout();
    expect(clearSessionHint).not.toHaveBeenCalled();
  });
});

describe('messages from another tab', () => {
  it('a token renewed by one tab is used by the other, which does not refresh itself', async () => {
    const server = new FakeServer();
    const bus = new Bus();
    const withLock = lock();
    const a = await signedIn(server, { bus, withLock });
    const b = tab(server, { bus, withLock }); // opened later, before its boot
    await b.session.boot();
    expect(b.session.current.status).toBe('anonymous');
    expect(await a.session.renew('t1')).toBe('t2');
    await vi.advanceTimersByTimeAsync(0);
    expect(b.session.current).toEqual({ status: 'signed-in', user: USER });
    const refreshes = server.count('/api/v1/accounts/refresh');
    expect(await b.session.token()).toBe('t2');
    expect(await b.session.renew('t1')).toBe('t2');
    expect(server.count('/api/v1/accounts/refresh')).toBe(refreshes);
  });

  it("two tabs whose timers fire together renew once: the second finds the first one's token", async () => {
    const server = new FakeServer();
    const bus = new Bus();
    const withLock = lock();
    const a = await signedIn(server, { bus, withLock });
    const b = tab(server, { bus, withLock, hint: true });
    // b boots from the cookie while a holds t1: b's refresh rotates to t2, and a adopts it.
    await b.session.boot();
    await vi.advanceTimersByTimeAsync(0);
    expect(await a.session.token()).toBe('t2');
    const before = server.count('/api/v1/accounts/refresh');
    await vi.advanceTimersByTimeAsync(840_000);
    expect(server.count('/api/v1/accounts/refresh')).toBe(before + 1);
    expect(await a.session.token()).toBe(await b.session.token());
  });
});
