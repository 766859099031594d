import { describe, it, expect } from 'vitest';
import { DEFAULT_LADDER, h264Level, ladderRungs, STANDARD_RUNGS, videoMaxrate } from '../../../src/media/ladder.js';
import { planTitle, renditionsOfKind, type EncodedVideoRendition, type VideoRendition } from '../../../src/media/plan.js';
import type { TrackExtent } from '../../../src/media/tracks.js';
import { mediaInfo, trackAnalysis, type InfoOptions } from '../../support/media-info.js';

const FULL_LADDER = [...DEFAULT_LADDER, 1440, 2160];

// The video renditions planned for a source (a 1080p30 one unless overridden), lowest first.
function ladderOf(video: InfoOptions['video'], ladder: readonly number[] = DEFAULT_LADDER, extents: Partial<TrackExtent>[] = []): EncodedVideoRendition[] {
  const info = mediaInfo({ video });
  return renditionsOfKind(planTitle(info, trackAnalysis(info, extents), { segmentSeconds: 4, ladder }), 'video').filter((r) => r.mode === 'encode');
}

function sizes(renditions: VideoRendition[]): string[] {
  return renditions.map((r) => `${r.id} ${r.width}x${r.height}`);
}

const UHD = { width: 3840, height: 2160, displayWidth: 3840 };

describe('the video ladder', () => {
  it('gives a 1080p source every default rung: 360p, 480p, 720p and 1080p', () => {
    expect(sizes(ladderOf({}))).toEqual(['video-360p 640x360', 'video-480p 854x480', 'video-720p 1280x720', 'video-1080p 1920x1080']);
  });

  it('stops a 2160p source at 1080p with the default ladder', () => {
    expect(ladderOf(UHD).map((r) => r.id)).toEqual(['video-360p', 'video-480p', 'video-720p', 'video-1080p']);
  });

  it('gives a 2160p source 1440p and 2160p too when the ladder has them', () => {
    expect(sizes(ladderOf(UHD, FULL_LADDER)).slice(-3)).toEqual(['video-1080p 1920x1080', 'video-1440p 2560x1440', 'video-2160p 3840x2160']);
    expect(ladderOf(UHD, FULL_LADDER)).toHaveLength(6);
  });

  it('gives a 576-line PAL source 360p, 480p and its own 576p', () => {
    // 720x576 stored, displayed 1024x576 (16:9).
    expect(sizes(ladderOf({ width: 720, height: 576, displayWidth: 1024 }))).toEqual(['video-360p 640x360', 'video-480p 854x480', 'video-576p 1024x576']);
  });

  it('gives a source below every rung one rendition at its own size', () => {
    expect(sizes(ladderOf({ width: 356, height: 200, displayWidth: 356 }))).toEqual(['video-200p 356x200']);
  });

  it('names the rungs of a portrait 1080x1920 phone video by their short side', () => {
    expect(sizes(ladderOf({ width: 1080, height: 1920, displayWidth: 1080 }))).toEqual([
      'video-360p 360x640', 'video-480p 480x854', 'video-720p 720x1280', 'video-1080p 1080x1920',
    ]);
  });

  it('adds no extra rung for a 1088-line source, a hair above 1080p', () => {
    expect(ladderOf({ width: 1920, height: 1088, displayWidth: 1920 }).map((r) => r.id)).toEqual(['video-360p', 'video-480p', 'video-720p', 'video-1080p']);
  });

  it('raises the bitrate cap and the bandwidth with every rung', () => {
    const ladder = ladderOf(UHD, FULL_LADDER);
    const caps = ladder.map((r) => r.spec.maxrateBps);
    expect(caps).toEqual([800_000, 1_400_000, 3_000_000, 6_000_000, 10_000_000, 16_000_000]);
    for (let i = 1; i < ladder.length; i++) expect(ladder[i]!.bandwidth).toBeGreaterThan(ladder[i - 1]!.bandwidth);
    for (const r of ladder) {
      expect(r.spec.bufsizeBits).toBe(r.spec.maxrateBps * 2);
      expect(r.bandwidth).toBe(Math.round(r.spec.maxrateBps * 1.1));
    }
  });

  it('gives each rung the smallest H.264 level its size and frame rate fit, 5.2 for 2160p60', () => {
    const ladder = ladderOf({ ...UHD, frameRate: { num: 60, den: 1 } }, FULL_LADDER);
    expect(ladder.map((r) => r.spec.level)).toEqual(['3.1', '3.1', '3.2', '4.2', '5.1', '5.2']);
    expect(ladder.at(-1)!.codecs).toBe('avc1.640034');
    for (const r of ladder) expect(r.codecs).toBe(`avc1.6400${r.spec.levelIdc.toString(16)}`);
  });

  it('gives every rung the same source stream, span, frame rate and end, so they cut alike', () => {
    const ladder = ladderOf({ index: 4, frameRate: { num: 30000, den: 1001 } }, DEFAULT_LADDER, [{ index: 4, startSeconds: 0.5, endSeconds: 39, lastSeconds: 38.96 }]);
    expect(ladder).toHaveLength(4);
    const [first, ...rest] = ladder;
    expect(first!.spec.span).toEqual({ startSeconds: 0.5, endSeconds: 39, lastSeconds: 38.96 });
    for (const r of rest) {
      expect(r.spec.sourceIndex).toBe(4);
      expect(r.spec.span).toEqual(first!.spec.span);
      expect(r.spec.padToSeconds).toBe(first!.spec.padToSeconds);
      expect(r.frameRate).toEqual({ num: 30000, den: 1001 });
      expect(r.spec.frameRate).toEqual(first!.spec.frameRate);
    }
  });

  it('applies the same picture recipe to every rung', () => {
    const ladder = ladderOf({ rotation: 90, fieldOrder: 'interlaced', colorTransfer: 'smpte2084' });
    for (const r of ladder) {
      expect(r.spec).toMatchObject({ rotation: 90, deinterlace: { frames: 'flagged', parity: 'auto' }, toneMap: 'pq' });
      expect(r.height).toBeGreaterThan(r.width);
    }
  });
});

