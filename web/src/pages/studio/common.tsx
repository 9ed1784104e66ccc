// Pieces shared by the studio (moderators) and admin pages: the studio's
// tabs, a confirmation dialog, the sentences that explain the server's 409s,
// and the query and props helpers of their list pages.
import type { ComponentChildren } from 'preact';
import { useEffect, useId, useLayoutEffect, useRef } from 'preact/hooks';
import { ApiError } from '../../api/errors';
import { useLocation } from '../../router';
import '../../styles/studio.css';

const TABS: [string, string][] = [
  ['/studio/movies', 'Movies'],
  ['/studio/genres', 'Genres'],
  ['/studio/stars', 'Stars'],
  ['/studio/directors', 'Directors'],
  ['/studio/certifications', 'Certifications'],
  ['/studio/sales', 'Sales'],
];

export function StudioNav() {
  const { path } = useLocation();
  return (
    <nav class="studio-nav" aria-label="Studio">
      <ul class="tabs">
        {TABS.map(([href, label]) => {
          const here = path === href || path.startsWith(`${href}/`);
          return (
            <li key={href}>
              <a href={href} aria-current={here ? 'page' : undefined}>
                {label}
              </a>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

/** A page of the studio: its tabs, then the page. */
export function StudioPage({ children, wide = true }: { children: ComponentChildren; wide?: boolean }) {
  return (
    <section class={`page studio${wide ? '' : ' studio-narrow'}`}>
      <StudioNav />
      {children}
    </section>
  );
}

/**
 * A modal confirmation (native <dialog>: focus stays inside, Escape closes).
 * Rendered only while open; onClose runs when it is dismissed.
 */
export function ConfirmDialog({
  title,
  children,
  onClose,
  actions,
}: {
  title: string;
  children: ComponentChildren;
  onClose: () => void;
  actions: ComponentChildren;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => {
      if (d?.open) d.close();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby={`${id}-title`}
      onClose={onClose}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <h2 id={`${id}-title`}>{title}</h2>
      <div class="dialog-body">{children}</div>
      <div class="row dialog-actions">
        <button type="button" class="btn" onClick={onClose}>
          {actions ? 'Cancel' : 'Close'}
        </button>
        {actions}
      </div>
    </dialog>
  );
}

export type LookupKind = 'genre' | 'star' | 'director' | 'certification';

export const KIND: Record<LookupKind, { one: string; many: string; title: string; filter: string; max: number }> = {
  genre: { one: 'genre', many: 'genres', title: 'Genres', filter: 'genre', max: 100 },
  star: { one: 'star', many: 'stars', title: 'Stars', filter: 'star', max: 200 },
  director: { one: 'director', many: 'directors', title: 'Directors', filter: 'director', max: 200 },
  certification: { one: 'certification', many: 'certifications', title: 'Certifications', filter: 'certification', max: 32 },
};

/** Why a lookup could not be deleted, in words. */
export function explainLookupDelete(e: unknown, kind: LookupKind, name: string): string | null {
  if (!(e instanceof ApiError)) return null;
  const k = KIND[kind];
  if (e.status === 409 && e.code === 'in_use')
    return `“${name}” cannot be deleted while movies use it. ${e.message} Remove the ${k.one} from those movies first (or give them another one), then delete it.`;
  if (e.status === 404) return `“${name}” no longer exists: someone else may have deleted it. The list has been refreshed.`;
  return null;
}

/** The sentence for a 409 on a lookup's name (create or rename). */
export function explainName(e: unknown, kind: LookupKind): string | undefined {
  if (!(e instanceof ApiError)) return undefined;
  if (e.status === 409 && e.code === 'name_taken')
    return `${e.message} Each ${KIND[kind].one} needs its own name (upper and lower case count as different).`;
  return e.field('name');
}

/** Reads a whole number from the query (page...), or the fallback. */
export function intParam(v: string | null, fallback: number): number {
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/**
 * Runs fn when value changes after the first render (not on mount: an effect
 * that copies props into state on mount would undo what a fast user, or a
 * test, typed in between). A layout effect, so it runs in the same task as
 * the render that shows the new value: a plain effect waits for the next
 * frame, and a form reset by it (a new tab of the sales page) threw away
 * what was typed into the new form meanwhile.
 */
export function useChanged(value: unknown, fn: () => void): void {
  const last = useRef(value);
  useLayoutEffect(() => {
    if (Object.is(last.current, value)) return;
    last.current = value;
    fn();
  }, [value]);
}
