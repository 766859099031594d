import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMatroskaCues } from '../../../src/media/mkv-cues.js';

// Hand-built Matroska: EBML header, then a Segment of SeekHead, Info, Tracks, one Cluster and
// Cues, the SeekHead pointing at the others as mkvmerge and ffmpeg write it.
const ID = {
  ebml: 0x1a45dfa3, segment: 0x18538067, seekHead: 0x114d9b74, seek: 0x4dbb, seekId: 0x53ab, seekPosition: 0x53ac,
  info: 0x1549a966, timestampScale: 0x2ad7b1, tracks: 0x1654ae6b, trackEntry: 0xae, trackNumber: 0xd7, trackType: 0x83,
  cluster: 0x1f43b675, timestamp: 0xe7, cues: 0x1c53bb6b, cuePoint: 0xbb, cueTime: 0xb3, cueTrackPositions: 0xb7,
  cueTrack: 0xf7, cueClusterPosition: 0xf1,
};

function idBytes(id: number): Buffer {
  const length = id > 0xffffff ? 4 : id > 0xffff ? 3 : id > 0xff ? 2 : 1;
  const b = Buffer.alloc(length);
  b.writeUIntBE(id, 0, length);
  return b;
}

/** An element with an 8-byte size, so positions do not depend on the values inside. */
function el(id: number, ...children: Buffer[]): Buffer {
  const body = Buffer.concat(children);
  const size = Buffer.alloc(8);
  size.writeBigUInt64BE(BigInt(body.length) | (1n << 56n));
  return Buffer.concat([idBytes(id), size, body]);
}

function uint(id: number, value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(value));
  return el(id, b);
}

const UNKNOWN_SIZE = Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

interface MkvSpec {
  timestampScale?: number;
  /** [number, type] per TrackEntry, in order. */
  tracks?: [number, number][];
  /** [time, track numbers cued at it]. */
  cues?: [number, number[]][];
  /** Leave Cues out of the SeekHead (they are still written after the Cluster). */
  unseekableCues?: boolean;
  unknownSegmentSize?: boolean;
}

function matroska(spec: MkvSpec): Buffer {
  const info = el(ID.info, ...(spec.timestampScale ? [uint(ID.timestampScale, spec.timestampScale)] : []));
  const tracks = el(ID.tracks, ...(spec.tracks ?? [[1, 1]]).map(([n, type]) => el(ID.trackEntry, uint(ID.trackNumber, n), uint(ID.trackType, type))));
  const cluster = el(ID.cluster, uint(ID.timestamp, 0), Buffer.alloc(300));
  const cues = spec.cues && el(ID.cues, ...spec.cues.map(([time, numbers]) => el(ID.cuePoint, uint(ID.cueTime, time),
    ...numbers.map((n) => el(ID.cueTrackPositions, uint(ID.cueTrack, n), uint(ID.cueClusterPosition, 0))))));
  const seek = (id: number, position: number): Buffer => el(ID.seek, el(ID.seekId, idBytes(id)), uint(ID.seekPosition, position));
  const targets: [number, Buffer | undefined][] = [[ID.info, info], [ID.tracks, tracks], [ID.cues, spec.unseekableCues ? undefined : cues]];
  // Every Seek is the same size, so the SeekHead's size is known before the positions are.
  const seekHeadSize = el(ID.seekHead, ...targets.filter(([, b]) => b).map(([id]) => seek(id, 0))).length;
  const positions = new Map<number, number>();
  let at = seekHeadSize;
  for (const [id, b] of [[ID.info, info], [ID.tracks, tracks], [ID.cluster, cluster], [ID.cues, cues]] as const) {
    positions.set(id, at);
    at += b?.length ?? 0;
  }
  const seekHead = el(ID.seekHead, ...targets.filter(([, b]) => b).map(([id]) => seek(id, positions.get(id)!)));
  const body = Buffer.concat([seekHead, info, tracks, cluster, cues ?? Buffer.alloc(0)]);
  const header = el(ID.ebml, el(0x4282, Buffer.from('matroska')));
  const segment = spec.unknownSegmentSize ? Buffer.concat([idBytes(ID.segment), UNKNOWN_SIZE, body]) : el(ID.segment, body);
  return Buffer.concat([header, segment]);
}

describe('readMatroskaCues', () => {
  let dir: string;
  let n = 0;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'seekwell-mkv-cues-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function write(bytes: Buffer): Promise<string> {
    const file = path.join(dir, `f${n++}.mkv`);
    await writeFile(file, bytes);
    return file;
  }

  async function cues(spec: MkvSpec, streamIndex = 0): Promise<number[] | undefined> {
    return readMatroskaCues(await write(matroska(spec)), streamIndex);
  }

  it('reads the cue times in seconds at the default 1 ms timestamp scale', async () => {
    expect(await cues({ cues: [[0, [1]], [2002, [1]], [4500, [1]]] })).toEqual([0, 2.002, 4.5]);
  });

  it('counts only the video track\'s cues where two tracks are cued', async () => {
    const spec: MkvSpec = { tracks: [[1, 1], [2, 2]], cues: [[0, [1, 2]], [1000, [2]], [2000, [2, 1]], [3000, [2]]] };
    expect(await cues(spec, 0)).toEqual([0, 2]);
  });

  it('finds the video track by stream index and uses its track number', async () => {
    const spec: MkvSpec = { tracks: [[7, 2], [3, 1]], cues: [[0, [7, 3]], [500, [7]], [1500, [3]]] };
    expect(await cues(spec, 1)).toEqual([0, 1.5]);
    // Stream 0 is the audio track: not a video track's cues.
    expect(await cues(spec, 0)).toBeUndefined();
  });

  it('applies a timestamp scale other than 1 ms', async () => {
    expect(await cues({ timestampScale: 100_000, cues: [[0, [1]], [20_020, [1]], [41_708, [1]]] })).toEqual([0, 2.002, 4.1708]);
  });

  it('reads a Segment of unknown size', async () => {
    expect(await cues({ unknownSegmentSize: true, cues: [[0, [1]], [3000, [1]]] })).toEqual([0, 3]);
  });

  it('returns undefined when there are no Cues, or the SeekHead does not point at them', async () => {
    expect(await cues({})).toBeUndefined();
    expect(await cues({ cues: [[0, [1]], [3000, [1]]], unseekableCues: true })).toBeUndefined();
  });

  it('returns undefined for a truncated or garbage file without throwing', async () => {
    const whole = matroska({ cues: [[0, [1]], [3000, [1]]] });
    expect(await readMatroskaCues(await write(whole.subarray(0, whole.length - 20)), 0)).toBeUndefined();
    expect(await readMatroskaCues(await write(Buffer.from('\x1a\x45\xdf\xa3 and then nothing sensible')), 0)).toBeUndefined();
    const random = Buffer.alloc(4096);
    for (let i = 0; i < random.length; i++) random[i] = (i * 7919 + 13) % 251;
    expect(await readMatroskaCues(await write(random), 0)).toBeUndefined();
    // A SeekHead whose Cues position points into the middle of another element.
    const lying = Buffer.from(whole);
    const cuesSeek = lying.indexOf(Buffer.from([0x53, 0xab, 0x01, 0, 0, 0, 0, 0, 0, 0x04, 0x1c, 0x53, 0xbb, 0x6b]));
    lying.writeBigUInt64BE(100n, cuesSeek + 14 + 2 + 8);
    expect(await readMatroskaCues(await write(lying), 0)).toBeUndefined();
    expect(await readMatroskaCues(path.join(dir, 'missing.mkv'), 0)).toBeUndefined();
  });
});
