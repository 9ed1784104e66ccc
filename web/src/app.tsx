import type { ComponentType } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { accountRoutes } from './pages/accounts/routes';
import { adminRoutes } from './pages/admin/routes';
import { NotFound } from './pages/NotFound';
import { studioRoutes } from './pages/studio/routes';
import { userRoutes } from './pages/user/routes';
import { visitorRoutes } from './pages/visitor/routes';
import { match, navigate, useLocation } from './router';
import type { PageProps, Route } from './routes';
import { ErrorMessage, Loading } from './ui/common';
import { useSession } from './ui/hooks';
import { Layout } from './ui/layout';

const routes: Route[] = [...visitorRoutes, ...accountRoutes, ...userRoutes, ...studioRoutes, ...adminRoutes];

function resolve(path: string): { route: Route; params: Record<string, string> } | null {
  for (const route of routes) {
    const params = match(route.pattern, path);
    if (params) return { route, params };
  }
  return null;
}

const loaded = new Map<Route, ComponentType<PageProps>>();

function Lazy({ route, params }: { route: Route; params: Record<string, string> }) {
  const [Page, setPage] = useState<ComponentType<PageProps> | undefined>(() => route.page ?? loaded.get(route));
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const known = route.page ?? loaded.get(route);
    if (known) {
      setPage(() => known);
      return;
    }
    setPage(undefined);
    let live = true;
    route.load?.().then(
      (m) => {
        loaded.set(route, m.default);
        if (live) setPage(() => m.default);
      },
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [route]);
  if (error) return <ErrorMessage error={error} retry={() => window.location.reload()} />;
  if (!Page) return <Loading />;
  return <Page params={params} />;
}

function Forbidden({ what }: { what: string }) {
  return (
    <section class="page narrow">
      <h1>Not for this account</h1>
      <p>This page is for {what}. Sign in with such an account, or go back to the <a href="/movies">catalog</a>.</p>
    </section>
  );
}

export function App() {
  const loc = useLocation();
  const s = useSession();
  const found = resolve(loc.path);
  const access = found?.route.access ?? 'anyone';
  const needsSignIn = access !== 'anyone' && s.status === 'anonymous';
  const mainRef = useRef<string>(loc.path);

  useEffect(() => {
    if (needsSignIn) navigate(`/accounts/login?next=${encodeURIComponent(loc.href)}`, { replace: true });
  }, [needsSignIn, loc.href]);

  // After a navigation, move focus to the page (screen readers announce it).
  useEffect(() => {
    if (mainRef.current === loc.path) return;
    mainRef.current = loc.path;
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [loc.path]);

  let body;
  if (!found) body = <NotFound />;
  else if (access !== 'anyone' && s.status !== 'signed-in') body = <Loading />;
  else if (access === 'moderator' && s.user?.group === 'USER') body = <Forbidden what="moderators" />;
  else if (access === 'admin' && s.user?.group !== 'ADMIN') body = <Forbidden what="administrators" />;
  else body = <Lazy key={found.route.pattern} route={found.route} params={found.params} />;
  return <Layout>{body}</Layout>;
}
