// From a probed file to everything decided before encoding: the rendition ladder, the segment
// plan and the exact encoder settings. Manifests are rendered from this; so are ffmpeg's arguments.
import type { ManifestModel } from '../manifest/model.js';
import { pictureName, planPicture, type PictureSpec } from './picture.js';
import type { MediaInfo, Rational, VideoStreamInfo } from './probe.js';
import type { TrackAnalysis, TrackExtent } from './tracks.js';

export const TIMESCALE = 90_000;
const AUDIO_BITRATE = 128_000;
const AUDIO_SAMPLE_RATE = 48_000;
const AAC_FRAME_SAMPLES = 1024;

/**
 * Where a source track has real media, in content seconds (0 = the earliest track's start). The
 * title lasts until the longest track ends; every track is padded to fill it (audio with silence,
 * video by holding its first frame before it starts and its last frame after it ends).
 */
export interface TrackSpan {
  startSeconds: number;
  endSeconds: number;
  /** Start of the last frame: the one held after the track ends. */
  lastSeconds: number;
}

export interface VideoEncodeSpec extends PictureSpec {
  sourceIndex: number;
  span: TrackSpan;
  /** Content time a video that ends early is held to: the title's end before the AAC-grid rounding. */
  padToSeconds: number;
  frameRate: Rational;
  /** x264 settings are part of the timeline (profile, B-frames, edit list): never vary per run. */
  preset: 'veryfast';
  crf: number;
  profile: 'high';
  /** H.264 level as ffmpeg takes it ("3.1"); its level_idc is in the codecs string. */
  level: string;
  levelIdc: number;
  maxrateBps: number;
  bufsizeBits: number;
}

export interface AudioEncodeSpec {
  sourceIndex: number;
  span: TrackSpan;
  bitrateBps: number;
  sampleRate: number;
  channels: number;
}

export interface PlaybackPlan {
  model: ManifestModel;
  /** Absolute time of content time 0: the earliest track's first timestamp. */
  sourceStartSeconds: number;
  /** The file's start time (format.start_time): what ffmpeg's input -ss counts from. */
  fileStartSeconds: number;
  /** Undefined for an audio-only title. */
  video: VideoEncodeSpec | undefined;
  audio: AudioEncodeSpec | undefined;
}

/**
 * Plans one video rendition (short side <= 720, upright, display aspect kept; none for an
 * audio-only file) and one stereo AAC rendition over the title's extent: from the earliest
 * track's first packet to the latest track's end (not the container's duration, which can run
 * past every track or fall short).
 */
export function planPlayback(info: MediaInfo, tracks: TrackAnalysis, segmentSeconds: number): PlaybackPlan {
  const source = info.audio[0];
  const extents = [info.video, source].filter((t) => t !== undefined).map((t) => extentOf(tracks, t.index, info));
  const contentStart = Math.min(...extents.map((e) => e.startSeconds));
  const contentEnd = Math.max(...extents.map((e) => e.endSeconds));
  const spanOf = (index: number): TrackSpan => {
    const e = extentOf(tracks, index, info);
    return { startSeconds: e.startSeconds - contentStart, endSeconds: e.endSeconds - contentStart, lastSeconds: e.lastSeconds - contentStart };
  };
  // The shortest unit a segment can hold: a video frame, or an AAC frame without video.
  const frameSeconds = info.video ? info.video.frameRate.den / info.video.frameRate.num : AAC_FRAME_SAMPLES / AUDIO_SAMPLE_RATE;
  const segments = planSegments(contentEnd - contentStart, segmentSeconds, frameSeconds);
  const video = info.video && planVideo(info.video, tracks, spanOf(info.video.index), segments.durationSeconds);
  const { segmentCount } = segments;
  // Audio comes out in whole AAC frames on a grid anchored at content time 0: the title ends where
  // its last frame does, so no track runs past the manifest's duration (dash.js, reaching the
  // period's end before the media's, pauses and seeks back half a second instead of ending).
  // Never past the last segment's nominal end, though: players count segments from the duration.
  const durationSeconds = source ? Math.min(aacGridEnd(segments.durationSeconds), segmentCount * segmentSeconds) : segments.durationSeconds;
  const audio = source && {
    sourceIndex: source.index, span: spanOf(source.index), bitrateBps: AUDIO_BITRATE, sampleRate: AUDIO_SAMPLE_RATE, channels: 2,
  };
  return {
    sourceStartSeconds: contentStart,
    fileStartSeconds: info.startSeconds,
    video,
    audio,
    model: {
      durationSeconds, segmentSeconds, segmentCount, timescale: TIMESCALE,
      presentationTimeOffsetSeconds: segmentSeconds,
      video: video && {
        kind: 'video', id: pictureName(video), width: video.width, height: video.height, frameRate: video.frameRate,
        codecs: `avc1.6400${video.levelIdc.toString(16).padStart(2, '0')}`,
        bandwidth: Math.round(video.maxrateBps * 1.1),
      },
      audio: source && {
        kind: 'audio', id: 'audio', codecs: 'mp4a.40.2', bandwidth: Math.round(AUDIO_BITRATE * 1.1),
        sampleRate: AUDIO_SAMPLE_RATE, channels: 2, ...(source.language ? { language: source.language } : {}),
      },
    },
  };
}

