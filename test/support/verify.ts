// Checks on what the server produced: decoding with the real ffprobe/ffmpeg, and timing fields.
import { writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { readFragments, readInit, type FragmentTiming } from './mp4-inspect.js';

export const X = 4; // presentationTimeOffset in seconds (= D) for D = 4

export interface SegmentCheck extends FragmentTiming {
  timescale: number;
  /** Presentation time of the first frame in content seconds: (tfdt + cto - elst shift) / ts - X. */
  firstPresentation: number;
}

export function inspectSegment(init: Buffer, segment: Buffer, offsetSeconds = X): SegmentCheck {
  const info = readInit(init);
  const frag = readFragments(segment, info);
  const firstPresentation = (frag.baseMediaDecodeTime + frag.firstCompositionOffset - info.editShift) / info.timescale - offsetSeconds;
  return { ...frag, timescale: info.timescale, firstPresentation };
}

/** Decodes init+segment with ffprobe; returns the decoded frames' pts and anything printed on stderr. */
export async function probeFrames(file: string, bytes: Buffer): Promise<{ pts: number[]; stderr: string }> {
  await writeFile(file, bytes);
  const result = await execa('ffprobe', ['-v', 'error', '-show_entries', 'frame=pts_time', '-of', 'csv=p=0', file]);
  const pts = result.stdout.split('\n').map((l) => Number(l.replace(/,.*$/, ''))).filter((n) => Number.isFinite(n));
  return { pts, stderr: result.stderr };
}

/** Decodes a whole file with ffmpeg; returns its stderr (empty when there were no errors). */
export async function decodeAll(file: string, bytes: Buffer): Promise<string> {
  await writeFile(file, bytes);
  const result = await execa('ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-f', 'null', '-']);
  return result.stderr;
}
