// A media file made ready for the pipeline: path checked, probed, remuxed if its container needs it.
import { resolveMediaPath, toFfmpegInput } from './media-path.js';
import { findSidecarSubtitles } from './subtitles.js';
import { planTextRenditions, type SubtitleTrackListing, type TextRendition } from './text-renditions.js';
import type { RemuxSource } from './ingest.js';
import type { IndexKeyFrames } from './keyframes.js';
import type { MediaInfo, ProbeMedia } from './probe.js';
import type { AnalyseTracks, TrackAnalysis } from './tracks.js';

export interface MediaSource {
  /** Path relative to MEDIA_DIR, as the client named it (normalised). */
  relative: string;
  /** The file's own size and mtime (not its remuxed copy's): the same on every node that mounts it. */
  identity: { size: number; mtimeMs: number };
  /** What ffmpeg reads: `file:` + absolute path of the source or of its remuxed copy. */
  input: string;
  /** The demuxer forced with -f for `input`. */
  demuxer: string;
  /** Probe of `input` (the remuxed copy when there is one): its timestamps drive the pipeline. */
  info: MediaInfo;
  /** Each track's real extent and the picture's real interlacing, read from the file. */
  tracks: TrackAnalysis;
  /** Text subtitle tracks offered as WebVTT renditions (embedded, then sidecar files). */
  text: TextRendition[];
  /** Every subtitle track found, offered or not (with the reason). */
  subtitles: SubtitleTrackListing[];
  /** The video's key frames (absolute seconds), read where its video might be copied. */
  keyFrames: number[] | undefined;
  /** Why there are none where the video might have been copied (a scan still running, a failure). */
  keyFramesMissing: string | undefined;
}

export interface SourceDeps {
  mediaDir: string;
  probe: ProbeMedia;
  remux: RemuxSource;
  analyse: AnalyseTracks;
  /** Reads key frames for stream copy (media/keyframes.ts); absent when copies are off (COPY=never). */
  keyFrames?: IndexKeyFrames;
}

export async function openMediaSource(deps: SourceDeps, relative: unknown): Promise<MediaSource> {
  const resolved = await resolveMediaPath(deps.mediaDir, relative);
  const original = await deps.probe(resolved.absolute);
  const info = original.needsRemux ? await deps.probe(await deps.remux(original)) : original;
  // Only H.264 is ever copied: other sources need no key-frame index.
  const [analysed, index] = await Promise.all([
    deps.analyse(info, original.demuxer),
    deps.keyFrames && info.video?.codec === 'h264' ? deps.keyFrames(info) : undefined,
  ]);
  const tracks = original === info ? analysed : keepOriginalStarts(analysed, original, info);
  const sidecars = await findSidecarSubtitles(deps.mediaDir, resolved.absolute);
  const text = planTextRenditions({ input: toFfmpegInput(original.absolute), demuxer: original.demuxer }, original.subtitles, sidecars);
  return {
    relative: resolved.relative, identity: { size: original.size, mtimeMs: original.mtimeMs }, input: toFfmpegInput(info.absolute), demuxer: info.demuxer, info, tracks,
    text: text.renditions, subtitles: text.listing,
    keyFrames: index && 'times' in index && index.idr !== false ? index.times : undefined,
    keyFramesMissing: !index ? undefined : 'missing' in index ? index.missing
      : index.idr === false ? 'its key frames are not IDR pictures (an open GOP): a copied segment cannot start on them' : undefined,
  };
}

// An MP3's encoder delay (its gapless header) is lost in the Matroska copy, whose audio then
// starts 25 ms early with the delay's silence: where the original says a track starts later than
// the copy does, the original is right. The copy holds the original's tracks in the same order.
function keepOriginalStarts(tracks: TrackAnalysis, original: MediaInfo, copy: MediaInfo): TrackAnalysis {
  const before = [original.video, ...original.audio];
  const after = [copy.video, ...copy.audio];
  const extents = tracks.extents.map((extent) => {
    const at = after.findIndex((t) => t?.index === extent.index);
    const start = at >= 0 ? before[at]?.startSeconds : undefined;
    return start !== undefined && start > extent.startSeconds ? { ...extent, startSeconds: start } : extent;
  });
  return { ...tracks, extents };
}
