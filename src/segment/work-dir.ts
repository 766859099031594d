// WORK_DIR/sessions/<pid>: each server instance owns one folder, so two servers may share a
// WORK_DIR. Folders of instances that are gone (crashed, killed) are removed at start.
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Creates this instance's sessions folder (emptied) and removes those of dead instances. */
export async function claimSessionsDir(root: string, pid: number, alive: (pid: number) => boolean = pidAlive): Promise<string> {
  await mkdir(root, { recursive: true });
  for (const name of await readdir(root)) {
    const owner = Number(name);
    const stale = !/^\d+$/.test(name) || owner === pid || !alive(owner);
    if (stale) await rm(path.join(root, name), { recursive: true, force: true });
  }
  const mine = path.join(root, String(pid));
  await mkdir(mine, { recursive: true });
  return mine;
}
