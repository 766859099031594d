// ffmpeg's arguments for one run, as a pure function. The recipe (PIPELINE.md, "abs") puts every
// run on one absolute timeline so a run starting at any segment k writes the segments a run from 0
// would write: same names, tfdt, durations and sample counts. Tracks shorter than the title are
// padded to it (README, "Tracks of unequal length"), the same way in every run.
import { FORMAT_WHITELIST } from '../media/formats.js';
import type { PlaybackPlan, VideoEncodeSpec } from '../media/plan.js';

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
/** A run starting after the video ended reads the source from this long before its last frame. */
const HELD_FRAME_PREROLL_US = 1_000_000;

/** A run's times in microseconds. Content times are relative to the title's start; absolute ones are what ffmpeg sees with -copyts. */
interface RunTimes {
  /** Absolute time of content time 0. */
  startUs: number;
  /** Content time of the run's first boundary. */
  cutUs: number;
  /** Content time the run's output ends at (the title's end, or just past its last boundary). */
  endUs: number;
  /** Segment length D. */
  segmentUs: number;
  toEnd: boolean;
}

export function ffmpegArgs(input: string, demuxer: string, plan: PlaybackPlan, range: RunRange): string[] {
  const { model, video, audio } = plan;
  const segmentUs = model.segmentSeconds * 1_000_000;
  const toEnd = range.endIndex >= model.segmentCount;
  const times: RunTimes = {
    startUs: Math.round(plan.sourceStartSeconds * 1_000_000),
    cutUs: range.startIndex * segmentUs,
    endUs: toEnd ? Math.round(model.durationSeconds * 1_000_000) : range.endIndex * segmentUs + END_OVERRUN_US,
    toEnd,
    segmentUs,
  };
  // With -copyts, input -ss counts from the file's start time, while filters see absolute timestamps.
  const fileStartUs = Math.round(plan.fileStartSeconds * 1_000_000);
  const fromFile = (contentUs: number): number => Math.max(0, times.startUs + contentUs - fileStartUs);
  const seekUs = range.startIndex > 0 ? fromFile(times.cutUs - SEEK_PREROLL_US) : 0;
  const sourceInput = (seek: number, limitUs: number | undefined): string[] => [
    '-protocol_whitelist', 'file', '-format_whitelist', FORMAT_WHITELIST, '-f', demuxer,
    // Rotation is applied in our filter chain, after deinterlacing (fields are rows, not columns).
    '-noautorotate',
    ...(seek > 0 ? ['-ss', seconds(seek)] : []),
    ...(limitUs === undefined ? [] : ['-t', seconds(limitUs)]),
    '-i', input,
  ];
  const inputs: string[][] = [sourceInput(seekUs, toEnd ? undefined : fromFile(times.endUs) - seekUs)];
  const addInput = (args: string[]): number => inputs.push(args) - 1;

  const audioInput = audio && !audioOverlaps(plan, times) ? addInput(['-f', 'lavfi', '-i', `anullsrc=r=${audio.sampleRate}:cl=stereo`]) : 0;
  const videoOutput = video ? videoArgs(video, times, range, { addInput, sourceInput, fromFile }) : [];

  return [
    '-nostdin', '-hide_banner', '-loglevel', 'error',
    // Progress on stderr every 0.5 s: the encoder's position for the session status. (ffmpeg
    // ignores SIGPIPE, so a closed stderr does not end it: binaries.ts' launcher does that.)
    '-progress', 'pipe:2', '-stats_period', '0.5',
    '-copyts',
    ...inputs.flat(),
    ...videoOutput,
    ...(audio ? ['-map', `${audioInput}:${audioInput === 0 ? audio.sourceIndex : 'a:0'}`] : []),
    ...(audio ? audioArgs(plan, range, times, audioInput !== 0) : []),
    '-output_ts_offset', seconds(segmentUs - times.startUs),
    '-muxdelay', '0', '-muxpreload', '0', '-f', 'mpegts', 'pipe:1',
  ];
}

interface InputBuilder {
  addInput(args: string[]): number;
  sourceInput(seekUs: number, limitUs: number | undefined): string[];
  /** Content microseconds -> input -ss position (counted from the file's start time). */
  fromFile(contentUs: number): number;
}

