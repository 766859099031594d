import { describe, it, expect } from 'vitest';
import { indexOf, numberOf, Timeline, TIMESCALE } from '../../../src/media/timeline.js';

// 41.5 s in 4 s segments: ten of 4 s, then an eleventh of 1.5 s.
const timeline = Timeline.uniform(41.5, 4, 11);

describe('Timeline.uniform', () => {
  it('starts segment i at i·D and ends it where the next one starts', () => {
    expect([timeline.startOf(0), timeline.startOf(1), timeline.startOf(3), timeline.startOf(10)]).toEqual([0, 4, 12, 40]);
    for (let i = 0; i < timeline.count - 1; i++) expect(timeline.endOf(i)).toBe(timeline.startOf(i + 1));
  });

  it('ends the last segment, shorter than the others, at the title\'s end', () => {
    expect(timeline.count).toBe(11);
    expect(timeline.durationSeconds).toBe(41.5);
    expect(timeline.endOf(10)).toBe(41.5);
    expect(timeline.durationOf(10)).toBe(1.5);
    expect(timeline.durationOf(9)).toBe(4);
  });

  it('gives the title\'s end as the end of index count (one past the last segment)', () => {
    expect(timeline.endOf(11)).toBe(41.5);
  });

  it('adds its segments up to the title\'s duration', () => {
    const total = Array.from({ length: timeline.count }, (_, i) => timeline.durationOf(i)).reduce((a, b) => a + b, 0);
    expect(total).toBe(41.5);
  });

  it('is uniform, its longest segment D; a title shorter than D is one short segment', () => {
    expect(timeline.isUniform).toBe(true);
    expect(timeline.longestSeconds).toBe(4);
    const short = Timeline.uniform(2.5, 4, 1);
    expect([short.count, short.startOf(0), short.endOf(0), short.longestSeconds]).toEqual([1, 0, 2.5, 2.5]);
  });

  it('has only whole indexes from 0 to count - 1', () => {
    expect([0, 5, 10].map((i) => timeline.has(i))).toEqual([true, true, true]);
    expect([-1, 11, 1.5, Number.NaN, Number.POSITIVE_INFINITY].map((i) => timeline.has(i))).toEqual([false, false, false, false, false]);
  });

  it('keeps the planned D and the 90 kHz timescale', () => {
    expect(timeline.segmentSeconds).toBe(4);
    expect(timeline.timescale).toBe(TIMESCALE);
    expect(TIMESCALE).toBe(90_000);
  });
});

describe('Timeline.indexAt', () => {
  it('puts a boundary in the segment it starts', () => {
    expect(timeline.indexAt(0)).toBe(0);
    expect(timeline.indexAt(12)).toBe(3);
    expect(timeline.indexAt(40)).toBe(10);
  });

  it('puts a time just before a boundary in the segment before it, and just after in the one it starts', () => {
    expect(timeline.indexAt(11.999)).toBe(2);
    expect(timeline.indexAt(12.001)).toBe(3);
    expect(timeline.indexAt(13.9)).toBe(3);
  });

  it('takes a boundary computed with float noise as the boundary', () => {
    // 0.1 * 120 is 12.000000000000002 and 12 - 1e-12 falls short of 12: both are 12.
    expect(timeline.indexAt(12 - 1e-12)).toBe(3);
    expect(timeline.indexAt(0.1 * 120)).toBe(3);
  });

  it('clamps times before the title to the first segment and after it to the last', () => {
    expect(timeline.indexAt(-5)).toBe(0);
    expect(timeline.indexAt(41.5)).toBe(10);
    expect(timeline.indexAt(1e6)).toBe(10);
  });
});

describe('Timeline.nearestStart', () => {
  it('picks the nearer of the two starts around a time and says how far past it the time is', () => {
    expect(timeline.nearestStart(13)).toEqual({ index: 3, offsetSeconds: 1 });
    expect(timeline.nearestStart(15)).toEqual({ index: 4, offsetSeconds: -1 });
    expect(timeline.nearestStart(12)).toEqual({ index: 3, offsetSeconds: 0 });
  });

  it('prefers the earlier start when the time lies halfway', () => {
    expect(timeline.nearestStart(14)).toEqual({ index: 3, offsetSeconds: 2 });
  });

  it('stays within the title at both ends', () => {
    expect(timeline.nearestStart(41)).toEqual({ index: 10, offsetSeconds: 1 });
    expect(timeline.nearestStart(-1)).toEqual({ index: 0, offsetSeconds: -1 });
  });
});

