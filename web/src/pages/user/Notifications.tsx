// The signed-in user's notifications: all or unread only (in the URL), a
// page at a time; each opens its movie at the comment and is marked read;
// mark one or all read.
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, call, type Schemas } from '../../api/client';
import { navigate, queryString, useLocation } from '../../router';
import { Empty, ErrorMessage, Loading, Pagination } from '../../ui/common';
import { dateTime } from '../../ui/format';
import { refreshBadge } from '../../ui/badge';
import { useAsync, useTitle } from '../../ui/hooks';
import '../../styles/accounts.css';

type Note = Schemas['Notification'];

function sentence(n: Note): string {
  const who = n.actor?.name ?? 'Someone (account deleted)';
  return n.kind === 'comment_reply' ? `${who} replied to your comment on ${n.movie.name}` : `${who} liked your comment on ${n.movie.name}`;
}

export default function Notifications() {
  const { query } = useLocation();
  const unreadOnly = query.get('filter') === 'unread';
  const page = Math.max(1, Number(query.get('page') ?? '1') || 1);
  useTitle(unreadOnly ? 'Unread notifications' : 'Notifications');
  const list = useAsync(
    () =>
      call(
        api.GET('/api/v1/notifications', {
          params: { query: { page, per_page: 20, ...(unreadOnly ? { unread: true } : {}) } },
        }),
      ),
    [page, unreadOnly],
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [said, setSaid] = useState('');

  const markRead = async (n: Note, quiet = false) => {
    if (n.read) return;
    try {
      await call(api.POST('/api/v1/notifications/{id}/read', { params: { path: { id: n.id } } }));
      if (list.data) list.set({ ...list.data, items: list.data.items.map((x) => (x.id === n.id ? { ...x, read: true } : x)) });
      refreshBadge();
      if (!quiet) setSaid('Marked as read.');
    } catch (err) {
      if (!quiet) setError(err);
    }
  };

  /** Opens the movie at the comment; marks it read first (a plain click) or meanwhile (a new tab). */
  const open = (e: JSX.TargetedMouseEvent<HTMLAnchorElement>, n: Note) => {
    const href = e.currentTarget.getAttribute('href') ?? '/';
    if (n.read) return;
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) {
      void markRead(n, true);
      return;
    }
    e.preventDefault();
    void markRead(n, true).finally(() => navigate(href));
  };

  const markAll = async () => {
    setBusy(true);
    setError(null);
    setSaid('');
    try {
      await call(api.POST('/api/v1/notifications/read-all'));
      refreshBadge();
      setSaid('Every notification is marked as read.');
      list.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const hrefFor = (p: number, unread = unreadOnly) => `/notifications${queryString({ filter: unread ? 'unread' : undefined, page: p > 1 ? p : undefined })}`;
  const data = list.data;
  const anyUnread = data?.items.some((n) => !n.read) ?? false;
  return (
    <section class="page narrow notifications">
      <div class="page-head">
        <h1>Notifications</h1>
        <button type="button" class="btn btn-small" disabled={busy || !data || data.total_items === 0} onClick={() => void markAll()}>
          {busy ? 'Marking…' : 'Mark all as read'}
        </button>
      </div>
      <nav aria-label="Which notifications">
        <ul class="tabs">
          <li>
            <a href={hrefFor(1, false)} aria-current={!unreadOnly ? 'page' : undefined}>
              All
            </a>
          </li>
          <li>
            <a href={hrefFor(1, true)} aria-current={unreadOnly ? 'page' : undefined}>
              Unread
            </a>
          </li>
        </ul>
      </nav>
      <p class="visually-hidden" role="status">
        {said}
      </p>
      <ErrorMessage error={error} />
      <ErrorMessage error={list.error} retry={list.reload} />
      {list.loading && !data && <Loading />}
      {data &&
        (data.items.length === 0 ? (
          <Empty>{unreadOnly ? 'Nothing unread. You are all caught up.' : 'No notifications yet. Replies to and likes of your comments show up here.'}</Empty>
        ) : (
          <ul class="note-list" aria-label={unreadOnly ? 'Unread notifications' : 'Notifications'}>
            {data.items.map((n) => (
              <li key={n.id} class={n.read ? 'note' : 'note note-unread'}>
                <div class="note-body">
                  <a href={`/movies/${n.movie.id}#comment-${n.comment_id}`} onClick={(e) => open(e, n)}>
                    {sentence(n)}
                  </a>
                  <div class="note-meta muted">
                    {!n.read && <span class="note-dot">Unread · </span>}
                    <time dateTime={n.created_at}>{dateTime(n.created_at)}</time>
                  </div>
                </div>
                {!n.read && (
                  <button type="button" class="btn btn-small" onClick={() => void markRead(n)} aria-label={`Mark as read: ${sentence(n)}`}>
                    Mark read
                  </button>
                )}
              </li>
            ))}
          </ul>
        ))}
      {data && anyUnread === false && data.items.length > 0 && unreadOnly && <p class="muted">Everything on this page is read.</p>}
      {data && <Pagination page={page} totalPages={data.total_pages} hrefFor={(p) => hrefFor(p)} />}
    </section>
  );
}
