// Kept by hand: mp4box and @svta/cml-iso-bmff want the moov in memory as a parsed object tree;
// this finds it with positional reads (moov before or after mdat) and bounds what it will load.
// Just enough ISO-BMFF reading for the key-frame index (mp4-index.ts): find the moov with
// positional reads of top-level headers, walk child boxes, read full-box fields and table counts.
// (segment/mp4.ts reads our own fragments; this reads arbitrary source files, defensively.)
import type { FileHandle } from 'node:fs/promises';

/** A moov larger than this is refused (a 2-hour film's is a few MB). */
const MAX_MOOV_BYTES = 64 << 20;
/** Top-level boxes walked before giving up: real files have a handful. */
const MAX_TOP_LEVEL_BOXES = 10_000;

// Walks the top-level box headers with positional reads: moov may be first or after the mdat.
export async function readMoov(handle: FileHandle): Promise<Buffer | undefined> {
  const fileSize = (await handle.stat()).size;
  const head = Buffer.alloc(16);
  let pos = 0;
  for (let n = 0; n < MAX_TOP_LEVEL_BOXES && pos + 8 <= fileSize; n++) {
    const { bytesRead } = await handle.read(head, 0, 16, pos);
    const header = boxHeader(head.subarray(0, bytesRead), 0, fileSize - pos);
    if (!header) return undefined;
    if (header.type === 'moov') {
      const bodySize = header.size - header.headerSize;
      if (bodySize > MAX_MOOV_BYTES || pos + header.size > fileSize) return undefined;
      const body = Buffer.alloc(bodySize);
      const read = await handle.read(body, 0, bodySize, pos + header.headerSize);
      return read.bytesRead === bodySize ? body : undefined;
    }
    pos += header.size;
  }
  return undefined;
}

interface BoxHeader {
  type: string;
  /** Whole box, header included. */
  size: number;
  headerSize: number;
}

// A box header at `at`; size 1 means a 64-bit size follows, 0 means "to the end" (`room`).
function boxHeader(buf: Buffer, at: number, room: number): BoxHeader | undefined {
  if (at + 8 > buf.length) return undefined;
  const size32 = buf.readUInt32BE(at);
  const type = buf.toString('latin1', at + 4, at + 8);
  let size = size32;
  let headerSize = 8;
  if (size32 === 1) {
    if (at + 16 > buf.length) return undefined;
    const big = buf.readBigUInt64BE(at + 8);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
    size = Number(big);
    headerSize = 16;
  } else if (size32 === 0) {
    size = room;
  }
  return size < headerSize ? undefined : { type, size, headerSize };
}

/** The children of the box whose body is `buf[start, end)`, in order; stops at the first malformed one. */
export function children(buf: Buffer, start = 0, end = buf.length): { type: string; body: Buffer }[] {
  const out: { type: string; body: Buffer }[] = [];
  let pos = start;
  while (pos + 8 <= end) {
    const header = boxHeader(buf, pos, end - pos);
    if (!header || pos + header.size > end) break;
    out.push({ type: header.type, body: buf.subarray(pos + header.headerSize, pos + header.size) });
    pos += header.size;
  }
  return out;
}

export function child(buf: Buffer | undefined, ...path: string[]): Buffer | undefined {
  let box = buf;
  for (const type of path) box = box && children(box).find((c) => c.type === type)?.body;
  return box;
}

// mvhd/mdhd: version 0 keeps 32-bit times (timescale at 12), version 1 64-bit ones (at 20).
export function fullBoxUint(box: Buffer, v0: number, v1: number): number | undefined {
  const at = box[0] === 1 ? v1 : v0;
  return box.length >= at + 4 ? box.readUInt32BE(at) || undefined : undefined;
}

/** Entries of a full box's table: `[count, ...]` after version/flags, each `size` bytes. */
export function entries(box: Buffer | undefined, size: number, skip = 0): number | undefined {
  if (!box || box.length < 8 + skip) return undefined;
  const n = box.readUInt32BE(4 + skip);
  return box.length >= 8 + skip + n * size ? n : undefined;
}
