import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInitSegment, checkMediaSegmentFile } from '../../../src/segment/file-check.js';
import { box, initSegment, largeBox, mediaSegment } from '../../support/mp4-build.js';

let scratch = '';

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'seekwell-file-check-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

let seq = 0;

async function problemOf(bytes: Buffer): Promise<string | undefined> {
  const file = join(scratch, `${++seq}.m4s`);
  await writeFile(file, bytes);
  const handle = await open(file, 'r');
  try {
    return await checkMediaSegmentFile(handle, bytes.length);
  } finally {
    await handle.close();
  }
}

describe('checkMediaSegmentFile', () => {
  it('accepts a whole segment, with or without styp/sidx before its moof, and 64-bit sizes', async () => {
    expect(await problemOf(mediaSegment())).toBeUndefined();
    expect(await problemOf(Buffer.concat([box('moof'), box('mdat', Buffer.alloc(10))]))).toBeUndefined();
    expect(await problemOf(Buffer.concat([box('moof'), largeBox('mdat', Buffer.alloc(10))]))).toBeUndefined();
  });

  it('says why a segment is not whole', async () => {
    const whole = mediaSegment(100);
    expect(await problemOf(whole.subarray(0, whole.length - 1))).toBe('its "mdat" box ends 1 bytes past the end of the file');
    expect(await problemOf(Buffer.concat([whole, Buffer.alloc(3)]))).toBe('3 stray bytes at the end');
    expect(await problemOf(Buffer.concat([box('moof'), Buffer.from([0, 0, 0, 0]), Buffer.from('mdat')]))).toBe('a box of size 0 at byte 8');
    expect(await problemOf(Buffer.concat([box('free'), box('moof'), box('mdat')]))).toBe('a "free" box before the moof');
    expect(await problemOf(Buffer.concat([box('moof'), box('free')]))).toBe('no mdat box after the moof');
    expect(await problemOf(Buffer.alloc(0))).toBe('no moof box');
  });
});

describe('checkInitSegment', () => {
  it('accepts ftyp + moov adding up, and says why anything else is not an init', async () => {
    const init = initSegment();
    expect(await checkInitSegment(init)).toBeUndefined();
    expect(await checkInitSegment(init.subarray(0, init.length - 1))).toMatch(/"moov" box ends 1 bytes past the end/);
    expect(await checkInitSegment(box('moov'))).toBe('no ftyp box');
    expect(await checkInitSegment(box('ftyp'))).toBe('no moov box');
  });
});
