// The player (/movies/:id/watch, signed in): GET /play gives a short-lived
// S3 URL of the feature; the <video> plays it straight from S3 (range
// requests, so it seeks), starting where the viewer stopped (unfinished and
// past 5 s; ?start=0 starts over). The position goes back to the server
// (progress.ts: every 15 s while playing, on pause, at the end, when the page
// is hidden or left). When the URL expires mid-film the video errors: the
// page asks /play again and goes on from the same second.
//
// It starts on a click ("Play" / "Resume at m:ss"), never by itself: a film
// starting with sound on its own is a surprise (WCAG 1.4.2), Chromium refuses
// unmuted autoplay to a page the user has not interacted with (a reload, a
// link from elsewhere), and a muted start would have to be unmuted by hand.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, call, type Schemas } from '../../api/client';
import { ApiError } from '../../api/errors';
import type { PageProps } from '../../routes';
import { useLocation } from '../../router';
import { ErrorMessage, Loading } from '../../ui/common';
import { clock, spokenClock } from '../../ui/format';
import { useAsync, useTitle } from '../../ui/hooks';
import { Buy } from '../visitor/buy';
import '../../styles/visitor.css';
import { lengthOf, ProgressReporter, resumeAt, resumeSeek } from './progress';

type Movie = Schemas['MovieDetail'];
type Playback = Schemas['Playback'];

const ID = /^[1-9]\d{0,17}$/;
/** At most this many new URLs within RENEW_WINDOW_MS before the player gives up (a file that never plays). */
const RENEW_MAX = 3;
const RENEW_WINDOW_MS = 60_000;

function getPlay(id: number): Promise<Playback> {
  return call(api.GET('/api/v1/movies/{id}/play', { params: { path: { id } } }));
}

function BackLink({ id }: { id: number }) {
  return (
    <p class="watch-back">
      <a href={`/movies/${id}`}>
        <span aria-hidden="true">←</span> Back to the movie page
      </a>
    </p>
  );
}

export default function WatchPage({ params }: PageProps) {
  const raw = params.id ?? '';
  const valid = ID.test(raw);
  const id = valid ? Number(raw) : 0;
  const { query } = useLocation();
  const fromStart = query.get('start') === '0';
  const movie = useAsync<Movie>(
    () => (valid ? call(api.GET('/api/v1/movies/{id}', { params: { path: { id } } })) : Promise.reject(new ApiError(404, 'not_found', 'No movie has this id.'))),
    [raw],
  );
  const play = useAsync<Playback>(() => (valid ? getPlay(id) : Promise.reject(new ApiError(404, 'not_found', 'No movie has this id.'))), [raw]);
  const m = movie.data && movie.data.id === id ? movie.data : undefined;
  useTitle(m ? `Watching ${m.name}` : 'Watch');

  const notFound = (e: unknown) => e instanceof ApiError && e.status === 404 && e.code !== 'feature_not_found';
  if (notFound(movie.error) || notFound(play.error)) {
    return (
      <section class="page narrow">
        <h1>Movie not found</h1>
        <p>We have no movie at this address.</p>
        <p>
          <a class="btn btn-primary" href="/movies">
            Browse the catalog
          </a>
        </p>
      </section>
    );
  }
  // (play.loading: after a move to another film, the last one's URL is still in play.data.)
  if (!m || play.loading) {
    return (
      <section class="page">
        <ErrorMessage error={movie.error} retry={movie.reload} />
        {!movie.error && <Loading label="Loading the film…" />}
      </section>
    );
  }
  const e = play.error instanceof ApiError ? play.error : null;
  if (e?.code === 'not_purchased') {
    return (
      <section class="page watch narrow">
        <BackLink id={m.id} />
        <h1>{m.name}</h1>
        <p>You have not bought this film yet: buy it to watch it here, as often as you like.</p>
        <div class="movie-actions">
          <Buy m={m} purchased={false} />
        </div>
      </section>
    );
  }
  if (e?.code === 'feature_not_found') {
    return (
      <section class="page watch narrow">
        <BackLink id={m.id} />
        <h1>{m.name}</h1>
        <p class="alert alert-info">This film cannot be watched yet: its video has not been added. Try again later.</p>
      </section>
    );
  }
  if (!play.data) {
    return (
      <section class="page watch narrow">
        <BackLink id={m.id} />
        <h1>{m.name}</h1>
        <ErrorMessage error={play.error} retry={play.reload} />
      </section>
    );
  }
  return <Player key={m.id} m={m} first={play.data} fromStart={fromStart} />;
}

