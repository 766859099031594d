import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimInstanceDir, HEARTBEAT_FILE, type InstanceDir } from '../../../src/segment/work-dir.js';

const MINUTE = 60_000;
// A fixed "now", far from the real clock: only the times written here decide what is stale.
const NOW = Date.parse('2030-01-01T00:00:00Z');

describe('claimInstanceDir', () => {
  let root: string;
  const claimed: InstanceDir[] = [];

  beforeEach(async () => {
    root = path.join(await mkdtemp(path.join(tmpdir(), 'seekwell-workdir-')), 'instances');
  });

  afterEach(async () => {
    await Promise.all(claimed.splice(0).map((c) => c.close()));
    await rm(path.dirname(root), { recursive: true, force: true });
  });

  async function claim(id: string, now = (): number => NOW): Promise<InstanceDir> {
    const instance = await claimInstanceDir(root, { id, now, staleMs: MINUTE });
    claimed.push(instance);
    return instance;
  }

  // Another instance's folder, its heartbeat (or, without one, the folder itself) last touched at `at`.
  async function otherInstance(id: string, at: number, heartbeat = true): Promise<string> {
    const dir = path.join(root, id);
    await mkdir(path.join(dir, 'runs', 'a-run'), { recursive: true });
    const touched = heartbeat ? path.join(dir, HEARTBEAT_FILE) : dir;
    if (heartbeat) await writeFile(touched, id);
    await utimes(touched, at / 1000, at / 1000);
    return dir;
  }

  it('creates its own folder, named by its id, with a fresh heartbeat', async () => {
    const mine = await claim('mine');
    expect(mine.dir).toBe(path.join(root, 'mine'));
    expect(await readdir(mine.dir)).toEqual([HEARTBEAT_FILE]);
    expect((await stat(path.join(mine.dir, HEARTBEAT_FILE))).mtimeMs).toBe(NOW);
  });

  it('removes the folder of an instance whose heartbeat is older than staleMs', async () => {
    await otherInstance('crashed', NOW - 2 * MINUTE);
    await claim('mine');
    expect(await readdir(root)).toEqual(['mine']);
  });

  it('keeps the folder of an instance whose heartbeat is fresh, whatever pid namespace it runs in', async () => {
    const alive = await otherInstance('alive', NOW - 20_000);
    await claim('mine');
    expect((await readdir(root)).sort()).toEqual(['alive', 'mine']);
    expect(await readdir(path.join(alive, 'runs'))).toEqual(['a-run']);
  });

  it('keeps a folder without a heartbeat that was modified recently (an instance still starting)', async () => {
    await otherInstance('starting', NOW - 5_000, false);
    await claim('mine');
    expect((await readdir(root)).sort()).toEqual(['mine', 'starting']);
  });

  it('removes a folder without a heartbeat left long ago (an older version\'s pid folder) and stale stray files', async () => {
    await otherInstance('12345', NOW - 10 * MINUTE, false);
    await writeFile(path.join(root, 'junk'), '');
    await utimes(path.join(root, 'junk'), (NOW - 10 * MINUTE) / 1000, (NOW - 10 * MINUTE) / 1000);
    await claim('mine');
    expect(await readdir(root)).toEqual(['mine']);
  });

  it('empties a folder left under its own id', async () => {
    await mkdir(path.join(root, 'mine', 'runs', 'left-over'), { recursive: true });
    await claim('mine');
    expect(await readdir(path.join(root, 'mine'))).toEqual([HEARTBEAT_FILE]);
  });

  it('moves its heartbeat with the clock, and writes it again if its folder was removed', async () => {
    let now = NOW;
    const mine = await claim('mine', () => now);
    now += 30_000;
    await mine.beat();
    expect((await stat(path.join(mine.dir, HEARTBEAT_FILE))).mtimeMs).toBe(NOW + 30_000);
    await rm(mine.dir, { recursive: true });
    now += 10_000;
    await mine.beat();
    expect((await stat(path.join(mine.dir, HEARTBEAT_FILE))).mtimeMs).toBe(NOW + 40_000);
  });

  it('keeps a live instance\'s folder from a second instance started later, until the first closes', async () => {
    const first = await claim('first');
    await claim('second');
    expect((await readdir(root)).sort()).toEqual(['first', 'second']);
    await first.close();
    await first.close();
    expect(await readdir(root)).toEqual(['second']);
  });
});
