// From a probed file to everything decided before encoding: the rendition ladder, the segment
// plan and the exact encoder settings. Manifests are rendered from this; so are ffmpeg's arguments.
import type { ManifestModel } from '../manifest/model.js';
import type { MediaInfo, Rational } from './probe.js';

export const TIMESCALE = 90_000;
const MAX_VIDEO_HEIGHT = 720;
const AUDIO_BITRATE = 128_000;
const AUDIO_SAMPLE_RATE = 48_000;

export interface VideoEncodeSpec {
  sourceIndex: number;
  width: number;
  height: number;
  frameRate: Rational;
  /** x264 settings are part of the timeline (profile, B-frames, edit list): never vary per run. */
  preset: 'veryfast';
  crf: number;
  profile: 'high';
  /** H.264 level as ffmpeg takes it ("3.1"); its level_idc is in the codecs string. */
  level: string;
  maxrateBps: number;
  bufsizeBits: number;
}

export interface AudioEncodeSpec {
  sourceIndex: number;
  bitrateBps: number;
  sampleRate: number;
  channels: number;
}

export interface PlaybackPlan {
  model: ManifestModel;
  /** Source start time (format.start_time): content time 0. */
  sourceStartSeconds: number;
  video: VideoEncodeSpec;
  audio: AudioEncodeSpec | undefined;
}

/** Plans one video rendition (<= 720 lines, source aspect) and one stereo AAC rendition. */
export function planPlayback(info: MediaInfo, segmentSeconds: number): PlaybackPlan {
  const height = evenFloor(Math.min(MAX_VIDEO_HEIGHT, info.video.height));
  const width = evenRound((info.video.displayWidth * height) / info.video.height);
  const fps = info.video.frameRate.num / info.video.frameRate.den;
  const maxrateBps = videoMaxrate(height, fps);
  const level = h264Level(width, height, fps);
  const { segmentCount, durationSeconds } = planSegments(info.durationSeconds, segmentSeconds, 1 / fps);
  const source = info.audio[0];
  const video: VideoEncodeSpec = {
    sourceIndex: info.video.index, width, height, frameRate: info.video.frameRate,
    preset: 'veryfast', crf: 23, profile: 'high', level: level.name, maxrateBps, bufsizeBits: maxrateBps * 2,
  };
  const audio = source && { sourceIndex: source.index, bitrateBps: AUDIO_BITRATE, sampleRate: AUDIO_SAMPLE_RATE, channels: 2 };
  return {
    sourceStartSeconds: info.startSeconds,
    video,
    audio,
    model: {
      durationSeconds, segmentSeconds, segmentCount, timescale: TIMESCALE,
      presentationTimeOffsetSeconds: segmentSeconds,
      video: {
        kind: 'video', id: `video-${height}p`, width, height, frameRate: info.video.frameRate,
        codecs: `avc1.6400${level.idc.toString(16).padStart(2, '0')}`,
        bandwidth: Math.round(maxrateBps * 1.1),
      },
      audio: source && {
        kind: 'audio', id: 'audio', codecs: 'mp4a.40.2', bandwidth: Math.round(AUDIO_BITRATE * 1.1),
        sampleRate: AUDIO_SAMPLE_RATE, channels: 2, ...(source.language ? { language: source.language } : {}),
      },
    },
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

function evenFloor(n: number): number {
  return Math.max(2, Math.floor(n / 2) * 2);
}

function evenRound(n: number): number {
  return Math.max(2, Math.round(n / 2) * 2);
}
