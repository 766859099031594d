import { describe, it, expect } from 'vitest';
import { h264Level, planPlayback, planSegments, TIMESCALE } from '../../../src/media/plan.js';
import type { MediaInfo } from '../../../src/media/probe.js';
import { mediaInfo, trackAnalysis } from '../../support/media-info.js';

function plan4(info: MediaInfo): ReturnType<typeof planPlayback> {
  return planPlayback(info, trackAnalysis(info), 4);
}

describe('planSegments', () => {
  it('cuts 40 s into ten 4 s segments', () => {
    expect(planSegments(40, 4, 1 / 30)).toEqual({ segmentCount: 10, durationSeconds: 40 });
  });

  it('adds a short last segment for a remainder and keeps the exact duration', () => {
    expect(planSegments(41.5, 4, 1 / 30)).toEqual({ segmentCount: 11, durationSeconds: 41.5 });
  });

  it('drops a tail shorter than one frame and shortens the duration to match', () => {
    expect(planSegments(40.02, 4, 1 / 30)).toEqual({ segmentCount: 10, durationSeconds: 40 });
  });

  it('keeps a tail longer than one frame as its own segment', () => {
    expect(planSegments(40.05, 4, 1 / 30)).toEqual({ segmentCount: 11, durationSeconds: 40.05 });
  });

  it('plans one segment for a title shorter than a segment', () => {
    expect(planSegments(0.5, 4, 1 / 30)).toEqual({ segmentCount: 1, durationSeconds: 0.5 });
  });

  it('never plans fewer than one segment, even for a title shorter than a frame', () => {
    expect(planSegments(0.01, 4, 1 / 30).segmentCount).toBe(1);
  });
});

describe('h264Level', () => {
  it.each([
    { width: 1280, height: 720, fps: 30, name: '3.1', idc: 31 },
    { width: 1280, height: 720, fps: 60, name: '3.2', idc: 32 },
    { width: 640, height: 360, fps: 30, name: '3.0', idc: 30 },
    { width: 1920, height: 1080, fps: 30, name: '4.0', idc: 40 },
  ])('picks level $name for $width x $height at $fps fps', ({ width, height, fps, name, idc }) => {
    expect(h264Level(width, height, fps)).toEqual({ name, idc });
  });

  it('falls back to the highest level when nothing fits', () => {
    expect(h264Level(8192, 8192, 120)).toEqual({ name: '5.2', idc: 52 });
  });
});

describe('planPlayback', () => {
  it('scales a 1080p source down to one 720p rendition with a matching codecs string', () => {
    const plan = plan4(mediaInfo());
    expect(plan.video!).toMatchObject({ width: 1280, height: 720, level: '3.1', profile: 'high', preset: 'veryfast' });
    expect(plan.model.video!).toMatchObject({ kind: 'video', id: 'video-720p', width: 1280, height: 720, codecs: 'avc1.64001f' });
    expect(plan.model.video!.frameRate).toEqual({ num: 30, den: 1 });
  });

  it('keeps a 480-line source at its own size', () => {
    const plan = plan4(mediaInfo({ video: { width: 640, height: 480, displayWidth: 640 } }));
    expect(plan.model.video!).toMatchObject({ id: 'video-480p', width: 640, height: 480 });
  });

  it('rounds an odd line count down to an even one', () => {
    const plan = plan4(mediaInfo({ video: { width: 642, height: 481, displayWidth: 642 } }));
    expect(plan.video!.height).toBe(480);
    expect(plan.video!.width % 2).toBe(0);
    expect(plan.model.video!.id).toBe('video-480p');
  });

  it('keeps the display aspect of an anamorphic source with an even width', () => {
    // 720x480 with a 32:27 sample aspect is displayed 853 pixels wide (16:9).
    const plan = plan4(mediaInfo({ video: { width: 720, height: 480, displayWidth: 853 } }));
    expect(plan.video!.height).toBe(480);
    expect(plan.video!.width).toBe(854);
    expect(plan.video!.width / plan.video!.height).toBeCloseTo(16 / 9, 2);
  });

  it('plans no audio rendition for a source without audio', () => {
    const plan = plan4(mediaInfo({ audio: [] }));
    expect(plan.audio).toBeUndefined();
    expect(plan.model.audio).toBeUndefined();
  });

  it('encodes the first audio track to stereo 48 kHz AAC', () => {
    const plan = plan4(mediaInfo({ audio: [{ index: 2, channels: 6, sampleRate: 44_100 }, { index: 3 }] }));
    expect(plan.audio).toMatchObject({ sourceIndex: 2, bitrateBps: 128_000, sampleRate: 48_000, channels: 2 });
    expect(plan.model.audio).toMatchObject({ kind: 'audio', id: 'audio', codecs: 'mp4a.40.2', sampleRate: 48_000, channels: 2 });
  });

  it('carries the audio language into the model', () => {
    const plan = plan4(mediaInfo({ audio: [{ language: 'fra' }] }));
    expect(plan.model.audio?.language).toBe('fra');
  });

  it('leaves the language out when the source has none', () => {
    const plan = plan4(mediaInfo());
    expect(plan.model.audio).toMatchObject({ kind: 'audio', id: 'audio' });
    expect(plan.model.audio).not.toHaveProperty('language');
  });

  it('puts the title on a 90 kHz timeline offset by one segment', () => {
    const plan = plan4(mediaInfo({ durationSeconds: 41.5 }));
    expect(plan.model).toMatchObject({
      // 41.5 s of audio is 1945.3 AAC frames: the title ends with the 1946th, at 41.514667 s.
      timescale: TIMESCALE, segmentSeconds: 4, presentationTimeOffsetSeconds: 4, segmentCount: 11, durationSeconds: (1946 * 1024) / 48_000,
    });
    expect(TIMESCALE).toBe(90_000);
  });

  it('records the source start time and the source stream indexes', () => {
    const plan = plan4(mediaInfo({ startSeconds: 1.4, video: { index: 3 }, audio: [{ index: 5 }] }));
    expect(plan.sourceStartSeconds).toBe(1.4);
    expect(plan.video!.sourceIndex).toBe(3);
    expect(plan.audio?.sourceIndex).toBe(5);
  });

  it('ends the title on the AAC frame grid, but never past the last segment', () => {
    // 12 s is 562.5 AAC frames: the 563rd would end at 12.0107 s and make players count a 4th segment.
    expect(plan4(mediaInfo({ durationSeconds: 12 })).model).toMatchObject({ segmentCount: 3, durationSeconds: 12 });
    expect(plan4(mediaInfo({ durationSeconds: 11 })).model.durationSeconds).toBeCloseTo((516 * 1024) / 48_000, 9);
  });

  it('drops a sub-frame tail using the source frame rate', () => {
    const plan = plan4(mediaInfo({ durationSeconds: 40.02 }));
    expect(plan.model.segmentCount).toBe(10);
    expect(plan.model.durationSeconds).toBe(40);
  });

  it('raises the bitrate cap and level for a 60 fps source', () => {
    const at30 = plan4(mediaInfo());
    const at60 = plan4(mediaInfo({ video: { frameRate: { num: 60, den: 1 } } }));
    expect(at60.video!.level).toBe('3.2');
    expect(at60.model.video!.codecs).toBe('avc1.640020');
    expect(at60.video!.maxrateBps).toBeGreaterThan(at30.video!.maxrateBps);
    expect(at60.video!.bufsizeBits).toBe(at60.video!.maxrateBps * 2);
  });
});
