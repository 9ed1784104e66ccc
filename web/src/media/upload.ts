// The upload engine of the moderators' media form (docs/MEDIA.md,
// "Uploading"): asks the API for a presigned upload, PUTs the file straight
// to S3 (one PUT, or one PUT per part of a multipart upload, up to 3 at a
// time, each retried twice), keeps each part's ETag and confirms. Bytes go
// with XMLHttpRequest, whose upload events give progress (fetch has none),
// to the presigned URLs only, with exactly the headers the API gave: never
// the app's bearer token (the URL carries its own signature). The API calls
// and the XHR factory are injected, so the planning, the concurrency, the
// retries and the abort are tested without a browser (upload.test.ts).
import { ApiError } from '../api/errors';

export type MediaKind = 'poster' | 'trailer' | 'feature';

export interface UploadPart {
  number: number;
  size: number;
  url: string;
  headers: Record<string, string>;
}

/** The answer of createMediaUpload (the fields the engine reads). */
export interface UploadPlan {
  id: string;
  multipart: boolean;
  part_size: number;
  size_bytes: number;
  parts: UploadPart[];
  expires_at: string;
}

export interface UploadRequest {
  content_type: string;
  size_bytes: number;
  duration_s?: number;
}

export interface UploadApi<M> {
  create(body: UploadRequest): Promise<UploadPlan>;
  complete(uploadId: string, parts: { number: number; etag: string }[] | undefined): Promise<M>;
  /** Best effort: the engine ignores its failure (the scheduler cleans up abandoned uploads). */
  cancel(uploadId: string): Promise<unknown>;
}

