// The video ladder: H.264 renditions at standard sizes up to the source's own, each with a bitrate
// cap for its size. All share one picture recipe (rotation, deinterlacing, tone mapping) and the
// title's timeline, so a player can switch between them at any segment.
import { pictureName, planPicture, shownShortSide, type PictureSpec } from './picture.js';
import type { TrackSpan } from './plan.js';
import type { Rational, VideoStreamInfo } from './probe.js';
import type { TrackAnalysis } from './tracks.js';

/** Short sides offered by default: a home server's 2-4 cores keep up with 1080p veryfast. */
export const DEFAULT_LADDER = [360, 480, 720, 1080] as const;
/** Short sides a ladder may name (the standard heights). */
export const STANDARD_RUNGS = [240, 360, 480, 540, 576, 720, 1080, 1440, 2160] as const;

export interface VideoEncodeSpec extends PictureSpec {
  sourceIndex: number;
  span: TrackSpan;
  /** Content time a video that ends early is held to: the title's end before the AAC-grid rounding. */
  padToSeconds: number;
  frameRate: Rational;
  /** x264 settings are part of the timeline (profile, B-frames, edit list): never vary per run. */
  preset: 'veryfast';
  /**
   * Set on a run started while the server is strained (session/load.ts): x264 searches less
   * (PIPELINE.md: -10 to -16 % CPU, +18 % bytes at the same SSIM). Only encoder decisions change,
   * not the SPS/PPS: its segments decode with the rendition's one init (tested).
   */
  strained?: boolean;
  crf: number;
  profile: 'high';
  /** H.264 level as ffmpeg takes it ("3.1"); its level_idc is in the codecs string. */
  level: string;
  levelIdc: number;
  maxrateBps: number;
  bufsizeBits: number;
}

/** What a copy of the source video needs: which stream, and where it has frames. */
export interface VideoCopySpec {
  sourceIndex: number;
  span: TrackSpan;
}

interface VideoRenditionBase {
  kind: 'video';
  /** `video-<short side>p`, or `original` for the copy; also the name used in URLs and on disk. */
  id: string;
  width: number;
  height: number;
  frameRate: Rational;
  /** Sample (pixel) aspect ratio, `1:1` unless a copy keeps the source's anamorphic picture. */
  sar: string;
  /** RFC 6381 codecs string, e.g. `avc1.64001f`. */
  codecs: string;
  /** Peak bits per second (the encoder's maxrate plus container overhead). */
  bandwidth: number;
}

export interface EncodedVideoRendition extends VideoRenditionBase {
  mode: 'encode';
  spec: VideoEncodeSpec;
}

/** The source's own H.264, remuxed: `original`, at the top of the ladder. */
export interface CopiedVideoRendition extends VideoRenditionBase {
  mode: 'copy';
  spec: VideoCopySpec;
}

export type VideoRendition = EncodedVideoRendition | CopiedVideoRendition;

/** The copy's id in URLs, on disk and in the status. */
export const ORIGINAL_ID = 'original';

/**
 * The rungs for a source whose displayed short side is `sourceShortSide`: every ladder rung up to
 * it, and the source's own size on top when it lies well between two rungs (a 576-line PAL DVD
 * gets 576p, not only 480p). Never upscaled: a source below every rung gets one rendition.
 */
export function ladderRungs(sourceShortSide: number, ladder: readonly number[]): number[] {
  const rungs = ladder.filter((h) => h <= sourceShortSide);
  const top = rungs.at(-1);
  const below = top === undefined || (sourceShortSide < Math.max(...ladder) && sourceShortSide > top * 1.1);
  return below ? [...rungs, evenFloor(sourceShortSide)] : rungs;
}

/**
 * The encoded rungs. Under a copy of the source (`belowSource`), only those smaller than it: an
 * encoded rung of the source's own size would be a worse copy of it.
 */
export function planVideoLadder(source: VideoStreamInfo, tracks: TrackAnalysis, span: TrackSpan, padToSeconds: number, ladder: readonly number[], belowSource = false): EncodedVideoRendition[] {
  const shortSide = shownShortSide(source);
  const rungs = ladderRungs(shortSide, ladder).filter((h) => !belowSource || h < shortSide);
  return rungs.map((h) => encodedRung(source, tracks, span, padToSeconds, h));
}

