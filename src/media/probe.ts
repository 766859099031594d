// ffprobe, once per file version: results are cached by absolute path + size + mtime.
import { open, stat } from 'node:fs/promises';
import { execa } from 'execa';
import { LRUCache } from 'lru-cache';
import { SeekwellError } from '../errors.js';
import { containerOf, FORMAT_WHITELIST, looksLikePlaylist } from './formats.js';
import { toFfmpegInput } from './media-path.js';

export interface Rational {
  num: number;
  den: number;
}

export interface VideoStreamInfo {
  index: number;
  codec: string;
  width: number;
  height: number;
  /** Width the picture is displayed at (sample aspect ratio applied). */
  displayWidth: number;
  frameRate: Rational;
}

export interface AudioStreamInfo {
  index: number;
  codec: string;
  channels: number;
  sampleRate: number;
  language: string | undefined;
}

export interface MediaInfo {
  absolute: string;
  size: number;
  mtimeMs: number;
  formatName: string;
  demuxer: string;
  /** Raw MPEG-TS/PS/ES: must be remuxed before ffmpeg can seek in it exactly. */
  needsRemux: boolean;
  durationSeconds: number;
  /** The source's first timestamp (ffprobe format.start_time): content time 0. */
  startSeconds: number;
  video: VideoStreamInfo;
  audio: AudioStreamInfo[];
}

export type ProbeMedia = (absolute: string) => Promise<MediaInfo>;

/** Returns a probe function that runs ffprobe at most once per (path, size, mtime). */
export function createProber(ffprobePath: string, maxEntries = 1000): ProbeMedia {
  const cache = new LRUCache<string, Promise<MediaInfo>>({ max: maxEntries });
  return async (absolute) => {
    const info = await stat(absolute);
    const key = `${absolute}\0${info.size}\0${info.mtimeMs}`;
    let pending = cache.get(key);
    if (!pending) {
      pending = runProbe(ffprobePath, absolute, info.size, info.mtimeMs);
      cache.set(key, pending);
      pending.catch(() => cache.delete(key));
    }
    return pending;
  };
}

async function runProbe(ffprobePath: string, absolute: string, size: number, mtimeMs: number): Promise<MediaInfo> {
  if (size === 0) throw new SeekwellError('MEDIA_EMPTY', 'the file is empty');
  const result = await execa(
    ffprobePath,
    ['-v', 'error', '-protocol_whitelist', 'file', '-format_whitelist', FORMAT_WHITELIST,
      '-show_format', '-show_streams', '-of', 'json', toFfmpegInput(absolute)],
    { reject: false, timeout: 30_000, stdin: 'ignore', maxBuffer: 16 << 20 },
  );
  if (result.exitCode !== 0 || result.failed) throw await describeProbeFailure(absolute, result.stderr);
  return parseProbeOutput(JSON.parse(result.stdout) as FfprobeOutput, absolute, size, mtimeMs);
}

async function describeProbeFailure(absolute: string, stderr: string): Promise<SeekwellError> {
  const handle = await open(absolute, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(64), 0, 64, 0);
    if (looksLikePlaylist(buffer.subarray(0, bytesRead))) {
      return new SeekwellError('MEDIA_FORMAT_REFUSED', 'playlist and concat inputs are refused: point at a media file');
    }
  } finally {
    await handle.close();
  }
  const reason = stderr.split('\n').filter(Boolean).at(-1)?.replace(/^file:\S*: /, '') ?? 'unknown';
  return new SeekwellError('MEDIA_NOT_MEDIA', `not a playable media file (${reason.slice(0, 200)})`);
}

interface FfprobeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  sample_aspect_ratio?: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  channels?: number;
  sample_rate?: string;
  disposition?: { attached_pic?: number };
  tags?: { language?: string };
}

interface FfprobeOutput {
  format?: { format_name?: string; duration?: string; start_time?: string };
  streams?: FfprobeStream[];
}

/** Turns ffprobe's JSON into MediaInfo, refusing what Seekwell cannot play. */
export function parseProbeOutput(out: FfprobeOutput, absolute: string, size: number, mtimeMs: number): MediaInfo {
  const formatName = out.format?.format_name ?? '';
  const container = containerOf(formatName);
  if (!container) throw new SeekwellError('MEDIA_FORMAT_REFUSED', `container "${formatName.slice(0, 60)}" is not supported`);
  const streams = out.streams ?? [];
  const v = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic && (s.width ?? 0) > 0);
  if (!v) throw new SeekwellError('MEDIA_NO_VIDEO', 'the file has no video stream');
  const durationSeconds = Number(out.format?.duration);
  if (!(durationSeconds > 0)) throw new SeekwellError('MEDIA_NOT_MEDIA', 'the file has no known duration');
  const frameRate = parseRational(v.avg_frame_rate) ?? parseRational(v.r_frame_rate);
  if (!frameRate) throw new SeekwellError('MEDIA_NOT_MEDIA', 'the video stream has no frame rate');
  return {
    absolute, size, mtimeMs, formatName,
    demuxer: container.demuxer,
    needsRemux: container.remux,
    durationSeconds,
    startSeconds: Number(out.format?.start_time ?? 0) || 0,
    video: {
      index: v.index,
      codec: v.codec_name ?? 'unknown',
      width: v.width!,
      height: v.height ?? 0,
      displayWidth: Math.round(v.width! * sampleAspect(v.sample_aspect_ratio)),
      frameRate,
    },
    audio: streams
      .filter((s) => s.codec_type === 'audio' && (s.channels ?? 0) > 0)
      .map((s) => ({
        index: s.index,
        codec: s.codec_name ?? 'unknown',
        channels: s.channels!,
        sampleRate: Number(s.sample_rate) || 0,
        language: s.tags?.language && s.tags.language !== 'und' ? s.tags.language : undefined,
      })),
  };
}

function parseRational(text: string | undefined): Rational | undefined {
  const match = /^(\d+)\/(\d+)$/.exec(text ?? '');
  if (!match) return undefined;
  const num = Number(match[1]);
  const den = Number(match[2]);
  if (num <= 0 || den <= 0 || num / den > 1000) return undefined;
  return { num, den };
}

function sampleAspect(text: string | undefined): number {
  const match = /^(\d+):(\d+)$/.exec(text ?? '');
  if (!match || Number(match[1]) === 0 || Number(match[2]) === 0) return 1;
  return Number(match[1]) / Number(match[2]);
}
