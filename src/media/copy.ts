// Which source tracks can be served as they are (stream copy: remuxed into fMP4, not encoded
// again), and why not when they cannot. A copy keeps the source's quality at a few percent of a
// core, but only what a browser's MSE plays can be copied, and only a track that fills the title:
// a copy cannot be padded with held frames or silence as an encode is.
import type { TrackSpan } from './plan.js';
import type { AudioStreamInfo, VideoStreamInfo } from './probe.js';

export type CopyVerdict = { copy: true } | { copy: false; reason: string };

/** H.264 profiles MSE decodes (8-bit 4:2:0); ffprobe's names. */
const PLAYABLE_H264_PROFILES = new Set(['Constrained Baseline', 'Baseline', 'Main', 'High']);
const PLAYABLE_PIXEL_FORMATS = new Set(['yuv420p', 'yuvj420p']);
/** Level 5.2: 4K at 60 fps, the most a browser is asked to decode. */
const MAX_H264_LEVEL = 52;
/** A copied video may end this much before the title (its last segment is then that much short). */
const VIDEO_END_SLACK_SECONDS = 0.5;
/** Copied audio channel layouts: mono/stereo (the stereo rendition) and 5.1 (the 5.1 one). */
const COPIED_CHANNELS = new Set([1, 2, 6]);

export interface VideoCopyContext {
  video: VideoStreamInfo;
  span: TrackSpan;
  durationSeconds: number;
  /** Field order found by idet where the flag says progressive. */
  detectedInterlace: 'tff' | 'bff' | undefined;
  /** Why there is no key-frame index, if there is none (segments could not be cut at key frames). */
  keyFrameProblem: string | undefined;
}

/** Whether the source video can be the `original` rendition, before looking at its key frames. */
export function videoCopyVerdict(context: VideoCopyContext): CopyVerdict {
  const { video, span } = context;
  const frame = video.frameRate.den / video.frameRate.num;
  if (video.codec !== 'h264') return refuse(`video codec ${video.codec} is not H.264`);
  if (!PLAYABLE_PIXEL_FORMATS.has(video.pixelFormat ?? '')) return refuse(`pixel format ${video.pixelFormat ?? 'unknown'} is not 8-bit 4:2:0`);
  if (!PLAYABLE_H264_PROFILES.has(video.profile ?? '')) return refuse(`H.264 profile ${video.profile ?? 'unknown'} is not one browsers decode`);
  if (video.level !== undefined && video.level > MAX_H264_LEVEL) return refuse(`H.264 level ${video.level / 10} is above 5.2`);
  // A copy keeps the stored picture: rotation and interlacing are only fixed by encoding.
  if (video.rotation !== 0) return refuse(`the picture is rotated ${video.rotation} degrees`);
  if (video.fieldOrder === 'interlaced' || context.detectedInterlace) return refuse('the picture is interlaced');
  if (span.startSeconds > frame + 0.001) return refuse(`the video starts ${span.startSeconds.toFixed(3)} s after the title`);
  if (span.endSeconds < context.durationSeconds - VIDEO_END_SLACK_SECONDS) return refuse(`the video ends ${(context.durationSeconds - span.endSeconds).toFixed(3)} s before the title`);
  if (context.keyFrameProblem) return refuse(context.keyFrameProblem);
  return { copy: true };
}

/** Whether an audio track can be copied: AAC-LC that fills the title, in a layout a rendition has. */
export function audioCopyVerdict(audio: AudioStreamInfo, span: TrackSpan, durationSeconds: number): CopyVerdict {
  if (audio.codec !== 'aac' || audio.profile !== 'LC') return refuse(`audio codec ${audio.codec}${audio.profile ? ` ${audio.profile}` : ''} is not AAC-LC`);
  if (!COPIED_CHANNELS.has(audio.channels)) return refuse(`${audio.channels} channels (copied: mono, stereo, 5.1)`);
  if (!(audio.sampleRate >= 8000 && audio.sampleRate <= 96_000)) return refuse(`sample rate ${audio.sampleRate} Hz`);
  if (!exactClock(audio)) return refuse(`its timestamps (1/${Math.round(1 / audio.timeBase)} s) are coarser than its samples`);
  const frame = 1024 / audio.sampleRate;
  if (span.startSeconds > frame + 0.001) return refuse(`the track starts ${span.startSeconds.toFixed(3)} s after the title`);
  if (span.endSeconds < durationSeconds - 2 * frame) return refuse(`the track ends ${(durationSeconds - span.endSeconds).toFixed(3)} s before the title`);
  return { copy: true };
}

/**
 * Copied audio is re-timed by ffmpeg from a time base coarser than the 90 kHz output onto its
 * sample clock, starting from the first packet a run reads (av_rescale_delta): on Matroska's 1 ms
 * a restart's timestamps came out 0.17 ms off a full run's, so segments would differ by run.
 * Exact when the time base counts whole samples (MP4: 1/sample rate) or is no coarser than 90 kHz.
 */
function exactClock(audio: AudioStreamInfo): boolean {
  const ticksPerSecond = Math.round(1 / audio.timeBase);
  return ticksPerSecond >= 90_000 || ticksPerSecond % audio.sampleRate === 0;
}

function refuse(reason: string): CopyVerdict {
  return { copy: false, reason };
}
