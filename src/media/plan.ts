// From a probed file to everything decided before encoding: the title's timeline and its
// renditions (a video ladder, every audio track, every text subtitle track), each with the exact
// settings its encoder or converter uses. Manifests are rendered from this; so are ffmpeg's arguments.
import { AAC_FRAME_SAMPLES, AUDIO_SAMPLE_RATE, planAudioRenditions, type AudioRendition } from './audio-renditions.js';
import { audioCopyVerdict, videoCopyVerdict, type CopyVerdict } from './copy.js';
import { planOriginal, planVideoLadder, type VideoRendition } from './ladder.js';
import type { MediaInfo } from './probe.js';
import type { TextRendition } from './text-renditions.js';
import { Timeline } from './timeline.js';
import type { TrackAnalysis, TrackExtent } from './tracks.js';

export { AAC_FRAME_SAMPLES, AUDIO_SAMPLE_RATE, type AudioCopySpec, type AudioEncodeSpec, type AudioRendition, type CopiedAudioRendition, type EncodedAudioRendition } from './audio-renditions.js';
export type { CopiedVideoRendition, EncodedVideoRendition, VideoCopySpec, VideoEncodeSpec, VideoRendition } from './ladder.js';
export type { TextRendition, TextSource } from './text-renditions.js';

/**
 * Where a source track has real media, in content seconds (0 = the earliest track's start). The
 * title lasts until the longest track ends; every track is padded to fill it (audio with silence,
 * video by holding its first frame before it starts and its last frame after it ends).
 */
export interface TrackSpan {
  startSeconds: number;
  endSeconds: number;
  /** Start of the last frame: the one held after the track ends. */
  lastSeconds: number;
}

export type Rendition = VideoRendition | AudioRendition | TextRendition;
/** The renditions made by an encoder run (text is converted whole instead). */
export type EncodedRendition = VideoRendition | AudioRendition;

export interface TitlePlan {
  timeline: Timeline;
  /** Video renditions (lowest first), then audio, then text. */
  renditions: Rendition[];
  /** Absolute time of content time 0: the earliest track's first timestamp. */
  sourceStartSeconds: number;
  /** The file's start time (format.start_time): what ffmpeg's input -ss counts from. */
  fileStartSeconds: number;
  /** Whether the video and each audio track (in source order) are copied, and why not. */
  copy: { video: CopyVerdict | undefined; audio: CopyVerdict[] };
}

export interface PlanOptions {
  segmentSeconds: number;
  /** Short sides of the video ladder's rungs, ascending (e.g. 360, 480, 720, 1080). */
  ladder: readonly number[];
  /** Text renditions, planned from the file's subtitle streams and sidecar files. */
  text?: TextRendition[];
  /** Offer stream copies where the source allows (COPY=auto). */
  copy?: boolean;
  /** The video's key frames, absolute seconds ascending (media/keyframes.ts); needed to copy video. */
  keyFrames?: readonly number[];
  /** Why there are no key frames, when that is known (said as the reason for not copying). */
  keyFramesMissing?: string;
}

/** Key frames further apart than this many segment lengths make segments too long to copy. */
const MAX_COPY_SEGMENTS_PER_GOP = 4;

/**
 * Plans the title over its real extent: from the earliest track's first packet to the latest
 * track's end (not the container's duration, which can run past every track or fall short).
 */
export function planTitle(info: MediaInfo, tracks: TrackAnalysis, options: PlanOptions): TitlePlan {
  const played = [...(info.video ? [info.video] : []), ...info.audio];
  const extents = played.map((t) => extentOf(tracks, t.index, info));
  const contentStart = Math.min(...extents.map((e) => e.startSeconds));
  const contentEnd = Math.max(...extents.map((e) => e.endSeconds));
  const spanOf = (index: number): TrackSpan => {
    const e = extentOf(tracks, index, info);
    return { startSeconds: e.startSeconds - contentStart, endSeconds: e.endSeconds - contentStart, lastSeconds: e.lastSeconds - contentStart };
  };
  // The shortest unit a segment can hold: a video frame, or an AAC frame without video.
  const frameSeconds = info.video ? info.video.frameRate.den / info.video.frameRate.num : AAC_FRAME_SAMPLES / AUDIO_SAMPLE_RATE;
  const D = options.segmentSeconds;
  const segments = planSegments(contentEnd - contentStart, D, frameSeconds);
  // Audio comes out in whole AAC frames on a grid anchored at content time 0: the title ends where
  // its last frame does, so no track runs past the manifest's duration (dash.js, reaching the
  // period's end before the media's, pauses and seeks back half a second instead of ending).
  // Never past the last segment's nominal end, though: players count segments from the duration.
  const durationSeconds = info.audio.length > 0 ? Math.min(aacGridEnd(segments.durationSeconds), segments.segmentCount * D) : segments.durationSeconds;
  // A key-frame timeline is not counted in D-long segments: it ends where the content does.
  const contentSeconds = contentEnd - contentStart;
  const copy = planCopies(info, tracks, options, { spanOf, contentStart, durationSeconds: info.audio.length > 0 ? aacGridEnd(contentSeconds) : contentSeconds, frameSeconds });
  const timeline = copy.timeline ?? Timeline.uniform(durationSeconds, D, segments.segmentCount);
  const video = info.video
    ? [...planVideoLadder(info.video, tracks, spanOf(info.video.index), segments.durationSeconds, options.ladder, copy.timeline !== undefined),
      ...(copy.timeline ? [planOriginal(info.video, spanOf(info.video.index))] : [])]
    : [];
  const copiedAudio = new Set(info.audio.filter((_, i) => copy.audio[i]?.copy).map((a) => a.index));
  return {
    timeline,
    renditions: [...video, ...planAudioRenditions(info.audio, spanOf, (a) => copiedAudio.has(a.index)), ...(options.text ?? [])],
    sourceStartSeconds: contentStart,
    fileStartSeconds: info.startSeconds,
    copy: { video: copy.video, audio: copy.audio },
  };
}

