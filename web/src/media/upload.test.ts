// The upload engine over a fake XMLHttpRequest and a fake API: the parts'
// byte ranges, the exact headers (never a bearer token), at most 3 PUTs in
// flight, two retries of a failed part, resuming without sending stored
// parts again, and cancel (aborts every PUT, cancels the upload).
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/errors';
import {
  checkFile,
  contentTypeOf,
  explainUploadError,
  headersToSend,
  MediaUploader,
  planRanges,
  UploadError,
  type UploadApi,
  type UploadPlan,
  type XhrLike,
} from './upload';

class FakeXhr implements XhrLike {
  method = '';
  url = '';
  headers: Record<string, string> = {};
  body: Blob | null = null;
  status = 0;
  aborted = false;
  etag: string | null = null;
  upload: { onprogress: ((e: { loaded: number }) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  ontimeout: (() => void) | null = null;
  done = false;

  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(k: string, v: string) {
    this.headers[k] = v;
  }
  getResponseHeader(k: string) {
    return k.toLowerCase() === 'etag' ? this.etag : null;
  }
  send(body: Blob) {
    this.body = body;
  }
  abort() {
    if (this.done) return;
    this.done = true;
    this.aborted = true;
    this.onabort?.();
  }
  /** S3's answer. */
  respond(status: number, etag: string | null = `"etag-${this.url}"`) {
    if (this.done) return;
    this.done = true;
    this.upload.onprogress?.({ loaded: this.body?.size ?? 0 });
    this.status = status;
    this.etag = etag;
    this.onload?.();
  }
  fail() {
    if (this.done) return;
    this.done = true;
    this.onerror?.();
  }
}

function harness(size: number, partSize: number, opts: { multipart?: boolean; sleep?: (ms: number) => Promise<void> } = {}) {
  const xhrs: FakeXhr[] = [];
  const file = new Blob([new Uint8Array(size).map((_, i) => i % 251)], { type: 'video/webm' });
  const n = Math.max(1, Math.ceil(size / partSize));
  const multipart = opts.multipart ?? n > 1;
  let uploads = 0;
  const makePlan = (): UploadPlan => {
    uploads++;
    return {
      id: `up-${uploads}`,
      multipart,
      part_size: partSize,
      size_bytes: size,
      expires_at: new Date(Date.now() + 3600_000).toISOString(),
      parts: Array.from({ length: n }, (_, i) => ({
        number: i + 1,
        size: i === n - 1 ? size - partSize * (n - 1) : partSize,
        url: `https://s3.test/b/key?partNumber=${i + 1}&uploadId=up-${uploads}`,
        headers: (multipart ? {} : { 'Content-Type': 'video/webm', 'Content-Length': String(size) }) as Record<string, string>,
      })),
    };
  };
  const api = {
    create: vi.fn<UploadApi<string>['create']>(async () => makePlan()),
    complete: vi.fn<UploadApi<string>['complete']>(async () => 'linked'),
    cancel: vi.fn<UploadApi<string>['cancel']>(async () => undefined),
  };
  const progress: { loaded: number; total: number }[] = [];
  const up = new MediaUploader<string>({
    file,
    contentType: 'video/webm',
    durationS: 12.5,
    api,
    xhr: () => {
      const x = new FakeXhr();
      xhrs.push(x);
      return x;
    },
    sleep: opts.sleep ?? (() => Promise.resolve()),
    onProgress: (p) => progress.push(p),
  });
  const pending = () => xhrs.filter((x) => !x.done);
  return { xhrs, file, api, up, progress, pending };
}

const flush = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 0));
};

/** Answers 200 to every pending PUT until none is left, checking the number in flight. */
async function drain(h: ReturnType<typeof harness>, maxInFlight = 3): Promise<number> {
  let most = 0;
  await flush();
  while (h.pending().length) {
    most = Math.max(most, h.pending().length);
    expect(h.pending().length).toBeLessThanOrEqual(maxInFlight);
    h.pending()[0]?.respond(200);
    await flush();
  }
  return most;
}

async function bytesOf(b: Blob | null): Promise<number[]> {
  return b ? [...new Uint8Array(await b.arrayBuffer())] : [];
}

describe('planRanges', () => {
  it('gives each part its byte range, in part order', () => {
    const r = planRanges({
      size_bytes: 25,
      parts: [
        { number: 2, size: 10, url: 'b', headers: {} },
        { number: 1, size: 10, url: 'a', headers: {} },
        { number: 3, size: 5, url: 'c', headers: {} },
      ],
    });
    expect(r.map((x) => [x.part.number, x.start, x.end])).toEqual([
      [1, 0, 10],
      [2, 10, 20],
      [3, 20, 25],
    ]);
  });
  it('refuses parts that do not add up to the file', () => {
    expect(() => planRanges({ size_bytes: 30, parts: [{ number: 1, size: 10, url: 'a', headers: {} }] })).toThrow(/10 bytes/);
  });
});

