// ffprobe, once per file version: results are cached by absolute path + size + mtime.
import { open, stat } from 'node:fs/promises';
import { execa } from 'execa';
import { LRUCache } from 'lru-cache';
import { SeekwellError, type ErrorCode } from '../errors.js';
import { containerOf, FORMAT_WHITELIST, looksLikePlaylist } from './formats.js';
import { toFfmpegInput } from './media-path.js';
import { subtitleStreamOf, type SubtitleStreamInfo } from './subtitles.js';

export interface Rational {
  num: number;
  den: number;
}

interface StreamTiming {
  /** Seconds per tick of the stream's timestamps. */
  timeBase: number;
  /** The stream's first timestamp in absolute seconds, when the container says. */
  startSeconds: number | undefined;
}

export interface VideoStreamInfo extends StreamTiming {
  index: number;
  codec: string;
  /** Stored size, before rotation. */
  width: number;
  height: number;
  /** Width the stored picture is displayed at (sample aspect ratio applied), before rotation. */
  displayWidth: number;
  frameRate: Rational;
  /** Clockwise display rotation in degrees (0, 90, 180, 270); ffmpeg applies it when decoding. */
  rotation: 0 | 90 | 180 | 270;
  /** From the stream's field_order: 'interlaced' for tt/bb/tb/bt. */
  fieldOrder: 'progressive' | 'interlaced' | 'unknown';
  /** Top field first, when flagged interlaced. */
  topFieldFirst: boolean;
  /** color_transfer as ffprobe names it (`smpte2084` = PQ, `arib-std-b67` = HLG, `bt709`…). */
  colorTransfer: string | undefined;
  pixelFormat: string | undefined;
  /** Codec profile as ffprobe names it ("High", "Constrained Baseline", "High 10"…), if known. */
  profile: string | undefined;
  /** Codec level as ffprobe gives it (H.264: level_idc, 40 = 4.0), if known. */
  level: number | undefined;
  /** Bits per second, from the stream or else the container, if either says. */
  bitRate: number | undefined;
}

export interface AudioStreamInfo extends StreamTiming {
  index: number;
  codec: string;
  channels: number;
  sampleRate: number;
  language: string | undefined;
  /** The track's title tag ("Director's commentary"), if any. */
  title: string | undefined;
  /** Flagged default by the source (disposition). */
  isDefault: boolean;
  /** Codec profile as ffprobe names it (AAC: "LC", "HE-AAC"…), if known. */
  profile: string | undefined;
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
  /** The picture; undefined for audio-only files (music, podcasts, audiobooks). */
  video: VideoStreamInfo | undefined;
  audio: AudioStreamInfo[];
  /** Subtitle streams, text and bitmap alike (the plan decides what it can offer). */
  subtitles: SubtitleStreamInfo[];
}

export type ProbeMedia = (absolute: string) => Promise<MediaInfo>;

/** The file's video (if any) and audio streams, video first: the tracks Seekwell reads. */
export function tracksOf(info: Pick<MediaInfo, 'video' | 'audio'>): (VideoStreamInfo | AudioStreamInfo)[] {
  return [info.video, ...info.audio].filter((t) => t !== undefined);
}

/** What ffprobe says of a file version for good: a refusal for these is cached like a result. */
const LASTING_REFUSALS: readonly ErrorCode[] = ['MEDIA_EMPTY', 'MEDIA_NOT_MEDIA', 'MEDIA_NO_STREAMS', 'MEDIA_FORMAT_REFUSED'];

/**
 * Returns a probe function that runs ffprobe at most once per (path, size, mtime), for media and
 * non-media alike: a library's cover images and text files are not probed again on every listing.
 * A failure that may pass (a timeout, a spawn error) is forgotten.
 */
