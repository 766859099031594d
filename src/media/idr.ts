// Whether an H.264 source's key frames are IDR pictures. Containers flag an open GOP's I-frames
// (x264 --open-gop: a recovery-point SEI, leading B-frames that reference the GOP before) as key
// frames too, but the packager starts segments on IDR pictures only: a copy cut at such a frame
// came out as one segment for the whole title. A couple of key frames are read (one packet each)
// and their slice NAL type checked.
import { execa } from 'execa';
import { FORMAT_WHITELIST } from './formats.js';
import type { MediaInfo } from './probe.js';

const NAL_SLICE = 1;
const NAL_IDR = 5;

/** False if a checked key frame (the second, and one halfway) is not IDR; undefined if none could be read. */
export async function keyFramesAreIdr(ffprobePath: string, info: MediaInfo, keyFrames: readonly number[]): Promise<boolean | undefined> {
  const video = info.video;
  if (!video || video.codec !== 'h264') return undefined;
  const picks = [...new Set([keyFrames[1], keyFrames[Math.floor(keyFrames.length / 2)]])].filter((t): t is number => t !== undefined && t !== keyFrames[0]);
  const verdicts = await Promise.all(picks.map(async (at) => sliceType(await keyFramePacket(ffprobePath, info, video.index, at))));
  const known = verdicts.filter((v) => v !== undefined);
  if (known.length === 0) return undefined;
  return known.every((type) => type === NAL_IDR);
}

// The bytes of the first packet from key frame `at` (seconds, absolute), if it is flagged key.
async function keyFramePacket(ffprobePath: string, info: MediaInfo, streamIndex: number, at: number): Promise<Buffer | undefined> {
  const result = await execa(ffprobePath, [
    '-v', 'error', '-protocol_whitelist', 'file', '-format_whitelist', FORMAT_WHITELIST, '-f', info.demuxer,
    '-select_streams', String(streamIndex), '-read_intervals', `${at.toFixed(6)}%+#1`,
    '-show_entries', 'packet=flags,data', '-show_data', '-of', 'json', `file:${info.absolute}`,
  ], { reject: false, timeout: 20_000, stdin: 'ignore', maxBuffer: 64 << 20 });
  if (result.exitCode !== 0 || result.failed) return undefined;
  const packet = (JSON.parse(result.stdout) as { packets?: { flags?: string; data?: string }[] }).packets?.[0];
  if (!packet?.flags?.includes('K') || !packet.data) return undefined;
  return parseHexDump(packet.data);
}

/** ffprobe's `-show_data` dump ("00000000: 0000 0005 0606 …  ascii") back into bytes. */
export function parseHexDump(dump: string): Buffer {
  const hex = dump.split('\n').map((line) => /^[0-9a-f]{8}: ((?:[0-9a-f]{2,4} ?){1,8})/.exec(line)?.[1]?.replace(/ /g, '') ?? '').join('');
  return Buffer.from(hex, 'hex');
}

/**
 * The NAL type of the first slice in an access unit: length-prefixed (MP4, Matroska: 4-byte
 * lengths) or Annex B (start codes). Undefined when there is no slice.
 */
export function sliceType(bytes: Buffer | undefined): number | undefined {
  if (!bytes) return undefined;
  const annexB = bytes.subarray(0, 3).equals(Buffer.from([0, 0, 1])) || bytes.subarray(0, 4).equals(Buffer.from([0, 0, 0, 1]));
  for (const type of annexB ? annexBTypes(bytes) : lengthPrefixedTypes(bytes)) {
    if (type === NAL_SLICE || type === NAL_IDR) return type;
  }
  return undefined;
}

function* lengthPrefixedTypes(bytes: Buffer): Generator<number> {
  for (let at = 0; at + 5 <= bytes.length;) {
    const size = bytes.readUInt32BE(at);
    if (size === 0) return;
    yield bytes[at + 4]! & 0x1f;
    at += 4 + size;
  }
}

function* annexBTypes(bytes: Buffer): Generator<number> {
  for (let at = 0; at + 3 < bytes.length; at++) {
    if (bytes[at] === 0 && bytes[at + 1] === 0 && bytes[at + 2] === 1) yield bytes[at + 3]! & 0x1f;
  }
}
