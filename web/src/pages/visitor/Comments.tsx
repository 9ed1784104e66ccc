// A movie's comments: threads as the API gives them (each top-level comment
// with its replies, oldest first), paginated by top-level comment with the
// page in the URL (?cpage=). Signed-in users write, reply, like, and delete
// their own. A link to /movies/:id#comment-<id> (a notification) finds the
// page that holds the comment, scrolls to it and highlights it.
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { api, call, type Schemas } from '../../api/client';
import { ApiError } from '../../api/errors';
import { navigate, queryString, useLocation } from '../../router';
import { Empty, ErrorMessage, Loading, Pagination } from '../../ui/common';
import { dateTime } from '../../ui/format';
import { useAsync, useSession } from '../../ui/hooks';

type Comment = Schemas['Comment'];
type CommentPage = Schemas['CommentPage'];

const PER_PAGE = 20;
/** Pages searched for a linked comment that is not on the page shown. */
const SEARCH_PAGES = 50;

function contains(list: Comment[], id: number): boolean {
  return list.some((c) => c.id === id || contains(c.replies, id));
}

function targetOf(hash: string): number | null {
  const m = /^#comment-([1-9]\d{0,17})$/.exec(hash);
  return m?.[1] ? Number(m[1]) : null;
}

function loadPage(movieId: number, page: number): Promise<CommentPage> {
  return call(api.GET('/api/v1/movies/{id}/comments', { params: { path: { id: movieId }, query: { page, per_page: PER_PAGE } } }));
}

