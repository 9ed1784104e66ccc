// The unread-notifications badge: polled every minute and when the tab
// comes back into view.
import { useEffect, useState } from 'preact/hooks';
import { api, call } from '../api/client';
import { useLocation } from '../router';

const REFRESH = 'cinema:notifications-changed';

/** Asks the badge to count again now (after notifications were read). */
export function refreshBadge(): void {
  window.dispatchEvent(new Event(REFRESH));
}

export function NotificationBadge() {
  const [unread, setUnread] = useState(0);
  const loc = useLocation();
  useEffect(() => {
    let live = true;
    const load = () =>
      call(api.GET('/api/v1/notifications', { params: { query: { unread: true, per_page: 1 } } })).then(
        (p) => live && setUnread(p.total_items),
        () => undefined,
      );
    void load();
    const t = setInterval(load, 60_000);
    const vis = () => document.visibilityState === 'visible' && void load();
    document.addEventListener('visibilitychange', vis);
    window.addEventListener(REFRESH, load);
    return () => {
      window.removeEventListener(REFRESH, load);
      live = false;
      clearInterval(t);
      document.removeEventListener('visibilitychange', vis);
    };
  }, [loc.path]);
  return (
    <a href="/notifications" class="badge-link" aria-label={unread ? `Notifications, ${unread} unread` : 'Notifications'}>
      <svg class="icon" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">
        <path
          fill="currentColor"
          d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z"
        />
      </svg>
      {unread > 0 && (
        <span class="badge" aria-hidden="true">
          {unread > 99 ? '99+' : unread}
        </span>
      )}
    </a>
  );
}
