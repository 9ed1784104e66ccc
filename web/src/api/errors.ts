// Every failed API call becomes an ApiError: the HTTP status, the server's
// stable code, its sentence, and for a 422 the message of each field, so a
// form can place each message next to its control.
export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: Record<string, string>;
  readonly retryAfter: number | null;

  constructor(status: number, code: string, detail: string, fields: FieldError[] = [], retryAfter: number | null = null) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = {};
    for (const f of fields) this.fields[f.field] ??= f.message;
    this.retryAfter = retryAfter;
  }

  /** The server's message for one field (of a 422), or undefined. */
  field(name: string): string | undefined {
    return this.fields[name];
  }
}

export const NETWORK_ERROR = 'network_error';

function isErrorBody(v: unknown): v is { detail: string; code: string; errors?: FieldError[] } {
  return typeof v === 'object' && v !== null && typeof (v as { detail?: unknown }).detail === 'string';
}

/** Turns a response and its parsed error body into an ApiError. */
export function toApiError(response: Response, body: unknown): ApiError {
  const ra = Number(response.headers.get('Retry-After'));
  const retry = Number.isFinite(ra) && ra > 0 ? ra : null;
  if (isErrorBody(body)) return new ApiError(response.status, body.code, body.detail, body.errors ?? [], retry);
  const detail =
    response.status >= 500
      ? 'The server could not answer just now; try again in a moment.'
      : `The request failed (HTTP ${response.status}).`;
  return new ApiError(response.status, `http_${response.status}`, detail, [], retry);
}

export function networkError(): ApiError {
  return new ApiError(0, NETWORK_ERROR, 'Could not reach the server; check your connection and try again.');
}

/** A sentence for any thrown value, for places that show an error. */
export function describe(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 429 && e.retryAfter) return `${e.message} (try again in ${e.retryAfter} s)`;
    return e.message;
  }
  return 'Something went wrong; try again.';
}
