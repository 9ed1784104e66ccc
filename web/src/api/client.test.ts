// The typed client over a fake network: errors become ApiErrors (status,
// code, sentence, 422 fields, Retry-After), a failed connection becomes the
// network error, and a 401 on a call that carried a token renews the session
// once and retries the same request with the new token.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// Requests in the app are relative to the page; Node's Request needs an origin.
vi.hoisted(() => {
  const Base = globalThis.Request;
  globalThis.Request = class extends Base {
    constructor(input: RequestInfo | URL, init?: RequestInit) {
      super(typeof input === 'string' && input.startsWith('/') ? `http://app.test${input}` : input, init);
    }
  } as typeof Request;
});

const session = vi.hoisted(() => ({
  token: vi.fn<() => Promise<string | null>>(),
  renew: vi.fn<(used: string) => Promise<string | null>>(),
  expired: vi.fn<() => void>(),
}));
vi.mock('../session', () => ({ session }));

import { api, call } from './client';
import { ApiError, describe as describeError, NETWORK_ERROR } from './errors';

interface Seen {
  method: string;
  url: string;
  auth: string | null;
  body: string;
}

let seen: Seen[] = [];
let answers: ((req: Request) => Response | Promise<Response>)[] = [];

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

beforeEach(() => {
  seen = [];
  answers = [];
  session.token.mockReset().mockResolvedValue('old');
  session.renew.mockReset().mockResolvedValue('new');
  session.expired.mockReset();
  vi.stubGlobal('fetch', async (req: Request) => {
    seen.push({
      method: req.method,
      url: req.url,
      auth: req.headers.get('Authorization'),
      body: req.body ? await req.clone().text() : '',
    });
    const next = answers.shift();
    if (!next) throw new Error(`unexpected request ${req.method} ${req.url}`);
    return next(req);
  });
});
afterEach(() => {
  vi.unstubAllGlobals();
});

const movies = () => call(api.GET('/api/v1/movies', { params: { query: { page: 2, search: 'noir' } } }));
const rate = () => call(api.PUT('/api/v1/movies/{id}/rating', { params: { path: { id: 5 } }, body: { score: 8 } }));

describe('call', () => {
  it('answers the data, and sends the access token and the query', async () => {
    const page = { items: [], page: 2, per_page: 20, total_items: 0, total_pages: 0, prev_page: null, next_page: null };
    answers.push(() => json(200, page));
    await expect(movies()).resolves.toEqual(page);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.url).toBe('http://app.test/api/v1/movies?page=2&search=noir');
    expect(seen[0]?.auth).toBe('Bearer old');
  });

  it('sends no Authorization header when signed out', async () => {
    session.token.mockResolvedValue(null);
    answers.push(() => json(200, { items: [] }));
    await movies();
    expect(seen[0]?.auth).toBeNull();
  });

  it('a 204 answers undefined', async () => {
    answers.push(() => new Response(null, { status: 204 }));
    await expect(call(api.DELETE('/api/v1/movies/{id}/rating', { params: { path: { id: 5 } } }))).resolves.toBeUndefined();
  });
});

