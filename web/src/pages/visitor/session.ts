import { useEffect, useState } from 'preact/hooks';
import { session, type SessionState } from '../../session';

/**
 * The session state, also when it changed between this component's first
 * render and its effect (a lazily loaded page can mount while the session is
 * being restored: ui/hooks useSession would miss that change).
 */
export function useSessionNow(): SessionState {
  const [s, setS] = useState(session.current);
  useEffect(() => {
    setS(session.current);
    return session.subscribe(setS);
  }, []);
  return s;
}
