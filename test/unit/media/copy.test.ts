import { describe, it, expect } from 'vitest';
import { planTitle, renditionsOfKind, type TitlePlan } from '../../../src/media/plan.js';
import type { MediaInfo } from '../../../src/media/probe.js';
import type { TrackExtent } from '../../../src/media/tracks.js';
import { mediaInfo, trackAnalysis, type InfoOptions } from '../../support/media-info.js';

// Key frames every 2.002 s (a 60-frame GOP at 29.97), over the helper's 40 s title.
const KEY_FRAMES = Array.from({ length: 20 }, (_, i) => Math.round(i * 2.002 * 1e6) / 1e6);

function planOf(options: InfoOptions = {}, extra: { copy?: boolean; keyFrames?: number[]; extents?: Partial<TrackExtent>[]; interlace?: 'tff' } = {}): TitlePlan {
  const info: MediaInfo = mediaInfo(options);
  return planTitle(info, trackAnalysis(info, extra.extents, extra.interlace), {
    segmentSeconds: 4, ladder: [360, 720, 1080], copy: extra.copy ?? true, keyFrames: extra.keyFrames ?? KEY_FRAMES,
  });
}

function ids(plan: TitlePlan): string[] {
  return plan.renditions.map((r) => `${r.id}:${r.mode}`);
}