function CommentForm({
  movieId,
  parent,
  label,
  submitLabel,
  onDone,
  onCancel,
}: {
  movieId: number;
  parent?: Comment;
  label: string;
  submitLabel: string;
  onDone: (c: Comment) => void;
  onCancel?: () => void;
}) {
  const id = useId();
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const ref = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (parent) ref.current?.focus();
  }, []);
  const textError = error instanceof ApiError ? (error.field('text') ?? error.field('parent_id')) : undefined;
  return (
    <form
      class="comment-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (busy) return;
        if (!text.trim()) {
          setError(new ApiError(422, 'validation_failed', 'Write something first.', [{ field: 'text', message: 'Write something first.' }]));
          ref.current?.focus();
          return;
        }
        setBusy(true);
        setError(null);
        call(api.POST('/api/v1/movies/{id}/comments', { params: { path: { id: movieId } }, body: { text, parent_id: parent?.id ?? null } })).then(
          (c) => {
            setBusy(false);
            setText('');
            onDone(c);
          },
          (err: unknown) => {
            setBusy(false);
            setError(err);
          },
        );
      }}
    >
      <div class={`field${textError ? ' field-invalid' : ''}`}>
        <label for={id}>{label}</label>
        <textarea
          id={id}
          ref={ref}
          maxLength={5000}
          value={text}
          aria-invalid={textError ? 'true' : undefined}
          aria-describedby={textError ? `${id}-err` : undefined}
          onInput={(e) => setText(e.currentTarget.value)}
        />
        {textError && (
          <p class="field-error" id={`${id}-err`} role="alert">
            {textError}
          </p>
        )}
      </div>
      {error !== null && !textError && <ErrorMessage error={error} />}
      <div class="row">
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {busy ? 'Posting…' : submitLabel}
        </button>
        {onCancel && (
          <button type="button" class="btn" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

interface ThreadCtx {
  movieId: number;
  userId: number | null;
  moderator: boolean;
  highlight: number | null;
  onChanged: (focus?: number) => void;
}

function CommentItem({ c, ctx, depth }: { c: Comment; ctx: ThreadCtx; depth: number }) {
  const [replying, setReplying] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [liked, setLiked] = useState(Boolean(c.liked_by_me));
  const [likes, setLikes] = useState(c.likes);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setLiked(Boolean(c.liked_by_me));
    setLikes(c.likes);
  }, [c.liked_by_me, c.likes]);
  const signedIn = ctx.userId !== null;
  const own = ctx.userId === c.user.id;
  const path = { params: { path: { id: c.id } } };
  const headId = `comment-${c.id}-by`;

  const like = () => {
    if (busy) return;
    setBusy(true);
    setError(null);
    const was = liked;
    setLiked(!was);
    setLikes((n) => n + (was ? -1 : 1));
    call(was ? api.DELETE('/api/v1/comments/{id}/like', path) : api.PUT('/api/v1/comments/{id}/like', path)).then(
      () => setBusy(false),
      (e: unknown) => {
        setLiked(was);
        setLikes((n) => n + (was ? 1 : -1));
        setError(e);
        setBusy(false);
      },
    );
  };
  const remove = () => {
    setBusy(true);
    setError(null);
    call(api.DELETE('/api/v1/comments/{id}', path)).then(
      () => {
        setBusy(false);
        ctx.onChanged();
      },
      (e: unknown) => {
        setBusy(false);
        setConfirming(false);
        setError(e);
      },
    );
  };

  return (
    <li id={`comment-${c.id}`} tabIndex={-1} class={`comment${ctx.highlight === c.id ? ' comment-target' : ''}`} aria-labelledby={headId}>
      <div class="comment-body">
        <p class="comment-head" id={headId}>
          <strong>{c.user.name}</strong>{' '}
          <time class="muted" dateTime={c.created_at}>
            {dateTime(c.created_at)}
          </time>
          {ctx.highlight === c.id && <span class="visually-hidden"> (the comment you followed)</span>}
        </p>
        <p class="comment-text">{c.text}</p>
        <div class="row comment-actions">
          {signedIn ? (
            <button type="button" class="btn btn-small" aria-pressed={liked} aria-label={`Like the comment by ${c.user.name}`} onClick={like}>
              <span aria-hidden="true">♥</span> {likes}
            </button>
          ) : (
            <span class="muted">
              ♥ {likes} {likes === 1 ? 'like' : 'likes'}
            </span>
          )}
          {signedIn && (
            <button type="button" class="btn btn-small" aria-expanded={replying} onClick={() => setReplying(!replying)}>
              Reply
            </button>
          )}
          {(own || ctx.moderator) && !confirming && (
            <button type="button" class="btn btn-small btn-danger" onClick={() => setConfirming(true)}>
              Delete
            </button>
          )}
          {confirming && (
            <span class="row confirm" role="group" aria-label="Confirm deletion">
              <span>{c.replies.length ? 'Delete this comment and its replies?' : 'Delete this comment?'}</span>
              <button type="button" class="btn btn-small btn-danger" disabled={busy} onClick={remove}>
                Yes, delete
              </button>
              <button type="button" class="btn btn-small" onClick={() => setConfirming(false)}>
                Keep it
              </button>
            </span>
          )}
        </div>
        {error !== null && <ErrorMessage error={error} />}
        {replying && (
          <CommentForm
            movieId={ctx.movieId}
            parent={c}
            label={`Your reply to ${c.user.name}`}
            submitLabel="Post reply"
            onCancel={() => setReplying(false)}
            onDone={(r) => {
              setReplying(false);
              ctx.onChanged(r.id);
            }}
          />
        )}
      </div>
      {c.replies.length > 0 && (
        <ol class={`replies${depth >= 3 ? ' replies-flat' : ''}`} aria-label={`Replies to ${c.user.name}`}>
          {c.replies.map((r) => (
            <CommentItem key={r.id} c={r} ctx={ctx} depth={depth + 1} />
          ))}
        </ol>
      )}
    </li>
  );
}

