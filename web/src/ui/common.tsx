// Small shared pieces: error and status messages, loading and empty states,
// pagination, form fields. Every message is text (never HTML).
import type { ComponentChildren, JSX } from 'preact';
import { useId } from 'preact/hooks';
import { ApiError, describe } from '../api/errors';
import { countNumber, nearPages } from './paging';

export function ErrorMessage({ error, retry }: { error: unknown; retry?: () => void }) {
  if (!error) return null;
  return (
    <div class="alert alert-error" role="alert">
      <p>{describe(error)}</p>
      {retry && (
        <button type="button" class="btn btn-small" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Notice({ kind = 'info', children }: { kind?: 'info' | 'success' | 'warning'; children: ComponentChildren }) {
  return (
    <div class={`alert alert-${kind}`} role="status">
      {children}
    </div>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

/**
 * Previous / page x of n / next, as links that keep the rest of the query.
 * `next` (the app's href of the API's `next_page`, null when none) replaces
 * the numbered next page: past page 5 it carries a cursor. With `estimated`
 * (the total is PostgreSQL's estimate) there is no "of n": Previous, page 1
 * and the pages near this one, Next (see nearPages).
 */
export function Pagination({
  page,
  totalPages,
  hrefFor,
  next,
  estimated = false,
}: {
  page: number;
  totalPages: number;
  hrefFor: (p: number) => string;
  next?: string | null;
  estimated?: boolean;
}) {
  const nextHref = next !== undefined ? next : page < totalPages ? hrefFor(page + 1) : null;
  if (estimated ? page <= 1 && !nextHref : totalPages <= 1) return null;
  return (
    <nav class={`pagination${estimated ? ' pagination-near' : ''}`} aria-label="Pages">
      {page > 1 ? (
        <a class="btn page-prev" href={hrefFor(page - 1)} rel="prev">
          ← Previous
        </a>
      ) : (
        <span class="btn page-prev" aria-disabled="true">
          ← Previous
        </span>
      )}
      {estimated ? (
        <ol class="page-numbers">
          {nearPages(page, totalPages, nextHref !== null).map((p, i) =>
            p === null ? (
              <li key={`gap${i}`} class="page-gap" aria-hidden="true">
                …
              </li>
            ) : p === page ? (
              <li key={p}>
                <span class="page-number" aria-current="page">
                  <span class="visually-hidden">Page </span>
                  {countNumber(p)}
                </span>
              </li>
            ) : (
              <li key={p}>
                <a class="page-number" href={p === page + 1 && nextHref ? nextHref : hrefFor(p)}>
                  <span class="visually-hidden">Page </span>
                  {countNumber(p)}
                </a>
              </li>
            ),
          )}
        </ol>
      ) : (
        <span class="page-of" aria-current="page">
          Page {countNumber(page)} of {countNumber(totalPages)}
        </span>
      )}
      {nextHref ? (
        <a class="btn page-next" href={nextHref} rel="next">
          Next →
        </a>
      ) : (
        <span class="btn page-next" aria-disabled="true">
          Next →
        </span>
      )}
    </nav>
  );
}

/**
 * An empty page past the end of a list that has items: the last page when
 * the total is counted, else (an estimate: where the list ends is not
 * known) the first.
 */
export function PastTheEnd({ totalPages, exact, hrefFor }: { totalPages: number; exact: boolean; hrefFor: (p: number) => string }) {
  return exact ? (
    <Empty>
      <p>There {totalPages === 1 ? 'is only 1 page' : `are only ${countNumber(totalPages)} pages`}.</p>
      <a href={hrefFor(totalPages)}>Go to the last page</a>
    </Empty>
  ) : (
    <Empty>
      <p>This page is past the end of the list.</p>
      <a href={hrefFor(1)}>Back to the first page</a>
    </Empty>
  );
}

interface FieldProps {
  label: string;
  error?: string | undefined;
  hint?: ComponentChildren;
}

interface ControlAttrs {
  id: string;
  'aria-invalid': 'true' | undefined;
  'aria-describedby': string | undefined;
}

/** A label, the control, its hint and its error (from a 422 or the client's own checks), tied by ids. */
function Labelled({ label, error, hint, control }: FieldProps & { control: (a: ControlAttrs) => JSX.Element }) {
  const id = useId();
  const described = [hint ? `${id}-hint` : '', error ? `${id}-err` : ''].filter(Boolean).join(' ');
  return (
    <div class={`field${error ? ' field-invalid' : ''}`}>
      <label for={id}>{label}</label>
      {control({ id, 'aria-invalid': error ? 'true' : undefined, 'aria-describedby': described || undefined })}
      {hint && (
        <div class="hint" id={`${id}-hint`}>
          {hint}
        </div>
      )}
      {error && (
        <p class="field-error" id={`${id}-err`} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** A labelled <input>. */
export function Field({ label, error, hint, ...input }: Omit<JSX.InputHTMLAttributes<HTMLInputElement>, 'label'> & FieldProps) {
  return <Labelled label={label} error={error} hint={hint} control={(a) => <input {...a} {...input} />} />;
}

/** A labelled <select>. */
export function SelectField({ label, error, hint, ...select }: Omit<JSX.SelectHTMLAttributes<HTMLSelectElement>, 'label'> & FieldProps) {
  return <Labelled label={label} error={error} hint={hint} control={(a) => <select {...a} {...select} />} />;
}

/** A labelled <textarea>. */
export function TextAreaField({ label, error, hint, ...area }: Omit<JSX.TextareaHTMLAttributes<HTMLTextAreaElement>, 'label'> & FieldProps) {
  return <Labelled label={label} error={error} hint={hint} control={(a) => <textarea {...a} {...area} />} />;
}

/** The error of a form as a whole: the server's sentence unless every field error is shown by its field. */
export function FormError({ error, shown = [] }: { error: unknown; shown?: string[] }) {
  if (!error) return null;
  if (error instanceof ApiError && error.status === 422) {
    const rest = Object.entries(error.fields).filter(([f]) => !shown.includes(f));
    if (rest.length === 0) return <ErrorMessage error={new ApiError(422, error.code, 'Please correct the fields marked below.')} />;
    return (
      <div class="alert alert-error" role="alert">
        <p>{error.message}</p>
        <ul>
          {rest.map(([f, m]) => (
            <li key={f}>
              {f}: {m}
            </li>
          ))}
        </ul>
      </div>
    );
  }
  return <ErrorMessage error={error} />;
}

export function fieldError(error: unknown, name: string): string | undefined {
  return error instanceof ApiError ? error.field(name) : undefined;
}