interface CopyContext {
  spanOf: (index: number) => TrackSpan;
  contentStart: number;
  /** The title's end on a key-frame timeline. */
  durationSeconds: number;
  frameSeconds: number;
}

// What is copied. A video copy brings the key-frame timeline every rendition then cuts at; it is
// refused where key frames lie too far apart for segments a player can use.
function planCopies(info: MediaInfo, tracks: TrackAnalysis, options: PlanOptions, context: CopyContext): { video: CopyVerdict | undefined; audio: CopyVerdict[]; timeline?: Timeline } {
  const never: CopyVerdict = { copy: false, reason: 'COPY=never' };
  const audio = info.audio.map((a) => (options.copy ? audioCopyVerdict(a, context.spanOf(a.index), context.durationSeconds) : never));
  if (!info.video) return { video: undefined, audio };
  if (!options.copy) return { video: never, audio };
  const { durationSeconds, frameSeconds } = context;
  const keyFrames = (options.keyFrames ?? []).map((t) => t - context.contentStart);
  const video = videoCopyVerdict({
    video: info.video, span: context.spanOf(info.video.index), durationSeconds,
    detectedInterlace: tracks.detectedInterlace,
    keyFrameProblem: keyFrames.length > 0 ? undefined : options.keyFramesMissing ?? 'no key-frame index could be read',
  });
  if (!video.copy) return { video, audio };
  // An edited file can start mid-GOP (an edit list past the first key frame): nothing to cut at 0.
  if (keyFrames[0]! > context.spanOf(info.video.index).startSeconds + frameSeconds + 0.001) {
    return { video: { copy: false, reason: `the video's first key frame is ${keyFrames[0]!.toFixed(3)} s into it` }, audio };
  }
  const D = options.segmentSeconds;
  const timeline = Timeline.fromKeyFrames(keyFrames, durationSeconds, D, frameSeconds);
  const longest = Math.max(...Array.from({ length: timeline.count - 1 }, (_, i) => timeline.durationOf(i)), 0);
  if (longest > MAX_COPY_SEGMENTS_PER_GOP * D) {
    return { video: { copy: false, reason: `key frames up to ${longest.toFixed(1)} s apart (copied segments may last at most ${MAX_COPY_SEGMENTS_PER_GOP * D} s)` }, audio };
  }
  return { video, audio, timeline };
}

/**
 * Segment n (1-based) covers [(n-1)·D, n·D) of content time; the last is shorter. A tail shorter
 * than one video frame is dropped: it could hold no video frame, so that segment would never exist.
 */
export function planSegments(duration: number, segmentSeconds: number, frameSeconds: number): { segmentCount: number; durationSeconds: number } {
  const segmentCount = Math.max(1, Math.ceil((duration - frameSeconds) / segmentSeconds - 1e-9));
  return { segmentCount, durationSeconds: Math.min(duration, segmentCount * segmentSeconds) };
}

function aacGridEnd(seconds: number): number {
  const frames = Math.ceil((seconds * AUDIO_SAMPLE_RATE) / AAC_FRAME_SAMPLES - 1e-9);
  return (frames * AAC_FRAME_SAMPLES) / AUDIO_SAMPLE_RATE;
}

// A track the analysis did not reach (none in practice) spans the container's extent.
function extentOf(tracks: TrackAnalysis, index: number, info: MediaInfo): TrackExtent {
  const end = info.startSeconds + info.durationSeconds;
  return tracks.extents.find((e) => e.index === index) ?? { index, startSeconds: info.startSeconds, endSeconds: end, lastSeconds: end };
}

export function findRendition(plan: Pick<TitlePlan, 'renditions'>, id: string): Rendition | undefined {
  return plan.renditions.find((r) => r.id === id);
}

export function renditionsOfKind<K extends Rendition['kind']>(plan: Pick<TitlePlan, 'renditions'>, kind: K): Extract<Rendition, { kind: K }>[] {
  return plan.renditions.filter((r): r is Extract<Rendition, { kind: K }> => r.kind === kind);
}

/** Length of the shortest unit a rendition's segments are made of: a video frame or an AAC frame. */
export function frameSecondsOf(rendition: EncodedRendition): number {
  return rendition.kind === 'video' ? rendition.frameRate.den / rendition.frameRate.num : AAC_FRAME_SAMPLES / rendition.sampleRate;
}