export function Comments({ movieId, total, onChange }: { movieId: number; total: number; onChange: () => void }) {
  const loc = useLocation();
  const s = useSession();
  const page = Math.max(1, Number(loc.query.get('cpage')) || 1);
  const who = s.status === 'unknown' ? 'wait' : (s.user?.id ?? 0);
  const list = useAsync<CommentPage>(() => (who === 'wait' ? new Promise<CommentPage>(() => undefined) : loadPage(movieId, page)), [movieId, page, who]);
  const hash = typeof window === 'undefined' ? '' : window.location.hash;
  const target = targetOf(hash);
  const [highlight, setHighlight] = useState<number | null>(null);
  const [lost, setLost] = useState<number | null>(null);
  const handled = useRef<string>('');
  const shownPage = useRef(page);

  // Another page of comments: bring the section back into view (the router scrolls to the top).
  useEffect(() => {
    if (shownPage.current === page) return;
    shownPage.current = page;
    if (targetOf(window.location.hash) === null) document.getElementById('comments')?.scrollIntoView();
  }, [page]);

  const hrefFor = (p: number, h = '') => {
    const q = new URLSearchParams(loc.query);
    if (p > 1) q.set('cpage', String(p));
    else q.delete('cpage');
    const params: Record<string, string> = {};
    q.forEach((v, k) => (params[k] = v));
    return `${loc.path}${queryString(params)}${h}`;
  };

  // Follow a #comment-<id> link: find its page, then scroll to it and highlight it.
  useEffect(() => {
    const d = list.data;
    // Only once the shown data is the page in the URL (not the previous one while it loads).
    if (target === null || !d || d.page !== page) return;
    const mark = `${movieId}:${target}:${page}`;
    if (handled.current === mark) return;
    handled.current = mark;
    if (contains(d.items, target)) {
      setHighlight(target);
      setLost(null);
      requestAnimationFrame(() => {
        const el = document.getElementById(`comment-${target}`);
        el?.scrollIntoView({ block: 'center' });
        el?.focus({ preventScroll: true });
      });
      return;
    }
    let live = true;
    (async () => {
      for (let p = 1; p <= Math.min(d.total_pages, SEARCH_PAGES); p++) {
        if (p === page) continue;
        const other = await loadPage(movieId, p);
        if (!live) return;
        if (contains(other.items, target)) {
          navigate(hrefFor(p, `#comment-${target}`), { replace: true, keepScroll: true });
          return;
        }
      }
      if (live) setLost(target);
    })().catch(() => live && setLost(target));
    return () => {
      live = false;
    };
  }, [target, list.data, page, movieId]);

  /** After a change: the movie's counters and this page again, then (when given) the new comment in view. */
  const refresh = (focus?: number, toPage = page) => {
    onChange();
    const h = focus ? `#comment-${focus}` : '';
    if (toPage !== page) {
      navigate(hrefFor(toPage, h), { keepScroll: true });
      return;
    }
    loadPage(movieId, page).then(
      (fresh) => {
        list.set(fresh);
        if (h) navigate(hrefFor(page, h), { replace: true, keepScroll: true });
      },
      () => list.reload(),
    );
  };

  const ctx: ThreadCtx = {
    movieId,
    userId: s.status === 'signed-in' ? (s.user?.id ?? null) : null,
    moderator: s.user?.group === 'MODERATOR' || s.user?.group === 'ADMIN',
    highlight,
    onChanged: (focus) => refresh(focus),
  };
  const d = list.data;

  return (
    <section class="comments" id="comments" aria-labelledby="comments-title">
      <h2 id="comments-title">Comments ({total})</h2>
      {lost !== null && (
        <p class="alert alert-warning" role="status">
          The comment you followed is not here any more; it may have been deleted.
        </p>
      )}
      {s.status === 'signed-in' ? (
        <CommentForm
          movieId={movieId}
          label="Write a comment"
          submitLabel="Post comment"
          onDone={(c) => {
            // New top-level comments come last (oldest first): show the last page.
            refresh(c.id, Math.max(1, Math.ceil(((d?.total_items ?? 0) + 1) / PER_PAGE)));
          }}
        />
      ) : null}
      <ErrorMessage error={list.error} retry={list.reload} />
      {list.loading && !d && <Loading label="Loading comments…" />}
      {d &&
        (d.items.length ? (
          <ol class="comment-list" aria-label="Comments">
            {d.items.map((c) => (
              <CommentItem key={c.id} c={c} ctx={ctx} depth={0} />
            ))}
          </ol>
        ) : (
          <Empty>{page > 1 ? 'No comments on this page.' : 'No comments yet.'}</Empty>
        ))}
      {d && <Pagination page={page} totalPages={d.total_pages} hrefFor={(p) => hrefFor(p, '#comments')} />}
    </section>
  );
}