export function createProber(ffprobePath: string, maxEntries = 10_000): ProbeMedia {
  const cache = new LRUCache<string, Promise<MediaInfo>>({ max: maxEntries });
  return async (absolute) => {
    const info = await stat(absolute);
    const key = `${absolute}\0${info.size}\0${info.mtimeMs}`;
    let pending = cache.get(key);
    if (!pending) {
      pending = runProbe(ffprobePath, absolute, info.size, info.mtimeMs);
      cache.set(key, pending);
      pending.catch((error: unknown) => {
        if (!(error instanceof SeekwellError && LASTING_REFUSALS.includes(error.code))) cache.delete(key);
      });
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
  // ffprobe that could not start, was killed or timed out says nothing about the file.
  if (result.exitCode === undefined || result.isTerminated || result.timedOut) {
    throw new SeekwellError('PIPELINE_FAILED', `ffprobe did not finish (${result.timedOut ? 'timed out' : result.signal ?? (result.shortMessage ?? 'no exit code').slice(0, 200)})`);
  }
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
  disposition?: { attached_pic?: number; default?: number; forced?: number };
  tags?: { language?: string; rotate?: string; title?: string };
  time_base?: string;
  start_time?: string;
  field_order?: string;
  color_transfer?: string;
  pix_fmt?: string;
  profile?: string;
  level?: number;
  bit_rate?: string;
  side_data_list?: { side_data_type?: string; rotation?: number }[];
}

interface FfprobeOutput {
  format?: { format_name?: string; duration?: string; start_time?: string; bit_rate?: string };
  streams?: FfprobeStream[];
}

/** Turns ffprobe's JSON into MediaInfo, refusing what Seekwell cannot play. */
export function parseProbeOutput(out: FfprobeOutput, absolute: string, size: number, mtimeMs: number): MediaInfo {
  const formatName = out.format?.format_name ?? '';
  const container = containerOf(formatName);
  if (!container) throw new SeekwellError('MEDIA_FORMAT_REFUSED', `container "${formatName.slice(0, 60)}" is not supported`);
  const streams = out.streams ?? [];
  // A cover image (attached_pic) is not a picture to play: such a file is audio-only.
  const v = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic && (s.width ?? 0) > 0);
  const audio = streams.filter((s) => s.codec_type === 'audio' && (s.channels ?? 0) > 0);
  if (!v && audio.length === 0) throw new SeekwellError('MEDIA_NO_STREAMS', 'the file has no video or audio stream');
  const durationSeconds = Number(out.format?.duration);
  if (!(durationSeconds > 0)) throw new SeekwellError('MEDIA_NOT_MEDIA', 'the file has no known duration');
  return {
    absolute, size, mtimeMs, formatName,
    demuxer: container.demuxer,
    needsRemux: container.remux,
    durationSeconds,
    startSeconds: Number(out.format?.start_time ?? 0) || 0,
    video: v && videoInfo(v, Number(out.format?.bit_rate) || undefined),
    audio: audio.map((s) => ({
      index: s.index,
      codec: s.codec_name ?? 'unknown',
      channels: s.channels!,
      sampleRate: Number(s.sample_rate) || 0,
      language: s.tags?.language && s.tags.language !== 'und' ? s.tags.language : undefined,
      title: s.tags?.title?.trim() || undefined,
      isDefault: s.disposition?.default === 1,
      profile: s.profile,
      ...timingOf(s),
    })),
    subtitles: streams.filter((s) => s.codec_type === 'subtitle').map(subtitleStreamOf),
  };
}

// formatBitRate stands in where the stream has no bit rate of its own (Matroska): an upper bound.
function videoInfo(v: FfprobeStream, formatBitRate: number | undefined): VideoStreamInfo {
  const frameRate = parseRational(v.avg_frame_rate) ?? parseRational(v.r_frame_rate);
  if (!frameRate) throw new SeekwellError('MEDIA_NOT_MEDIA', 'the video stream has no frame rate');
  return {
      index: v.index,
      codec: v.codec_name ?? 'unknown',
      width: v.width!,
      height: v.height ?? 0,
      displayWidth: Math.round(v.width! * sampleAspect(v.sample_aspect_ratio)),
      frameRate,
      rotation: rotationOf(v),
      fieldOrder: fieldOrderOf(v.field_order),
      topFieldFirst: v.field_order === 'tt' || v.field_order === 'tb',
      colorTransfer: v.color_transfer,
      pixelFormat: v.pix_fmt,
      profile: v.profile,
      level: typeof v.level === 'number' && v.level > 0 ? v.level : undefined,
      bitRate: Number(v.bit_rate) || formatBitRate,
      ...timingOf(v),
  };
}

function timingOf(s: FfprobeStream): StreamTiming {
  const timeBase = parseRational(s.time_base, Number.POSITIVE_INFINITY);
  const start = Number(s.start_time);
  return {
    timeBase: timeBase ? timeBase.num / timeBase.den : 1 / 90_000,
    startSeconds: s.start_time !== undefined && Number.isFinite(start) ? start : undefined,
  };
}

// The display matrix's rotation is counter-clockwise and negative for a phone held upright
// (-90); the legacy `rotate` tag is clockwise. Both become clockwise degrees.
function rotationOf(s: FfprobeStream): VideoStreamInfo['rotation'] {
  const matrix = s.side_data_list?.find((d) => d.side_data_type === 'Display Matrix' && typeof d.rotation === 'number');
  const degrees = matrix ? -matrix.rotation! : Number(s.tags?.rotate ?? 0) || 0;
  const normal = ((Math.round(degrees / 90) * 90) % 360 + 360) % 360;
  return normal as VideoStreamInfo['rotation'];
}

function fieldOrderOf(flag: string | undefined): VideoStreamInfo['fieldOrder'] {
  if (flag === 'progressive') return 'progressive';
  if (flag === 'tt' || flag === 'bb' || flag === 'tb' || flag === 'bt') return 'interlaced';
  return 'unknown';
}

function parseRational(text: string | undefined, max = 1000): Rational | undefined {
  const match = /^(\d+)\/(\d+)$/.exec(text ?? '');
  if (!match) return undefined;
  const num = Number(match[1]);
  const den = Number(match[2]);
  if (num <= 0 || den <= 0 || num / den > max) return undefined;
  return { num, den };
}

function sampleAspect(text: string | undefined): number {
  const match = /^(\d+):(\d+)$/.exec(text ?? '');
  if (!match || Number(match[1]) === 0 || Number(match[2]) === 0) return 1;
  return Number(match[1]) / Number(match[2]);
}
