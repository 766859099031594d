// Reads the timing fields of fMP4 init and media segments, for comparing runs in tests.
import { findBox, listBoxes } from '../../src/segment/mp4.js';

export interface FragmentTiming {
  /** tfdt of the first fragment, in the track timescale. */
  baseMediaDecodeTime: number;
  sampleCount: number;
  /** Sum of sample durations, in the track timescale. */
  duration: number;
  /** Composition offset of the first sample. */
  firstCompositionOffset: number;
}

export interface InitInfo {
  timescale: number;
  /** elst media_time: the presentation shift the edit list applies, in the track timescale. */
  editShift: number;
  defaultSampleDuration: number;
}

export function readInit(init: Buffer): InitInfo {
  const mdhd = findBox(init, ['moov', 'trak', 'mdia', 'mdhd'])!;
  const version = init.readUInt8(mdhd.dataStart);
  const timescale = init.readUInt32BE(mdhd.dataStart + (version === 1 ? 20 : 12));
  const elst = findBox(init, ['moov', 'trak', 'edts', 'elst']);
  let editShift = 0;
  if (elst) {
    const v = init.readUInt8(elst.dataStart);
    const entry = elst.dataStart + 8;
    editShift = v === 1 ? Number(init.readBigInt64BE(entry + 8)) : init.readInt32BE(entry + 4);
  }
  const trex = findBox(init, ['moov', 'mvex', 'trex']);
  const defaultSampleDuration = trex ? init.readUInt32BE(trex.dataStart + 12) : 0;
  return { timescale, editShift, defaultSampleDuration };
}

export function readFragments(segment: Buffer, init: InitInfo): FragmentTiming {
  const result: FragmentTiming = { baseMediaDecodeTime: -1, sampleCount: 0, duration: 0, firstCompositionOffset: 0 };
  for (const moof of listBoxes(segment).filter((b) => b.type === 'moof')) {
    const traf = findBox(segment, ['traf'], moof.dataStart, moof.end)!;
    const tfhd = findBox(segment, ['tfhd'], traf.dataStart, traf.end)!;
    const tfdt = findBox(segment, ['tfdt'], traf.dataStart, traf.end)!;
    const tfdtVersion = segment.readUInt8(tfdt.dataStart);
    const base = tfdtVersion === 1 ? Number(segment.readBigUInt64BE(tfdt.dataStart + 4)) : segment.readUInt32BE(tfdt.dataStart + 4);
    if (result.baseMediaDecodeTime < 0) result.baseMediaDecodeTime = base;
    const defaultDuration = tfhdDefaultDuration(segment, tfhd.dataStart) ?? init.defaultSampleDuration;
    for (const trun of listBoxes(segment, traf.dataStart, traf.end).filter((b) => b.type === 'trun')) {
      readTrun(segment, trun.dataStart, defaultDuration, result);
    }
  }
  return result;
}

function tfhdDefaultDuration(buf: Buffer, at: number): number | undefined {
  const flags = buf.readUInt32BE(at) & 0xffffff;
  let offset = at + 8;
  if (flags & 0x1) offset += 8;
  if (flags & 0x2) offset += 4;
  return flags & 0x8 ? buf.readUInt32BE(offset) : undefined;
}

function readTrun(buf: Buffer, at: number, defaultDuration: number, out: FragmentTiming): void {
  const version = buf.readUInt8(at);
  const flags = buf.readUInt32BE(at) & 0xffffff;
  const count = buf.readUInt32BE(at + 4);
  let offset = at + 8;
  if (flags & 0x1) offset += 4;
  if (flags & 0x4) offset += 4;
  for (let i = 0; i < count; i++) {
    let duration = defaultDuration;
    if (flags & 0x100) { duration = buf.readUInt32BE(offset); offset += 4; }
    if (flags & 0x200) offset += 4;
    if (flags & 0x400) offset += 4;
    if (flags & 0x800) {
      const cto = version === 0 ? buf.readUInt32BE(offset) : buf.readInt32BE(offset);
      if (out.sampleCount === 0 && i === 0) out.firstCompositionOffset = cto;
      offset += 4;
    }
    out.duration += duration;
  }
  out.sampleCount += count;
}
