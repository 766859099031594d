// Raw MPEG-TS/PS/ES sources are remuxed once to Matroska: ffmpeg's -ss is not key-frame accurate
// on them (a seek to 41.4 s started at 43.1 s), which would break the restart timeline. The copies
// are as large as their sources: the folder is kept within INGEST_MAX_BYTES, least recently used
// copies going first, never one a title still plays from (it is made again when needed).
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { SeekwellError } from '../errors.js';
import { launched } from '../pipeline/binaries.js';
import { silentProgress, type ProgressReporter } from '../progress.js';
import { DISK_LOW_BYTES, freeBytes, megabytes, mentionsDiskFull } from '../segment/disk.js';
import { PROGRESS_ARGS, followProgress } from './ffmpeg-progress.js';
import { FORMAT_WHITELIST } from './formats.js';
import { toFfmpegInput } from './media-path.js';
import { tracksOf, type MediaInfo } from './probe.js';

export type RemuxSource = (info: MediaInfo) => Promise<string>;

export interface IngestOptions {
  /** Bytes of remuxed copies kept (INGEST_MAX_BYTES). */
  maxBytes: number;
  /** True for a copy (its path) a title still plays from: never removed. */
  inUse: (file: string) => boolean;
  /** Command prefix tying ffmpeg's life to the server's (pipeline/binaries.ts). */
  launcher?: string[];
  progress?: ProgressReporter;
}

/** Returns a function giving the path of a remuxed copy, made at most once per file version. */
export function createRemuxer(ffmpegPath: string, ingestDir: string, options: IngestOptions): RemuxSource {
  const inFlight = new Map<string, Promise<string>>();
  return (info) => {
    const key = createHash('sha256').update(`${info.absolute}\0${info.size}\0${info.mtimeMs}`).digest('hex').slice(0, 32);
    let pending = inFlight.get(key);
    if (!pending) {
      pending = remuxOnce(ffmpegPath, ingestDir, info, key, options)
        .then(async (copy) => {
          await trimIngest(ingestDir, options.maxBytes, (file) => file === copy || options.inUse(file) || [...inFlight.keys()].some((k) => file.includes(k)));
          return copy;
        })
        .finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  };
}

/**
 * Removes the least recently used copies (by mtime, which every use renews) until the folder
 * holds at most `maxBytes`, sparing those `keep` names. Resolves with the paths removed.
 */
export async function trimIngest(ingestDir: string, maxBytes: number, keep: (file: string) => boolean): Promise<string[]> {
  const names = await readdir(ingestDir).catch(() => [] as string[]);
  const copies = (await Promise.all(names.filter((n) => n.endsWith('.mkv')).map(async (name) => {
    const file = path.join(ingestDir, name);
    const info = await stat(file).catch(() => undefined);
    return info ? [{ file, size: info.size, usedAt: info.mtimeMs }] : [];
  }))).flat().sort((a, b) => a.usedAt - b.usedAt);
  let total = copies.reduce((sum, c) => sum + c.size, 0);
  const removed: string[] = [];
  for (const copy of copies) {
    if (total <= maxBytes) break;
    if (keep(copy.file)) continue;
    await rm(copy.file, { force: true });
    total -= copy.size;
    removed.push(copy.file);
  }
  return removed;
}

async function remuxOnce(ffmpegPath: string, ingestDir: string, info: MediaInfo, key: string, options: IngestOptions): Promise<string> {
  const target = path.join(ingestDir, `${key}.mkv`);
  const now = new Date();
  // A copy used again is the most recently used one (trimIngest goes by mtime).
  if (await utimes(target, now, now).then(() => true, () => false)) return target;
  await mkdir(ingestDir, { recursive: true });
  const partial = `${target}.${randomUUID()}.partial`;
  const progress = (options.progress ?? silentProgress)(`remuxing ${path.basename(info.absolute)} for seeking`, { file: info.absolute });
  const remux = execa(...launched(options.launcher ?? [], ffmpegPath, [
    '-nostdin', '-hide_banner', '-loglevel', 'error', ...PROGRESS_ARGS,
    '-protocol_whitelist', 'file', '-format_whitelist', FORMAT_WHITELIST, '-f', info.demuxer,
    '-i', toFfmpegInput(info.absolute),
    ...tracksOf(info).flatMap((t) => ['-map', `0:${t.index}`]),
    '-c', 'copy', '-copyts', '-f', 'matroska', toFfmpegInput(partial),
  ]), { reject: false, stdin: 'ignore', timeout: 30 * 60_000 });
  followProgress(remux.stdout, info.durationSeconds, progress);
  const result = await remux;
  progress.end(result.exitCode !== 0);
  if (result.exitCode !== 0) {
    await rm(partial, { force: true });
    throw await remuxFailure(ingestDir, result);
  }
  await rename(partial, target);
  return target;
}

// Why a remux failed: the disk filling up, ffmpeg killed or timed out, or the source itself.
async function remuxFailure(ingestDir: string, result: { stderr: string; timedOut: boolean; signal?: string | undefined }): Promise<SeekwellError> {
  const last = result.stderr.split('\n').filter(Boolean).at(-1)?.slice(0, 200) ?? '';
  if (mentionsDiskFull(result.stderr)) {
    const free = await freeBytes(ingestDir).catch(() => 0);
    if (free < DISK_LOW_BYTES) return new SeekwellError('INSUFFICIENT_STORAGE', `WORK_DIR is full (${megabytes(free)} free): could not remux the MPEG-TS source`, { details: { freeBytes: free } });
  }
  if (result.timedOut || result.signal) return new SeekwellError('PIPELINE_FAILED', `the remux of the MPEG-TS source did not finish (${result.timedOut ? 'timed out' : result.signal})`);
  return new SeekwellError('MEDIA_NOT_MEDIA', `could not remux the MPEG-TS source (${last})`);
}
