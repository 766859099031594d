import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SegmentMemory } from '../../../src/segment/memory.js';
import { SegmentStore, type StoredSegment } from '../../../src/segment/store.js';

let scratch = '';
let store: SegmentStore;
let opened = 0;

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'seekwell-memory-'));
  store = new SegmentStore('title', join(scratch, 'store'));
  await store.open();
  opened = 0;
  const open = store.openSegment.bind(store);
  store.openSegment = (segment) => {
    opened++;
    return open(segment);
  };
});

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function stored(index: number, bytes: Buffer): Promise<StoredSegment> {
  const file = join(scratch, `made-${index}.m4s`);
  await writeFile(file, bytes);
  await store.putSegment('video-720p', index, file);
  return store.getSegment('video-720p', index)!;
}

describe('SegmentMemory', () => {
  it('reads a segment whole once, then serves it from memory without opening the file', async () => {
    const memory = new SegmentMemory(1 << 20);
    const segment = await stored(0, Buffer.from('segment zero'));
    const first = await memory.read(store, segment);
    const second = await memory.read(store, segment);
    expect(Buffer.isBuffer(first) && first.toString()).toBe('segment zero');
    expect(second).toBe(first);
    expect(opened).toBe(1);
    expect(memory.bytes).toBe('segment zero'.length);
  });

  it('leaves a segment over an eighth of its size on disk: the file comes back open', async () => {
    const memory = new SegmentMemory(800);
    const segment = await stored(0, Buffer.alloc(101, 7));
    const body = await memory.read(store, segment);
    expect(Buffer.isBuffer(body)).toBe(false);
    await (body as Exclude<typeof body, Buffer | undefined>).close();
    expect(memory.bytes).toBe(0);
  });

  it('evicts the least recently used segments past its size', async () => {
    const memory = new SegmentMemory(800);
    const segments = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => stored(i, Buffer.alloc(100, i))));
    for (const segment of segments) await memory.read(store, segment);
    expect(memory.bytes).toBeLessThanOrEqual(800);
    opened = 0;
    await memory.read(store, segments[8]!);
    expect(opened).toBe(0);
    await memory.read(store, segments[0]!);
    expect(opened).toBe(1);
  });

  it('keeps nothing when its size is 0', async () => {
    const memory = new SegmentMemory(0);
    const segment = await stored(0, Buffer.from('zero'));
    const body = await memory.read(store, segment);
    expect(Buffer.isBuffer(body)).toBe(false);
    await (body as Exclude<typeof body, Buffer | undefined>).close();
    expect(memory.count).toBe(0);
  });

  it('is undefined for a file gone from disk and not in memory', async () => {
    const memory = new SegmentMemory(1 << 20);
    const segment = await stored(0, Buffer.from('zero'));
    await rm(segment.path);
    expect(await memory.read(store, segment)).toBeUndefined();
  });
});