function planVideo(source: VideoStreamInfo, tracks: TrackAnalysis, span: TrackSpan, padToSeconds: number): VideoEncodeSpec {
  const picture = planPicture(source, tracks);
  const fps = source.frameRate.num / source.frameRate.den;
  const maxrateBps = videoMaxrate(Math.min(picture.width, picture.height), fps);
  const level = h264Level(picture.width, picture.height, fps);
  return {
    ...picture, sourceIndex: source.index, span, padToSeconds, frameRate: source.frameRate,
    preset: 'veryfast', crf: 23, profile: 'high', level: level.name, levelIdc: level.idc, maxrateBps, bufsizeBits: maxrateBps * 2,
  };
}

/**
 * Segment n (1-based) covers [(n-1)·D, n·D) of content time; the last is shorter. A tail shorter
 * than one video frame is dropped: it could hold no video frame, so that segment would never exist.
 */
export function planSegments(duration: number, segmentSeconds: number, frameSeconds: number): { segmentCount: number; durationSeconds: number } {
  const segmentCount = Math.max(1, Math.ceil((duration - frameSeconds) / segmentSeconds - 1e-9));
  return { segmentCount, durationSeconds: Math.min(duration, segmentCount * segmentSeconds) };
}

function aacGridEnd(seconds: number): number {
  const frames = Math.ceil((seconds * AUDIO_SAMPLE_RATE) / AAC_FRAME_SAMPLES - 1e-9);
  return (frames * AAC_FRAME_SAMPLES) / AUDIO_SAMPLE_RATE;
}

// A track the analysis did not reach (none in practice) spans the container's extent.
function extentOf(tracks: TrackAnalysis, index: number, info: MediaInfo): TrackExtent {
  const end = info.startSeconds + info.durationSeconds;
  return tracks.extents.find((e) => e.index === index) ?? { index, startSeconds: info.startSeconds, endSeconds: end, lastSeconds: end };
}

/** Bitrate cap by the picture's short side. */
function videoMaxrate(height: number, fps: number): number {
  const base = height <= 240 ? 400_000 : height <= 360 ? 800_000 : height <= 480 ? 1_400_000 : height <= 576 ? 2_000_000 : 3_000_000;
  return fps > 31 ? base * 1.5 : base;
}

// H.264 Table A-1: the smallest level whose frame size and macroblock rate fit.
const LEVELS = [
  { name: '3.0', idc: 30, maxFs: 1620, maxMbps: 40_500 },
  { name: '3.1', idc: 31, maxFs: 3600, maxMbps: 108_000 },
  { name: '3.2', idc: 32, maxFs: 5120, maxMbps: 216_000 },
  { name: '4.0', idc: 40, maxFs: 8192, maxMbps: 245_760 },
  { name: '4.2', idc: 42, maxFs: 8704, maxMbps: 522_240 },
  { name: '5.1', idc: 51, maxFs: 36_864, maxMbps: 983_040 },
  { name: '5.2', idc: 52, maxFs: 36_864, maxMbps: 2_073_600 },
];

export function h264Level(width: number, height: number, fps: number): { name: string; idc: number } {
  const frameMbs = Math.ceil(width / 16) * Math.ceil(height / 16);
  const level = LEVELS.find((l) => frameMbs <= l.maxFs && frameMbs * fps <= l.maxMbps) ?? LEVELS.at(-1)!;
  return { name: level.name, idc: level.idc };
}