function encodedRung(source: VideoStreamInfo, tracks: TrackAnalysis, span: TrackSpan, padToSeconds: number, shortSide: number): EncodedVideoRendition {
  const picture = planPicture(source, tracks, shortSide);
  const fps = source.frameRate.num / source.frameRate.den;
  const maxrateBps = videoMaxrate(Math.min(picture.width, picture.height), fps);
  const level = h264Level(picture.width, picture.height, fps);
  const spec: VideoEncodeSpec = {
    ...picture, sourceIndex: source.index, span, padToSeconds, frameRate: source.frameRate,
    preset: 'veryfast', crf: 23, profile: 'high', level: level.name, levelIdc: level.idc, maxrateBps, bufsizeBits: maxrateBps * 2,
  };
  return {
    kind: 'video', id: pictureName(picture), mode: 'encode', spec,
    width: picture.width, height: picture.height, frameRate: source.frameRate, sar: '1:1',
    codecs: `avc1.6400${level.idc.toString(16).padStart(2, '0')}`,
    bandwidth: Math.round(maxrateBps * 1.1),
  };
}

// profile_idc and constraint flags by ffprobe's profile name (RFC 6381 avc1.PPCCLL).
const PROFILE_CODES: Record<string, string> = { 'Constrained Baseline': '42e0', Baseline: '4200', Main: '4d40', High: '6400' };

/** The source's video as it is, for the top of the ladder (media/copy.ts says when it may be). */
export function planOriginal(source: VideoStreamInfo, span: TrackSpan): CopiedVideoRendition {
  const fps = source.frameRate.num / source.frameRate.den;
  const levelIdc = source.level ?? h264Level(source.width, source.height, fps).idc;
  // The stream's average rate with headroom for its peaks; without one, the cap of an encode its size.
  const bandwidth = Math.round(source.bitRate ? source.bitRate * 1.25 : videoMaxrate(Math.min(source.width, source.height), fps) * 1.1);
  return {
    kind: 'video', id: ORIGINAL_ID, mode: 'copy', spec: { sourceIndex: source.index, span },
    width: source.width, height: source.height, frameRate: source.frameRate, sar: sampleAspect(source),
    codecs: `avc1.${PROFILE_CODES[source.profile ?? ''] ?? '6400'}${levelIdc.toString(16).padStart(2, '0')}`,
    bandwidth,
  };
}

/** Bitrate cap by the picture's short side (x1.5 above 31 fps). */
export function videoMaxrate(shortSide: number, fps: number): number {
  const base = shortSide <= 240 ? 400_000 : shortSide <= 360 ? 800_000 : shortSide <= 480 ? 1_400_000 : shortSide <= 576 ? 2_000_000
    : shortSide <= 720 ? 3_000_000 : shortSide <= 1080 ? 6_000_000 : shortSide <= 1440 ? 10_000_000 : 16_000_000;
  return fps > 31 ? base * 1.5 : base;
}

// H.264 Table A-1: the smallest level whose frame size and macroblock rate fit.
const LEVELS = [
  { name: '3.0', idc: 30, maxFs: 1620, maxMbps: 40_500 },
  { name: '3.1', idc: 31, maxFs: 3600, maxMbps: 108_000 },
  { name: '3.2', idc: 32, maxFs: 5120, maxMbps: 216_000 },
  { name: '4.0', idc: 40, maxFs: 8192, maxMbps: 245_760 },
  { name: '4.2', idc: 42, maxFs: 8704, maxMbps: 522_240 },
  { name: '5.0', idc: 50, maxFs: 22_080, maxMbps: 589_824 },
  { name: '5.1', idc: 51, maxFs: 36_864, maxMbps: 983_040 },
  { name: '5.2', idc: 52, maxFs: 36_864, maxMbps: 2_073_600 },
];

export function h264Level(width: number, height: number, fps: number): { name: string; idc: number } {
  const frameMbs = Math.ceil(width / 16) * Math.ceil(height / 16);
  const level = LEVELS.find((l) => frameMbs <= l.maxFs && frameMbs * fps <= l.maxMbps) ?? LEVELS.at(-1)!;
  return { name: level.name, idc: level.idc };
}

function sampleAspect(source: VideoStreamInfo): string {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const g = gcd(source.displayWidth, source.width) || 1;
  return `${source.displayWidth / g}:${source.width / g}`;
}

function evenFloor(n: number): number {
  return Math.max(2, Math.floor(n / 2) * 2);
}
