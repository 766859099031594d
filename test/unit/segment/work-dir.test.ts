import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimSessionsDir, pidAlive } from '../../../src/segment/work-dir.js';

describe('claimSessionsDir', () => {
  let root: string;

  beforeEach(async () => {
    root = path.join(await mkdtemp(path.join(tmpdir(), 'seekwell-workdir-')), 'sessions');
  });

  afterEach(async () => {
    await rm(path.dirname(root), { recursive: true, force: true });
  });

  it('keeps the folders of live instances and removes those of dead ones and stray files', async () => {
    await mkdir(path.join(root, '111', 'old-session'), { recursive: true });
    await mkdir(path.join(root, '222'), { recursive: true });
    await writeFile(path.join(root, 'junk'), '');
    const mine = await claimSessionsDir(root, 333, (pid) => pid === 111);
    expect(mine).toBe(path.join(root, '333'));
    expect((await readdir(root)).sort()).toEqual(['111', '333']);
  });

  it('empties a folder left under its own pid by an earlier process', async () => {
    await mkdir(path.join(root, '333', 'stale-session'), { recursive: true });
    await claimSessionsDir(root, 333, () => true);
    expect(await readdir(path.join(root, '333'))).toEqual([]);
  });
});

describe('pidAlive', () => {
  it('knows this process is alive and a pid beyond the kernel limit is not', () => {
    expect(pidAlive(process.pid)).toBe(true);
    expect(pidAlive(2 ** 22 + 1)).toBe(false);
  });
});