describe('stream copy in the plan', () => {
  it('puts the source H.264 on top of the ladder as `original`, with the encoded rungs below its size', () => {
    const plan = planOf();
    expect(ids(plan)).toEqual(['video-360p:encode', 'video-720p:encode', 'original:copy', 'audio-1:copy']);
    expect(plan.copy.video).toEqual({ copy: true });
    const original = renditionsOfKind(plan, 'video').at(-1)!;
    expect(original).toMatchObject({ width: 1920, height: 1080, codecs: 'avc1.640028', sar: '1:1', bandwidth: 6_250_000 });
  });

  it('cuts every rendition at the key frames: boundary n is the first key frame at or after n·4 s', () => {
    const { timeline } = planOf();
    expect(timeline.isUniform).toBe(false);
    expect(Array.from({ length: 4 }, (_, i) => timeline.startOf(i))).toEqual([0, 4.004, 8.008, 12.012]);
    expect(timeline.durationSeconds).toBeCloseTo(40, 1);
  });

  it('writes the codecs string of a Constrained Baseline 3.0 source and keeps an anamorphic picture\'s aspect', () => {
    const plan = planOf({ video: { width: 720, height: 480, displayWidth: 853, profile: 'Constrained Baseline', level: 30 } });
    expect(renditionsOfKind(plan, 'video').at(-1)).toMatchObject({ id: 'original', codecs: 'avc1.42e01e', sar: '853:720' });
  });

  it.each([
    ['HEVC', { codec: 'hevc' }, /codec hevc is not H.264/],
    ['10-bit H.264', { pixelFormat: 'yuv420p10le', profile: 'High 10' }, /pixel format yuv420p10le/],
    ['4:2:2 H.264', { pixelFormat: 'yuv422p', profile: 'High 4:2:2' }, /pixel format yuv422p/],
    ['High 4:4:4 with a 4:2:0 picture', { profile: 'High 4:4:4 Predictive' }, /profile High 4:4:4 Predictive/],
    ['level 6.1', { level: 61 }, /level 6.1 is above 5.2/],
    ['a rotated phone video', { rotation: 90 }, /rotated 90 degrees/],
    ['a picture flagged interlaced', { fieldOrder: 'interlaced' }, /interlaced/],
  ] as const)('offers no copy of %s, says why, and changes nothing else', (_name, video, reason) => {
    const plan = planOf({ video });
    expect(plan.copy.video).toMatchObject({ copy: false, reason: expect.stringMatching(reason) });
    expect(ids(plan).filter((id) => id.startsWith('video') || id.startsWith('original'))).not.toContain('original:copy');
    expect(plan.timeline.isUniform).toBe(true);
  });

  it('offers no copy of a picture idet found interlaced', () => {
    expect(planOf({}, { interlace: 'tff' }).copy.video).toMatchObject({ copy: false, reason: 'the picture is interlaced' });
  });

  it('offers no copy without a key-frame index, or when the first key frame is not at the start', () => {
    expect(planOf({}, { keyFrames: [] }).copy.video).toMatchObject({ copy: false, reason: /key-frame index/ });
    expect(planOf({}, { keyFrames: [1.5, 3.5, 8] }).copy.video).toMatchObject({ copy: false, reason: /first key frame is 1.500 s/ });
  });

  it('offers no copy when key frames lie more than 4 segments apart (20 s GOPs)', () => {
    const plan = planOf({}, { keyFrames: [0, 20, 40] });
    expect(plan.copy.video).toMatchObject({ copy: false, reason: /up to 20.0 s apart/ });
    expect(plan.timeline.isUniform).toBe(true);
  });

  it('offers no copy of a video that starts late or ends a second early (a copy cannot be padded)', () => {
    expect(planOf({}, { extents: [{ index: 0, startSeconds: 0.5 }] }).copy.video).toMatchObject({ copy: false, reason: /starts 0.500 s after/ });
    expect(planOf({}, { extents: [{ index: 0, endSeconds: 39 }] }).copy.video).toMatchObject({ copy: false, reason: /ends 1.000 s before/ });
  });

  it('copies a 5.1 AAC-LC track as the 5.1 rendition and still encodes its stereo downmix', () => {
    const plan = planOf({ audio: [{ channels: 6 }] });
    expect(ids(plan).filter((id) => id.startsWith('audio'))).toEqual(['audio-1:encode', 'audio-1-6ch:copy']);
    expect(renditionsOfKind(plan, 'audio')[1]).toMatchObject({ channels: 6, sampleRate: 48_000, codecs: 'mp4a.40.2' });
  });

  it('copies mono at its own sample rate; encodes HE-AAC, AC-3, 8 channels, a track that ends early and one on a 1 ms clock', () => {
    const plan = planOf({ audio: [
      { channels: 1, sampleRate: 44_100, timeBase: 1 / 44_100 }, { profile: 'HE-AAC' }, { codec: 'ac3', profile: undefined }, { channels: 8 }, { index: 5 },
      { index: 6, timeBase: 1 / 1000 },
    ] }, { extents: [{ index: 5, endSeconds: 30 }] });
    expect(renditionsOfKind(plan, 'audio').filter((r) => r.channels !== 6).map((r) => [r.id, r.mode, r.channels, r.sampleRate])).toEqual([
      ['audio-1', 'copy', 1, 44_100], ['audio-2', 'encode', 2, 48_000], ['audio-3', 'encode', 2, 48_000],
      ['audio-4', 'encode', 2, 48_000], ['audio-5', 'encode', 2, 48_000], ['audio-6', 'encode', 2, 48_000],
    ]);
    expect(plan.copy.audio.map((v) => (v.copy ? 'copy' : v.reason))).toEqual([
      'copy', 'audio codec aac HE-AAC is not AAC-LC', 'audio codec ac3 is not AAC-LC', '8 channels (copied: mono, stereo, 5.1)',
      'the track ends 10.000 s before the title', 'its timestamps (1/1000 s) are coarser than its samples',
    ]);
  });

  it('copies nothing with COPY=never, and says so', () => {
    const plan = planOf({}, { copy: false });
    expect(ids(plan)).toEqual(['video-360p:encode', 'video-720p:encode', 'video-1080p:encode', 'audio-1:encode']);
    expect(plan.copy).toEqual({ video: { copy: false, reason: 'COPY=never' }, audio: [{ copy: false, reason: 'COPY=never' }] });
  });
});
