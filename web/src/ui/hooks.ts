import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { session, type SessionState } from '../session';

/** The session state; re-read in the effect, so a change between the first render and it is not missed. */
export function useSession(): SessionState {
  const [s, setS] = useState(session.current);
  useEffect(() => {
    setS(session.current);
    return session.subscribe(setS);
  }, []);
  return s;
}

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Loads again (after a change); keeps the old data on screen meanwhile. */
  reload: () => void;
  /** Replaces the data locally (optimistic updates). */
  set: (d: T) => void;
}

/** Runs load() when deps change; ignores answers that arrive after newer ones. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    const n = ++seq.current;
    setLoading(true);
    load().then(
      (d) => {
        if (n !== seq.current) return;
        setData(d);
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (n !== seq.current) return;
        setError(e);
        setLoading(false);
      },
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload, set: setData };
}

/** Sets document.title ("Page · Cinema"). */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Cinema` : 'Cinema';
  }, [title]);
}
