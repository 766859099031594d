// Kept by hand: no library reproduces ffmpeg's edit-list and ctts rules for pts, and mp4box's
// per-sample objects would cost far more than these typed arrays on a two-hour film.
// The key frames of an MP4/MOV video track, read from the `moov` box alone (a few MB for a
// two-hour film) instead of from every packet. The times are those ffmpeg's mov demuxer (5.1, with
// its default advanced edit-list handling) reports as pts: where the file asks for something whose
// result we cannot reproduce exactly, the answer is undefined and the caller scans the packets.
import { open, type FileHandle } from 'node:fs/promises';
import { child, children, entries, fullBoxUint, readMoov } from './mp4-boxes.js';

/** Samples in the track: ~35 hours at 24 fps keeps the per-sample tables under ~64 MB. */
const MAX_SAMPLES = 3_000_000;
/** ffmpeg drops a ctts whose offsets exceed this as invalid. */
const MAX_CTTS_OFFSET = 1 << 28;

/** Presentation times (seconds, decode order) of the sync samples of the `trackIndex`-th trak. */
export async function readMp4KeyFrames(file: string, trackIndex: number): Promise<number[] | undefined> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, 'r');
    const moov = await readMoov(handle);
    return moov && keyFramesFromMoov(moov, trackIndex);
  } catch {
    return undefined;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

interface SampleTables {
  timescale: number;
  /** Per sample decode delta (stts, expanded the way ffmpeg walks it). */
  deltas: Uint32Array;
  /** Per sample composition offset, or undefined without ctts. */
  offsets: Int32Array | undefined;
  /** ffmpeg's dts_shift: the largest negative ctts offset (except in the last two entries), negated. */
  dtsShift: number;
  keyFrames: Uint8Array;
}

interface Edit {
  /** In the track's timescale. */
  duration: number;
  mediaTime: number;
}

/** The sync samples' pts, in seconds and decode order, of the `trackIndex`-th trak of a moov body. */
export function keyFramesFromMoov(moov: Buffer, trackIndex: number): number[] | undefined {
  const boxes = children(moov);
  // Fragmented MP4: the samples live in moof boxes, not in the stbl.
  if (boxes.some((b) => b.type === 'mvex')) return undefined;
  const mvhd = boxes.find((b) => b.type === 'mvhd')?.body;
  const trak = boxes.filter((b) => b.type === 'trak')[trackIndex]?.body;
  if (!mvhd || !trak) return undefined;
  const movieTimescale = fullBoxUint(mvhd, 12, 20);
  const tables = sampleTables(trak);
  if (!tables || !movieTimescale) return undefined;
  const edits = editList(child(trak, 'edts', 'elst'), movieTimescale, tables.timescale);
  if (edits === null) return undefined;
  const pts = edits ? applyEditList(tables, edits.empty, edits.edit) : withoutEditList(tables);
  return pts?.map((ticks) => ticks / tables.timescale);
}

function sampleTables(trak: Buffer): SampleTables | undefined {
  const mdia = child(trak, 'mdia');
  const hdlr = child(mdia, 'hdlr');
  const stbl = child(mdia, 'minf', 'stbl');
  const mdhd = child(mdia, 'mdhd');
  if (!mdhd || !stbl || !hdlr || hdlr.length < 12 || hdlr.toString('latin1', 8, 12) !== 'vide') return undefined;
  const timescale = fullBoxUint(mdhd, 12, 20);
  const table = (type: string): Buffer | undefined => child(stbl, type);
  // Partial sync samples, sample groups (rap/open-GOP sync) and several sample descriptions change
  // which packets ffmpeg flags as key frames in ways not worth reproducing.
  if (!timescale || table('stps') || table('sbgp') || entries(table('stsd'), 0) !== 1) return undefined;
  const count = sampleCount(table('stsz'), table('stz2'));
  if (!count || count > MAX_SAMPLES || chunkSamples(table('stsc'), table('stco') ?? table('co64'), table('co64') ? 8 : 4) < count) return undefined;
  const deltas = decodeDeltas(table('stts'), count);
  const ctts = compositionOffsets(table('ctts'), count);
  const keyFrames = syncSamples(table('stss'), count);
  if (!deltas || ctts === null || !keyFrames) return undefined;
  return { timescale, deltas, offsets: ctts?.offsets, dtsShift: ctts?.dtsShift ?? 0, keyFrames };
}

// stsz lists every sample's size unless they share one; stz2 packs them (its count is at 8 too).
function sampleCount(stsz: Buffer | undefined, stz2: Buffer | undefined): number | undefined {
  const box = stsz ?? stz2;
  if (!box || box.length < 12) return undefined;
  const count = box.readUInt32BE(8);
  const listed = stsz && stsz.readUInt32BE(4) === 0;
  return listed && stsz.length < 12 + count * 4 ? undefined : count;
}

// How many samples the chunks hold, walking stsc as ffmpeg does; an irregular stsc is refused (0).
function chunkSamples(stsc: Buffer | undefined, stco: Buffer | undefined, offsetSize: number): number {
  const runs = entries(stsc, 12);
  const chunks = entries(stco, offsetSize);
  if (!stsc || !runs || chunks === undefined) return 0;
  const first = (i: number): number => stsc.readUInt32BE(8 + i * 12);
  const perChunk = (i: number): number => stsc.readUInt32BE(12 + i * 12);
  for (let i = 0; i < runs; i++) {
    if (first(i) < 1 || perChunk(i) < 1 || (i > 0 && first(i) <= first(i - 1))) return 0;
  }
  let total = 0;
  let run = 0;
  for (let chunk = 0; chunk < chunks; chunk++) {
    while (run + 1 < runs && chunk + 1 === first(run + 1)) run++;
    total += perChunk(run);
  }
  return total;
}

// stts as ffmpeg walks it: an entry is left when its count is reached, and the last one repeats.
function decodeDeltas(stts: Buffer | undefined, count: number): Uint32Array | undefined {
  const n = entries(stts, 8);
  if (!stts || !n) return undefined;
  const deltas = new Uint32Array(count);
  let entry = 0;
  let used = 0;
  for (let i = 0; i < count; i++) {
    const delta = stts.readUInt32BE(12 + entry * 8);
    if (delta >= 2 ** 31) return undefined;
    deltas[i] = delta;
    used++;
    if (entry + 1 < n && used === stts.readUInt32BE(8 + entry * 8)) {
      entry++;
      used = 0;
    }
  }
  return deltas;
}

// ctts (version 0 and 1 alike: ffmpeg reads signed offsets); null when ffmpeg would not use it as is.
function compositionOffsets(ctts: Buffer | undefined, count: number): { offsets: Int32Array; dtsShift: number } | undefined | null {
  if (!ctts) return undefined;
  const n = entries(ctts, 8);
  if (n === undefined) return null;
  const offsets = new Int32Array(count);
  let filled = 0;
  let dtsShift = 0;
  for (let i = 0; i < n; i++) {
    const runLength = ctts.readInt32BE(8 + i * 8);
    const offset = ctts.readInt32BE(12 + i * 8);
    if (runLength <= 0) continue;
    if (Math.abs(offset) > MAX_CTTS_OFFSET && i + 2 < n) return null;
    if (i + 2 < n && offset < 0) dtsShift = Math.max(dtsShift, -offset);
    for (let j = 0; j < runLength && filled < count; j++) offsets[filled++] = offset;
  }
  return filled === count ? { offsets, dtsShift } : null;
}

// stss numbers samples from 1 (0 in some broken files); ffmpeg matches them in order, as here.
function syncSamples(stss: Buffer | undefined, count: number): Uint8Array | undefined {
  if (!stss) return new Uint8Array(count).fill(1);
  const n = entries(stss, 4);
  if (!n) return undefined;
  const number = (i: number): number => stss.readUInt32BE(8 + i * 4);
  const keyOffset = number(0) > 0 ? 1 : 0;
  const keys = new Uint8Array(count);
  let next = 0;
  for (let i = 0; i < count; i++) {
    if (i + keyOffset === number(next)) {
      keys[i] = 1;
      if (next + 1 < n) next++;
    }
  }
  return keys;
}

// [empty edits..., one edit at rate 1] in the track's timescale; undefined without elst, null when refused.
function editList(elst: Buffer | undefined, movieTimescale: number, timescale: number): { empty: number; edit: Edit } | undefined | null {
  if (!elst) return undefined;
  const v1 = elst[0] === 1;
  const size = v1 ? 20 : 12;
  const n = entries(elst, size);
  if (n === undefined) return null;
  if (n === 0) return undefined;
  let empty = 0n;
  for (let i = 0; i < n; i++) {
    const at = 8 + i * size;
    const duration = v1 ? elst.readBigUInt64BE(at) : BigInt(elst.readUInt32BE(at));
    const mediaTime = v1 ? elst.readBigInt64BE(at + 8) : BigInt(elst.readInt32BE(at + 4));
    const rate = elst.readInt32BE(at + (v1 ? 16 : 8));
    // ffmpeg's av_rescale: round to nearest, halves away from zero.
    const scaled = (duration * BigInt(timescale) + BigInt(movieTimescale >> 1)) / BigInt(movieTimescale);
    if (mediaTime === -1n) {
      empty += scaled;
      continue;
    }
    if (i !== n - 1 || mediaTime < 0n || rate !== 0x10000 || scaled === 0n) return null;
    const edit = { duration: Number(scaled), mediaTime: Number(mediaTime) };
    return Number.isSafeInteger(edit.duration) && Number.isSafeInteger(edit.mediaTime) ? { empty: Number(empty), edit } : null;
  }
  return null;
}

function withoutEditList(t: SampleTables): number[] {
  const pts: number[] = [];
  let dts = 0;
  for (let i = 0; i < t.deltas.length; i++) {
    if (t.keyFrames[i]) pts.push(dts + (t.offsets?.[i] ?? 0));
    dts += t.deltas[i]!;
  }
  return pts;
}

// ffmpeg's mov_fix_index for one edit after optional empty ones: from the last key frame at or before
// the edit's media time, samples whose composition time falls outside the edit are discarded; the
// kept ones are re-timed from the edit's start, then shifted so the first shown one starts at 0
// (plus the empty edits' delay).
function applyEditList(t: SampleTables, empty: number, edit: Edit): number[] | undefined {
  const count = t.deltas.length;
  // ffmpeg's index timestamps: decode times less dts_shift.
  const dts = new Float64Array(count);
  for (let i = 0, at = -t.dtsShift; i < count; i++, at += t.deltas[i - 1]!) dts[i] = at;
  const offset = (i: number): number => t.offsets?.[i] ?? 0;
  const end = edit.mediaTime + edit.duration;
  let counter = empty - t.dtsShift;
  let started = false;
  let minCorrected = -1;
  let keyAfterEdit = false;
  const kept: { timestamp: number; offset: number }[] = [];
  for (let i = firstSample(t, dts, edit.mediaTime); i < count; i++) {
    const frameDuration = i + 1 < count ? dts[i + 1]! - dts[i]! : edit.duration;
    const cts = dts[i]! + t.dtsShift + offset(i);
    const discard = cts < edit.mediaTime || cts >= end;
    if (!discard) {
      const corrected = counter + offset(i) + t.dtsShift;
      minCorrected = minCorrected < 0 ? corrected : Math.min(minCorrected, corrected);
      started = true;
      if (t.keyFrames[i]) kept.push({ timestamp: counter, offset: offset(i) });
    }
    if (started) counter += frameDuration;
    if (cts + frameDuration >= end && t.keyFrames[i]) {
      // With ctts, trailing B-frames after the first key frame past the edit may still belong to it.
      if (t.offsets && !keyAfterEdit) {
        keyAfterEdit = true;
        continue;
      }
      break;
    }
  }
  const shift = minCorrected - empty > 0 ? minCorrected - empty : 0;
  return kept.map((k) => k.timestamp - shift + t.dtsShift + k.offset);
}

// ffmpeg's find_prev_closest_index: the last key frame whose dts, then (with ctts) whose
// composition time, is at or before the edit's media time; failing that any sample (without
// ctts), failing that the first.
function firstSample(t: SampleTables, dts: Float64Array, mediaTime: number): number {
  const wanted = mediaTime - t.dtsShift;
  const search = (anySample: boolean): number => {
    let index = lastAtOrBefore(dts, wanted);
    if (!anySample) while (index >= 0 && !t.keyFrames[index]) index--;
    for (let i = index; i > 0 && dts[i] === dts[i - 1]; i--) if (anySample || t.keyFrames[i - 1]) index = i - 1;
    if (t.offsets) while (index >= 0 && !(dts[index]! + t.offsets[index]! <= wanted && t.keyFrames[index])) index--;
    return index;
  };
  const key = search(false);
  if (key >= 0) return key;
  return Math.max(0, search(true));
}

// ff_index_search_timestamp with AVSEEK_FLAG_BACKWARD over nondecreasing timestamps.
function lastAtOrBefore(timestamps: Float64Array, wanted: number): number {
  let a = -1;
  let b = timestamps.length;
  if (b > 0 && timestamps[b - 1]! < wanted) a = b - 1;
  while (b - a > 1) {
    const m = (a + b) >> 1;
    if (timestamps[m]! >= wanted) b = m;
    if (timestamps[m]! <= wanted) a = m;
  }
  return a;
}
