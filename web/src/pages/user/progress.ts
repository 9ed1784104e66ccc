// When the player tells the server where the viewer is (PUT
// /api/v1/movies/{id}/progress): at most every 15 s while the film plays, and
// at once on pause, at the end and when the page goes away. A pure module (a
// clock and a sender are given), so the throttling is tested without a
// browser or timers: see progress.test.ts.

export interface Position {
  /** Seconds from the start (the video's currentTime). */
  position_s: number;
  /** The film's length in seconds (the video's duration). */
  duration_s: number;
}

export interface ProgressDeps {
  /** Milliseconds, monotonic enough (Date.now, performance.now). */
  now: () => number;
  /** Sends one report; `keepalive` when the page may be going away. Errors are the caller's to ignore. */
  send: (p: Position, opts: { keepalive: boolean }) => Promise<void>;
}

/** Seconds between two reports while playing (docs/MEDIA.md). */
export const PROGRESS_INTERVAL_MS = 15_000;

/** A position worth sending: a finite, positive length and a position in [0, length]. */
export function cleanPosition(position: number, duration: number): Position | null {
  if (!Number.isFinite(duration) || duration <= 0) return null;
  if (!Number.isFinite(position) || position < 0) return null;
  // Tenths of a second are plenty; clamped to the length as the server would.
  const round = (s: number) => Math.round(s * 10) / 10;
  return { position_s: Math.min(round(position), round(duration)), duration_s: round(duration) };
}

export class ProgressReporter {
  private last: Position | null = null;
  /** When the last report left (null: none yet, so the first tick waits a full interval from start()). */
  private lastAt: number;
  private stopped = false;

  constructor(
    private readonly deps: ProgressDeps,
    private readonly intervalMs = PROGRESS_INTERVAL_MS,
  ) {
    this.lastAt = deps.now();
  }

  /**
   * While playing (the video's timeupdate, a few times a second): sends when
   * the interval has passed since the last report. Returns whether it sent.
   */
  tick(position: number, duration: number): boolean {
    if (this.deps.now() - this.lastAt < this.intervalMs) return false;
    return this.report(position, duration, false);
  }

  /**
   * Pause, end, page hidden or left: sends now, unless this very position was
   * the last one sent (a pause then a pagehide report once). Returns whether it sent.
   */
  flush(position: number, duration: number, opts: { keepalive?: boolean } = {}): boolean {
    return this.report(position, duration, opts.keepalive ?? false);
  }

  /** After the page is left: nothing more is sent (a late timeupdate, an error replay). */
  stop(): void {
    this.stopped = true;
  }

  private report(position: number, duration: number, keepalive: boolean): boolean {
    if (this.stopped) return false;
    const p = cleanPosition(position, duration);
    if (!p) return false;
    if (this.last && this.last.position_s === p.position_s && this.last.duration_s === p.duration_s) return false;
    // Counted as sent when it leaves: a failed report is not retried at once
    // (the next tick or flush carries a newer position anyway).
    this.last = p;
    this.lastAt = this.deps.now();
    this.deps.send(p, { keepalive }).catch(() => undefined);
    return true;
  }
}

/**
 * The film's length for the reports: the video's when it knows it, else the
 * one the server has (`Playback.duration_s`): a WebM without a duration in
 * its header (a MediaRecorder file, a live muxer's) has an infinite
 * `duration`, and its position would never be recorded. NaN when neither is known.
 */
export function lengthOf(videoDuration: number, known: number | null | undefined): number {
  if (Number.isFinite(videoDuration) && videoDuration > 0) return videoDuration;
  return typeof known === 'number' && Number.isFinite(known) && known > 0 ? known : Number.NaN;
}

/**
 * Where to seek to resume at `to`: `to` itself when it lies before the film's
 * last second (or the length is not known), else null: a saved position at or
 * past the end (the file was replaced by a shorter one) would end the film at
 * once, so it starts from the beginning instead.
 */
export function resumeSeek(to: number, length: number): number | null {
  if (!(to > 0)) return null;
  return Number.isFinite(length) && to >= length - 1 ? null : to;
}

/** Where a player should start: the saved position when unfinished and past the first 5 seconds, else 0. */
export function resumeAt(p: { position_s: number | null; finished: boolean } | null | undefined): number {
  if (!p || p.finished || p.position_s === null || !(p.position_s > 5)) return 0;
  return p.position_s;
}
