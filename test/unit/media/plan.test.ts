import { describe, it, expect } from 'vitest';
import { DEFAULT_LADDER } from '../../../src/media/ladder.js';
import { planSegments, planTitle, renditionsOfKind, type AudioRendition, type TextRendition, type EncodedVideoRendition, type TitlePlan } from '../../../src/media/plan.js';
import type { MediaInfo } from '../../../src/media/probe.js';
import { TIMESCALE } from '../../../src/media/timeline.js';
import { mediaInfo, trackAnalysis } from '../../support/media-info.js';

// 4 s segments; by default a ladder of one rung, 720p, so a 1080p source makes one video rendition.
function plan4(info: MediaInfo, ladder: readonly number[] = [720], text?: TextRendition[]): TitlePlan {
  return planTitle(info, trackAnalysis(info), { segmentSeconds: 4, ladder, text });
}

// The plan's top (or only) encoded video rendition.
function videoOf(plan: TitlePlan): EncodedVideoRendition {
  const video = renditionsOfKind(plan, 'video').filter((r) => r.mode === 'encode').at(-1);
  expect(video, 'the plan has no video rendition').toBeDefined();
  return video!;
}

function audioOf(plan: TitlePlan, id = 'audio-1'): AudioRendition {
  const audio = renditionsOfKind(plan, 'audio').find((r) => r.id === id);
  expect(audio, `the plan has no ${id}`).toBeDefined();
  return audio!;
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

describe('planTitle', () => {
  it('scales a 1080p source down to a 720p rendition with a matching codecs string', () => {
    const plan = plan4(mediaInfo());
    expect(renditionsOfKind(plan, 'video')).toHaveLength(1);
    const video = videoOf(plan);
    expect(video.spec).toMatchObject({ width: 1280, height: 720, level: '3.1', profile: 'high', preset: 'veryfast' });
    expect(video).toMatchObject({ kind: 'video', id: 'video-720p', mode: 'encode', width: 1280, height: 720, codecs: 'avc1.64001f' });
    expect(video.frameRate).toEqual({ num: 30, den: 1 });
  });

  it('keeps a 480-line source at its own size, with no rung above it', () => {
    const plan = plan4(mediaInfo({ video: { width: 640, height: 480, displayWidth: 640 } }), DEFAULT_LADDER);
    expect(renditionsOfKind(plan, 'video').map((r) => r.id)).toEqual(['video-360p', 'video-480p']);
    expect(videoOf(plan)).toMatchObject({ id: 'video-480p', width: 640, height: 480 });
  });

  it('rounds an odd line count down to an even one', () => {
    const video = videoOf(plan4(mediaInfo({ video: { width: 642, height: 481, displayWidth: 642 } })));
    expect(video.spec.height).toBe(480);
    expect(video.spec.width % 2).toBe(0);
    expect(video.id).toBe('video-480p');
  });

  it('keeps the display aspect of an anamorphic source with an even width', () => {
    // 720x480 with a 32:27 sample aspect is displayed 853 pixels wide (16:9).
    const { spec } = videoOf(plan4(mediaInfo({ video: { width: 720, height: 480, displayWidth: 853 } })));
    expect(spec.height).toBe(480);
    expect(spec.width).toBe(854);
    expect(spec.width / spec.height).toBeCloseTo(16 / 9, 2);
  });

  it('plans no audio rendition for a source without audio', () => {
    const plan = plan4(mediaInfo({ audio: [] }));
    expect(renditionsOfKind(plan, 'audio')).toEqual([]);
    expect(plan.renditions.map((r) => r.id)).toEqual(['video-720p']);
  });

  it('encodes every audio track to 48 kHz AAC: stereo, and 5.1 too where the source has six channels', () => {
    const plan = plan4(mediaInfo({ audio: [{ index: 2, channels: 6, sampleRate: 44_100 }, { index: 3 }] }));
    expect(renditionsOfKind(plan, 'audio').map((r) => [r.id, r.spec.sourceIndex, r.channels])).toEqual([
      ['audio-1', 2, 2], ['audio-1-6ch', 2, 6], ['audio-2', 3, 2],
    ]);
    expect(audioOf(plan).spec).toMatchObject({ sourceIndex: 2, bitrateBps: 128_000, sampleRate: 48_000, channels: 2 });
    expect(audioOf(plan)).toMatchObject({ kind: 'audio', mode: 'encode', codecs: 'mp4a.40.2', sampleRate: 48_000, channels: 2 });
  });

  it('carries the audio language into the rendition', () => {
    expect(audioOf(plan4(mediaInfo({ audio: [{ language: 'fra' }] }))).language).toBe('fra');
  });

  it('leaves the language out when the source has none, and labels the track by its position', () => {
    const audio = audioOf(plan4(mediaInfo()));
    expect(audio.language).toBeUndefined();
    expect(audio.label).toBe('Audio 1');
  });

  it('lists video lowest first, then audio, then text', () => {
    const text: TextRendition = {
      kind: 'text', id: 'text-1', mode: 'convert', spec: { source: { kind: 'sidecar', path: '/media/a.srt', format: 'srt' } },
      codecs: 'wvtt', bandwidth: 256, language: undefined, label: 'Subtitles 1', isDefault: false, forced: false,
    };
    const plan = plan4(mediaInfo({ audio: [{}, {}] }), DEFAULT_LADDER, [text]);
    expect(plan.renditions.map((r) => r.id)).toEqual(['video-360p', 'video-480p', 'video-720p', 'video-1080p', 'audio-1', 'audio-2', 'text-1']);
  });

  it('puts the title on a 90 kHz timeline offset by one segment', () => {
    const { timeline } = plan4(mediaInfo({ durationSeconds: 41.5 }));
    expect(TIMESCALE).toBe(90_000);
    expect(timeline.timescale).toBe(TIMESCALE);
    expect([timeline.segmentSeconds, timeline.mediaOffsetSeconds, timeline.count]).toEqual([4, 4, 11]);
    // 41.5 s of audio is 1945.3 AAC frames: the title ends with the 1946th, at 41.514667 s.
    expect(timeline.durationSeconds).toBe((1946 * 1024) / 48_000);
  });

  it('records the source start time and the source stream indexes', () => {
    const plan = plan4(mediaInfo({ startSeconds: 1.4, video: { index: 3 }, audio: [{ index: 5 }] }));
    expect(plan.sourceStartSeconds).toBe(1.4);
    expect(videoOf(plan).spec.sourceIndex).toBe(3);
    expect(audioOf(plan).spec.sourceIndex).toBe(5);
  });

  it('ends the title on the AAC frame grid, but never past the last segment', () => {
    // 12 s is 562.5 AAC frames: the 563rd would end at 12.0107 s and make players count a 4th segment.
    const twelve = plan4(mediaInfo({ durationSeconds: 12 })).timeline;
    expect([twelve.count, twelve.durationSeconds]).toEqual([3, 12]);
    expect(plan4(mediaInfo({ durationSeconds: 11 })).timeline.durationSeconds).toBeCloseTo((516 * 1024) / 48_000, 9);
  });

  it('drops a sub-frame tail using the source frame rate', () => {
    const { timeline } = plan4(mediaInfo({ durationSeconds: 40.02 }));
    expect(timeline.count).toBe(10);
    expect(timeline.durationSeconds).toBe(40);
  });

  it('raises the bitrate cap and level for a 60 fps source', () => {
    const at30 = videoOf(plan4(mediaInfo()));
    const at60 = videoOf(plan4(mediaInfo({ video: { frameRate: { num: 60, den: 1 } } })));
    expect(at60.spec.level).toBe('3.2');
    expect(at60.codecs).toBe('avc1.640020');
    expect(at60.spec.maxrateBps).toBeGreaterThan(at30.spec.maxrateBps);
    expect(at60.spec.bufsizeBits).toBe(at60.spec.maxrateBps * 2);
  });
});
