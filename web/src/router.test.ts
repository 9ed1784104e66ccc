import { afterEach, describe, expect, it, vi } from 'vitest';
import { match, queryString } from './router';

describe('match', () => {
  it('reads named parts', () => {
    expect(match('/movies/:id', '/movies/42')).toEqual({ id: '42' });
    expect(match('/movies/:id', '/movies/42/')).toEqual({ id: '42' });
    expect(match('/orders/:id', '/orders/%31')).toEqual({ id: '1' });
  });
  it('refuses other shapes', () => {
    expect(match('/movies/:id', '/movies')).toBeNull();
    expect(match('/movies/:id', '/movies/1/x')).toBeNull();
    expect(match('/movies', '/genres')).toBeNull();
  });
  it('matches the root', () => {
    expect(match('/', '/')).toEqual({});
    expect(match('/', '/movies')).toBeNull();
  });
});

describe('queryString', () => {
  it('drops empty values and encodes the rest', () => {
    expect(queryString({ page: 2, search: 'a b&c', genre: '', year: undefined, sort: null })).toBe('?page=2&search=a+b%26c');
    expect(queryString({})).toBe('');
  });
});

// The URL is the state: navigate() writes it (a new history entry, or the
// same one for filters typed as you go), location() reads it back, and the
// back button (popstate) restores the previous state. A fake window and
// history stand in for the browser's.
describe('navigate, location and the back button', () => {
  class FakeHistory {
    entries = ['http://app.test/movies'];
    index = 0;
    constructor(private win: EventTarget) {}
    get url(): URL {
      return new URL(this.entries[this.index] ?? 'http://app.test/');
    }
    pushState(_s: unknown, _t: string, href: string): void {
      this.entries = this.entries.slice(0, this.index + 1);
      this.entries.push(new URL(href, this.url).href);
      this.index += 1;
    }
    replaceState(_s: unknown, _t: string, href: string): void {
      this.entries[this.index] = new URL(href, this.url).href;
    }
    back(): void {
      this.index -= 1;
      this.win.dispatchEvent(new Event('popstate'));
    }
  }

  async function setup() {
    vi.resetModules();
    const win = new EventTarget();
    const history = new FakeHistory(win);
    const scrollTo = vi.fn();
    Object.defineProperty(win, 'location', { get: () => history.url });
    Object.assign(win, { scrollTo });
    vi.stubGlobal('window', win);
    vi.stubGlobal('history', history);
    vi.stubGlobal('document', new EventTarget());
    const router = await import('./router');
    router.startRouter();
    return { router, history, scrollTo };
  }

  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('writes the state into the URL and reads it back', async () => {
    const { router, history, scrollTo } = await setup();
    expect(router.location().path).toBe('/movies');
    router.navigate(`/movies${router.queryString({ genre: 3, sort: '-year', page: 2 })}`);
    const loc = router.location();
    expect(loc.href).toBe('/movies?genre=3&sort=-year&page=2');
    expect(loc.query.get('genre')).toBe('3');
    expect(loc.query.get('sort')).toBe('-year');
    expect(history.entries).toHaveLength(2);
    expect(scrollTo).toHaveBeenCalledWith(0, 0);
  });

  it('replace: no new history entry (a search typed as you go); the same URL: nothing at all', async () => {
    const { router, history } = await setup();
    router.navigate('/movies?search=a', { replace: true });
    router.navigate('/movies?search=al', { replace: true });
    expect(history.entries).toEqual(['http://app.test/movies?search=al']);
    router.navigate('/movies?search=al');
    expect(history.entries).toHaveLength(1);
  });

  it('the back button restores the previous state', async () => {
    const { router, history } = await setup();
    router.navigate('/movies?page=2');
    router.navigate('/movies/42');
    expect(router.location().path).toBe('/movies/42');
    history.back();
    expect(router.location().href).toBe('/movies?page=2');
    expect(router.location().query.get('page')).toBe('2');
    history.back();
    expect(router.location().href).toBe('/movies');
  });

  /** A left click on a link to href, as the router's document listener sees it; answers whether it took it. */
  function click(href: string): boolean {
    const url = new URL(href, 'http://app.test/movies');
    const a = { origin: url.origin, pathname: url.pathname, search: url.search, hash: url.hash, target: '', hasAttribute: () => false };
    const e = new Event('click', { cancelable: true });
    Object.defineProperties(e, { button: { value: 0 }, target: { value: { closest: () => a } } });
    document.dispatchEvent(e);
    return e.defaultPrevented;
  }

  it('takes same-origin links, and leaves a fragment of this page to the browser (the skip link)', async () => {
    const { router, history } = await setup();
    expect(click('#main')).toBe(false);
    expect(click('/movies#comments')).toBe(false);
    expect(history.entries).toHaveLength(1);
    expect(click('/movies?page=2#comments')).toBe(true);
    expect(router.location().href).toBe('/movies?page=2');
    expect(click('/movies/7#comment-3')).toBe(true);
    expect(router.location().path).toBe('/movies/7');
    expect(click('https://elsewhere.test/movies')).toBe(false);
    expect(click('/api/v1/movies')).toBe(false);
  });
});
