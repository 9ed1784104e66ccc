// The player's progress reports: throttled to one per 15 s while playing,
// immediate on pause / end / page hidden, never twice for the same position,
// nothing after stop(); with a hand-driven clock.
import { describe, expect, it } from 'vitest';
import { clock, spokenClock } from '../../ui/format';
import { cleanPosition, lengthOf, ProgressReporter, resumeAt, resumeSeek, type Position } from './progress';

function setup(interval?: number) {
  let t = 1_000;
  const sent: { p: Position; keepalive: boolean; at: number }[] = [];
  const r = new ProgressReporter(
    {
      now: () => t,
      send: (p, o) => {
        sent.push({ p, keepalive: o.keepalive, at: t });
        return Promise.resolve();
      },
    },
    interval,
  );
  return {
    r,
    sent,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('ProgressReporter', () => {
  it('sends at most one report per interval while playing', () => {
    const { r, sent, advance } = setup();
    // timeupdate about 4 times a second for 40 s of playback.
    for (let ms = 0; ms <= 40_000; ms += 250) {
      r.tick(ms / 1000, 600);
      advance(250);
    }
    expect(sent.map((s) => s.p.position_s)).toEqual([15, 30]);
    expect(sent.every((s) => !s.keepalive)).toBe(true);
    expect(sent.map((s) => s.at)).toEqual([16_000, 31_000]);
  });

  it('the first tick waits a whole interval from the start', () => {
    const { r, sent, advance } = setup();
    expect(r.tick(1, 600)).toBe(false);
    advance(14_999);
    expect(r.tick(16, 600)).toBe(false);
    advance(1);
    expect(r.tick(16, 600)).toBe(true);
    expect(sent).toHaveLength(1);
  });

  it('flush sends at once and restarts the interval', () => {
    const { r, sent, advance } = setup();
    advance(3_000);
    expect(r.flush(3, 600)).toBe(true); // a pause
    advance(10_000);
    expect(r.tick(13, 600)).toBe(false); // 10 s after the pause
    advance(5_000);
    expect(r.tick(18, 600)).toBe(true);
    expect(sent.map((s) => s.p.position_s)).toEqual([3, 18]);
  });

  it('does not send the same position twice (pause, then the page is hidden)', () => {
    const { r, sent, advance } = setup();
    advance(20_000);
    expect(r.flush(42.04, 600)).toBe(true);
    advance(60_000);
    expect(r.flush(42.01, 600, { keepalive: true })).toBe(false);
    expect(r.tick(42, 600)).toBe(false);
    expect(r.flush(43, 600, { keepalive: true })).toBe(true);
    expect(sent.map((s) => [s.p.position_s, s.keepalive])).toEqual([
      [42, false],
      [43, true],
    ]);
  });

  it('ignores positions without a known length and clamps past the end', () => {
    const { r, sent } = setup();
    expect(r.flush(5, Number.NaN)).toBe(false);
    expect(r.flush(5, Number.POSITIVE_INFINITY)).toBe(false);
    expect(r.flush(5, 0)).toBe(false);
    expect(r.flush(-1, 60)).toBe(false);
    expect(r.flush(60.3, 60)).toBe(true); // ended: currentTime can pass duration by a frame
    expect(sent[0]?.p).toEqual({ position_s: 60, duration_s: 60 });
  });

  it('sends nothing after stop()', () => {
    const { r, sent, advance } = setup();
    r.stop();
    advance(60_000);
    expect(r.tick(60, 600)).toBe(false);
    expect(r.flush(61, 600, { keepalive: true })).toBe(false);
    expect(sent).toHaveLength(0);
  });

  it('a failed send is not retried at once and does not throw', async () => {
    let t = 0;
    let calls = 0;
    const r = new ProgressReporter({
      now: () => t,
      send: () => {
        calls++;
        return Promise.reject(new Error('offline'));
      },
    });
    t = 15_000;
    expect(r.tick(15, 600)).toBe(true);
    await Promise.resolve();
    t = 16_000;
    expect(r.tick(16, 600)).toBe(false);
    expect(calls).toBe(1);
  });
});

describe('helpers', () => {
  it('cleanPosition rounds to tenths', () => {
    expect(cleanPosition(12.345, 100.06)).toEqual({ position_s: 12.3, duration_s: 100.1 });
  });

  it('resumeAt: an unfinished position past 5 s, else the start', () => {
    expect(resumeAt(null)).toBe(0);
    expect(resumeAt({ position_s: null, finished: false })).toBe(0);
    expect(resumeAt({ position_s: 5, finished: false })).toBe(0);
    expect(resumeAt({ position_s: 5.5, finished: false })).toBe(5.5);
    expect(resumeAt({ position_s: 3000, finished: true })).toBe(0);
  });

  it('lengthOf: the video’s duration, else the one the server knows (a WebM without one in its header)', () => {
    expect(lengthOf(90.5, 60)).toBe(90.5);
    expect(lengthOf(Number.POSITIVE_INFINITY, 90)).toBe(90);
    expect(lengthOf(Number.NaN, 90)).toBe(90);
    expect(lengthOf(Number.POSITIVE_INFINITY, null)).toBeNaN();
    expect(lengthOf(0, undefined)).toBeNaN();
    // So such a film's position is recorded at all.
    const { r, sent, advance } = setup();
    advance(15_000);
    expect(r.tick(20, Number.POSITIVE_INFINITY)).toBe(false);
    expect(r.tick(20, lengthOf(Number.POSITIVE_INFINITY, 90))).toBe(true);
    expect(sent[0]?.p).toEqual({ position_s: 20, duration_s: 90 });
  });

  it('resumeSeek: not at or past the last second of the film, anywhere when its length is unknown', () => {
    expect(resumeSeek(0, 90)).toBeNull();
    expect(resumeSeek(42, 90)).toBe(42);
    expect(resumeSeek(88.9, 90)).toBe(88.9);
    expect(resumeSeek(89, 90)).toBeNull();
    expect(resumeSeek(3000, 90)).toBeNull(); // the film was replaced by a shorter file
    expect(resumeSeek(3000, Number.NaN)).toBe(3000);
  });

  it('clock and spokenClock', () => {
    expect(clock(0)).toBe('0:00');
    expect(clock(65.9)).toBe('1:05');
    expect(clock(3723)).toBe('1:02:03');
    expect(spokenClock(3723)).toBe('1 hour 2 minutes 3 seconds');
    expect(spokenClock(61)).toBe('1 minute 1 second');
    expect(spokenClock(0)).toBe('0 seconds');
  });
});