// The video's input mapping, filters and encoder settings.
function videoArgs(video: VideoEncodeSpec, times: RunTimes, range: RunRange, inputs: InputBuilder): string[] {
  // A run starting after the video's last frame reads that frame from its own input and holds it.
  const heldFrame = times.cutUs >= Math.round(video.span.endSeconds * 1_000_000);
  const videoInput = heldFrame ? inputs.addInput(inputs.sourceInput(inputs.fromFile(Math.round(video.span.lastSeconds * 1_000_000) - HELD_FRAME_PREROLL_US), undefined)) : 0;
  // A run starting before a late video's first frame reads that frame from its own input too.
  const pad = heldFrame ? undefined : frontPad(video, times);
  const padInput = pad ? inputs.addInput(inputs.sourceInput(inputs.fromFile(pad.firstFrameUs - HELD_FRAME_PREROLL_US), 2 * HELD_FRAME_PREROLL_US)) : 0;
  const cut = range.startIndex > 0 || heldFrame;
  const keyFrames: string[] = [];
  const lastBoundary = times.toEnd ? range.endIndex - 1 : range.endIndex;
  for (let k = range.startIndex; k <= lastBoundary; k++) keyFrames.push(seconds(times.startUs + k * times.segmentUs));
  const fps = video.frameRate.num / video.frameRate.den;
  return [
    ...(pad
      // interleave's output has no frame rate: without -r, x264 takes the 90 kHz time base for one
      // (90000 fps) and its rate control with it. With -fps_mode passthrough, -r drops or adds nothing.
      ? ['-filter_complex', frontPadGraph(video, times, pad, padInput, cut), '-map', '[video]', '-r', `${video.frameRate.num}/${video.frameRate.den}`]
      : ['-map', `${videoInput}:${video.sourceIndex}`, '-vf', videoFilter(video, times, cut)]),
    '-c:v', 'libx264', '-preset', video.preset, '-crf', String(video.crf),
    '-maxrate', String(video.maxrateBps), '-bufsize', String(video.bufsizeBits),
    '-profile:v', video.profile, '-level:v', video.level,
    // No B-frames: x264 derives the DTS shift from the first frames of each run, so on sources with
    // jittery timestamps (MKV's 1 ms grid at 29.97 fps) a restart moved every DTS by 1 ms.
    '-bf', '0',
    '-force_key_frames', keyFrames.join(','), '-forced-idr', '1', '-sc_threshold', '0',
    '-g', String(Math.ceil((fps * times.segmentUs * 4) / 1_000_000)),
    // Without these, listed key-frame times round to the 1/fps grid (a key frame 11 ms early at 29.97).
    '-enc_time_base', '1:90000', '-fps_mode', 'passthrough',
    ...(video.toneMap ? ['-color_primaries', 'bt709', '-color_trc', 'bt709', '-colorspace', 'bt709'] : []),
  ];
}

// Does the run's output range hold any of the source's audio? If not, it encodes silence: a
// source with no packets in range gives ffmpeg nothing to anchor the audio timeline on.
function audioOverlaps(plan: PlaybackPlan, times: RunTimes): boolean {
  const span = plan.audio!.span;
  return span.startSeconds * 1_000_000 < times.endUs && span.endSeconds * 1_000_000 > times.cutUs;
}

// Deinterlace and rotate first (bwdif needs the neighbouring fields, and fields are rows of the
// stored picture), hold the last frame past the video's end, cut to the run's range, then scale,
// tone-map and convert to 8-bit 4:2:0.
function videoFilter(video: VideoEncodeSpec, times: RunTimes, cut: boolean): string {
  const hold = holdFilters(video, times);
  return [...pictureFilters(video), ...(hold.length > 0 ? ['settb=1/90000', ...hold] : []), ...outputFilters(video, times, cut)].join(',');
}

function pictureFilters(video: VideoEncodeSpec): string[] {
  const filters: string[] = [];
  if (video.deinterlace) {
    const { frames, parity } = video.deinterlace;
    filters.push(`bwdif=mode=send_frame:parity=${parity}:deint=${frames === 'all' ? 'all' : 'interlaced'}`);
  }
  return [...filters, ...rotationFilters(video.rotation)];
}

// True when the video ends before the run's output does: its last frame is held.
function heldToEnd(video: VideoEncodeSpec, times: RunTimes): boolean {
  return Math.round(video.span.endSeconds * 1_000_000) < videoEndUs(video, times);
}

// Where the run's video ends: the run's end, but never past the title's own end before it was
// rounded up to the AAC grid (a frame held for those few milliseconds would overrun the manifest).
function videoEndUs(video: VideoEncodeSpec, times: RunTimes): number {
  return Math.min(times.endUs, Math.round(video.padToSeconds * 1_000_000));
}

// Held frames are made before the cut (a run starting past the video's end starts from them), on
// a 90 kHz time base so they step by exactly one frame (MKV's 1 ms would drift). tpad reads the
// frame period from its input link: it must sit on the source's own frames, not after interleave.
function holdFilters(video: VideoEncodeSpec, times: RunTimes): string[] {
  return heldToEnd(video, times) ? ['tpad=stop=-1:stop_mode=clone'] : [];
}

