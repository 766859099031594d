import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { trimIngest } from '../../../src/media/ingest.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'seekwell-ingest-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A copy of `size` bytes last used `minutesAgo` minutes ago. */
async function copy(name: string, size: number, minutesAgo: number): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, Buffer.alloc(size));
  const at = new Date(Date.now() - minutesAgo * 60_000);
  await utimes(file, at, at);
  return file;
}

describe('trimIngest', () => {
  it('removes the least recently used copies until the folder is within its budget', async () => {
    const old = await copy('old.mkv', 300, 30);
    await copy('mid.mkv', 200, 20);
    await copy('new.mkv', 100, 10);
    expect(await trimIngest(dir, 350, () => false)).toEqual([old]);
    expect((await readdir(dir)).sort()).toEqual(['mid.mkv', 'new.mkv']);
  });

  it('spares a copy a title plays from, even the oldest, and takes newer ones instead', async () => {
    const old = await copy('old.mkv', 300, 30);
    const mid = await copy('mid.mkv', 200, 20);
    const newest = await copy('new.mkv', 100, 10);
    expect(await trimIngest(dir, 350, (file) => file === old)).toEqual([mid, newest]);
    expect(await readdir(dir)).toEqual(['old.mkv']);
  });

  it('leaves everything within the budget, and files that are not copies, alone', async () => {
    await copy('a.mkv', 100, 5);
    await writeFile(path.join(dir, 'b.mkv.1234.partial'), Buffer.alloc(5000));
    expect(await trimIngest(dir, 100, () => false)).toEqual([]);
    expect(await trimIngest(path.join(dir, 'missing'), 0, () => false)).toEqual([]);
  });
});
