// A title's store folder on disk (WORK_DIR/store/<title key>/), outliving the process that filled
// it: what is already there when a store opens, and how an init segment gets there whole.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';
import { indexOf } from '../media/timeline.js';
import { checkInitSegment, checkMediaSegmentFile } from './file-check.js';
import { parseSegmentFileName, parseStoredInitFileName, storedInitFileName } from './naming.js';

/** A whole media segment found in the folder. */
export interface FoundSegment {
  renditionId: string;
  index: number;
  path: string;
  size: number;
  etag: string;
  mtimeMs: number;
}

export interface FolderContents {
  /** Oldest first (by mtime): the order of their last use, as far as the disk can tell. */
  segments: FoundSegment[];
  inits: Map<string, Buffer>;
}

/** An init segment is a few kB: anything far larger is not one. */
const MAX_INIT_BYTES = 16 << 20;

/** Headers read for an ETag at most: a moof past this is not one we wrote. */
const MAX_HEADER_BYTES = 1 << 20;

/**
 * A strong validator from the segment's own bytes, the same on every node that made the same
 * segment (issue 13): a hash of everything up to the end of its moof (styp, sidx and the moof,
 * which holds the fragment number and every sample's size and time) and of its size. It reads a
 * few kB, not the media data; two segments with equal headers and sizes but other media data
 * would share one, which two encodes cannot give.
 */
export async function segmentEtag(handle: FileHandle, size: number): Promise<string> {
  let at = 0;
  let end = 0;
  for (let boxes = 0; at < size && boxes < 16 && end === 0; boxes++) {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(16), 0, 16, at);
    if (bytesRead < 8) break;
    const boxSize = buffer.readUInt32BE(0) === 1 && bytesRead >= 16 ? Number(buffer.readBigUInt64BE(8)) : buffer.readUInt32BE(0);
    if (boxSize < 8) break;
    if (buffer.toString('latin1', 4, 8) === 'moof') end = at + boxSize;
    at += boxSize;
  }
  const length = Math.min(end || size, size, MAX_HEADER_BYTES);
  const { buffer, bytesRead } = await handle.read(Buffer.alloc(length), 0, length, 0);
  const hash = createHash('sha1').update(buffer.subarray(0, bytesRead)).update(String(size)).digest('base64url').slice(0, 22);
  return `"s-${hash}"`;
}

/**
 * Indexes the whole media segments and init segments in `dir` (made if missing). A file named as
 * one that is not whole is deleted and logged; other files and folders are left alone.
 */
export async function readStoreFolder(dir: string, log: Logger): Promise<FolderContents> {
  await mkdir(dir, { recursive: true });
  const segments: FoundSegment[] = [];
  const inits = new Map<string, Buffer>();
  const files = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  for (const name of files.sort()) {
    const file = path.join(dir, name);
    const parsed = parseSegmentFileName(name);
    const initOf = parseStoredInitFileName(name);
    try {
      if (parsed?.extension === 'm4s') {
        const found = await readSegment(file);
        if (typeof found === 'string') await discard(file, found, log);
        else segments.push({ renditionId: parsed.renditionId, index: indexOf(parsed.number), ...found });
      } else if (initOf !== undefined) {
        const bytes = await readInit(file);
        if (typeof bytes === 'string') await discard(file, bytes, log);
        else inits.set(initOf, bytes);
      }
    } catch (error) {
      // Gone meanwhile (another instance evicted it) or unreadable: not indexed, nothing deleted.
      if (!isMissing(error)) log.warn('stored file unreadable: not indexed', { path: file, error });
    }
  }
  segments.sort((a, b) => a.mtimeMs - b.mtimeMs);
  return { segments, inits };
}

// The segment's facts, or why it is not whole.
async function readSegment(file: string): Promise<Omit<FoundSegment, 'renditionId' | 'index'> | string> {
  const handle = await open(file, 'r');
  try {
    const info = await handle.stat();
    const problem = await checkMediaSegmentFile(handle, info.size);
    return problem ?? { path: file, size: info.size, etag: await segmentEtag(handle, info.size), mtimeMs: info.mtimeMs };
  } finally {
    await handle.close().catch(() => {});
  }
}

async function readInit(file: string): Promise<Buffer | string> {
  const info = await stat(file);
  if (info.size > MAX_INIT_BYTES) return `${info.size} bytes: too large for an init segment`;
  const bytes = await readFile(file);
  return (await checkInitSegment(bytes)) ?? bytes;
}

async function discard(file: string, reason: string, log: Logger): Promise<void> {
  log.warn('stored file is not whole: deleted', { path: file, reason });
  await rm(file, { force: true });
}

/**
 * Writes a rendition's init segment into the store folder atomically: written whole in `tmpDir`
 * (this instance's own folder, so a crash leaves nothing half-written in the shared store), then
 * renamed in. Both folders are made if missing.
 */
export async function writeStoredInit(dir: string, tmpDir: string, renditionId: string, bytes: Buffer): Promise<void> {
  const temp = path.join(tmpDir, `${storedInitFileName(renditionId)}.${randomBytes(6).toString('hex')}.tmp`);
  await mkdir(tmpDir, { recursive: true });
  await writeFile(temp, bytes, { flag: 'wx' });
  const target = path.join(dir, storedInitFileName(renditionId));
  try {
    await mkdir(dir, { recursive: true });
    // Another instance removes title folders it finds empty at its start: made again once.
    await rename(temp, target).catch(async (error: unknown) => {
      if (!isMissing(error)) throw error;
      await mkdir(dir, { recursive: true });
      await rename(temp, target);
    });
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
}

export function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