describe('errors', () => {
  it("an error body becomes an ApiError with the server's status, code and sentence", async () => {
    answers.push(() => json(404, { code: 'not_found', detail: 'No movie has this id.' }));
    const e = await movies().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ status: 404, code: 'not_found', message: 'No movie has this id.', retryAfter: null });
    expect(describeError(e)).toBe('No movie has this id.');
  });

  it("a 422 keeps each field's first message", async () => {
    answers.push(() =>
      json(422, {
        code: 'validation_failed',
        detail: 'Some fields are invalid.',
        errors: [
          { field: 'score', message: 'must be between 1 and 10' },
          { field: 'score', message: 'must be a whole number' },
          { field: 'comment', message: 'is too long' },
        ],
      }),
    );
    const e = (await rate().catch((x: unknown) => x)) as ApiError;
    expect(e.status).toBe(422);
    expect(e.fields).toEqual({ score: 'must be between 1 and 10', comment: 'is too long' });
    expect(e.field('score')).toBe('must be between 1 and 10');
    expect(e.field('email')).toBeUndefined();
  });

  it('a 429 carries Retry-After into the message', async () => {
    answers.push(() => json(429, { code: 'rate_limited', detail: 'Too many requests.' }, { 'Retry-After': '30' }));
    const e = (await movies().catch((x: unknown) => x)) as ApiError;
    expect(e.retryAfter).toBe(30);
    expect(describeError(e)).toBe('Too many requests. (try again in 30 s)');
  });

  it('an answer without an error body still says what happened', async () => {
    answers.push(() => new Response('<html>Bad gateway</html>', { status: 502, headers: { 'Content-Type': 'text/html' } }));
    const e = (await movies().catch((x: unknown) => x)) as ApiError;
    expect(e).toMatchObject({ status: 502, code: 'http_502' });
    expect(e.message).toMatch(/could not answer/);
    answers.push(() => new Response('nope', { status: 418 }));
    const f = (await movies().catch((x: unknown) => x)) as ApiError;
    expect(f).toMatchObject({ status: 418, code: 'http_418', message: 'The request failed (HTTP 418).' });
  });

  it('a failed connection is the network error', async () => {
    answers.push(() => Promise.reject(new TypeError('Failed to fetch')));
    const e = (await movies().catch((x: unknown) => x)) as ApiError;
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ status: 0, code: NETWORK_ERROR });
    expect(describeError(e)).toMatch(/Could not reach the server/);
  });

  it('anything else thrown gets a general sentence', () => {
    expect(describeError(new Error('x'))).toBe('Something went wrong; try again.');
  });
});

describe('a 401 on a call that carried a token', () => {
  it('renews once and retries the same request, body included, with the new token', async () => {
    answers.push(
      () => json(401, { code: 'token_expired', detail: 'The access token has expired.' }),
      () => json(200, { score: 8 }),
    );
    await expect(rate()).resolves.toEqual({ score: 8 });
    expect(session.renew).toHaveBeenCalledTimes(1);
    expect(session.renew).toHaveBeenCalledWith('old');
    expect(seen.map((s) => [s.method, s.auth, s.body])).toEqual([
      ['PUT', 'Bearer old', '{"score":8}'],
      ['PUT', 'Bearer new', '{"score":8}'],
    ]);
    expect(session.expired).not.toHaveBeenCalled();
  });

  it('a second 401 after the retry is the error: no loop', async () => {
    answers.push(
      () => json(401, { code: 'token_expired', detail: 'The access token has expired.' }),
      () => json(401, { code: 'invalid_token', detail: 'The session has ended.' }),
    );
    const e = (await rate().catch((x: unknown) => x)) as ApiError;
    expect(e).toMatchObject({ status: 401, code: 'invalid_token' });
    expect(seen).toHaveLength(2);
    expect(session.renew).toHaveBeenCalledTimes(1);
  });

  it('when the session cannot be renewed, the 401 is the answer (the session itself decides to sign out)', async () => {
    session.renew.mockResolvedValue(null);
    answers.push(() => json(401, { code: 'token_expired', detail: 'The access token has expired.' }));
    const e = (await rate().catch((x: unknown) => x)) as ApiError;
    expect(e).toMatchObject({ status: 401, code: 'token_expired' });
    expect(session.expired).not.toHaveBeenCalled();
    expect(seen).toHaveLength(1);
  });

  it('a 401 without a token (signed out) is simply the answer', async () => {
    session.token.mockResolvedValue(null);
    answers.push(() => json(401, { code: 'unauthorized', detail: 'Sign in first.' }));
    const e = (await rate().catch((x: unknown) => x)) as ApiError;
    expect(e.status).toBe(401);
    expect(session.renew).not.toHaveBeenCalled();
    expect(session.expired).not.toHaveBeenCalled();
  });

  it('the network failing on the retry is the network error', async () => {
    answers.push(
      () => json(401, { code: 'token_expired', detail: 'The access token has expired.' }),
      () => Promise.reject(new TypeError('Failed to fetch')),
    );
    const e = (await rate().catch((x: unknown) => x)) as ApiError;
    expect(e.code).toBe(NETWORK_ERROR);
  });
});
