import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMp4KeyFrames } from '../../../src/media/mp4-index.js';

// Hand-built MP4 boxes: a moov with one video trak (and optionally an audio trak first), timescale
// 12800 (a 25 fps frame is 512 ticks), movie timescale 1000. Expected times follow ffmpeg's mov
// demuxer: pts = dts + ctts, an edit's media time shifts the first shown frame to 0, an empty
// edit delays the track.
const FRAME = 512;
const TIMESCALE = 12_800;

function box(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
}

function fullBox(type: string, version: number, ...parts: Buffer[]): Buffer {
  return box(type, Buffer.from([version, 0, 0, 0]), ...parts);
}

function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => (v < 0 ? b.writeInt32BE(v, i * 4) : b.writeUInt32BE(v, i * 4)));
  return b;
}

/** A full box holding a count and then `rows` of 32-bit fields. */
function table(type: string, version: number, rows: number[][]): Buffer {
  return fullBox(type, version, u32(rows.length), ...rows.map((r) => u32(...r)));
}

interface TrackSpec {
  handler?: 'vide' | 'soun';
  samples: number;
  /** stts rows [count, delta]; default every sample one frame. */
  stts?: number[][];
  /** ctts rows [count, offset] and box version. */
  ctts?: { version: 0 | 1; rows: number[][] };
  /** 1-based sync sample numbers; undefined writes no stss (every sample is a sync sample). */
  stss?: number[];
  /** elst rows [duration (movie ticks), media time, rate 16.16]. */
  elst?: { version: 0 | 1; rows: [number, number, number][] };
}

function trak(spec: TrackSpec): Buffer {
  const stbl = box('stbl',
    fullBox('stsd', 0, u32(1), box('avc1', Buffer.alloc(8))),
    table('stts', 0, spec.stts ?? [[spec.samples, FRAME]]),
    ...(spec.ctts ? [table('ctts', spec.ctts.version, spec.ctts.rows)] : []),
    ...(spec.stss ? [table('stss', 0, spec.stss.map((n) => [n]))] : []),
    fullBox('stsz', 0, u32(100, spec.samples)),
    table('stsc', 0, [[1, spec.samples, 1]]),
    table('stco', 0, [[0]]),
  );
  const mdhd = fullBox('mdhd', 0, u32(0, 0, TIMESCALE, 0, 0));
  const hdlr = fullBox('hdlr', 0, u32(0), Buffer.from(spec.handler ?? 'vide', 'latin1'), Buffer.alloc(13));
  const edts = spec.elst ? [box('edts', elst(spec.elst.version, spec.elst.rows))] : [];
  return box('trak', fullBox('tkhd', 0, Buffer.alloc(80)), ...edts, box('mdia', mdhd, hdlr, box('minf', stbl)));
}

function elst(version: 0 | 1, rows: [number, number, number][]): Buffer {
  const entries = rows.map(([duration, mediaTime, rate]) => {
    const b = Buffer.alloc(version === 1 ? 20 : 12);
    if (version === 1) {
      b.writeBigUInt64BE(BigInt(duration), 0);
      b.writeBigInt64BE(BigInt(mediaTime), 8);
    } else {
      b.writeUInt32BE(duration, 0);
      b.writeInt32BE(mediaTime, 4);
    }
    b.writeInt32BE(rate, version === 1 ? 16 : 8);
    return b;
  });
  return fullBox('elst', version, u32(rows.length), ...entries);
}

function moov(tracks: TrackSpec[], extra: Buffer[] = []): Buffer {
  return box('moov', fullBox('mvhd', 0, u32(0, 0, 1000, 0), Buffer.alloc(80)), ...tracks.map(trak), ...extra);
}

const ftyp = box('ftyp', Buffer.from('isom\0\0\0\0isom', 'latin1'));

// An I P B B I P stream as x264 writes it with B-frames: decode order, composition offsets in frames.
const IPBB = { samples: 6, stss: [1, 5], ctts: { version: 0 as const, rows: [[1, 2], [1, 4], [2, 1], [2, 2]].map(([n, f]) => [n!, f! * FRAME]) } };

