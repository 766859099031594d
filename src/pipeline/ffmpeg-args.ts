// ffmpeg's arguments for one run of one rendition, as a pure function. The recipe (PIPELINE.md,
// "abs") puts every run on one absolute timeline so a run starting at any segment k writes the
// segments a run from 0 would write: same names, tfdt, durations and sample counts. Tracks shorter
// than the title are padded to it (README, "Tracks of unequal length"), the same way in every run.
import { FORMAT_WHITELIST } from '../media/formats.js';
import type { EncodedRendition, TitlePlan } from '../media/plan.js';
import { audioArgs, audioOverlaps } from './audio-args.js';
import { audioCopyArgs, videoCopyArgs } from './copy-args.js';
import { videoArgs } from './video-args.js';

export interface RunRange {
  /** First content index (0-based) the run produces. */
  startIndex: number;
  /** One past the last index it produces; the timeline's count when it runs to the end of the title. */
  endIndex: number;
}

/** Input is read from this long before the cut (must cover the AAC pre-roll, 64-85 ms). */
const SEEK_PREROLL_US = 250_000;
/** A limited run reads this far past its last boundary so the packager sees the closing key frame. */
const END_OVERRUN_US = 500_000;

/** A run's times in microseconds. Content times are relative to the title's start; absolute ones are what ffmpeg sees with -copyts. */
export interface RunTimes {
  /** Absolute time of content time 0. */
  startUs: number;
  /** Content time of the run's first boundary. */
  cutUs: number;
  /** Content time the run's output ends at (the title's end, or just past its last boundary). */
  endUs: number;
  /** Content times of the boundaries the run's video must start a key frame at. */
  boundariesUs: number[];
  /** Whether the run's first boundary is not the title's start. */
  cut: boolean;
}

export interface InputBuilder {
  addInput(args: string[]): number;
  sourceInput(seekUs: number, limitUs: number | undefined): string[];
  /** Content microseconds -> input -ss position (counted from the file's start time). */
  fromFile(contentUs: number): number;
}

export function ffmpegArgs(input: string, demuxer: string, plan: TitlePlan, rendition: EncodedRendition, range: RunRange): string[] {
  const { timeline } = plan;
  const us = (s: number): number => Math.round(s * 1_000_000);
  const toEnd = range.endIndex >= timeline.count;
  const lastBoundary = toEnd ? range.endIndex - 1 : range.endIndex;
  const times: RunTimes = {
    startUs: us(plan.sourceStartSeconds),
    cutUs: us(timeline.cutOf(range.startIndex)),
    endUs: toEnd ? us(timeline.durationSeconds) : us(timeline.startOf(range.endIndex)) + END_OVERRUN_US,
    boundariesUs: Array.from({ length: lastBoundary - range.startIndex + 1 }, (_, i) => us(timeline.cutOf(range.startIndex + i))),
    cut: range.startIndex > 0,
  };
  // With -copyts, input -ss counts from the file's start time, while filters see absolute timestamps.
  const fileStartUs = us(plan.fileStartSeconds);
  const fromFile = (contentUs: number): number => Math.max(0, times.startUs + contentUs - fileStartUs);
  const seekUs = times.cut ? fromFile(times.cutUs - SEEK_PREROLL_US) : 0;
  const sourceInput = (seek: number, limitUs: number | undefined): string[] => [
    '-protocol_whitelist', 'file', '-format_whitelist', FORMAT_WHITELIST, '-f', demuxer,
    // Rotation is applied in our filter chain, after deinterlacing (fields are rows, not columns).
    '-noautorotate',
    ...(seek > 0 ? ['-ss', seconds(seek)] : []),
    ...(limitUs === undefined ? [] : ['-t', seconds(limitUs)]),
    '-i', input,
  ];
  const inputs: string[][] = [sourceInput(seekUs, toEnd ? undefined : fromFile(times.endUs) - seekUs)];
  const builder: InputBuilder = { addInput: (args) => inputs.push(args) - 1, sourceInput, fromFile };
  let output: string[];
  if (rendition.mode === 'copy') {
    // Read from before the cut: the demuxer then starts at the key frame before it, and the
    // packets before the cut make a partial segment that the run drops.
    output = rendition.kind === 'video' ? videoCopyArgs(rendition.spec) : audioCopyArgs(rendition.spec);
  } else if (rendition.kind === 'video') {
    output = videoArgs(rendition.spec, times, builder);
  } else {
    // A run whose range holds none of the source's audio encodes silence from its own input.
    const silence = !audioOverlaps(rendition.spec, times);
    const audioInput = silence ? builder.addInput(['-f', 'lavfi', '-i', `anullsrc=r=${rendition.sampleRate}:cl=stereo`]) : 0;
    output = ['-map', `${audioInput}:${silence ? 'a:0' : rendition.spec.sourceIndex}`, ...audioArgs(rendition.spec, times, silence)];
  }
  return [
    '-nostdin', '-hide_banner', '-loglevel', 'error',
    // Progress on stderr every 0.5 s: the encoder's position for the session status. (ffmpeg
    // ignores SIGPIPE, so a closed stderr does not end it: binaries.ts' launcher does that.)
    '-progress', 'pipe:2', '-stats_period', '0.5',
    '-copyts',
    ...inputs.flat(),
    ...output,
    '-output_ts_offset', seconds(us(timeline.mediaOffsetSeconds) - times.startUs),
    '-muxdelay', '0', '-muxpreload', '0', '-f', 'mpegts', 'pipe:1',
  ];
}

/** Microseconds as ffmpeg's seconds with six decimals, computed in integers. */
export function seconds(us: number): string {
  const sign = us < 0 ? '-' : '';
  const abs = Math.abs(Math.round(us));
  return `${sign}${Math.floor(abs / 1_000_000)}.${String(abs % 1_000_000).padStart(6, '0')}`;
}
