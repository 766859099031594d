import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { demoArgs, removeAbandoned } from '../../../src/media/demo.js';

describe('the demo clip', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'seekwell-demo-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('removes partial files a stopped server left, not one another server may still be writing', async () => {
    const old = new Date(Date.now() - 11 * 60_000);
    for (const name of ['.demo-a.partial.mp4', '.demo-b.partial.mp4', 'demo.mp4', 'other.partial.mp4']) await writeFile(path.join(dir, name), 'x');
    await utimes(path.join(dir, '.demo-a.partial.mp4'), old, old);
    await utimes(path.join(dir, 'other.partial.mp4'), old, old);
    await removeAbandoned(dir);
    expect((await readdir(dir)).sort()).toEqual(['.demo-b.partial.mp4', 'demo.mp4', 'other.partial.mp4']);
  });

  it('asks ffmpeg for its progress on stdout, for the progress line', () => {
    const args = demoArgs('file:/x/demo.mp4');
    expect(args.join(' ')).toContain('-progress pipe:1 -nostats');
    expect(args.at(-1)).toBe('file:/x/demo.mp4');
  });
});