describe('Timeline media time', () => {
  it('offsets media time by one segment: content time 0 is media time D', () => {
    expect(timeline.mediaOffsetSeconds).toBe(4);
    expect(timeline.mediaTimeOf(0)).toBe(4 * 90_000);
    expect(Timeline.uniform(60, 6, 10).mediaTimeOf(0)).toBe(6 * 90_000);
  });

  it('gives a segment\'s start as media time in 90 kHz ticks, or in another timescale', () => {
    expect(timeline.mediaTimeOf(3)).toBe((12 + 4) * 90_000);
    expect(timeline.mediaTimeOf(10, 48_000)).toBe((40 + 4) * 48_000);
  });

  it('turns a segment\'s media time back into its content start, in any timescale', () => {
    for (let i = 0; i < timeline.count; i++) {
      expect(timeline.contentSecondsOf(timeline.mediaTimeOf(i), TIMESCALE)).toBe(timeline.startOf(i));
      expect(timeline.contentSecondsOf(timeline.mediaTimeOf(i, 48_000), 48_000)).toBe(timeline.startOf(i));
    }
  });

  it('reads media time before the offset (the encoder\'s pre-roll) as negative content time', () => {
    expect(timeline.contentSecondsOf(0, TIMESCALE)).toBe(-4);
    expect(timeline.contentSecondsOf(3 * 90_000, TIMESCALE)).toBe(-1);
  });
});

describe('segment numbers and indexes', () => {
  it('numbers URL segments from 1 and indexes them from 0', () => {
    expect([numberOf(0), numberOf(9)]).toEqual([1, 10]);
    expect([indexOf(1), indexOf(10)]).toEqual([0, 9]);
  });

  it('turns every index into a number and back', () => {
    for (let index = 0; index < timeline.count; index++) expect(indexOf(numberOf(index))).toBe(index);
  });

  it('maps number 0 to an index the timeline does not have', () => {
    expect(timeline.has(indexOf(0))).toBe(false);
    expect(timeline.has(indexOf(timeline.count + 1))).toBe(false);
    expect(timeline.has(indexOf(timeline.count))).toBe(true);
  });
});

describe('Timeline.fromKeyFrames', () => {
  // Key frames every 5.2 s (a 130-frame GOP at 25 fps), D = 4, a 60 s title.
  const gop52 = Array.from({ length: 12 }, (_, i) => Math.round(i * 5.2 * 1e6) / 1e6);

  it('puts boundary n at the first key frame at or after n·D, never two boundaries on one key frame', () => {
    const t = Timeline.fromKeyFrames(gop52, 60, 4, 0.04);
    expect(Array.from({ length: t.count }, (_, i) => t.startOf(i))).toEqual([0, 5.2, 10.4, 15.6, 20.8, 26, 31.2, 36.4, 41.6, 46.8, 52, 57.2]);
    expect(t.endOf(t.count - 1)).toBe(60);
    expect(t.isUniform).toBe(false);
    expect(t.longestSeconds).toBeCloseTo(5.2, 9);
  });

  it('skips key frames closer together than D: a segment lasts at least D', () => {
    const t = Timeline.fromKeyFrames([0, 1, 2, 3, 4.5, 5, 6, 9, 12.5], 14, 4, 0.04);
    expect(Array.from({ length: t.count }, (_, i) => t.startOf(i))).toEqual([0, 4.5, 9, 12.5]);
  });

  it('takes a key frame a float hair before n·D as that boundary, and keeps boundaries on the 90 kHz grid', () => {
    const t = Timeline.fromKeyFrames([0, 3.9999999, 5.0000004], 12, 4, 0.04);
    expect(t.startOf(1)).toBe(4);
    expect(Timeline.fromKeyFrames([0, 4.0270833], 8, 4, 0.04).startOf(1)).toBe(362_437 / 90_000);
  });

  it('leaves no segment shorter than a frame at the end', () => {
    const t = Timeline.fromKeyFrames([0, 4, 8, 11.99], 12, 4, 0.04);
    expect(t.count).toBe(3);
    expect(t.endOf(2)).toBe(12);
  });

  it('is one segment when the only key frame is the first', () => {
    const t = Timeline.fromKeyFrames([0], 10, 4, 0.04);
    expect([t.count, t.durationOf(0)]).toEqual([1, 10]);
  });

  it('asks for cuts half a millisecond before a key-frame boundary, and exactly at a uniform one', () => {
    expect(Timeline.fromKeyFrames(gop52, 60, 4, 0.04).cutOf(1)).toBeCloseTo(5.1995, 9);
    expect(Timeline.fromKeyFrames(gop52, 60, 4, 0.04).cutOf(0)).toBe(0);
    expect(Timeline.uniform(60, 4, 15).cutOf(3)).toBe(12);
  });
});
