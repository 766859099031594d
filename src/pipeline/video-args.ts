// One video rendition's filters and encoder settings: deinterlace, rotate, hold or repeat frames
// where the video is shorter than the title, cut to the run, scale, tone-map; H.264 with a key
// frame forced at every boundary of the timeline.
import type { VideoEncodeSpec } from '../media/plan.js';
import { seconds, type InputBuilder, type RunTimes } from './ffmpeg-args.js';

/** A run starting after the video ended reads the source from this long before its last frame. */
const HELD_FRAME_PREROLL_US = 1_000_000;
const GOP_CAP_SECONDS = 16;
/**
 * A strained server's runs: less motion search and a shorter lookahead than veryfast. superfast
 * saved about as much CPU but took 2.4x the bytes at the same CRF and SSIM (no mbtree).
 */
const STRAINED_X264_PARAMS = 'subme=1:me=dia:rc-lookahead=5';

/** The video's input mapping, filters and encoder settings. */
export function videoArgs(video: VideoEncodeSpec, times: RunTimes, inputs: InputBuilder): string[] {
  // A run starting after the video's last frame reads that frame from its own input and holds it.
  const heldFrame = times.cutUs >= Math.round(video.span.endSeconds * 1_000_000);
  const videoInput = heldFrame ? inputs.addInput(inputs.sourceInput(inputs.fromFile(Math.round(video.span.lastSeconds * 1_000_000) - HELD_FRAME_PREROLL_US), undefined)) : 0;
  // A run starting before a late video's first frame reads that frame from its own input too.
  const pad = heldFrame ? undefined : frontPad(video, times);
  const padInput = pad ? inputs.addInput(inputs.sourceInput(inputs.fromFile(pad.firstFrameUs - HELD_FRAME_PREROLL_US), 2 * HELD_FRAME_PREROLL_US)) : 0;
  const cut = times.cut || heldFrame;
  const keyFrames = times.boundariesUs.map((b) => seconds(times.startUs + b));
  const fps = video.frameRate.num / video.frameRate.den;
  return [
    ...(pad
      // interleave's output has no frame rate: without -r, x264 takes the 90 kHz time base for one
      // (90000 fps) and its rate control with it. With -fps_mode passthrough, -r drops or adds nothing.
      ? ['-filter_complex', frontPadGraph(video, times, pad, padInput, cut), '-map', '[video]', '-r', `${video.frameRate.num}/${video.frameRate.den}`]
      : ['-map', `${videoInput}:${video.sourceIndex}`, '-vf', videoFilter(video, times, cut)]),
    '-c:v', 'libx264', '-preset', video.preset, ...(video.strained ? ['-x264-params', STRAINED_X264_PARAMS] : []), '-crf', String(video.crf),
    '-maxrate', String(video.maxrateBps), '-bufsize', String(video.bufsizeBits),
    '-profile:v', video.profile, '-level:v', video.level,
    // No B-frames: x264 derives the DTS shift from the first frames of each run, so on sources with
    // jittery timestamps (MKV's 1 ms grid at 29.97 fps) a restart moved every DTS by 1 ms.
    '-bf', '0',
    '-force_key_frames', keyFrames.join(','), '-forced-idr', '1', '-sc_threshold', '0',
    // A key frame at least every 4 segments even where none is forced (the GOP cap).
    '-g', String(Math.ceil(fps * GOP_CAP_SECONDS)),
    // Without these, listed key-frame times round to the 1/fps grid (a key frame 11 ms early at 29.97).
    '-enc_time_base', '1:90000', '-fps_mode', 'passthrough',
    ...(video.toneMap ? ['-color_primaries', 'bt709', '-color_trc', 'bt709', '-colorspace', 'bt709'] : []),
  ];
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

