// Shaka Packager's arguments for one run, reading MPEG-TS from a named pipe. Paths are relative to the run directory (the process's
// cwd) so a WORK_DIR holding ',' or '=' cannot break the stream descriptors.
import { AAC_FRAME_SAMPLES, type EncodedRendition, type TitlePlan } from '../media/plan.js';
import type { RunRange } from './ffmpeg-args.js';

export interface PackagerStream {
  /** `video` or `audio`: the packager's stream selector. */
  stream: 'video' | 'audio';
  /** Sub-directory of the run directory the rendition's files go to. */
  dir: string;
}

/**
 * With cues, segments end only at them: a segment duration no content reaches (the packager
 * would otherwise also cut on its own D grid, counted from the last cue).
 */
const CUES_ONLY_SEGMENT_SECONDS = 1_000_000;

/** `cuesFile` (a gflags file holding --ad_cues) makes the packager cut at the listed times only. */
export function packagerArgs(input: string, streams: PackagerStream[], segmentSeconds: number, cuesFile?: string): string[] {
  return [
    // $Time$ (the tfdt) names files the same in every run; $Number$ is a per-run counter.
    ...streams.map((s) => `in=${input},stream=${s.stream},init_segment=${s.dir}/init.mp4,segment_template=${s.dir}/$Time$.m4s`),
    '--segment_duration', String(cuesFile ? CUES_ONLY_SEGMENT_SECONDS : segmentSeconds),
    ...(cuesFile ? ['--flagfile', cuesFile] : []),
    '--io_cache_size', '4194304',
    // Zeroed creation times: the first-written init is byte-identical across runs.
    '--use_fake_clock_for_muxer',
    '--quiet',
  ];
}

/**
 * Where the packager must cut a run's output on a key-frame timeline, in media seconds (its input
 * timestamps). Its own rule (a key frame whose floor(pts / D) differs) only fits boundaries on
 * the D grid; ad cues cut anywhere: video at the first key frame at or after a cue, audio before
 * the first frame whose MIDPOINT is at or after it (cue_alignment_handler.cc), i.e. at the frame
 * nearest the cue. Video cues sit at the timeline's cut (just before the boundary's key frame);
 * encoded audio's at the start of the first AAC frame at or after the cut, half a frame from
 * either midpoint, which is exactly the frame a restart's audio starts with (audio-args.ts).
 * Copied audio is cut at its frame nearest the video's cut. Empty on a uniform timeline: the
 * packager's own rule is the same cut.
 */
export function packagerCues(plan: TitlePlan, rendition: EncodedRendition, range: RunRange): number[] {
  const { timeline } = plan;
  if (timeline.isUniform) return [];
  const last = Math.min(range.endIndex, timeline.count - 1);
  const cues: number[] = [];
  for (let i = Math.max(1, range.startIndex); i <= last; i++) {
    const cut = timeline.cutOf(i);
    const at = rendition.kind === 'audio' && rendition.mode === 'encode' ? aacFrameAtOrAfter(cut, rendition.sampleRate) : cut;
    cues.push(at + timeline.mediaOffsetSeconds);
  }
  return cues;
}

/** The gflags file content that hands the cues to the packager (a 2-hour title has ~1,800). */
export function cuesFlagFile(cues: number[]): string {
  return `--ad_cues=${cues.map((c) => c.toFixed(6)).join(';')}\n`;
}

// The start of the first AAC frame of the content-anchored grid at or after `cutSeconds`
// (computed in whole microseconds and samples, as the restart's audio is).
function aacFrameAtOrAfter(cutSeconds: number, rate: number): number {
  const cutSamples = Math.round((Math.round(cutSeconds * 1_000_000) * rate) / 1_000_000);
  return (Math.ceil(cutSamples / AAC_FRAME_SAMPLES) * AAC_FRAME_SAMPLES) / rate;
}
