// "Continue watching": the signed-in user's unfinished films, newest first
// (GET /api/v1/me/continue-watching), at the top of the catalog's home. Each
// links to the player, which resumes where they stopped. Nothing at all when
// there is none (or when the list cannot be loaded: the catalog matters more).
import { api, call } from '../../api/client';
import { clock, spokenClock } from '../../ui/format';
import { useAsync } from '../../ui/hooks';
import { Poster } from '../../ui/movie';

const MAX = 12;

export function ContinueWatching({ userId }: { userId: number }) {
  const list = useAsync(() => call(api.GET('/api/v1/me/continue-watching', { params: { query: { per_page: MAX } } })), [userId]);
  const items = list.data?.items ?? [];
  if (items.length === 0) return null;
  return (
    <section class="continue" aria-labelledby="continue-title">
      <h2 id="continue-title">Continue watching</h2>
      <ul class="continue-row">
        {items.map((c) => {
          const pct = Math.round(Math.min(1, Math.max(0, c.progress)) * 100);
          const left = Math.max(0, c.duration_s - c.position_s);
          return (
            <li key={c.movie.id} class="continue-item">
              <a class="continue-link" href={`/movies/${c.movie.id}/watch`} aria-label={`Resume ${c.movie.name} at ${spokenClock(c.position_s)}`}>
                <span class="continue-poster" aria-hidden="true">
                  <Poster title={c.movie.name} year={c.movie.year} src={c.movie.poster_url} />
                </span>
                <span class="continue-title">{c.movie.name}</span>
              </a>
              <progress class="continue-progress" max={100} value={pct} aria-label={`${c.movie.name}: ${pct} % watched`} />
              <span class="continue-left muted">
                {clock(c.position_s)} · {clock(left)} left
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
