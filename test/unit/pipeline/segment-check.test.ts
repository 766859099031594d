import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planTitle, renditionsOfKind, type TitlePlan } from '../../../src/media/plan.js';
import { numberSegment, placeSegment } from '../../../src/pipeline/segment-check.js';
import { mediaInfo, trackAnalysis } from '../../support/media-info.js';

// A 40 s 1080p30 H.264 title with key frames every 5.2 s, copied (audio-1 copied too), and a 720p encode.
function copyPlan(): TitlePlan {
  const info = mediaInfo();
  const keyFrames = Array.from({ length: 8 }, (_, i) => Math.round(i * 5.2 * 1e6) / 1e6);
  return planTitle(info, trackAnalysis(info), { segmentSeconds: 4, ladder: [720], copy: true, keyFrames });
}

const TICKS = 90_000;
const AAC = 1024 / 48_000;
const whole = { startIndex: 0, endIndex: 8 };
// A file starting at content `start` and lasting `seconds`, as the packager names and indexes it.
const file = (start: number, seconds: number): [number, { timescale: number; duration: number }] =>
  [Math.round((start + 4) * TICKS), { timescale: TICKS, duration: Math.round(seconds * TICKS) }];

describe('placeSegment', () => {
  const plan = copyPlan();
  const [encoded, original] = renditionsOfKind(plan, 'video');
  const [audio] = renditionsOfKind(plan, 'audio');

  it('places a file on its boundary, a frame either way', () => {
    expect(placeSegment(plan.timeline, original!, whole, ...file(10.4, 5.2))).toEqual({ index: 2, problem: undefined });
    expect(placeSegment(plan.timeline, encoded!, whole, ...file(10.4 + 1 / 30, 5.2))).toEqual({ index: 2, problem: undefined });
  });

  it('refuses a file off the boundaries, outside the run, or of the wrong length', () => {
    expect(placeSegment(plan.timeline, original!, whole, ...file(12, 5.2)).problem).toBe('off the segment grid');
    // A copy run from segment 3 first writes the partial segment before its cut.
    expect(placeSegment(plan.timeline, original!, { startIndex: 3, endIndex: 8 }, ...file(10.4, 5.2)).problem).toBe('outside the run');
    expect(placeSegment(plan.timeline, original!, whole, ...file(10.4, 4.4)).problem).toBe('4.400 s long, expected 5.200 s');
  });

  it('takes copied audio starting a frame early (its encoder delay) and cut up to two frames off', () => {
    expect(audio!.mode).toBe('copy');
    expect(placeSegment(plan.timeline, audio!, whole, ...file(-AAC, 5.2 + 2 * AAC)).problem).toBeUndefined();
    expect(placeSegment(plan.timeline, audio!, whole, ...file(5.2 + AAC / 2, 5.2 - 2 * AAC)).problem).toBeUndefined();
    expect(placeSegment(plan.timeline, audio!, whole, ...file(5.2, 5.2 + 3 * AAC)).problem).toMatch(/long, expected/);
  });

  it('takes a copied video\'s last segment up to half a second short, not an encoded one\'s', () => {
    const last = plan.timeline.count - 1;
    const start = plan.timeline.startOf(last);
    const short = plan.timeline.durationOf(last) - 0.4;
    expect(placeSegment(plan.timeline, original!, whole, ...file(start, short))).toEqual({ index: last, problem: undefined });
    expect(placeSegment(plan.timeline, encoded!, whole, ...file(start, short)).problem).toMatch(/long, expected/);
  });
});

describe('numberSegment', () => {
  it('writes the segment\'s number over the packager\'s fragment counter, and nothing else', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'seekwell-number-'));
    try {
      const target = path.join(dir, 'seg.m4s');
      await writeFile(target, Buffer.alloc(64, 0xaa));
      await numberSegment(target, 20, 6);
      const bytes = await readFile(target);
      expect(bytes.readUInt32BE(20)).toBe(7);
      expect(bytes.subarray(0, 20).every((b) => b === 0xaa) && bytes.subarray(24).every((b) => b === 0xaa)).toBe(true);
      await numberSegment(target, undefined, 9);
      expect((await readFile(target)).readUInt32BE(20)).toBe(7);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