describe('headersToSend', () => {
  it('keeps the signed headers the browser lets a script set, and never an Authorization', () => {
    expect(headersToSend({ 'Content-Type': 'image/png', 'Content-Length': '12', Authorization: 'Bearer x' })).toEqual([['Content-Type', 'image/png']]);
  });
});

describe('MediaUploader', () => {
  it('sends a small file in one PUT with the given headers, and confirms without parts', async () => {
    const h = harness(1000, 8 << 20);
    const done = h.up.start();
    await flush();
    expect(h.api.create).toHaveBeenCalledWith({ content_type: 'video/webm', size_bytes: 1000, duration_s: 12.5 });
    expect(h.xhrs).toHaveLength(1);
    const x = h.xhrs[0] as FakeXhr;
    expect(x.method).toBe('PUT');
    expect(x.url).toMatch(/^https:\/\/s3\.test\//);
    expect(x.headers).toEqual({ 'Content-Type': 'video/webm' });
    expect(x.body?.size).toBe(1000);
    x.respond(200);
    await expect(done).resolves.toBe('linked');
    expect(h.api.complete).toHaveBeenCalledWith('up-1', undefined);
    expect(h.progress.at(-1)).toEqual({ loaded: 1000, total: 1000 });
  });

  it('sends each part its slice, at most 3 at a time, and confirms with every ETag in order', async () => {
    const h = harness(7 * 100 + 30, 100);
    const done = h.up.start();
    const most = await drain(h);
    await expect(done).resolves.toBe('linked');
    expect(most).toBe(3);
    expect(h.xhrs).toHaveLength(8);
    for (const x of h.xhrs) expect(Object.keys(x.headers)).toEqual([]);
    const third = h.xhrs.find((x) => x.url.includes('partNumber=3&'));
    expect(await bytesOf(third?.body ?? null)).toEqual(Array.from({ length: 100 }, (_, i) => (200 + i) % 251));
    expect(h.xhrs.find((x) => x.url.includes('partNumber=8&'))?.body?.size).toBe(30);
    const parts = h.api.complete.mock.calls[0]?.[1];
    expect(parts?.map((p) => p.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parts?.[4]?.etag).toContain('partNumber=5&');
    // progress only grows to the total
    const loaded = h.progress.map((p) => p.loaded);
    expect(loaded.at(-1)).toBe(730);
    expect(Math.max(...loaded)).toBe(730);
  });

  it('retries a failed part twice, then succeeds', async () => {
    const h = harness(300, 100);
    const done = h.up.start();
    await flush();
    const tries = () => h.xhrs.filter((x) => x.url.includes('partNumber=2&'));
    tries()[0]?.respond(500);
    await flush();
    tries()[1]?.fail();
    await flush();
    expect(tries()).toHaveLength(3);
    await drain(h);
    await expect(done).resolves.toBe('linked');
    expect(h.api.complete).toHaveBeenCalledTimes(1);
  });

  it('gives up on a part after three tries, aborts the others, and resumes without sending stored parts again', async () => {
    const h = harness(500, 100);
    const done = h.up.start().catch((e: unknown) => e);
    await flush();
    h.xhrs.find((x) => x.url.includes('partNumber=1&'))?.respond(200);
    await flush();
    for (let i = 0; i < 3; i++) {
      h.xhrs.filter((x) => x.url.includes('partNumber=2&') && !x.done)[0]?.respond(403);
      await flush();
    }
    const err = await done;
    expect(err).toBeInstanceOf(UploadError);
    expect((err as UploadError).code).toBe('s3_refused');
    expect((err as UploadError).part).toBe(2);
    expect(explainUploadError(err)).toMatch(/refused part 2/);
    expect(h.pending()).toHaveLength(0);
    expect(h.api.complete).not.toHaveBeenCalled();
    expect(h.api.cancel).not.toHaveBeenCalled();

    // Try again: the same upload, part 1 is not sent again.
    const before = h.xhrs.length;
    const again = h.up.start();
    await drain(h);
    await expect(again).resolves.toBe('linked');
    expect(h.api.create).toHaveBeenCalledTimes(1);
    const resent = h.xhrs.slice(before).map((x) => Number(/partNumber=(\d+)/.exec(x.url)?.[1]));
    expect(resent.sort()).toEqual([2, 3, 4, 5]);
    expect(h.api.complete.mock.calls[0]?.[1]).toHaveLength(5);
  });

  it('cancel aborts every PUT in flight and cancels the upload with the API', async () => {
    const h = harness(1000, 100);
    const done = h.up.start().catch((e: unknown) => e);
    await flush();
    expect(h.pending()).toHaveLength(3);
    const inflight = h.pending();
    await h.up.cancel();
    for (const x of inflight) expect(x.aborted).toBe(true);
    const err = await done;
    expect((err as UploadError).code).toBe('cancelled');
    expect(h.api.cancel).toHaveBeenCalledWith('up-1');
    await flush();
    expect(h.xhrs).toHaveLength(3);
    expect(h.api.complete).not.toHaveBeenCalled();
    await expect(h.up.start()).rejects.toBeInstanceOf(UploadError);
  });

  it('cancels an upload the API creates after cancel was pressed', async () => {
    const h = harness(100, 100);
    let release: (p: UploadPlan) => void = () => undefined;
    h.api.create.mockImplementationOnce(() => new Promise((r) => (release = r)));
    const done = h.up.start().catch((e: unknown) => e);
    await flush();
    await h.up.cancel();
    release({ id: 'late', multipart: false, part_size: 100, size_bytes: 100, expires_at: new Date(Date.now() + 1e6).toISOString(), parts: [{ number: 1, size: 100, url: 'u', headers: {} }] });
    expect(await done).toBeInstanceOf(UploadError);
    expect(h.api.cancel).toHaveBeenCalledWith('late');
    expect(h.xhrs).toHaveLength(0);
  });

  it('after upload_incomplete sends every part again; after media_mismatch starts a new upload', async () => {
    const h = harness(200, 100);
    h.api.complete.mockRejectedValueOnce(new ApiError(409, 'upload_incomplete', 'Part 2 of the upload is missing in storage.'));
    const first = h.up.start().catch((e: unknown) => e);
    await drain(h);
    const e1 = await first;
    expect(explainUploadError(e1)).toMatch(/did not reach the storage server/);

    h.api.complete.mockRejectedValueOnce(new ApiError(422, 'media_mismatch', 'The uploaded file is not a video/webm video.'));
    const second = h.up.start().catch((e: unknown) => e);
    await drain(h);
    expect(h.xhrs).toHaveLength(4);
    expect(h.api.create).toHaveBeenCalledTimes(1);
    const e2 = await second;
    expect(explainUploadError(e2)).toMatch(/discarded/);

    const third = h.up.start();
    await drain(h);
    await expect(third).resolves.toBe('linked');
    expect(h.api.create).toHaveBeenCalledTimes(2);
    expect(h.api.complete.mock.calls.at(-1)?.[0]).toBe('up-2');
  });

  it('a part waiting to be retried is not sent once another part failed for good', async () => {
    let wake: () => void = () => undefined;
    const h = harness(300, 100, { sleep: () => new Promise<void>((r) => (wake = r)) });
    const done = h.up.start().catch((e: unknown) => e);
    await flush();
    expect(h.pending()).toHaveLength(3);
    const part = (n: number) => h.xhrs.filter((x) => x.url.includes(`partNumber=${n}&`));
    part(1)[0]?.respond(500); // part 1 waits before its retry
    await flush();
    part(2)[0]?.respond(200, null); // part 2 fails for good: the lot fails, part 3 is aborted
    await flush();
    wake();
    const err = await Promise.race([done, flush().then(() => 'still running')]);
    expect((err as UploadError).code).toBe('etag_missing');
    expect(part(1)).toHaveLength(1);
    expect(h.pending()).toHaveLength(0);
  });

  it('refuses a multipart part whose ETag it cannot read (CORS must expose it)', async () => {
    const h = harness(200, 100);
    const done = h.up.start().catch((e: unknown) => e);
    await flush();
    h.pending()[0]?.respond(200, null);
    const err = await done;
    expect((err as UploadError).code).toBe('etag_missing');
    expect(h.xhrs.filter((x) => x.url.includes('partNumber=1&'))).toHaveLength(1);
  });
});

describe('checks', () => {
  it('reads the type from the extension when the browser gives none', () => {
    expect(contentTypeOf({ name: 'a.WEBM', type: '' })).toBe('video/webm');
    expect(contentTypeOf({ name: 'a.png', type: 'image/png' })).toBe('image/png');
    expect(contentTypeOf({ name: 'a.gif', type: '' })).toBe('');
  });
  it('refuses a wrong type, an empty file and one over the limit', () => {
    expect(checkFile('poster', { name: 'p.png', type: 'image/png', size: 1000 })).toBeNull();
    expect(checkFile('poster', { name: 'p.gif', type: 'image/gif', size: 1000 })).toMatch(/JPEG, PNG or WebP/);
    expect(checkFile('trailer', { name: 't.png', type: 'image/png', size: 1000 })).toMatch(/MP4 or WebM/);
    expect(checkFile('poster', { name: 'p.png', type: 'image/png', size: 11 << 20 })).toMatch(/10\.0 MiB at most/);
    expect(checkFile('feature', { name: 'f.webm', type: 'video/webm', size: 0 })).toMatch(/empty/);
  });
});
