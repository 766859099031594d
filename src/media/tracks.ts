// What the container header does not say reliably: where each track really ends (its last
// packet, not the container's duration), and whether a picture flagged progressive is in fact
// interlaced. Both are read from the file itself, once per file version, before the plan is made.
import { execa } from 'execa';
import { LRUCache } from 'lru-cache';
import { FORMAT_WHITELIST } from './formats.js';
import { tracksOf, type MediaInfo } from './probe.js';

export interface TrackExtent {
  /** Source stream index. */
  index: number;
  /** First timestamp, absolute seconds (as ffmpeg sees it with -copyts). */
  startSeconds: number;
  /** End of the last packet (its pts + duration), absolute seconds. */
  endSeconds: number;
  /** Presentation time of the last frame, absolute seconds (video: the frame held when padding). */
  lastSeconds: number;
}

export interface TrackAnalysis {
  extents: TrackExtent[];
  /** Field order found by `idet` where the stream's flag says progressive or nothing; else undefined. */
  detectedInterlace: 'tff' | 'bff' | undefined;
}

/**
 * Windows read at each end of the file, in seconds: most tracks start and end within the first;
 * a track starting or ending long before the others needs a wider one.
 */
const WINDOWS = [20, 300, Number.POSITIVE_INFINITY];
/** Frames idet looks at: enough to tell combing from motion, cheap enough for the first manifest. */
const IDET_FRAMES = 120;

/** `info` is what ffmpeg will read (a remuxed copy for TS/PS); `originalDemuxer` the file's own container. */
export type AnalyseTracks = (info: MediaInfo, originalDemuxer: string) => Promise<TrackAnalysis>;

/** Returns an analyser that reads each file version at most once (keyed by path, size and mtime). */
export function createTrackAnalyser(ffprobePath: string, ffmpegPath: string, maxEntries = 1000): AnalyseTracks {
  const cache = new LRUCache<string, Promise<TrackAnalysis>>({ max: maxEntries });
  return (info, originalDemuxer) => {
    const key = `${info.absolute}\0${info.size}\0${info.mtimeMs}`;
    let pending = cache.get(key);
    if (!pending) {
      pending = analyseTracks(ffprobePath, ffmpegPath, info, originalDemuxer);
      cache.set(key, pending);
      pending.catch(() => cache.delete(key));
    }
    return pending;
  };
}

async function analyseTracks(ffprobePath: string, ffmpegPath: string, info: MediaInfo, originalDemuxer: string): Promise<TrackAnalysis> {
  const [extents, detectedInterlace] = await Promise.all([
    readExtents(ffprobePath, info),
    mayBeInterlaced(info, originalDemuxer) ? detectInterlace(ffmpegPath, info) : Promise.resolve(undefined),
  ]);
  return { extents, detectedInterlace };
}

async function readExtents(ffprobePath: string, info: MediaInfo): Promise<TrackExtent[]> {
  const tracks = tracksOf(info);
  const first = new Map<number, number>();
  const last = new Map<number, { lastSeconds: number; endSeconds: number }>();
  const end = info.startSeconds + info.durationSeconds;
  for (const window of WINDOWS) {
    const whole = !Number.isFinite(window);
    const needHead = tracks.some((t) => !first.has(t.index));
    const needTail = tracks.some((t) => !last.has(t.index));
    if (!needHead && !needTail) break;
    // The last window is the whole file: one read serves both ends.
    const [head, tail] = whole
      ? await readPackets(ffprobePath, info, undefined).then((all): [Packet[], Packet[]] => [all, all])
      : await Promise.all([
        needHead ? readPackets(ffprobePath, info, `%+${window}`) : [],
        needTail ? readPackets(ffprobePath, info, `${Math.max(0, end - window).toFixed(6)}%`) : [],
      ]);
    const headFirst = new Map<number, number>();
    for (const p of head) headFirst.set(p.index, Math.min(p.at, headFirst.get(p.index) ?? p.at));
    for (const [index, at] of headFirst) if (!first.has(index)) first.set(index, at);
    const tailLast = new Map<number, { lastSeconds: number; endSeconds: number }>();
    for (const p of tail) {
      const seen = tailLast.get(p.index);
      tailLast.set(p.index, { lastSeconds: Math.max(p.at, seen?.lastSeconds ?? p.at), endSeconds: Math.max(p.end, seen?.endSeconds ?? p.end) });
    }
    for (const [index, e] of tailLast) if (!last.has(index)) last.set(index, e);
  }
  // A track with no packet at all keeps the container's word: it spans the file.
  return tracks.map((t) => ({
    index: t.index,
    startSeconds: first.get(t.index) ?? info.startSeconds,
    ...(last.get(t.index) ?? { lastSeconds: end, endSeconds: end }),
  }));
}

