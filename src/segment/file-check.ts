// Whether a file in a store folder is whole, from its top-level boxes alone: files are moved in
// whole (rename), so one that does not add up was cut by a crash, a full disk or a person.
import type { FileHandle } from 'node:fs/promises';

/** Reads up to `length` bytes at `at` into a fresh buffer (shorter at the end of the data). */
type ReadAt = (at: number, length: number) => Promise<Buffer>;

/** More top-level boxes than any segment we write has: garbage that happens to parse, stop. */
const MAX_BOXES = 1000;

/** Types of the top-level boxes of a file of `size` bytes, or why they do not add up to it. */
async function topLevelTypes(read: ReadAt, size: number): Promise<{ types: string[] } | { problem: string }> {
  const types: string[] = [];
  let at = 0;
  while (at < size) {
    if (types.length >= MAX_BOXES) return { problem: `more than ${MAX_BOXES} boxes` };
    const header = await read(at, 16);
    if (header.length < 8) return { problem: `${size - at} stray bytes at the end` };
    let boxSize = header.readUInt32BE(0);
    const type = header.toString('latin1', 4, 8);
    if (boxSize === 1) boxSize = header.length >= 16 ? Number(header.readBigUInt64BE(8)) : 0;
    // Size 0 ("to the end of the file") always adds up, so it proves nothing: we never write it.
    if (boxSize < 8) return { problem: `a box of size ${boxSize} at byte ${at}` };
    if (at + boxSize > size) return { problem: `its ${JSON.stringify(type)} box ends ${at + boxSize - size} bytes past the end of the file` };
    types.push(type);
    at += boxSize;
  }
  return { types };
}

/**
 * Why a media segment file is not whole, or undefined when it is: boxes that add up exactly to
 * its size, a moof followed by an mdat, and nothing but styp/sidx before the first moof.
 */
export async function checkMediaSegmentFile(handle: FileHandle, size: number): Promise<string | undefined> {
  const read: ReadAt = async (at, length) => {
    const buffer = Buffer.alloc(Math.min(length, size - at));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, at);
    return buffer.subarray(0, bytesRead);
  };
  const result = await topLevelTypes(read, size);
  if ('problem' in result) return result.problem;
  const { types } = result;
  const moof = types.indexOf('moof');
  if (moof < 0) return 'no moof box';
  const before = types.slice(0, moof).find((t) => t !== 'styp' && t !== 'sidx');
  if (before !== undefined) return `a ${JSON.stringify(before)} box before the moof`;
  if (!types.slice(moof + 1).includes('mdat')) return 'no mdat box after the moof';
  return undefined;
}

/** Why an init segment is not whole, or undefined when it is: boxes adding up, an ftyp and a moov. */
export async function checkInitSegment(bytes: Buffer): Promise<string | undefined> {
  const result = await topLevelTypes(async (at, length) => bytes.subarray(at, at + length), bytes.length);
  if ('problem' in result) return result.problem;
  if (!result.types.includes('ftyp')) return 'no ftyp box';
  if (!result.types.includes('moov')) return 'no moov box';
  return undefined;
}
