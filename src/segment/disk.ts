// The disk under WORK_DIR: how much is free, and whether a failure was the disk filling up.
import { statfs } from 'node:fs/promises';
import type { StoreBudget } from './budget.js';

/** Below this much free space, a write failure is taken for a full disk. */
export const DISK_LOW_BYTES = 64 * 1024 ** 2;

/** Bytes an unprivileged process may still write on the file system holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const stats = await statfs(dir);
  return stats.bavail * stats.bsize;
}

// What a full disk looks like in the messages of Node (ENOSPC), ffmpeg ("No space left on
// device") and Shaka Packager ("Cannot close file out/…m4s, possibly file permission issue or
// running out of disk space", then exit code 2).
const DISK_FULL_TEXT = /ENOSPC|No space left on device|running out of disk space|Disk quota exceeded/i;

/** True when `text` (an error message or a stderr tail) says a write failed for lack of space. */
export function mentionsDiskFull(text: string): boolean {
  return DISK_FULL_TEXT.test(text);
}

/** Megabytes, for messages: "12.3 MB". */
export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * The store can hold at most what it holds now plus the free space, less headroom for the files
 * of runs under way (a tenth of the free space, at most DISK_LOW_BYTES): a budget the disk cannot
 * hold would end in failed writes instead of evictions. Resolves with the budget it leaves.
 */
export async function fitBudgetToDisk(budget: Pick<StoreBudget, 'bytes' | 'maxBytes' | 'limit'>, dir: string): Promise<{ maxBytes: number; freeBytes: number; lowered: boolean }> {
  const free = await freeBytes(dir);
  const room = budget.bytes + Math.max(0, free - Math.min(DISK_LOW_BYTES, Math.floor(free / 10)));
  const lowered = room < budget.maxBytes;
  if (lowered) await budget.limit(room);
  return { maxBytes: budget.maxBytes, freeBytes: free, lowered };
}
