// WORK_DIR/instances/<id>: each server instance owns one folder (its runs' output, init segments
// on their way into the store), so several may share a WORK_DIR. Named by a random id, not a pid:
// pids repeat across restarts and mean nothing across containers (PID namespaces). A live
// instance keeps touching its `heartbeat` file; at start, folders whose last sign of life is
// older than `staleMs` (a crashed or killed instance) are removed, fresh ones never are.
import { mkdir, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const HEARTBEAT_FILE = 'heartbeat';

export interface InstanceDirOptions {
  /** This instance's id (random: `randomUUID()`); its folder's name. */
  id: string;
  now?: () => number;
  /** Another instance's folder with no sign of life this recent is removed (default 60 s). */
  staleMs?: number;
  /** How often the heartbeat is touched (default 10 s); keep it well under staleMs. */
  beatMs?: number;
}

export interface InstanceDir {
  readonly id: string;
  readonly dir: string;
  /** Touches the heartbeat now (making the folder again if someone removed it). */
  beat(): Promise<void>;
  /** Stops the heartbeat and removes the folder. Idempotent, never rejects. */
  close(): Promise<void>;
}

/**
 * Removes the folders of instances that stopped beating, then creates this instance's folder
 * (emptied if one was left under the same id) with a fresh heartbeat, touched every `beatMs`
 * by an unref'd timer until close().
 */
export async function claimInstanceDir(root: string, options: InstanceDirOptions): Promise<InstanceDir> {
  const { id, now = Date.now, staleMs = 60_000, beatMs = 10_000 } = options;
  const dir = path.join(root, id);
  await mkdir(root, { recursive: true });
  await removeStaleInstances(root, id, now(), staleMs);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const heartbeat = path.join(dir, HEARTBEAT_FILE);
  const beat = async (): Promise<void> => {
    const seconds = now() / 1000;
    await utimes(heartbeat, seconds, seconds).catch(async (error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await mkdir(dir, { recursive: true });
      await writeFile(heartbeat, `${id}\n`);
      await utimes(heartbeat, seconds, seconds);
    });
  };
  await beat();
  const timer = setInterval(() => void beat().catch(() => {}), beatMs);
  timer.unref();
  let closing: Promise<void> | undefined;
  return {
    id, dir, beat,
    close: () => {
      closing ??= (async () => {
        clearInterval(timer);
        await rm(dir, { recursive: true, force: true }).catch(() => {});
      })();
      return closing;
    },
  };
}

/** Removes every entry of `root` but `id` whose last sign of life is older than `staleMs`. */
async function removeStaleInstances(root: string, id: string, nowMs: number, staleMs: number): Promise<void> {
  for (const name of await readdir(root)) {
    if (name === id) continue;
    const entry = path.join(root, name);
    const lastSign = await lastSignOfLife(entry);
    if (lastSign !== undefined && nowMs - lastSign > staleMs) await rm(entry, { recursive: true, force: true });
  }
}

// The heartbeat's mtime; without one (an instance still starting, or of an older version), the
// folder's own mtime. Undefined when the entry is already gone.
async function lastSignOfLife(entry: string): Promise<number | undefined> {
  const heartbeat = await stat(path.join(entry, HEARTBEAT_FILE)).catch(() => undefined);
  if (heartbeat) return heartbeat.mtimeMs;
  return (await stat(entry).catch(() => undefined))?.mtimeMs;
}