/** The part of XMLHttpRequest the engine uses. */
export interface XhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  getResponseHeader(name: string): string | null;
  send(body: Blob): void;
  abort(): void;
  readonly status: number;
  upload: { onprogress: ((e: { loaded: number }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  ontimeout: (() => void) | null;
}

export type XhrFactory = () => XhrLike;

/** What the engine needs of a File (a Blob with a type and a size). */
export interface FileLike {
  readonly size: number;
  readonly type: string;
  slice(start: number, end: number): Blob;
}

export interface Progress {
  loaded: number;
  total: number;
}

export interface UploadOptions<M> {
  file: FileLike;
  contentType: string;
  durationS?: number | undefined;
  api: UploadApi<M>;
  xhr?: XhrFactory;
  /** Parts in flight at once (default 3). */
  concurrency?: number;
  /** Retries of a failed part (default 2: three tries in all). */
  retries?: number;
  /** Waits before a retry (default: 500 ms times the try). */
  sleep?: (ms: number) => Promise<void>;
  onProgress?: (p: Progress) => void;
  now?: () => number;
}

/**
 * Why an upload stopped, besides an ApiError of the API: S3 refused a PUT
 * (status 0 when it could not be reached), the ETag was not readable, or the
 * upload was cancelled.
 */
export class UploadError extends Error {
  constructor(
    readonly code: 's3_refused' | 's3_unreachable' | 'etag_missing' | 'cancelled',
    message: string,
    readonly status = 0,
    readonly part = 0,
  ) {
    super(message);
    this.name = 'UploadError';
  }
}

/** Headers a browser sets itself and refuses from a script (Content-Length is fixed by the body). */
const FORBIDDEN = new Set(['content-length', 'host', 'connection', 'expect', 'accept-encoding', 'date', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** The headers to set on a part's PUT: the ones given, minus those the browser sets itself. */
export function headersToSend(given: Record<string, string>): [string, string][] {
  return Object.entries(given).filter(([k]) => !FORBIDDEN.has(k.toLowerCase()) && k.toLowerCase() !== 'authorization');
}

/** The byte range of each part: [start, end) from the plan (numbers in order, sizes as signed). */
export function planRanges(plan: Pick<UploadPlan, 'parts' | 'size_bytes'>): { part: UploadPart; start: number; end: number }[] {
  const parts = [...plan.parts].sort((a, b) => a.number - b.number);
  let at = 0;
  const out = parts.map((part) => {
    const r = { part, start: at, end: at + part.size };
    at += part.size;
    return r;
  });
  if (at !== plan.size_bytes) throw new Error(`the upload's parts add up to ${at} bytes, not ${plan.size_bytes}`);
  return out;
}

// XMLHttpRequest's handlers take full events; the engine reads only `loaded`.
const defaultXhr: XhrFactory = () => new XMLHttpRequest() as unknown as XhrLike;
const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Codes after which the upload cannot be resumed: a retry starts a new one. */
const RESTART = new Set(['upload_expired', 'media_mismatch', 'not_found']);

/**
 * One file's upload. start() runs it (and, after a failure, resumes it:
 * parts already stored are not sent again, unless S3 lost them); cancel()
 * aborts what is in flight and cancels the upload with the API.
 */
export class MediaUploader<M> {
  private plan: UploadPlan | null = null;
  private etags = new Map<number, string>();
  private inflight = new Set<XhrLike>();
  private loaded = new Map<number, number>();
  private cancelled = false;
  private running: Promise<M> | null = null;
  private readonly o: Required<Omit<UploadOptions<M>, 'durationS' | 'onProgress'>> & Pick<UploadOptions<M>, 'durationS' | 'onProgress'>;

  constructor(opts: UploadOptions<M>) {
    this.o = {
      xhr: defaultXhr,
      concurrency: 3,
      retries: 2,
      sleep: defaultSleep,
      now: () => Date.now(),
      ...opts,
    };
  }

  get uploadId(): string | null {
    return this.plan?.id ?? null;
  }

  get isCancelled(): boolean {
    return this.cancelled;
  }

  /** Runs (or resumes) the upload; resolves with the linked media. */
  start(): Promise<M> {
    if (this.cancelled) return Promise.reject(new UploadError('cancelled', 'The upload was cancelled.'));
    this.running ??= this.run().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Aborts the PUTs in flight and cancels the upload with the API (best effort). */
  cancel(): Promise<void> {
    if (this.cancelled) return Promise.resolve();
    this.cancelled = true;
    for (const x of [...this.inflight]) x.abort();
    this.inflight.clear();
    const plan = this.plan;
    this.plan = null;
    if (!plan) return Promise.resolve();
    return this.o.api.cancel(plan.id).then(
      () => undefined,
      () => undefined,
    );
  }

  private progress(): void {
    const total = this.o.file.size;
    let loaded = 0;
    for (const v of this.loaded.values()) loaded += v;
    this.o.onProgress?.({ loaded: Math.min(loaded, total), total });
  }

  private checkCancelled(): void {
    if (this.cancelled) throw new UploadError('cancelled', 'The upload was cancelled.');
  }

  private async run(): Promise<M> {
    const o = this.o;
    // A plan whose URLs have expired cannot be resumed: drop it (and tell the API).
    if (this.plan && Date.parse(this.plan.expires_at) <= o.now()) this.forget();
    if (!this.plan) {
      const body: UploadRequest = { content_type: o.contentType, size_bytes: o.file.size };
      if (o.durationS !== undefined) body.duration_s = o.durationS;
      const plan = await o.api.create(body);
      if (this.cancelled) {
        await o.api.cancel(plan.id).catch(() => undefined);
        this.checkCancelled();
      }
      this.plan = plan;
      this.etags.clear();
      this.loaded.clear();
    }
    const plan = this.plan;
    const ranges = planRanges(plan);
    for (const r of ranges) this.loaded.set(r.part.number, this.etags.has(r.part.number) ? r.part.size : 0);
    this.progress();

    try {
      await this.sendAll(ranges.filter((r) => !this.etags.has(r.part.number)));
    } catch (e) {
      for (const x of [...this.inflight]) x.abort();
      this.inflight.clear();
      throw e;
    }
    this.checkCancelled();

    const parts = plan.multipart
      ? ranges.map((r) => ({ number: r.part.number, etag: this.etags.get(r.part.number) ?? '' }))
      : undefined;
    try {
      const media = await o.api.complete(plan.id, parts);
      this.plan = null;
      return media;
    } catch (e) {
      if (e instanceof ApiError) {
        // S3 lost a part (or the object): send every part again on the next try.
        if (e.code === 'upload_incomplete') {
          this.etags.clear();
          this.loaded.clear();
        } else if (RESTART.has(e.code)) {
          this.plan = null;
        }
      }
      throw e;
    }
  }

  /** Drops the current plan (expired): the API cancels it, the next run asks for a new one. */
  private forget(): void {
    const plan = this.plan;
    this.plan = null;
    if (plan) void this.o.api.cancel(plan.id).catch(() => undefined);
  }

  /** PUTs the parts, `concurrency` at a time; the first part that fails for good fails the lot. */
  private async sendAll(todo: { part: UploadPart; start: number; end: number }[]): Promise<void> {
    const queue = [...todo];
    let failed: unknown = null;
    const worker = async () => {
      while (queue.length && failed === null && !this.cancelled) {
        const r = queue.shift();
        if (!r) break;
        try {
          await this.sendPart(r, () => failed !== null);
        } catch (e) {
          failed ??= e;
          for (const x of [...this.inflight]) x.abort();
        }
      }
    };
    const n = Math.max(1, Math.min(this.o.concurrency, queue.length));
    await Promise.all(Array.from({ length: n }, worker));
    if (failed !== null) throw failed;
    this.checkCancelled();
  }

  /** One part, retried; `lotFailed`: another part failed for good meanwhile (a retry waiting then is not sent). */
  private async sendPart(r: { part: UploadPart; start: number; end: number }, lotFailed: () => boolean): Promise<void> {
    const o = this.o;
    const multipart = this.plan?.multipart ?? false;
    for (let attempt = 0; ; attempt++) {
      this.checkCancelled();
      if (lotFailed()) throw new UploadError('cancelled', 'The upload stopped: another part failed.', 0, r.part.number);
      try {
        const etag = await this.put(r);
        if (!etag && multipart)
          throw new UploadError(
            'etag_missing',
            'The storage server accepted a part but did not show its ETag: its CORS rules must expose the ETag header (see docs/MEDIA.md).',
            0,
            r.part.number,
          );
        this.etags.set(r.part.number, etag ?? '');
        this.loaded.set(r.part.number, r.part.size);
        this.progress();
        return;
      } catch (e) {
        this.loaded.set(r.part.number, 0);
        this.progress();
        const final = !(e instanceof UploadError) || e.code === 'cancelled' || e.code === 'etag_missing' || attempt >= o.retries;
        if (final || this.cancelled) throw e;
        await o.sleep(500 * (attempt + 1));
      }
    }
  }

  /** One PUT of one part; resolves with its ETag (null when not readable). */
  private put(r: { part: UploadPart; start: number; end: number }): Promise<string | null> {
    return new Promise((resolve, reject) => {
      const x = this.o.xhr();
      this.inflight.add(x);
      const done = () => this.inflight.delete(x);
      x.open('PUT', r.part.url);
      for (const [k, v] of headersToSend(r.part.headers)) x.setRequestHeader(k, v);
      x.upload.onprogress = (e) => {
        this.loaded.set(r.part.number, Math.min(e.loaded, r.part.size));
        this.progress();
      };
      x.onload = () => {
        done();
        if (x.status >= 200 && x.status < 300) resolve(x.getResponseHeader('ETag'));
        else reject(new UploadError('s3_refused', `The storage server refused part ${r.part.number} (HTTP ${x.status}).`, x.status, r.part.number));
      };
      x.onerror = x.ontimeout = () => {
        done();
        reject(new UploadError('s3_unreachable', 'The storage server could not be reached.', 0, r.part.number));
      };
      x.onabort = () => {
        done();
        reject(new UploadError('cancelled', 'The upload was cancelled.', 0, r.part.number));
      };
      x.send(this.o.file.slice(r.start, r.end));
    });
  }
}

// --- checks and words ---------------------------------------------------------

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Types and the default maximum sizes per kind (docs/MEDIA.md; the server's own limits decide). */
export const KINDS: Record<MediaKind, { label: string; types: string[]; names: string; max: number; video: boolean }> = {
  poster: { label: 'Poster', types: ['image/jpeg', 'image/png', 'image/webp'], names: 'JPEG, PNG or WebP', max: 10 * MiB, video: false },
  trailer: { label: 'Trailer', types: ['video/mp4', 'video/webm'], names: 'MP4 or WebM', max: 2 * GiB, video: true },
  feature: { label: 'Feature', types: ['video/mp4', 'video/webm'], names: 'MP4 or WebM', max: 100 * GiB, video: true },
};

const BY_EXTENSION: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  webm: 'video/webm',
};

/** The file's content type: the browser's, else from its extension ("" when unknown). */
export function contentTypeOf(file: { name: string; type: string }): string {
  if (file.type) return file.type.toLowerCase();
  const ext = /\.([a-z0-9]+)$/i.exec(file.name)?.[1]?.toLowerCase() ?? '';
  return BY_EXTENSION[ext] ?? '';
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

/** Why this file cannot be uploaded as this kind (null when it can), by the default limits. */
export function checkFile(kind: MediaKind, file: { name: string; type: string; size: number }): string | null {
  const k = KINDS[kind];
  const type = contentTypeOf(file);
  if (!k.types.includes(type))
    return `“${file.name}” is ${type ? `a ${type} file` : 'of an unknown type'}: a ${k.label.toLowerCase()} must be ${k.names}.`;
  if (file.size === 0) return `“${file.name}” is empty.`;
  if (file.size > k.max) return `“${file.name}” is ${bytes(file.size)}: a ${k.label.toLowerCase()} may be ${bytes(k.max)} at most.`;
  return null;
}

/** An upload's failure in plain words. */
export function explainUploadError(e: unknown): string {
  if (e instanceof UploadError) {
    switch (e.code) {
      case 's3_refused':
        return e.status === 403
          ? `The storage server refused part ${e.part} of the file (HTTP 403): its upload link may have expired. Try again.`
          : `The storage server refused part ${e.part} of the file (HTTP ${e.status}), even after retrying. Try again.`;
      case 's3_unreachable':
        return 'The storage server could not be reached, even after retrying: check your connection and try again.';
      case 'etag_missing':
        return e.message;
      case 'cancelled':
        return 'The upload was cancelled.';
    }
  }
  if (e instanceof ApiError) {
    switch (e.code) {
      case 'upload_incomplete':
        return `Part of the file did not reach the storage server. ${e.message} Try again: the missing parts are sent again.`;
      case 'media_mismatch':
        return `The file that arrived is not what was declared, so it was discarded. ${e.message} Check the file and upload it again.`;
      case 'upload_expired':
        return 'The upload took too long and its links expired. Try again: a new upload starts.';
      case 'storage_unavailable':
        return 'The storage server is not available just now. Try again in a moment.';
      case 'payload_too_large':
        return `The server refused the file as too large. ${e.message}`;
      case 'validation_failed': {
        const fields = Object.entries(e.fields).map(([f, m]) => `${f}: ${m}`);
        return fields.length ? `The server refused the file: ${fields.join('; ')}.` : e.message;
      }
    }
    return e.message;
  }
  return 'Something went wrong; try again.';
}

/**
 * A video's duration in seconds, read from a hidden <video>'s metadata;
 * undefined when the browser cannot read it within timeoutMs (the API
 * accepts an upload without one).
 */
export function readDuration(file: Blob, timeoutMs = 5000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const v = document.createElement('video');
    const url = URL.createObjectURL(file);
    const finish = (d: number | undefined) => {
      clearTimeout(timer);
      v.onloadedmetadata = v.onerror = null;
      v.removeAttribute('src');
      v.load();
      URL.revokeObjectURL(url);
      resolve(d !== undefined && Number.isFinite(d) && d > 0 && d <= 86400 ? d : undefined);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    v.preload = 'metadata';
    v.muted = true;
    v.onloadedmetadata = () => finish(v.duration);
    v.onerror = () => finish(undefined);
    v.src = url;
  });
}
