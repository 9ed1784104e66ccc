// Every genre with the number of its movies; each opens the catalog filtered on it.
import { api, call } from '../../api/client';
import { Empty, ErrorMessage, Loading } from '../../ui/common';
import { useAsync, useTitle } from '../../ui/hooks';
import '../../styles/visitor.css';

export default function Genres() {
  useTitle('Genres');
  const genres = useAsync(() => call(api.GET('/api/v1/genres')), []);
  return (
    <section class="page">
      <div class="page-head">
        <h1>Genres</h1>
        {genres.data && <p class="muted">{genres.data.length} genres</p>}
      </div>
      <ErrorMessage error={genres.error} retry={genres.reload} />
      {genres.loading && !genres.data && <Loading label="Loading genres…" />}
      {genres.data &&
        (genres.data.length ? (
          <ul class="genre-list">
            {genres.data.map((g) => (
              <li key={g.id}>
                <a class="genre-tile" href={`/movies?genre=${g.id}`}>
                  <span class="genre-name">{g.name}</span>
                  <span class="genre-count">
                    {g.movie_count} {g.movie_count === 1 ? 'movie' : 'movies'}
                  </span>
                </a>
              </li>
            ))}
          </ul>
        ) : (
          <Empty>No genre yet.</Empty>
        ))}
    </section>
  );
}
