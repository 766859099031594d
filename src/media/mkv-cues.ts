// The cue times of a Matroska/WebM video track: the muxer's own seek index, found through the
// SeekHead and read with a few positional reads, never by walking the clusters. mkvmerge and
// ffmpeg write one cue per video key frame; other muxers may write fewer, so a caller that needs
// every key frame must know which source it got.
import { open, type FileHandle } from 'node:fs/promises';

const ID = {
  ebml: 0x1a45dfa3,
  segment: 0x18538067,
  seekHead: 0x114d9b74,
  seek: 0x4dbb,
  seekId: 0x53ab,
  seekPosition: 0x53ac,
  info: 0x1549a966,
  timestampScale: 0x2ad7b1,
  tracks: 0x1654ae6b,
  trackEntry: 0xae,
  trackNumber: 0xd7,
  trackType: 0x83,
  trackTimestampScale: 0x23314f,
  codecDelay: 0x56aa,
  cues: 0x1c53bb6b,
  cuePoint: 0xbb,
  cueTime: 0xb3,
  cueTrackPositions: 0xb7,
  cueTrack: 0xf7,
  cluster: 0x1f43b675,
} as const;

/** No element we read is allowed to be larger than this (Cues of a 2-hour film: ~100 kB). */
const MAX_ELEMENT_BYTES = 64 << 20;
/** Level-1 elements looked at before the first Cluster, and SeekHeads followed. */
const MAX_LEVEL1 = 256;
const MAX_SEEK_HEADS = 4;
const VIDEO = 1;

interface Element {
  id: number;
  /** Absolute offset of the body. */
  start: number;
  /** Body size; undefined when the size is "unknown". */
  size: number | undefined;
}

/**
 * Cue times (seconds, as ffmpeg reports pts: CueTime x TimestampScale) of the track that is
 * ffprobe stream `streamIndex`, which must be a video track. Undefined when the file has no Cues
 * reachable from its SeekHead, or is not the Matroska the index expects.
 */
