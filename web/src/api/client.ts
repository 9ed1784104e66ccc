// The typed API client: every path, parameter and body comes from
// schema.d.ts, generated from openapi.yaml (`npm run gen:api`; CI checks it
// is fresh). Calls carry the in-memory access token; a 401 on a call that
// carried one renews the session once and retries.
import createClient from 'openapi-fetch';
import { session } from '../session';
import { ApiError, networkError, toApiError } from './errors';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];

async function authFetch(req: Request): Promise<Response> {
  const retry = req.clone();
  const token = await session.token();
  if (token) req.headers.set('Authorization', `Bearer ${token}`);
  let res: Response;
  try {
    res = await fetch(req);
  } catch {
    throw networkError();
  }
  if (res.status !== 401 || !token) return res;
  // The session signs out by itself when the server refuses the refresh;
  // a refresh that failed otherwise (5xx, 429, offline) leaves the session
  // as it is and this 401 as the answer.
  const fresh = await session.renew(token);
  if (!fresh) return res;
  retry.headers.set('Authorization', `Bearer ${fresh}`);
  try {
    return await fetch(retry);
  } catch {
    throw networkError();
  }
}

export const api = createClient<paths>({ baseUrl: '', fetch: authFetch });

interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a call, or throws its ApiError (204 gives undefined). */
export async function call<T>(p: Promise<Result<T>>): Promise<T> {
  let r: Result<T>;
  try {
    r = await p;
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw networkError();
  }
  if (!r.response.ok) throw toApiError(r.response, r.error);
  return r.data as T;
}
