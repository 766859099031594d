// A ManifestModel like the segment plan builds (720p + stereo AAC, X = D), for renderer tests.
import type { AudioRendition, ManifestModel, VideoRendition } from '../../src/manifest/model.js';

export interface ModelOptions {
  durationSeconds?: number;
  segmentSeconds?: number;
  frameRate?: VideoRendition['frameRate'];
  audio?: Partial<AudioRendition> | false;
}

// A 720p + stereo AAC model with X = D, as the segment plan builds it.
export function buildModel(options: ModelOptions = {}): ManifestModel {
  const durationSeconds = options.durationSeconds ?? 40;
  const segmentSeconds = options.segmentSeconds ?? 4;
  const audio: AudioRendition | undefined =
    options.audio === false
      ? undefined
      : { kind: 'audio', id: 'audio', codecs: 'mp4a.40.2', bandwidth: 128_000 + 8_000, sampleRate: 48_000, channels: 2, language: 'en', ...options.audio };
  return {
    durationSeconds,
    segmentSeconds,
    segmentCount: Math.ceil(durationSeconds / segmentSeconds),
    timescale: 90_000,
    presentationTimeOffsetSeconds: segmentSeconds,
    video: {
      kind: 'video',
      id: 'video-720p',
      width: 1280,
      height: 720,
      frameRate: options.frameRate ?? { num: 30, den: 1 },
      codecs: 'avc1.64001f',
      bandwidth: 3_000_000,
    },
    audio,
  };
}
