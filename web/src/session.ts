// The signed-in session, held in memory only. The refresh token lives in an
// HttpOnly cookie that scripts cannot read (cookie mode of the accounts
// endpoints, header X-Cinema-Session: cookie); the access token lives here
// and is renewed before it expires and after a reload. Tabs take turns with
// the Web Locks API so two of them never present the same refresh token (the
// server would see a reuse and end the session), and tell each other about
// new tokens and sign-outs over a BroadcastChannel.
import { toApiError } from './api/errors';
import type { components } from './api/schema';

export type User = components['schemas']['User'];
export type SessionStatus = 'unknown' | 'anonymous' | 'signed-in';

export interface SessionState {
  status: SessionStatus;
  user: User | null;
}

const ACCOUNTS = '/api/v1/accounts';
const MODE = { 'X-Cinema-Session': 'cookie' };
/** Renew this long before expiry (or at 3/4 of a shorter lifetime). */
const MARGIN_MS = 60_000;

interface Message {
  type: 'token' | 'signed-out';
  token?: string;
  expiresAt?: number;
  user?: User | null;
}

export interface SessionDeps {
  fetch: typeof fetch;
  /** Runs fn while holding the named exclusive lock (all tabs). */
  withLock: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
  channel: { post(m: Message): void; listen(fn: (m: Message) => void): void } | null;
  /** Whether the server's hint cookie says a session may exist. */
  hasSessionHint: () => boolean;
  /** Drops the hint cookie (a sign-out the server did not confirm: the next page starts signed out). */
  clearSessionHint?: () => void;
  now: () => number;
  setTimer: (fn: () => void, ms: number) => unknown;
  clearTimer: (t: unknown) => void;
}

export class Session {
  private deps: SessionDeps;
  private access: { token: string; expiresAt: number; lifetime: number } | null = null;
  private state: SessionState = { status: 'unknown', user: null };
  private listeners = new Set<(s: SessionState) => void>();
  private booting: Promise<void> | null = null;
  private timer: unknown = null;
  /** Called when a session ends by itself (expired, ended elsewhere): the app sends the user to sign in. */
  onExpired: (() => void) | null = null;

  constructor(deps: SessionDeps) {
    this.deps = deps;
    deps.channel?.listen((m) => this.onMessage(m));
  }

  get current(): SessionState {
    return this.state;
  }