describe('ladderRungs', () => {
  it.each([
    [1080, [360, 480, 720, 1080]],
    [2160, [360, 480, 720, 1080]],
    [1088, [360, 480, 720, 1080]],
    [720, [360, 480, 720]],
    [576, [360, 480, 576]],
    [500, [360, 480]],
    [200, [200]],
    [201, [200]],
  ])('gives a %i-line source the rungs %j of the default ladder', (shortSide, rungs) => {
    expect(ladderRungs(shortSide, DEFAULT_LADDER)).toEqual(rungs);
  });

  it('adds the source\'s own size only when it lies more than 10 % above the rung below it', () => {
    expect(ladderRungs(528, DEFAULT_LADDER)).toEqual([360, 480]);
    expect(ladderRungs(530, DEFAULT_LADDER)).toEqual([360, 480, 530]);
  });

  it('offers the standard heights, the default ladder among them', () => {
    for (const rung of DEFAULT_LADDER) expect(STANDARD_RUNGS).toContain(rung);
    expect([...STANDARD_RUNGS]).toEqual([...STANDARD_RUNGS].sort((a, b) => a - b));
  });
});

describe('videoMaxrate', () => {
  it('caps by the short side and raises the cap by half above 31 fps', () => {
    expect(videoMaxrate(720, 30)).toBe(3_000_000);
    expect(videoMaxrate(720, 60)).toBe(4_500_000);
    expect(videoMaxrate(200, 25)).toBe(400_000);
    expect(videoMaxrate(576, 25)).toBe(2_000_000);
  });
});

describe('h264Level', () => {
  it.each([
    { width: 1280, height: 720, fps: 30, name: '3.1', idc: 31 },
    { width: 1280, height: 720, fps: 60, name: '3.2', idc: 32 },
    { width: 640, height: 360, fps: 30, name: '3.0', idc: 30 },
    { width: 1920, height: 1080, fps: 30, name: '4.0', idc: 40 },
    { width: 3840, height: 2160, fps: 30, name: '5.1', idc: 51 },
    { width: 3840, height: 2160, fps: 60, name: '5.2', idc: 52 },
    { width: 1080, height: 1920, fps: 30, name: '4.0', idc: 40 },
  ])('picks level $name for $width x $height at $fps fps', ({ width, height, fps, name, idc }) => {
    expect(h264Level(width, height, fps)).toEqual({ name, idc });
  });

  it('falls back to the highest level when nothing fits', () => {
    expect(h264Level(8192, 8192, 120)).toEqual({ name: '5.2', idc: 52 });
  });
});
