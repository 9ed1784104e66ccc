// The "Media" section of /studio/movies/:id: the movie's poster, trailer and
// feature (listMovieMedia), each with its current file, an upload (or a
// replacement) straight to S3 with progress and cancel (src/media/upload.ts),
// and "Remove" (deleteMovieMedia; a bought movie's feature can only be
// replaced: 409 feature_purchased). Leaving the page mid-upload asks first
// (beforeunload, and a confirm on in-app links) and cancels the upload.
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { api, call, type Schemas } from '../../api/client';
import { ApiError } from '../../api/errors';
import {
  bytes,
  checkFile,
  contentTypeOf,
  explainUploadError,
  KINDS,
  MediaUploader,
  readDuration,
  UploadError,
  type MediaKind,
  type Progress,
  type UploadApi,
} from '../../media/upload';
import { ErrorMessage, Field, Loading, Notice } from '../../ui/common';
import { dateTime } from '../../ui/format';
import { useAsync } from '../../ui/hooks';
import { Poster } from '../../ui/movie';
import { ConfirmDialog } from './common';

type Media = Schemas['Media'];
const ORDER: MediaKind[] = ['poster', 'trailer', 'feature'];

function uploadApi(id: number, kind: MediaKind): UploadApi<Media> {
  return {
    create: (body) => call(api.POST('/api/v1/movies/{id}/media/{kind}/uploads', { params: { path: { id, kind } }, body })),
    complete: (upload_id, parts) =>
      call(
        api.POST('/api/v1/movies/{id}/media/{kind}/uploads/{upload_id}/complete', {
          params: { path: { id, kind, upload_id } },
          body: parts ? { parts } : {},
        }),
      ),
    // keepalive: the cancel still reaches the API when it is sent as the page goes away.
    cancel: (upload_id) =>
      call(api.DELETE('/api/v1/movies/{id}/media/{kind}/uploads/{upload_id}', { params: { path: { id, kind, upload_id } }, keepalive: true })),
  };
}