  subscribe(fn: (s: SessionState) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** At start: renews the session from the cookie when there may be one. */
  boot(): Promise<void> {
    this.booting ??= (async () => {
      if (!this.deps.hasSessionHint()) {
        this.set({ status: 'anonymous', user: null });
        return;
      }
      const token = await this.refresh(null);
      if (!token) this.set({ status: 'anonymous', user: null });
    })();
    return this.booting;
  }

  /** The access token to send now (null when signed out), renewed first if it is about to expire. */
  async token(): Promise<string | null> {
    if (this.booting) await this.booting;
    const a = this.access;
    if (!a) return null;
    if (a.expiresAt - this.deps.now() > 5_000) return a.token;
    return this.refresh(a.token);
  }

  /** After a 401 on a call sent with `used`: renews unless another call already did. */
  async renew(used: string): Promise<string | null> {
    if (this.access && this.access.token !== used) return this.access.token;
    return this.refresh(used);
  }

  /** Signs in; throws the server's answer (status, code, detail) on failure. */
  async login(email: string, password: string): Promise<void> {
    const res = await this.deps.fetch(`${ACCOUNTS}/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...MODE },
      body: JSON.stringify({ email, password }),
      credentials: 'same-origin',
    });
    const body: unknown = await res.json().catch(() => null);
    if (!res.ok) throw toApiError(res, body);
    this.state = { status: this.state.status, user: null };
    await this.accept(body as { access_token: string; expires_in: number });
  }

  /** Ends the session on the server and in every tab. */
  async logout(): Promise<void> {
    const send = (token: string) =>
      this.deps
        .fetch(`${ACCOUNTS}/logout`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, ...MODE },
          body: '{}',
          credentials: 'same-origin',
          keepalive: true, // closing the tab right after "Sign out" still ends the session
        })
        .catch(() => null);
    // A token that expired unseen (the timer did not run while the device
    // slept) is renewed first: the server ends the session only for a valid one.
    const token = this.access ? await this.token() : null;
    let ended = false;
    if (token) {
      let res = await send(token);
      if (res?.status === 401) {
        const fresh = await this.renew(token);
        if (fresh) res = await send(fresh);
      }
      ended = res?.ok ?? false;
    }
    // Unconfirmed (offline, 5xx): the server still holds the session and the
    // refresh cookie stays, but the hint goes, so a reload does not sign the
    // user back in; the next sign-in replaces the cookie.
    if (!ended) this.deps.clearSessionHint?.();
    this.signedOut(true);
  }

  /** A call found the session gone (401 after a renewal attempt). */
  expired(): void {
    if (this.state.status !== 'signed-in') return;
    this.signedOut(true);
    this.onExpired?.();
  }

  /** Re-reads the user (after a profile change). */
  async reloadUser(): Promise<void> {
    const token = await this.token();
    if (!token) return;
    const user = await this.fetchMe(token);
    if (user) this.set({ status: 'signed-in', user });
  }

  private async refresh(used: string | null): Promise<string | null> {
    return this.deps.withLock('cinema-refresh', async () => {
      // Another tab (or call) may have renewed while we waited for the lock.
      const a = this.access;
      if (a && a.token !== used && a.expiresAt - this.deps.now() > 5_000) return a.token;
      let res: Response;
      try {
        // keepalive: a reload or a click away while this is in flight must not
        // cancel it. The server may already have rotated the refresh token;
        // the browser then still stores the new cookie from the answer, where a
        // cancelled request would leave the old one, and the next page's
        // refresh would present a used token (reuse: the server ends the session).
        res = await this.deps.fetch(`${ACCOUNTS}/refresh`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...MODE },
          body: '{}',
          credentials: 'same-origin',
          keepalive: true,
        });
      } catch {
        // Offline: keep what we have; the next call tries again.
        return a?.token ?? null;
      }
      if (!res.ok) {
        if (res.status === 401 || res.status === 403) {
          const was = this.state.status === 'signed-in';
          this.signedOut(true);
          if (was) this.onExpired?.();
        }
        return null;
      }
      const body = (await res.json()) as { access_token: string; expires_in: number };
      await this.accept(body);
      return body.access_token;
    });
  }

  private async accept(body: { access_token: string; expires_in: number }): Promise<void> {
    const lifetime = body.expires_in * 1000;
    this.access = { token: body.access_token, expiresAt: this.deps.now() + lifetime, lifetime };
    const user = this.state.user ?? (await this.fetchMe(body.access_token));
    this.set({ status: user ? 'signed-in' : 'anonymous', user });
    this.schedule();
    this.deps.channel?.post({ type: 'token', token: body.access_token, expiresAt: this.access.expiresAt, user });
  }

  private async fetchMe(token: string): Promise<User | null> {
    try {
      const res = await this.deps.fetch(`${ACCOUNTS}/me`, { headers: { Authorization: `Bearer ${token}` } });
      return res.ok ? ((await res.json()) as User) : null;
    } catch {
      return null;
    }
  }

  private schedule(): void {
    if (this.timer !== null) this.deps.clearTimer(this.timer);
    this.timer = null;
    const a = this.access;
    if (!a) return;
    const margin = Math.min(MARGIN_MS, a.lifetime / 4);
    const wait = Math.max(1_000, a.expiresAt - margin - this.deps.now());
    this.timer = this.deps.setTimer(() => {
      this.timer = null;
      void this.refresh(a.token);
    }, wait);
  }

  private signedOut(broadcast: boolean): void {
    this.access = null;
    if (this.timer !== null) this.deps.clearTimer(this.timer);
    this.timer = null;
    this.set({ status: 'anonymous', user: null });
    if (broadcast) this.deps.channel?.post({ type: 'signed-out' });
  }

  private onMessage(m: Message): void {
    if (m.type === 'signed-out') {
      const was = this.state.status === 'signed-in';
      this.signedOut(false);
      if (was) this.onExpired?.();
    } else if (m.type === 'token' && m.token && m.expiresAt) {
      const lifetime = this.access?.lifetime ?? m.expiresAt - this.deps.now();
      this.access = { token: m.token, expiresAt: m.expiresAt, lifetime };
      this.set({ status: m.user ? 'signed-in' : this.state.status, user: m.user ?? this.state.user });
      this.schedule();
    }
  }

  private set(s: SessionState): void {
    this.state = s;
    for (const l of this.listeners) l(s);
  }
}

function broadcast(): SessionDeps['channel'] {
  if (typeof window === 'undefined' || typeof BroadcastChannel === 'undefined') return null;
  const bc = new BroadcastChannel('cinema-session');
  return {
    post: (m) => bc.postMessage(m),
    listen: (fn) => {
      bc.onmessage = (e: MessageEvent<Message>) => fn(e.data);
    },
  };
}

function browserDeps(): SessionDeps {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  let chain: Promise<unknown> = Promise.resolve();
  return {
    fetch: (...a) => fetch(...a),
    withLock: locks
      ? <T>(name: string, fn: () => Promise<T>) => locks.request(name, fn) as Promise<T>
      : (_name, fn) => {
          // No Web Locks: serialize within this tab at least.
          const p = chain.then(fn, fn);
          chain = p.catch(() => undefined);
          return p;
        },
    channel: broadcast(),
    hasSessionHint: () => typeof document !== 'undefined' && /(?:^|;\s*)cinema_session=/.test(document.cookie),
    clearSessionHint: () => {
      if (typeof document !== 'undefined') document.cookie = 'cinema_session=; Path=/; Max-Age=0; SameSite=Strict';
    },
    now: () => Date.now(),
    setTimer: (fn, ms) => setTimeout(fn, ms),
    clearTimer: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
  };
}

export const session = new Session(browserDeps());
