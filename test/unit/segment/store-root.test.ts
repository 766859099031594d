import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { Metrics } from '../../../src/metrics.js';
import { StoreBudget } from '../../../src/segment/budget.js';
import { StoreRoot } from '../../../src/segment/store-root.js';
import { mediaSegment } from '../../support/mp4-build.js';

let scratch = '';
let root = '';

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'seekwell-store-root-'));
  root = join(scratch, 'store');
});

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function storeRoot(maxBytes = 1 << 30): { stores: StoreRoot; budget: StoreBudget; metrics: Metrics } {
  const metrics = new Metrics();
  const budget = new StoreBudget(maxBytes, () => false, () => metrics.evictions.inc());
  const stores = new StoreRoot({ root, tmpDir: join(scratch, 'instance', 'tmp'), budget, metrics, log: createLogger('silent') });
  return { stores, budget, metrics };
}

const SEGMENT = mediaSegment(1000);

// A segment an earlier process left in title `key`'s folder, last modified at `mtimeSeconds`.
async function left(key: string, name: string, mtimeSeconds = 1_700_000_000): Promise<void> {
  await mkdir(join(root, key), { recursive: true });
  await writeFile(join(root, key, name), SEGMENT);
  await utimes(join(root, key, name), mtimeSeconds, mtimeSeconds);
}

describe('StoreRoot', () => {
  it('opens one store per title key, however many ask at once', async () => {
    const { stores } = storeRoot();
    const [a, b, c] = await Promise.all([stores.open('title-a'), stores.open('title-a'), stores.open('title-a')]);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(stores.get('title-a')).toBe(a);
    expect(a!.dir).toBe(join(root, 'title-a'));
    expect(await stores.open('title-b')).not.toBe(a);
  });

  it('at start, opens every title folder and counts what it holds as restored, not encoded', async () => {
    await left('title-a', 'video-720p-00001.m4s');
    await left('title-a', 'video-720p-00002.m4s');
    await left('title-b', 'audio-1-00001.m4s');
    const { stores, budget, metrics } = storeRoot();
    await stores.restore();
    expect(stores.get('title-a')?.indexes('video-720p')).toEqual([0, 1]);
    expect(stores.get('title-b')?.indexes('audio-1')).toEqual([0]);
    expect(budget.bytes).toBe(3 * SEGMENT.length);
    expect(await metrics.valueOf(metrics.segmentsRestored)).toBe(3);
    expect(await metrics.valueOf(metrics.segmentsEncoded)).toBe(0);
  });

  it('hands a title opened after the start the store the start opened, counted once', async () => {
    await left('title-a', 'video-720p-00001.m4s');
    const { stores, budget, metrics } = storeRoot();
    await stores.restore();
    const restored = stores.get('title-a');
    expect(await stores.open('title-a')).toBe(restored);
    expect(budget.bytes).toBe(SEGMENT.length);
    expect(await metrics.valueOf(metrics.segmentsRestored)).toBe(1);
  });

  it('counts a title folder another instance filled after the start when the title is opened', async () => {
    const { stores, budget, metrics } = storeRoot();
    await stores.restore();
    await left('title-late', 'video-720p-00003.m4s');
    const store = await stores.open('title-late');
    expect(store.indexes('video-720p')).toEqual([2]);
    expect(budget.bytes).toBe(SEGMENT.length);
    expect(await metrics.valueOf(metrics.segmentsRestored)).toBe(1);
  });

  it('evicts what it found past the budget at start, least recently modified first across titles', async () => {
    await left('title-a', 'video-720p-00001.m4s', 1_700_000_100);
    await left('title-b', 'video-720p-00001.m4s', 1_700_000_000);
    await left('title-a', 'video-720p-00002.m4s', 1_700_000_300);
    await left('title-b', 'video-720p-00002.m4s', 1_700_000_200);
    const { stores, budget, metrics } = storeRoot(2 * SEGMENT.length);
    await stores.restore();
    // Oldest first: b/1, a/1 go; b/2, a/2 stay.
    expect(await readdir(join(root, 'title-a'))).toEqual(['video-720p-00002.m4s']);
    expect(await readdir(join(root, 'title-b'))).toEqual(['video-720p-00002.m4s']);
    expect(budget.bytes).toBe(2 * SEGMENT.length);
    expect(await metrics.valueOf(metrics.evictions)).toBe(2);
    expect(stores.get('title-a')?.indexes('video-720p')).toEqual([1]);
    expect(stores.get('title-b')?.indexes('video-720p')).toEqual([1]);
  });

  it('removes empty title folders at start and leaves stray files in the root alone', async () => {
    await mkdir(join(root, 'empty-title'), { recursive: true });
    await left('title-a', 'video-720p-00001.m4s');
    await writeFile(join(root, 'notes.txt'), 'hello');
    const { stores } = storeRoot();
    await stores.restore();
    expect((await readdir(root)).sort()).toEqual(['notes.txt', 'title-a']);
    expect(stores.get('empty-title')).toBeUndefined();
  });

  it('counts segments moved in later as encoded and in the budget, and keeps every file when closed', async () => {
    const { stores, budget, metrics } = storeRoot();
    const store = await stores.open('title-a');
    const made = join(scratch, 'made.m4s');
    await writeFile(made, SEGMENT);
    await store.putSegment('video-720p', 4, made);
    expect(await metrics.valueOf(metrics.segmentsEncoded)).toBe(1);
    expect(budget.bytes).toBe(SEGMENT.length);
    await stores.close(new Error('closing'));
    expect(await readdir(join(root, 'title-a'))).toEqual(['video-720p-00005.m4s']);
  });
});
