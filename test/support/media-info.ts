// Probe results built by hand for unit tests, as parseProbeOutput and analyseTracks return them.
import type { AudioStreamInfo, MediaInfo, VideoStreamInfo } from '../../src/media/probe.js';
import type { SubtitleStreamInfo } from '../../src/media/subtitles.js';
import type { TrackAnalysis, TrackExtent } from '../../src/media/tracks.js';

export interface InfoOptions {
  video?: Partial<VideoStreamInfo>;
  audio?: Partial<AudioStreamInfo>[];
  subtitles?: SubtitleStreamInfo[];
  durationSeconds?: number;
  startSeconds?: number;
  absolute?: string;
}

/** A probed 1080p30 MP4 of 40 s with one stereo AAC track and no subtitles (override any part). */
export function mediaInfo(options: InfoOptions = {}): MediaInfo {
  const video: VideoStreamInfo = {
    index: 0, codec: 'h264', width: 1920, height: 1080, displayWidth: 1920, frameRate: { num: 30, den: 1 },
    rotation: 0, fieldOrder: 'progressive', topFieldFirst: false, colorTransfer: undefined, pixelFormat: 'yuv420p',
    profile: 'High', level: 40, bitRate: 5_000_000,
    timeBase: 1 / 90_000, startSeconds: options.startSeconds ?? 0,
    ...options.video,
  };
  const audio = (options.audio ?? [{}]).map((a, i): AudioStreamInfo => ({
    index: i + 1, codec: 'aac', channels: 2, sampleRate: 48_000, language: undefined, title: undefined, isDefault: false, profile: 'LC',
    timeBase: 1 / 48_000, startSeconds: options.startSeconds ?? 0, ...a,
  }));
  return {
    absolute: options.absolute ?? '/media/a.mp4', size: 1_000_000, mtimeMs: 0, formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
    demuxer: 'mov', needsRemux: false,
    durationSeconds: options.durationSeconds ?? 40,
    startSeconds: options.startSeconds ?? 0,
    video, audio,
    subtitles: options.subtitles ?? [],
  };
}

/**
 * The track analysis of `info`: every track spans the container's extent unless `extents` says
 * otherwise (absolute seconds, by stream index).
 */
export function trackAnalysis(info: MediaInfo, extents: Partial<TrackExtent>[] = [], detectedInterlace?: 'tff' | 'bff'): TrackAnalysis {
  const end = info.startSeconds + info.durationSeconds;
  return {
    extents: [info.video, ...info.audio].filter((t) => t !== undefined).map((t) => {
      const given = extents.find((e) => e.index === t.index) ?? {};
      const endSeconds = given.endSeconds ?? end;
      return { index: t.index, startSeconds: t.startSeconds ?? info.startSeconds, endSeconds, lastSeconds: endSeconds, ...given };
    }),
    detectedInterlace,
  };
}