export async function readMatroskaCues(file: string, streamIndex: number): Promise<number[] | undefined> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, 'r');
    return await cueTimes(handle, streamIndex);
  } catch {
    return undefined;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

async function cueTimes(handle: FileHandle, streamIndex: number): Promise<number[] | undefined> {
  const fileSize = (await handle.stat()).size;
  const ebml = await headerAt(handle, 0);
  if (ebml?.id !== ID.ebml || ebml.size === undefined) return undefined;
  const segment = await headerAt(handle, ebml.start + ebml.size);
  if (segment?.id !== ID.segment) return undefined;
  const segmentEnd = segment.size === undefined ? fileSize : Math.min(fileSize, segment.start + segment.size);
  const found = await levelOneElements(handle, segment.start, segmentEnd);
  const info = found.get(ID.info);
  const tracks = found.get(ID.tracks);
  const cues = found.get(ID.cues);
  if (!info || !tracks || !cues) return undefined;
  const [infoBody, tracksBody, cuesBody] = await Promise.all([info, tracks, cues].map((e) => bodyOf(handle, e)));
  if (!infoBody || !tracksBody || !cuesBody) return undefined;
  const scale = uintChild(infoBody, ID.timestampScale) ?? 1_000_000;
  const track = videoTrack(tracksBody, streamIndex);
  if (!scale || track === undefined) return undefined;
  const times: number[] = [];
  for (const point of elements(cuesBody)) {
    if (point.id !== ID.cuePoint) continue;
    const body = point.body;
    const time = uintChild(body, ID.cueTime);
    const ours = elements(body).some((p) => p.id === ID.cueTrackPositions && uintChild(p.body, ID.cueTrack) === track);
    if (time !== undefined && ours) times.push((time * scale) / 1e9);
  }
  return times.length > 0 ? times : undefined;
}

// Info, Tracks and Cues: those before the first Cluster by walking, the rest through the SeekHead(s).
async function levelOneElements(handle: FileHandle, segmentStart: number, segmentEnd: number): Promise<Map<number, Element>> {
  const found = new Map<number, Element>();
  const seekHeads: Element[] = [];
  let pos = segmentStart;
  for (let n = 0; n < MAX_LEVEL1 && pos < segmentEnd; n++) {
    const e = await headerAt(handle, pos);
    if (!e || e.id === ID.cluster || e.size === undefined) break;
    if (e.id === ID.seekHead) seekHeads.push(e);
    else if (!found.has(e.id)) found.set(e.id, e);
    pos = e.start + e.size;
  }
  const read = new Set<number>();
  for (let n = 0; n < MAX_SEEK_HEADS && seekHeads.length > 0; n++) {
    const head = seekHeads.shift()!;
    if (read.has(head.start)) continue;
    read.add(head.start);
    const body = await bodyOf(handle, head);
    for (const seek of body ? elements(body) : []) {
      if (seek.id !== ID.seek) continue;
      const target = binaryChild(seek.body, ID.seekId);
      const position = uintChild(seek.body, ID.seekPosition);
      if (target === undefined || position === undefined || found.has(target)) continue;
      const e = await headerAt(handle, segmentStart + position);
      // A SeekHead entry that does not point at what it names is ignored, not trusted.
      if (e?.id !== target) continue;
      if (e.id === ID.seekHead) seekHeads.push(e);
      else found.set(e.id, e);
    }
  }
  return found;
}

// The TrackNumber of TrackEntry `streamIndex` (ffmpeg numbers its streams in TrackEntry order),
// when that entry is a video track whose timestamps are the segment's.
function videoTrack(tracks: Buffer, streamIndex: number): number | undefined {
  const entry = elements(tracks).filter((e) => e.id === ID.trackEntry)[streamIndex]?.body;
  if (!entry || uintChild(entry, ID.trackType) !== VIDEO) return undefined;
  const rescaled = elements(entry).some((e) => e.id === ID.trackTimestampScale && floatOf(e.body) !== 1);
  if (rescaled || (uintChild(entry, ID.codecDelay) ?? 0) !== 0) return undefined;
  return uintChild(entry, ID.trackNumber) || undefined;
}

async function headerAt(handle: FileHandle, pos: number): Promise<Element | undefined> {
  const buf = Buffer.alloc(12);
  const { bytesRead } = await handle.read(buf, 0, 12, pos);
  const parsed = parseHeader(buf.subarray(0, bytesRead), 0);
  return parsed && { id: parsed.id, start: pos + parsed.headerSize, size: parsed.size };
}

async function bodyOf(handle: FileHandle, e: Element): Promise<Buffer | undefined> {
  if (e.size === undefined || e.size > MAX_ELEMENT_BYTES) return undefined;
  const body = Buffer.alloc(e.size);
  const { bytesRead } = await handle.read(body, 0, e.size, e.start);
  return bytesRead === e.size ? body : undefined;
}

// An EBML element header: the ID keeps its length marker (1-4 bytes), the size drops it (1-8 bytes;
// all ones means unknown).
function parseHeader(buf: Buffer, at: number): { id: number; size: number | undefined; headerSize: number } | undefined {
  const idLength = vintLength(buf[at]);
  if (idLength === undefined || idLength > 4 || at + idLength >= buf.length) return undefined;
  const id = buf.readUIntBE(at, idLength);
  const sizeLength = vintLength(buf[at + idLength]);
  if (sizeLength === undefined || at + idLength + sizeLength > buf.length) return undefined;
  let size = buf[at + idLength]! & (0xff >> sizeLength);
  let allOnes = size === 0xff >> sizeLength;
  for (let i = 1; i < sizeLength; i++) {
    const byte = buf[at + idLength + i]!;
    size = size * 256 + byte;
    allOnes &&= byte === 0xff;
  }
  const headerSize = idLength + sizeLength;
  if (allOnes) return { id, size: undefined, headerSize };
  return Number.isSafeInteger(size) ? { id, size, headerSize } : undefined;
}

function vintLength(first: number | undefined): number | undefined {
  if (!first) return undefined;
  return Math.clz32(first) - 23;
}

/** The children of an element body, in order; stops at the first malformed or unknown-size one. */
function elements(body: Buffer): { id: number; body: Buffer }[] {
  const out: { id: number; body: Buffer }[] = [];
  let pos = 0;
  while (pos < body.length) {
    const h = parseHeader(body, pos);
    if (!h || h.size === undefined || pos + h.headerSize + h.size > body.length) break;
    out.push({ id: h.id, body: body.subarray(pos + h.headerSize, pos + h.headerSize + h.size) });
    pos += h.headerSize + h.size;
  }
  return out;
}

function uintChild(body: Buffer, id: number): number | undefined {
  const e = elements(body).find((c) => c.id === id);
  if (!e || e.body.length > 8) return undefined;
  let value = 0;
  for (const byte of e.body) value = value * 256 + byte;
  return Number.isSafeInteger(value) ? value : undefined;
}

function binaryChild(body: Buffer, id: number): number | undefined {
  const e = elements(body).find((c) => c.id === id);
  return e && e.body.length >= 1 && e.body.length <= 4 ? e.body.readUIntBE(0, e.body.length) : undefined;
}

function floatOf(body: Buffer): number | undefined {
  if (body.length === 4) return body.readFloatBE(0);
  if (body.length === 8) return body.readDoubleBE(0);
  return body.length === 0 ? 0 : undefined;
}
