import { describe, it, expect } from 'vitest';
import { pictureName, planPicture, shownShortSide } from '../../../src/media/picture.js';
import { planTitle, renditionsOfKind, type TitlePlan } from '../../../src/media/plan.js';
import { parseIdet } from '../../../src/media/tracks.js';
import { mediaInfo, trackAnalysis, type InfoOptions } from '../../support/media-info.js';

// The picture of a rendition whose short side is at most 720 lines.
function pictureOf(video: InfoOptions['video'], detected?: 'tff' | 'bff', shortSide = 720): ReturnType<typeof planPicture> {
  return planPicture(mediaInfo({ video }).video!, { detectedInterlace: detected }, shortSide);
}

describe('planPicture', () => {
  it('turns a 1920x1080 stream rotated by 90 degrees into a 720x1280 portrait picture', () => {
    expect(pictureOf({ rotation: 90 })).toMatchObject({ width: 720, height: 1280, rotation: 90 });
  });

  it('keeps a 180 degree rotation landscape', () => {
    expect(pictureOf({ rotation: 180 })).toMatchObject({ width: 1280, height: 720 });
  });

  it('scales a portrait source by its short side: 1080x1920 at 360 lines is 360x640', () => {
    expect(pictureOf({ width: 1080, height: 1920, displayWidth: 1080 }, undefined, 360)).toMatchObject({ width: 360, height: 640 });
    expect(pictureOf({ width: 1080, height: 1920, displayWidth: 1080 }, undefined, 1080)).toMatchObject({ width: 1080, height: 1920 });
  });

  it('never upscales: a rung above the source keeps the source size', () => {
    expect(pictureOf({ width: 640, height: 360, displayWidth: 640 }, undefined, 1080)).toMatchObject({ width: 640, height: 360 });
  });

  it('measures the shown short side after the sample aspect, before rotation', () => {
    expect(shownShortSide({ displayWidth: 1024, height: 576 })).toBe(576);
    expect(shownShortSide({ displayWidth: 1080, height: 1920 })).toBe(1080);
  });

  it('names a rendition by its short side, portrait or not', () => {
    expect(pictureName({ width: 720, height: 1280 })).toBe('video-720p');
    expect(pictureName({ width: 1280, height: 720 })).toBe('video-720p');
  });

  it('applies the sample aspect before rotating an anamorphic picture', () => {
    // 720x576 stored, displayed 1024 wide (16:9), then turned upright: 576x1024 shown.
    expect(pictureOf({ width: 720, height: 576, displayWidth: 1024, rotation: 270 })).toMatchObject({ width: 576, height: 1024 });
  });

  it('keeps a small portrait source at its own size, even', () => {
    expect(pictureOf({ width: 641, height: 359, displayWidth: 641, rotation: 90 })).toMatchObject({ width: 358, height: 640 });
  });

  it('deinterlaces by the flag when the stream says interlaced, by idet when it says progressive', () => {
    expect(pictureOf({ fieldOrder: 'interlaced' }).deinterlace).toEqual({ frames: 'flagged', parity: 'auto' });
    expect(pictureOf({ fieldOrder: 'progressive' }, 'tff').deinterlace).toEqual({ frames: 'all', parity: 'tff' });
    expect(pictureOf({ fieldOrder: 'progressive' }).deinterlace).toBeUndefined();
  });

  it('tone-maps PQ and HLG, and nothing else', () => {
    expect(pictureOf({ colorTransfer: 'smpte2084' }).toneMap).toBe('pq');
    expect(pictureOf({ colorTransfer: 'arib-std-b67' }).toneMap).toBe('hlg');
    expect(pictureOf({ colorTransfer: 'bt709' }).toneMap).toBeUndefined();
    expect(pictureOf({ colorTransfer: undefined }).toneMap).toBeUndefined();
  });
});

describe('parseIdet', () => {
  const summary = (tff: number, bff: number, progressive: number): string =>
    `[Parsed_idet_0 @ 0x1] Single frame detection: TFF: 1 BFF: 0 Progressive: 3 Undetermined: 5\n` +
    `[Parsed_idet_0 @ 0x1] Multi frame detection: TFF: ${tff} BFF: ${bff} Progressive: ${progressive} Undetermined: 2\n`;

  it('reads a mostly top-field-first sample as tff', () => {
    expect(parseIdet(summary(100, 3, 10))).toBe('tff');
  });

  it('reads a mostly bottom-field-first sample as bff', () => {
    expect(parseIdet(summary(2, 90, 20))).toBe('bff');
  });

  it('reads a mostly progressive sample as progressive', () => {
    expect(parseIdet(summary(20, 10, 90))).toBeUndefined();
  });

  it('decides nothing on too few interlaced frames or no summary at all', () => {
    expect(parseIdet(summary(5, 0, 0))).toBeUndefined();
    expect(parseIdet('no idet output')).toBeUndefined();
  });
});

// Every video rendition shares one span, so the first is as good as any.
function spansOf(plan: TitlePlan): { video: unknown; audio: unknown } {
  return { video: renditionsOfKind(plan, 'video')[0]?.spec.span, audio: renditionsOfKind(plan, 'audio')[0]?.spec.span };
}

describe('planTitle over track extents', () => {
  it('lasts from the earliest track start to the latest track end, not the container duration', () => {
    const info = mediaInfo({ durationSeconds: 40.5, startSeconds: 10 });
    const plan = planTitle(info, trackAnalysis(info, [
      { index: 0, startSeconds: 10.021, endSeconds: 48, lastSeconds: 47.96 },
      { index: 1, startSeconds: 10, endSeconds: 45 },
    ]), { segmentSeconds: 4, ladder: [720] });
    expect(plan.sourceStartSeconds).toBe(10);
    // 38 s from the earliest start to the latest end, ending on the 1782nd AAC frame.
    expect(plan.timeline.durationSeconds).toBeCloseTo((1782 * 1024) / 48_000, 6);
    const spans = spansOf(plan);
    expect(spans.video).toEqual({ startSeconds: expect.closeTo(0.021, 6), endSeconds: 38, lastSeconds: expect.closeTo(37.96, 6) });
    expect(spans.audio).toEqual({ startSeconds: 0, endSeconds: 35, lastSeconds: 35 });
  });

  it('starts the title at the earliest track when the video starts late', () => {
    const info = mediaInfo({ durationSeconds: 20 });
    const plan = planTitle(info, trackAnalysis(info, [{ index: 0, startSeconds: 6 }]), { segmentSeconds: 4, ladder: [720] });
    expect(plan.sourceStartSeconds).toBe(0);
    expect(spansOf(plan).video).toMatchObject({ startSeconds: 6 });
  });
});
