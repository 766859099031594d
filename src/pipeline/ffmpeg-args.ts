// ffmpeg's arguments for one run, as a pure function. The recipe (PIPELINE.md, "abs") puts every
// run on one absolute timeline so a run starting at any segment k writes the segments a run from 0
// would write: same names, tfdt, durations and sample counts.
import { FORMAT_WHITELIST } from '../media/formats.js';
import type { PlaybackPlan } from '../media/plan.js';

export interface RunRange {
  /** First content index (0-based) the run produces. */
  startIndex: number;
  /** One past the last index it produces; segmentCount when it runs to the end of the title. */
  endIndex: number;
}

const AAC_FRAME = 1024;
/** AAC frames encoded before the cut and dropped: they settle the encoder so the splice is clean. */
const AAC_PREROLL_FRAMES = 3;
/** Input is read from this long before the cut (must cover the AAC pre-roll, 64-85 ms). */
const SEEK_PREROLL_US = 250_000;
/** A limited run reads this far past its last boundary so the packager sees the closing key frame. */
const END_OVERRUN_US = 500_000;

export function ffmpegArgs(input: string, demuxer: string, plan: PlaybackPlan, range: RunRange): string[] {
  const { model, video, audio } = plan;
  const segmentUs = model.segmentSeconds * 1_000_000;
  const startUs = Math.round(plan.sourceStartSeconds * 1_000_000);
  const cutUs = range.startIndex * segmentUs;
  const seekUs = range.startIndex > 0 ? cutUs - SEEK_PREROLL_US : 0;
  const toEnd = range.endIndex >= model.segmentCount;
  const fps = video.frameRate.num / video.frameRate.den;
  const scale = `scale=${video.width}:${video.height},setsar=1,format=yuv420p`;
  // With -copyts, -ss counts from the file's start_time, while filters see absolute timestamps.
  const videoFilter = range.startIndex > 0 ? `trim=start=${seconds(startUs + cutUs)},${scale}` : scale;
  const lastBoundary = toEnd ? range.endIndex - 1 : range.endIndex;
  const keyFrames: string[] = [];
  for (let k = range.startIndex; k <= lastBoundary; k++) keyFrames.push(seconds(startUs + k * segmentUs));

  return [
    '-nostdin', '-hide_banner', '-loglevel', 'error',
    // Progress on stderr every 0.5 s: the encoder's position for the session status. (ffmpeg
    // ignores SIGPIPE, so a closed stderr does not end it: binaries.ts' launcher does that.)
    '-progress', 'pipe:2', '-stats_period', '0.5',
    '-protocol_whitelist', 'file', '-format_whitelist', FORMAT_WHITELIST, '-f', demuxer,
    '-copyts',
    ...(seekUs > 0 ? ['-ss', seconds(seekUs)] : []),
    ...(toEnd ? [] : ['-t', seconds(range.endIndex * segmentUs + END_OVERRUN_US - seekUs)]),
    '-i', input,
    '-map', `0:${video.sourceIndex}`,
    ...(audio ? ['-map', `0:${audio.sourceIndex}`] : []),
    '-vf', videoFilter,
    '-c:v', 'libx264', '-preset', video.preset, '-crf', String(video.crf),
    '-maxrate', String(video.maxrateBps), '-bufsize', String(video.bufsizeBits),
    '-profile:v', video.profile, '-level:v', video.level,
    // No B-frames: x264 derives the DTS shift from the first frames of each run, so on sources with
    // jittery timestamps (MKV's 1 ms grid at 29.97 fps) a restart moved every DTS by 1 ms.
    '-bf', '0',
    '-force_key_frames', keyFrames.join(','), '-forced-idr', '1', '-sc_threshold', '0',
    '-g', String(Math.ceil(fps * model.segmentSeconds * 4)),
    // Without these, listed key-frame times round to the 1/fps grid (a key frame 11 ms early at 29.97).
    '-enc_time_base', '1:90000', '-fps_mode', 'passthrough',
    ...(audio ? audioArgs(plan, range, startUs) : []),
    '-output_ts_offset', seconds(segmentUs - startUs),
    '-muxdelay', '0', '-muxpreload', '0', '-f', 'mpegts', 'pipe:1',
  ];
}

// AAC frames pinned to one 1024-sample grid anchored at content time 0, whatever the run's start.
function audioArgs(plan: PlaybackPlan, range: RunRange, startUs: number): string[] {
  const audio = plan.audio!;
  const rate = audio.sampleRate;
  const startSamples = Math.round((startUs * rate) / 1_000_000);
  const cutSamples = range.startIndex * plan.model.segmentSeconds * rate;
  let firstPts = startSamples;
  let drop = 1; // the encoder's priming packet
  if (range.startIndex > 0) {
    firstPts = startSamples + Math.floor(cutSamples / AAC_FRAME) * AAC_FRAME - AAC_PREROLL_FRAMES * AAC_FRAME;
    // Off the grid, the frame straddling the cut belongs to the previous segment: drop it too.
    drop = 1 + AAC_PREROLL_FRAMES + (cutSamples % AAC_FRAME === 0 ? 0 : 1);
  }
  return [
    '-c:a', 'aac', '-ar', String(rate), '-ac', String(audio.channels), '-b:a', String(audio.bitrateBps),
    // first_pts is in the filter's input rate, hence two stages (one stage trimmed 3.5 s at 44.1 kHz).
    '-af', `aresample=${rate},aresample=async=1:first_pts=${firstPts}`,
    '-bsf:a', `noise=drop=lt(n\\,${drop})`,
  ];
}

function seconds(us: number): string {
  const sign = us < 0 ? '-' : '';
  const abs = Math.abs(Math.round(us));
  return `${sign}${Math.floor(abs / 1_000_000)}.${String(abs % 1_000_000).padStart(6, '0')}`;
}
