import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SegmentWatcher, type WatchedSegment } from '../../../src/pipeline/segment-watcher.js';
import { box } from '../../support/mp4-build.js';

// A segment as the packager writes it: styp, a sidx whose one reference covers moof + mdat (that is
// how the watcher knows the final size), moof, mdat.
function segment(mdatBytes: number, duration = 360_000): Buffer {
  const fragment = Buffer.concat([box('moof', box('mfhd', Buffer.alloc(8))), box('mdat', Buffer.alloc(mdatBytes, 0x5a))]);
  const sidx = Buffer.alloc(36);
  sidx.writeUInt32BE(1, 4); // reference_ID
  sidx.writeUInt32BE(90_000, 8); // timescale
  sidx.writeUInt16BE(1, 22); // reference_count
  sidx.writeUInt32BE(fragment.length, 24);
  sidx.writeUInt32BE(duration, 28);
  return Buffer.concat([box('styp', Buffer.from('msdh\0\0\0\0msdhmsix')), box('sidx', sidx), fragment]);
}

describe('SegmentWatcher', () => {
  let dir: string;
  let seen: WatchedSegment[];
  let watcher: SegmentWatcher;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'seekwell-watcher-'));
    seen = [];
    watcher = new SegmentWatcher(dir, { onInit: () => {}, onSegment: (s) => seen.push(s) });
  });

  afterEach(async () => {
    watcher.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports a segment only once all the bytes its sidx announces are written', async () => {
    const bytes = segment(10_000);
    await writeFile(path.join(dir, '360000.m4s'), bytes.subarray(0, 5000));
    await watcher.sweep();
    expect(seen).toEqual([]);
    await writeFile(path.join(dir, '360000.m4s'), bytes);
    await watcher.sweep();
    expect(seen.map((s) => ({ time: s.time, duration: s.index.duration, size: s.index.expectedSize }))).toEqual([{ time: 360_000, duration: 360_000, size: bytes.length }]);
  });

  it('resolves a sweep only after a check already under way has reported its file', async () => {
    // The run's end sweeps, then removes the directory: a check an inotify event started moments
    // before (here, the first sweep's) must have handed its segment over by then.
    await writeFile(path.join(dir, '0.m4s'), segment(100_000));
    const first = watcher.sweep();
    await watcher.sweep();
    expect(seen.map((s) => s.time)).toEqual([0]);
    await first;
    expect(seen).toHaveLength(1);
  });
});
