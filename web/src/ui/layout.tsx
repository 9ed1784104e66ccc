import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { navigate, useLocation } from '../router';
import { session } from '../session';
import { useSession } from './hooks';
import { NotificationBadge } from './badge';

function NavLink({ href, children }: { href: string; children: ComponentChildren }) {
  const { path } = useLocation();
  const here = path === href || (href !== '/' && path.startsWith(`${href}/`));
  return (
    <a href={href} aria-current={here ? 'page' : undefined}>
      {children}
    </a>
  );
}

function SearchBox() {
  const loc = useLocation();
  const [q, setQ] = useState(loc.path === '/movies' ? (loc.query.get('search') ?? '') : '');
  useEffect(() => {
    if (loc.path === '/movies' || loc.path === '/') setQ(loc.query.get('search') ?? '');
  }, [loc.href]);
  return (
    <form
      class="search"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        navigate(q.trim() ? `/movies?search=${encodeURIComponent(q.trim())}` : '/movies');
      }}
    >
      <label for="site-search" class="visually-hidden">
        Search movies
      </label>
      <input id="site-search" type="search" placeholder="Search movies, stars, directors" value={q} onInput={(e) => setQ(e.currentTarget.value)} />
      <button type="submit" class="btn">
        Search
      </button>
    </form>
  );
}

function AccountMenu() {
  const s = useSession();
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const loc = useLocation();
  useEffect(() => setOpen(false), [loc.href]);
  // A layout effect: listening from the render that opens the menu, not a
  // frame later (an Escape pressed at once was lost).
  useLayoutEffect(() => {
    if (!open) return;
    // Escape closes the menu and gives the focus back to its button; a click
    // or the focus (Tab) going elsewhere closes it too.
    const close = (e: Event) => {
      if (e instanceof KeyboardEvent) {
        if (e.key !== 'Escape') return;
        setOpen(false);
        button.current?.focus();
      } else if (!ref.current?.contains(e.target as Node)) {
        setOpen(false);
      }
    };
    document.addEventListener('click', close);
    document.addEventListener('keydown', close);
    document.addEventListener('focusin', close);
    return () => {
      document.removeEventListener('click', close);
      document.removeEventListener('keydown', close);
      document.removeEventListener('focusin', close);
    };
  }, [open]);
  if (s.status === 'unknown') return <span class="nav-placeholder" />;
  if (s.status === 'anonymous' || !s.user) {
    return (
      <div class="nav-account">
        <a href={`/accounts/login?next=${encodeURIComponent(loc.href)}`}>Sign in</a>
        <a class="btn btn-primary" href="/accounts/register">
          Register
        </a>
      </div>
    );
  }
  const g = s.user.group;
  return (
    <div class="nav-account" ref={ref}>
      <NotificationBadge />
      <a href="/cart">Cart</a>
      <div class="menu">
        <button ref={button} type="button" class="btn" aria-expanded={open} aria-controls="account-menu" onClick={() => setOpen(!open)}>
          Account
        </button>
        {open && (
          <ul id="account-menu" class="menu-list">
            <li class="menu-email">{s.user.email}</li>
            <li>
              <a href="/purchases">My movies</a>
            </li>
            <li>
              <a href="/favorites">Favorites</a>
            </li>
            <li>
              <a href="/orders">Orders</a>
            </li>
            <li>
              <a href="/payments">Payments</a>
            </li>
            <li>
              <a href="/accounts/profile">Profile</a>
            </li>
            <li>
              <a href="/accounts/password/change">Change password</a>
            </li>
            {(g === 'MODERATOR' || g === 'ADMIN') && (
              <li>
                <a href="/studio/movies">Studio</a>
              </li>
            )}
            {g === 'ADMIN' && (
              <li>
                <a href="/admin/users">Users</a>
              </li>
            )}
            <li>
              <button
                type="button"
                class="linklike"
                onClick={() => {
                  void session.logout().then(() => navigate('/'));
                }}
              >
                Sign out
              </button>
            </li>
          </ul>
        )}
      </div>
    </div>
  );
}

export function Layout({ children }: { children: ComponentChildren }) {
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="site-header">
        <a class="logo" href="/" aria-label="Cinema, home">
          <span aria-hidden="true">▶</span> Cinema
        </a>
        <nav class="nav-main" aria-label="Main">
          <NavLink href="/movies">Movies</NavLink>
          <NavLink href="/genres">Genres</NavLink>
        </nav>
        <SearchBox />
        <AccountMenu />
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
      <footer class="site-footer">
        <p>
          Cinema · <a href="/docs">API</a>
        </p>
      </footer>
    </>
  );
}