function outputFilters(video: VideoEncodeSpec, times: RunTimes, cut: boolean): string[] {
  const abs = (contentUs: number): string => seconds(times.startUs + contentUs);
  const filters: string[] = [];
  const padded = heldToEnd(video, times);
  const trim = [...(cut ? [`start=${abs(times.cutUs)}`] : []), ...(padded ? [`end=${abs(videoEndUs(video, times))}`] : [])];
  if (trim.length > 0) filters.push(`trim=${trim.join(':')}`);
  filters.push(`scale=${video.width}:${video.height}`);
  if (video.toneMap) {
    // Linear light, BT.709 primaries, Hable curve, back to BT.709 transfer and limited range.
    filters.push('zscale=t=linear:npl=100', 'format=gbrpf32le', 'zscale=p=bt709', 'tonemap=tonemap=hable:desat=0', 'zscale=t=bt709:m=bt709:r=tv');
  }
  filters.push('setsar=1', 'format=yuv420p');
  return filters;
}

/**
 * Frames standing in before a late-starting video: its first frame, repeated backwards from its
 * start one frame period apart, down to the run's first boundary. The grid hangs from the first
 * frame, so every run that needs them makes the same ones. Undefined when the run needs none.
 */
function frontPad(video: VideoEncodeSpec, times: RunTimes): { count: number; firstFrameUs: number } | undefined {
  const frameUs = (1_000_000 * video.frameRate.den) / video.frameRate.num;
  const firstFrameUs = Math.round(video.span.startSeconds * 1_000_000);
  const count = Math.floor((firstFrameUs - times.cutUs) / frameUs + 1e-6);
  return count >= 1 ? { count, firstFrameUs } : undefined;
}

// The -filter_complex of a run needing front padding: input `padInput` gives the first frame,
// looped and retimed, interleaved by timestamp with the source's own frames.
function frontPadGraph(video: VideoEncodeSpec, times: RunTimes, pad: { count: number; firstFrameUs: number }, padInput: number, cut: boolean): string {
  const ticks = (90_000 * video.frameRate.den) / video.frameRate.num;
  const firstTick = Math.round(((times.startUs + pad.firstFrameUs) * 9) / 100);
  const picture = pictureFilters(video);
  const head = [...picture, 'trim=end_frame=1', 'settb=1/90000', `loop=loop=${pad.count - 1}:size=1:start=0`,
    `setpts=round(${firstTick}-(${pad.count}-N)*${ticks})`];
  return [
    `[${padInput}:${video.sourceIndex}]${head.join(',')}[pad]`,
    `[0:${video.sourceIndex}]${[...picture, 'settb=1/90000', ...holdFilters(video, times)].join(',')}[real]`,
    `[pad][real]interleave,${outputFilters(video, times, cut).join(',')}[video]`,
  ].join(';');
}

function rotationFilters(rotation: VideoEncodeSpec['rotation']): string[] {
  if (rotation === 90) return ['transpose=clock'];
  if (rotation === 270) return ['transpose=cclock'];
  if (rotation === 180) return ['hflip', 'vflip'];
  return [];
}

// AAC frames pinned to one 1024-sample grid anchored at content time 0, whatever the run's start;
// silence after the source's audio ends (apad), or instead of it where the run has none.
function audioArgs(plan: PlaybackPlan, range: RunRange, times: RunTimes, silence: boolean): string[] {
  const audio = plan.audio!;
  const rate = audio.sampleRate;
  const startSamples = Math.round((times.startUs * rate) / 1_000_000);
  const cutSamples = range.startIndex * plan.model.segmentSeconds * rate;
  let firstPts = startSamples;
  let drop = 1; // the encoder's priming packet
  if (range.startIndex > 0) {
    firstPts = startSamples + Math.floor(cutSamples / AAC_FRAME) * AAC_FRAME - AAC_PREROLL_FRAMES * AAC_FRAME;
    // Off the grid, the frame straddling the cut belongs to the previous segment: drop it too.
    drop = 1 + AAC_PREROLL_FRAMES + (cutSamples % AAC_FRAME === 0 ? 0 : 1);
  }
  // Every run ends its audio input at the same instant, so the encoder makes the same frames
  // (whole AAC frames: the last one ends on the grid at or after the title's end).
  const end = `atrim=end=${seconds(times.startUs + times.endUs)}`;
  const padded = Math.round(audio.span.endSeconds * 1_000_000) < times.endUs;
  // first_pts is in the filter's input rate, hence two stages (one stage trimmed 3.5 s at 44.1 kHz).
  const filter = silence
    ? `asetpts=PTS+${firstPts},${end}`
    : `aresample=${rate},aresample=async=1:first_pts=${firstPts}${padded ? ',apad' : ''},${end}`;
  return [
    '-c:a', 'aac', '-ar', String(rate), '-ac', String(audio.channels), '-b:a', String(audio.bitrateBps),
    '-af', filter,
    '-bsf:a', `noise=drop=lt(n\\,${drop})`,
  ];
}

function seconds(us: number): string {
  const sign = us < 0 ? '-' : '';
  const abs = Math.abs(Math.round(us));
  return `${sign}${Math.floor(abs / 1_000_000)}.${String(abs % 1_000_000).padStart(6, '0')}`;
}