interface Packet {
  index: number;
  /** Presentation time, absolute seconds. */
  at: number;
  /** at + duration. */
  end: number;
}

// The packets ffprobe reads in `interval` (its -read_intervals syntax; the whole file if undefined),
// leaving out those an edit list discards.
async function readPackets(ffprobePath: string, info: MediaInfo, interval: string | undefined): Promise<Packet[]> {
  const result = await execa(ffprobePath, [
    '-v', 'error', '-protocol_whitelist', 'file', '-format_whitelist', FORMAT_WHITELIST, '-f', info.demuxer,
    ...(interval === undefined ? [] : ['-read_intervals', interval]),
    '-show_entries', 'packet=stream_index,pts,dts,duration,flags', '-of', 'compact=p=0', `file:${info.absolute}`,
  ], { reject: false, timeout: 120_000, stdin: 'ignore', maxBuffer: 512 << 20 });
  const timeBases = new Map(tracksOf(info).map((t) => [t.index, t.timeBase]));
  // A packet without a duration (WebM's last frame, AVI) lasts one frame period.
  const frame = info.video ? info.video.frameRate.den / info.video.frameRate.num : 0;
  const packets: Packet[] = [];
  for (const line of result.stdout.split('\n')) {
    const fields = Object.fromEntries(line.split('|').map((kv) => kv.split('=') as [string, string]));
    const index = Number(fields.stream_index);
    const timeBase = timeBases.get(index);
    const ticks = Number(fields.pts !== undefined && fields.pts !== 'N/A' ? fields.pts : fields.dts);
    if (timeBase === undefined || !Number.isFinite(ticks) || fields.flags?.includes('D')) continue;
    const duration = (Number(fields.duration) || 0) * timeBase || (index === info.video?.index ? frame : 0);
    packets.push({ index, at: ticks * timeBase, end: ticks * timeBase + duration });
  }
  return packets;
}

// Interlacing is a broadcast and disc matter: SD/HD frame sizes at 25-30 frames per second from
// codecs and containers that carry it, and any standard-definition picture (DV and DVD captures
// re-encoded without deinterlacing keep their combing under a progressive flag). A phone's HD
// H.264 in MP4 is not checked: 120 frames of it would cost the first manifest ~0.5 s.
function mayBeInterlaced(info: MediaInfo, originalDemuxer: string): boolean {
  const v = info.video;
  if (!v || v.fieldOrder === 'interlaced') return false;
  const fps = v.frameRate.num / v.frameRate.den;
  const broadcast = ['mpeg2video', 'mpeg1video', 'dvvideo', 'vc1'].includes(v.codec) || ['mpegts', 'mpeg'].includes(originalDemuxer);
  const standardDefinition = v.height <= 576;
  return (broadcast || standardDefinition || v.fieldOrder === 'unknown') && v.height >= 400 && v.height <= 1100 && fps > 23 && fps < 31;
}

// Runs idet on frames from a third of the way in; interlaced when most decided frames are.
async function detectInterlace(ffmpegPath: string, info: MediaInfo): Promise<'tff' | 'bff' | undefined> {
  const at = info.startSeconds + info.durationSeconds / 3;
  const result = await execa(ffmpegPath, [
    '-nostdin', '-hide_banner', '-v', 'info', '-protocol_whitelist', 'file', '-format_whitelist', FORMAT_WHITELIST,
    '-f', info.demuxer, '-ss', at.toFixed(3), '-i', `file:${info.absolute}`,
    '-map', `0:${info.video!.index}`, '-frames:v', String(IDET_FRAMES), '-vf', 'idet', '-f', 'null', '-',
  ], { reject: false, timeout: 60_000, stdin: 'ignore' });
  return parseIdet(result.stderr);
}

/** Reads idet's multi-frame summary: the dominant field order if interlaced frames outnumber progressive ones. */
export function parseIdet(stderr: string): 'tff' | 'bff' | undefined {
  const match = /Multi frame detection: TFF:\s*(\d+) BFF:\s*(\d+) Progressive:\s*(\d+)/.exec(stderr);
  if (!match) return undefined;
  const [tff, bff, progressive] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (tff + bff <= progressive || tff + bff < 10) return undefined;
  return tff >= bff ? 'tff' : 'bff';
}