describe('readMp4KeyFrames', () => {
  let dir: string;
  let n = 0;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'seekwell-mp4-index-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function write(...parts: Buffer[]): Promise<string> {
    const file = path.join(dir, `f${n++}.mp4`);
    await writeFile(file, Buffer.concat(parts));
    return file;
  }

  async function keyFrames(tracks: TrackSpec[], index = tracks.length - 1): Promise<number[] | undefined> {
    return readMp4KeyFrames(await write(ftyp, moov(tracks), box('mdat', Buffer.alloc(64))), index);
  }

  it('treats every sample as a sync sample when there is no stss', async () => {
    expect(await keyFrames([{ samples: 4 }])).toEqual([0, 0.04, 0.08, 0.12]);
  });

  it('reads only the samples stss lists', async () => {
    expect(await keyFrames([{ samples: 6, stss: [1, 4] }])).toEqual([0, 0.12]);
  });

  it('adds ctts (version 0) offsets to the decode times', async () => {
    expect(await keyFrames([IPBB])).toEqual([2 * FRAME / TIMESCALE, 6 * FRAME / TIMESCALE]);
  });

  it('shifts the first shown frame to 0 by the edit list media time', async () => {
    const shifted = { ...IPBB, elst: { version: 0 as const, rows: [[240, 2 * FRAME, 0x10000]] as [number, number, number][] } };
    expect(await keyFrames([shifted])).toEqual([0, 4 * FRAME / TIMESCALE]);
  });

  it('reads a 64-bit edit list the same way', async () => {
    const shifted = { ...IPBB, elst: { version: 1 as const, rows: [[240, 2 * FRAME, 0x10000]] as [number, number, number][] } };
    expect(await keyFrames([shifted])).toEqual([0, 4 * FRAME / TIMESCALE]);
  });

  it('reads signed ctts (version 1) offsets, as negative_cts_offsets writes them', async () => {
    const negative = { samples: 6, stss: [1, 5], ctts: { version: 1 as const, rows: [[1, 0], [1, 2 * FRAME], [2, -FRAME], [1, 0], [1, 0]] } };
    expect(await keyFrames([negative])).toEqual([0, 4 * FRAME / TIMESCALE]);
    const edited = { ...negative, elst: { version: 0 as const, rows: [[240, 0, 0x10000]] as [number, number, number][] } };
    expect(await keyFrames([edited])).toEqual([0, 4 * FRAME / TIMESCALE]);
  });

  it('delays the track by an empty edit', async () => {
    const late = { ...IPBB, elst: { version: 0 as const, rows: [[2500, -1, 0x10000], [240, 2 * FRAME, 0x10000]] as [number, number, number][] } };
    expect(await keyFrames([late])).toEqual([2.5, 2.5 + 4 * FRAME / TIMESCALE]);
  });

  it('leaves out a key frame the edit list cuts off', async () => {
    // The edit starts at frame 3 of a GOP: the key frame before it is decoded but discarded.
    const trimmed = { samples: 8, stss: [1, 6], elst: { version: 0 as const, rows: [[200, 3 * FRAME, 0x10000]] as [number, number, number][] } };
    expect(await keyFrames([trimmed])).toEqual([2 * FRAME / TIMESCALE]);
  });

  it('reads the trak that is the given stream, not the first', async () => {
    expect(await keyFrames([{ samples: 3, handler: 'soun' }, { samples: 6, stss: [1, 4] }], 1)).toEqual([0, 0.12]);
    expect(await keyFrames([{ samples: 3, handler: 'soun' }, { samples: 6 }], 0)).toBeUndefined();
    expect(await keyFrames([{ samples: 6 }], 1)).toBeUndefined();
  });

  it('finds a moov at the end, after an mdat with a 64-bit size past 4 GiB', async () => {
    const file = path.join(dir, 'large.mp4');
    const mdatSize = 2 ** 32 + 4096;
    const mdatHeader = Buffer.alloc(16);
    mdatHeader.writeUInt32BE(1, 0);
    mdatHeader.write('mdat', 4, 'latin1');
    mdatHeader.writeBigUInt64BE(BigInt(mdatSize), 8);
    const handle = await open(file, 'w');
    try {
      await handle.write(Buffer.concat([ftyp, mdatHeader]), 0);
      // Sparse: nothing is written between the header and the moov.
      await handle.write(moov([{ samples: 6, stss: [1, 4] }]), 0, undefined, ftyp.length + mdatSize);
    } finally {
      await handle.close();
    }
    expect(await readMp4KeyFrames(file, 0)).toEqual([0, 0.12]);
  });

  it('refuses what it cannot reproduce: two edits, another rate, a fragmented file', async () => {
    const rows = (r: [number, number, number][]): TrackSpec => ({ ...IPBB, elst: { version: 0, rows: r } });
    expect(await keyFrames([rows([[100, 0, 0x10000], [100, 2048, 0x10000]])])).toBeUndefined();
    expect(await keyFrames([rows([[240, 1024, 0x20000]])])).toBeUndefined();
    const fragmented = moov([{ samples: 0 }], [box('mvex', fullBox('trex', 0, u32(1, 1, 0, 0, 0)))]);
    expect(await readMp4KeyFrames(await write(ftyp, fragmented), 0)).toBeUndefined();
  });

  it('returns undefined for a truncated or garbage file without throwing', async () => {
    const whole = Buffer.concat([ftyp, box('mdat', Buffer.alloc(64)), moov([IPBB])]);
    expect(await readMp4KeyFrames(await write(whole.subarray(0, whole.length - 40)), 0)).toBeUndefined();
    expect(await readMp4KeyFrames(await write(Buffer.from('not an mp4 file at all, just words')), 0)).toBeUndefined();
    const random = Buffer.alloc(4096);
    for (let i = 0; i < random.length; i++) random[i] = (i * 7919 + 13) % 251;
    expect(await readMp4KeyFrames(await write(random), 0)).toBeUndefined();
    // A moov whose stsz claims more samples than its tables hold.
    const lying = moov([{ samples: 4 }]);
    lying.writeUInt32BE(1_000_000, lying.indexOf('stsz', 0, 'latin1') + 12);
    expect(await readMp4KeyFrames(await write(ftyp, lying), 0)).toBeUndefined();
    expect(await readMp4KeyFrames(path.join(dir, 'missing.mp4'), 0)).toBeUndefined();
  });
});
