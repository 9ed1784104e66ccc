// The unread-notifications badge: polled every minute and when the tab
// comes back into view.
import { useEffect, useState } from 'preact/hooks';
import { api, call } from '../api/client';
import { useLocation } from '../router';

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
    return () => {
      live = false;
      clearInterval(t);
      document.removeEventListener('visibilitychange', vis);
    };
  }, [loc.path]);
  return (
    <a href="/notifications" class="badge-link" aria-label={unread ? `Notifications, ${unread} unread` : 'Notifications'}>
      <span aria-hidden="true">🔔</span>
      {unread > 0 && (
        <span class="badge" aria-hidden="true">
          {unread > 99 ? '99+' : unread}
        </span>
      )}
    </a>
  );
}