export function duration(s: number): string {
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = String(t % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

const TYPE_NAMES: Record<string, string> = {
  'image/jpeg': 'JPEG image',
  'image/png': 'PNG image',
  'image/webp': 'WebP image',
  'video/mp4': 'MP4 video',
  'video/webm': 'WebM video',
};

/** Asks before leaving the page (reload, close, another site, an in-app link) while `active`. */
function useLeaveGuard(active: boolean, onLeave: () => void): void {
  const leave = useRef(onLeave);
  leave.current = onLeave;
  useEffect(() => {
    if (!active) return;
    const beforeUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    const pageHide = () => leave.current();
    // In-app links: the router ignores a click whose default is prevented.
    const click = (e: MouseEvent) => {
      const a = (e.target as Element | null)?.closest?.('a');
      if (!a || a.target || a.origin !== window.location.origin || e.defaultPrevented) return;
      if (!window.confirm('An upload is in progress. Leave this page and cancel it?')) e.preventDefault();
    };
    window.addEventListener('beforeunload', beforeUnload);
    window.addEventListener('pagehide', pageHide);
    document.addEventListener('click', click, true);
    return () => {
      window.removeEventListener('beforeunload', beforeUnload);
      window.removeEventListener('pagehide', pageHide);
      document.removeEventListener('click', click, true);
    };
  }, [active]);
}

type Phase =
  | { at: 'idle' }
  | { at: 'reading' }
  | { at: 'sending'; progress: Progress }
  | { at: 'failed'; error: unknown }
  | { at: 'done'; message: string };

function CurrentFile({ kind, media, title }: { kind: MediaKind; media: Media | undefined; title: string }) {
  if (!media) return <p class="muted media-none">No {KINDS[kind].label.toLowerCase()} yet.</p>;
  return (
    <div class="media-current">
      {kind === 'poster' && <Poster title={title} src={media.url} />}
      <dl class="media-facts">
        <dt>Type</dt>
        <dd>{TYPE_NAMES[media.content_type] ?? media.content_type}</dd>
        <dt>Size</dt>
        <dd>{bytes(media.size_bytes)}</dd>
        {kind !== 'poster' && (
          <>
            <dt>Duration</dt>
            <dd>{media.duration_s === null ? 'unknown' : duration(media.duration_s)}</dd>
          </>
        )}
        <dt>Uploaded</dt>
        <dd>
          {dateTime(media.uploaded_at)}
          {media.uploaded_by ? ` by ${media.uploaded_by.email}` : ''}
        </dd>
      </dl>
    </div>
  );
}

function MediaSlot({
  movieId,
  title,
  kind,
  media,
  onLinked,
  onRemoved,
}: {
  movieId: number;
  title: string;
  kind: MediaKind;
  media: Media | undefined;
  onLinked: (m: Media) => void;
  onRemoved: () => void;
}) {
  const k = KINDS[kind];
  const noun = k.label.toLowerCase();
  const headingId = useId();
  const progressId = useId();
  const [file, setFile] = useState<File | null>(null);
  const [fileError, setFileError] = useState<string | undefined>(undefined);
  const [phase, setPhase] = useState<Phase>({ at: 'idle' });
  const [removing, setRemoving] = useState(false);
  const [removeError, setRemoveError] = useState<unknown>(null);
  const [busyRemove, setBusyRemove] = useState(false);
  const [inputKey, setInputKey] = useState(0);
  const uploader = useRef<MediaUploader<Media> | null>(null);
  // Bumped by cancel: an upload still reading the video's length then stops.
  const attempt = useRef(0);
  const uploading = phase.at === 'reading' || phase.at === 'sending';
  // The form's buttons turn into others as the upload goes (Upload → Cancel
  // → Upload, the file input renewed): when the focused one goes away, focus
  // goes to the one that takes its place rather than to the top of the page.
  const form = useRef<HTMLFormElement>(null);
  const lastFocus = useRef<Element | null>(null);
  useEffect(() => {
    const f = form.current;
    const last = lastFocus.current;
    if (!f || !last || last.isConnected) return;
    const now = document.activeElement;
    if (now && now !== document.body) return;
    const next = f.querySelector<HTMLElement>('.media-cancel, .media-submit:not([disabled])') ?? f.querySelector<HTMLElement>('input[type="file"]:not([disabled])');
    next?.focus();
  });

  const stop = () => {
    const u = uploader.current;
    uploader.current = null;
    if (u) void u.cancel();
  };
  useLeaveGuard(uploading, stop);
  // Leaving the page (or the movie) cancels what is still uploading.
  useEffect(() => stop, []);

  function choose(f: File | null) {
    if (uploading) return;
    stop();
    setFile(f);
    setPhase({ at: 'idle' });
    setRemoveError(null);
    setFileError(f ? (checkFile(kind, f) ?? undefined) : undefined);
  }

  async function run(u: MediaUploader<Media>) {
    try {
      const linked = await u.start();
      // Cancelled while the API was already linking it: the file is linked all the same.
      onLinked(linked);
      if (uploader.current !== u) {
        setPhase({ at: 'done', message: `The ${noun} had already reached the server before the cancel: it is linked.` });
        return;
      }
      uploader.current = null;
      setFile(null);
      setInputKey((n) => n + 1);
      setPhase({ at: 'done', message: `The ${noun} is uploaded${media ? ' and replaces the previous file' : ''}.` });
    } catch (e) {
      if (uploader.current !== u) return;
      if (e instanceof UploadError && e.code === 'cancelled') {
        uploader.current = null;
        setPhase({ at: 'done', message: 'The upload is cancelled; nothing was changed.' });
        return;
      }
      // A 422 refusing the request itself (type, size): the file cannot be sent as it is.
      if (e instanceof ApiError && e.status === 422 && e.code !== 'media_mismatch') uploader.current = null;
      setPhase({ at: 'failed', error: e });
    }
  }

  async function upload(e: Event) {
    e.preventDefault();
    if (!file || uploading) return;
    const problem = checkFile(kind, file);
    if (problem) {
      setFileError(problem);
      return;
    }
    setRemoveError(null);
    let u = uploader.current;
    if (!u || u.isCancelled) {
      const ticket = ++attempt.current;
      setPhase({ at: 'reading' });
      const durationS = k.video ? await readDuration(file) : undefined;
      if (attempt.current !== ticket) return;
      u = new MediaUploader<Media>({
        file,
        contentType: contentTypeOf(file),
        durationS,
        api: uploadApi(movieId, kind),
        onProgress: (progress) => {
          if (uploader.current === u) setPhase({ at: 'sending', progress });
        },
      });
      uploader.current = u;
    }
    setPhase({ at: 'sending', progress: { loaded: 0, total: file.size } });
    await run(u);
  }

  function cancel() {
    attempt.current++;
    const u = uploader.current;
    uploader.current = null;
    setPhase({ at: 'done', message: 'The upload is cancelled; nothing was changed.' });
    if (u) void u.cancel();
  }

  async function remove() {
    setBusyRemove(true);
    try {
      await call(api.DELETE('/api/v1/movies/{id}/media/{kind}', { params: { path: { id: movieId, kind } } }));
      setRemoving(false);
      onRemoved();
      setPhase({ at: 'done', message: `The ${noun} is removed.` });
    } catch (x) {
      setRemoving(false);
      setRemoveError(x);
    } finally {
      setBusyRemove(false);
    }
  }

  const pct = phase.at === 'sending' && phase.progress.total > 0 ? Math.floor((phase.progress.loaded / phase.progress.total) * 100) : 0;
  const confirming = phase.at === 'sending' && phase.progress.total > 0 && phase.progress.loaded >= phase.progress.total;

  return (
    <section class="media-slot" aria-labelledby={headingId}>
      <h3 id={headingId}>{k.label}</h3>
      <CurrentFile kind={kind} media={media} title={title} />
      <form
        ref={form}
        class="media-upload"
        noValidate
        onSubmit={(e) => void upload(e)}
        onFocusIn={(e) => {
          lastFocus.current = e.target as Element;
        }}
      >
        <Field
          key={inputKey}
          label={media ? `New ${noun} file` : `${k.label} file`}
          type="file"
          accept={k.types.join(',')}
          disabled={uploading}
          onChange={(e) => choose(e.currentTarget.files?.[0] ?? null)}
          error={fileError}
          hint={`${k.names}, up to ${bytes(k.max)}.`}
        />
        {phase.at === 'reading' && <Loading label="Reading the video’s length…" />}
        {phase.at === 'sending' && (
          <div class="media-progress">
            <label for={progressId}>
              {confirming ? `Uploaded “${file?.name ?? noun}”: ${pct} %, checking the file…` : `Uploading “${file?.name ?? noun}”: ${pct} %`}
            </label>
            <progress id={progressId} max={phase.progress.total} value={phase.progress.loaded}>
              {pct} %
            </progress>
            <p class="small muted">
              {bytes(phase.progress.loaded)} of {bytes(phase.progress.total)}
            </p>
          </div>
        )}
        {phase.at === 'failed' && (
          <div class="alert alert-error" role="alert">
            <p>{explainUploadError(phase.error)}</p>
          </div>
        )}
        {phase.at === 'done' && <Notice kind="success">{phase.message}</Notice>}
        {removeError !== null &&
          (removeError instanceof ApiError && removeError.code === 'feature_purchased' ? (
            <div class="alert alert-warning" role="alert">
              <p>
                Somebody has bought this movie, so its feature cannot be removed: buyers must still be able to watch it. Upload a new file
                to replace it instead.
              </p>
            </div>
          ) : (
            <ErrorMessage error={removeError} />
          ))}
        <div class="row">
          {/* Keys: never the same element, or the click on "Cancel upload" would
              land on the submit button it turns into and start the upload again. */}
          {uploading ? (
            // Once every byte is sent the API is checking and linking the file: too late to cancel.
            !confirming && (
              <button key="cancel" type="button" class="btn media-cancel" onClick={cancel}>
                Cancel upload
              </button>
            )
          ) : (
            <button key="submit" type="submit" class="btn btn-primary media-submit" disabled={!file || !!fileError}>
              {phase.at === 'failed' && uploader.current ? 'Try again' : media ? `Replace ${noun}` : `Upload ${noun}`}
            </button>
          )}
          {media && !uploading && (
            <button type="button" class="btn btn-danger" onClick={() => setRemoving(true)}>
              Remove {noun}
            </button>
          )}
        </div>
      </form>
      {removing && (
        <ConfirmDialog
          title={`Remove the ${noun}?`}
          onClose={() => setRemoving(false)}
          actions={
            <button type="button" class="btn btn-danger" disabled={busyRemove} onClick={() => void remove()}>
              {busyRemove ? 'Removing…' : `Remove ${noun}`}
            </button>
          }
        >
          <p>
            “{title}” will have no {noun}
            {kind === 'feature' ? ': nobody can watch it until a new one is uploaded' : ''}. The file is deleted from storage.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

/** The media of a saved movie. */
export function MediaSection({ movieId, title }: { movieId: number; title: string }) {
  const list = useAsync(() => call(api.GET('/api/v1/movies/{id}/media', { params: { path: { id: movieId } } })), [movieId]);
  const items = list.data?.items ?? [];
  // The latest list, so that two uploads ending in one tick both stay.
  const latest = useRef(items);
  latest.current = items;
  const set = (kind: MediaKind, m: Media | undefined) => {
    const rest = latest.current.filter((i) => i.kind !== kind);
    latest.current = m ? [...rest, m] : rest;
    list.set({ items: latest.current });
  };
  return (
    <section class="media-section" aria-labelledby="media-heading">
      <h2 id="media-heading">Media</h2>
      <p class="muted">
        Files go straight from your browser to the storage server. The poster and the trailer are public; the feature is for buyers.
      </p>
      {list.error ? (
        <ErrorMessage error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Loading label="Loading the media…" />
      ) : (
        <div class="media-grid">
          {ORDER.map((kind) => (
            <MediaSlot
              key={kind}
              movieId={movieId}
              title={title}
              kind={kind}
              media={items.find((i) => i.kind === kind)}
              onLinked={(m) => set(kind, m)}
              onRemoved={() => set(kind, undefined)}
            />
          ))}
        </div>
      )}
    </section>
  );
}
