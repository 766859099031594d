// The source video's key frames, for stream copy to plan its segment boundaries. Read from the
// container's own index where it has one (MP4/MOV moov, Matroska Cues: a few ms for a 2-hour film,
// within the manifest's budget), else from an ffprobe scan of every video packet (seconds).
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { LRUCache } from 'lru-cache';
import { SeekwellError } from '../errors.js';
import { FORMAT_WHITELIST } from './formats.js';
import { keyFramesAreIdr } from './idr.js';
import { readMatroskaCues } from './mkv-cues.js';
import { readMp4KeyFrames } from './mp4-index.js';
import type { MediaInfo, VideoStreamInfo } from './probe.js';

export interface KeyFrameIndex {
  /** Presentation times of the video's key frames, absolute seconds ascending (as ffmpeg sees them with -copyts). */
  times: number[];
  /**
   * Where they came from. 'matroska' cues list every key frame when mkvmerge or ffmpeg wrote the
   * file, but other muxers may cue only some: a caller that needs all of them may prefer a scan.
   */
  source: 'mp4' | 'matroska' | 'scan';
  /** Time taken to build the index (not to fetch it from the cache). */
  elapsedMs: number;
  /** H.264: whether the key frames checked are IDR pictures (false: open GOP, not copyable). */
  idr: boolean | undefined;
}

/** The index, or why there is none yet (a scan still running) or at all (unreadable packets). */
export type KeyFrameResult = KeyFrameIndex | { missing: string };
/** Undefined for a file without video. */
export type IndexKeyFrames = (info: MediaInfo) => Promise<KeyFrameResult | undefined>;

/** Within this of the video's first packet, the index's first key frame is taken to be that packet. */
const FIRST_FRAME_TOLERANCE_SECONDS = 0.0005;

interface Entry {
  index: Promise<KeyFrameIndex | undefined>;
  /** Resolves when the container had no usable index and the packet scan began. */
  scanning: Promise<void>;
}

/**
 * Returns an indexer that reads each file version at most once (keyed by path, size and mtime).
 * A container index is waited for (milliseconds); a scan (seconds for a film) only `scanWaitMs`:
 * past that the answer is `missing` while the scan goes on, and a later call gets its result.
 */
export function createKeyFrameIndexer(ffprobePath: string, { maxEntries = 1000, scanWaitMs = 1000 } = {}): IndexKeyFrames {
  const cache = new LRUCache<string, Entry>({ max: maxEntries });
  return async (info) => {
    const key = `${info.absolute}\0${info.size}\0${info.mtimeMs}`;
    let entry = cache.get(key);
    if (!entry) {
      let started!: () => void;
      const scanning = new Promise<void>((resolve) => { started = resolve; });
      entry = { index: indexKeyFrames(ffprobePath, info, started), scanning };
      cache.set(key, entry);
      entry.index.catch(() => cache.delete(key));
    }
    const stop = new AbortController();
    const late = entry.scanning
      .then(() => sleep(scanWaitMs, undefined, { signal: stop.signal }))
      .then(() => ({ missing: `the key-frame scan takes over ${scanWaitMs} ms (a later session gets the copy)` }), () => new Promise<never>(() => {}));
    const read = entry.index.then(
      (index): KeyFrameResult | undefined => index,
      (error: unknown) => ({ missing: `the key frames could not be read (${error instanceof Error ? error.message : String(error)})` }),
    );
    try {
      return await Promise.race([read, late]);
    } finally {
      stop.abort();
    }
  };
}

async function indexKeyFrames(ffprobePath: string, info: MediaInfo, scanStarted: () => void): Promise<KeyFrameIndex | undefined> {
  const video = info.video;
  if (!video) return undefined;
  const started = performance.now();
  let indexed = await containerIndex(info, video);
  if (!indexed) {
    scanStarted();
    indexed = { times: await scanPackets(ffprobePath, info, video), source: 'scan' };
  }
  const idr = await keyFramesAreIdr(ffprobePath, info, indexed.times);
  return { ...indexed, idr, elapsedMs: performance.now() - started };
}

// The container's index, sorted and de-duplicated, if it exists and starts where the video does:
// an index that disagrees with the first packet (another track's cues, an edit list we misread)
// is not trusted.
async function containerIndex(info: MediaInfo, video: VideoStreamInfo): Promise<Pick<KeyFrameIndex, 'times' | 'source'> | undefined> {
  const read = info.demuxer === 'mov' ? { source: 'mp4' as const, times: readMp4KeyFrames(info.absolute, video.index) }
    : info.demuxer === 'matroska' ? { source: 'matroska' as const, times: readMatroskaCues(info.absolute, video.index) }
    : undefined;
  const raw = await read?.times.catch(() => undefined);
  if (!read || !raw) return undefined;
  const times = ascendingUnique(raw);
  const first = times[0];
  if (first === undefined) return undefined;
  if (video.startSeconds !== undefined && Math.abs(first - video.startSeconds) > FIRST_FRAME_TOLERANCE_SECONDS) return undefined;
  return { times, source: read.source };
}

function ascendingUnique(times: number[]): number[] {
  const sorted = times.filter(Number.isFinite).sort((a, b) => a - b);
  return sorted.filter((t, i) => i === 0 || t !== sorted[i - 1]);
}

/**
 * The key frames from every packet of the video stream (seconds for a 2-hour film), for any
 * container; undefined without video. Rejects when ffprobe cannot read the packets.
 */
export async function scanKeyFrames(ffprobePath: string, info: MediaInfo): Promise<number[] | undefined> {
  return info.video && scanPackets(ffprobePath, info, info.video);
}

// Key frames are flagged K, and D marks those an edit list discards.
async function scanPackets(ffprobePath: string, info: MediaInfo, video: VideoStreamInfo): Promise<number[]> {
  const result = await execa(ffprobePath, [
    '-v', 'error', '-protocol_whitelist', 'file', '-format_whitelist', FORMAT_WHITELIST, '-f', info.demuxer,
    '-select_streams', String(video.index), '-show_entries', 'packet=pts,dts,flags', '-of', 'csv=p=0', `file:${info.absolute}`,
  ], { reject: false, timeout: 120_000, stdin: 'ignore', maxBuffer: 512 << 20 });
  if (result.exitCode !== 0 || result.failed) {
    const reason = result.stderr.split('\n').filter(Boolean).at(-1) ?? (result.timedOut ? 'timed out' : 'unknown');
    throw new SeekwellError('MEDIA_NOT_MEDIA', `the video's packets could not be read (${reason.slice(0, 200)})`);
  }
  return parseKeyFramePackets(result.stdout, video.timeBase);
}

/** Key-frame times (seconds, ascending) from `ffprobe -show_entries packet=pts,dts,flags -of csv=p=0` lines. */
export function parseKeyFramePackets(csv: string, timeBase: number): number[] {
  const times: number[] = [];
  for (const line of csv.split('\n')) {
    const [pts, dts, flags] = line.trim().split(',');
    if (!flags?.includes('K') || flags.includes('D')) continue;
    const ticks = Number(pts !== undefined && pts !== 'N/A' ? pts : dts);
    if (Number.isFinite(ticks)) times.push(ticks * timeBase);
  }
  return times.sort((a, b) => a - b);
}