function Player({ m, first, fromStart }: { m: Movie; first: Playback; fromStart: boolean }) {
  const video = useRef<HTMLVideoElement>(null);
  /** The URL playing; n counts renewals (an identical URL still reloads). */
  const [source, setSource] = useState({ url: first.url, n: 0 });
  const [started, setStarted] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const [note, setNote] = useState('');
  // Not at or past the end of the file (a shorter one may have replaced the film).
  const resume = fromStart ? 0 : (resumeSeek(resumeAt(first), first.duration_s ?? Number.NaN) ?? 0);
  /** The film's length as the server knows it: the reports' fallback when the file's header has none. */
  const known = useRef(first.duration_s);
  /** Where to go once the (new) source has its metadata; null when nothing to do. */
  const seekTo = useRef<number | null>(resume > 0 ? resume : null);
  /** Whether the viewer wants it playing (set by play, cleared by a pause of theirs). */
  const wantPlay = useRef(false);
  const renewals = useRef<number[]>([]);
  /** Between an error and the new source's metadata: the element's position is not the viewer's. */
  const reloading = useRef(false);
  /** Whether it played at all: opening the page and leaving reports nothing. */
  const played = useRef(false);
  const reporter = useMemo(
    () =>
      new ProgressReporter({
        now: () => performance.now(),
        send: (body, o) =>
          call(api.PUT('/api/v1/movies/{id}/progress', { params: { path: { id: m.id } }, body, keepalive: o.keepalive })),
      }),
    [m.id],
  );

  useEffect(() => {
    const v = video.current;
    if (!v) return;
    let live = true;
    const position = () => (reloading.current && seekTo.current !== null ? seekTo.current : v.currentTime);
    const length = () => lengthOf(v.duration, known.current);
    const flush = (keepalive: boolean) => {
      if (played.current) reporter.flush(position(), length(), { keepalive });
    };

    const onMeta = () => {
      const to = seekTo.current;
      seekTo.current = null;
      reloading.current = false;
      const at = to === null ? null : resumeSeek(to, length());
      if (at !== null) v.currentTime = at;
      if (wantPlay.current) v.play().catch(() => setStarted(false));
    };
    const onPlaying = () => {
      played.current = true;
      setStarted(true);
      setFailure(null);
    };
    const onTime = () => {
      if (!v.paused && !v.seeking && !reloading.current) reporter.tick(v.currentTime, length());
    };
    const onPause = () => {
      // A pause of the viewer's (not the one before "ended", nor a reload of the source).
      if (reloading.current || v.ended) return;
      wantPlay.current = false;
      flush(false);
    };
    const onEnded = () => {
      wantPlay.current = false;
      const d = length();
      if (played.current) reporter.flush(d, d);
    };
    // The URL expired (S3 answers 403) or the network dropped: a new URL, the same second.
    const onError = () => {
      const err = v.error;
      if (!err || err.code === MediaError.MEDIA_ERR_ABORTED) return;
      if (err.code === MediaError.MEDIA_ERR_DECODE) {
        setFailure(new ApiError(0, 'media_decode', 'This video cannot be played in this browser.'));
        return;
      }
      const now = performance.now();
      renewals.current = renewals.current.filter((t) => now - t < RENEW_WINDOW_MS);
      if (renewals.current.length >= RENEW_MAX) {
        setFailure(new ApiError(0, 'media_unavailable', 'The video could not be loaded. Check your connection and try again.'));
        return;
      }
      renewals.current.push(now);
      if (!reloading.current && v.currentTime > 0) seekTo.current = v.currentTime;
      reloading.current = true;
      setNote('Reconnecting…');
      getPlay(m.id).then(
        (p) => {
          if (!live) return;
          setNote('');
          known.current = p.duration_s;
          setSource((s) => ({ url: p.url, n: s.n + 1 }));
        },
        (e: unknown) => {
          if (!live) return;
          setNote('');
          setFailure(e);
        },
      );
    };
    const onHidden = () => {
      if (document.visibilityState === 'hidden') flush(true);
    };
    const onPageHide = () => flush(true);

    // One signal removes every listener when the effect is cleaned up.
    const listening = new AbortController();
    const on = { signal: listening.signal };
    v.addEventListener('loadedmetadata', onMeta, on);
    v.addEventListener('playing', onPlaying, on);
    v.addEventListener('timeupdate', onTime, on);
    v.addEventListener('pause', onPause, on);
    v.addEventListener('ended', onEnded, on);
    v.addEventListener('error', onError, on);
    document.addEventListener('visibilitychange', onHidden, on);
    window.addEventListener('pagehide', onPageHide, on);
    // Metadata may have arrived before this effect ran.
    if (v.readyState >= HTMLMediaElement.HAVE_METADATA) onMeta();
    return () => {
      live = false;
      // Leaving the page inside the app: where the viewer was, then nothing more.
      flush(true);
      reporter.stop();
      listening.abort();
    };
  }, [reporter, m.id]);

  // A renewed URL equal to the old one (signed in the same second) does not
  // change the attribute: load it again by hand.
  useEffect(() => {
    const v = video.current;
    if (v && source.n > 0 && v.currentSrc === source.url) v.load();
  }, [source]);

  const start = (at: number | null) => {
    const v = video.current;
    if (!v) return;
    wantPlay.current = true;
    // The first start goes to the resume point (again: a seek asked before any
    // data may not have taken); "From the beginning" to 0.
    const to = at ?? (played.current ? null : resume);
    if (to !== null) {
      if (v.readyState >= HTMLMediaElement.HAVE_METADATA) {
        // Not past the end of the file (that would end the film at once): the start then.
        const target = to > 0 ? resumeSeek(to, lengthOf(v.duration, known.current)) : 0;
        if (target !== null && Math.abs(v.currentTime - target) > 1) v.currentTime = target;
      } else seekTo.current = to;
    }
    v.focus();
    v.play().catch(() => {
      // Not allowed or not loaded yet: loadedmetadata plays it, or the button stays.
    });
  };

  return (
    <section class="page watch">
      <BackLink id={m.id} />
      <h1>{m.name}</h1>
      <div class="player">
        <video
          ref={video}
          class="player-video"
          src={source.url}
          controls
          preload="metadata"
          playsInline
          aria-label={`${m.name}, the film`}
          width={1280}
          height={720}
        >
          Your browser cannot play this video.
        </video>
        {!started && failure === null && (
          <div class="player-start">
            {resume > 0 ? (
              <>
                <button type="button" class="btn btn-primary btn-play" onClick={() => start(null)} aria-label={`Resume at ${spokenClock(resume)}`}>
                  <span aria-hidden="true">▶</span> Resume at {clock(resume)}
                </button>
                <button type="button" class="btn" onClick={() => start(0)}>
                  From the beginning
                </button>
              </>
            ) : (
              <button type="button" class="btn btn-primary btn-play" onClick={() => start(null)}>
                <span aria-hidden="true">▶</span> Play
              </button>
            )}
          </div>
        )}
      </div>
      <p class="muted player-status" role="status">
        {note}
      </p>
      {failure !== null && (
        <ErrorMessage
          error={failure}
          retry={() => {
            const v = video.current;
            renewals.current = [];
            setFailure(null);
            if (v && !reloading.current && v.currentTime > 0) seekTo.current = v.currentTime;
            if (v) reloading.current = true;
            getPlay(m.id).then(
              (p) => setSource((s) => ({ url: p.url, n: s.n + 1 })),
              (e: unknown) => setFailure(e),
            );
          }}
        />
      )}
    </section>
  );
}
