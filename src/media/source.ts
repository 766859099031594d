// A media file made ready for the pipeline: path checked, probed, remuxed if its container needs it.
import { resolveMediaPath, toFfmpegInput } from './media-path.js';
import type { RemuxSource } from './ingest.js';
import type { MediaInfo, ProbeMedia } from './probe.js';
import type { AnalyseTracks, TrackAnalysis } from './tracks.js';

export interface MediaSource {
  /** Path relative to MEDIA_DIR, as the client named it (normalised). */
  relative: string;
  /** What ffmpeg reads: `file:` + absolute path of the source or of its remuxed copy. */
  input: string;
  /** The demuxer forced with -f for `input`. */
  demuxer: string;
  /** Probe of `input` (the remuxed copy when there is one): its timestamps drive the pipeline. */
  info: MediaInfo;
  /** Each track's real extent and the picture's real interlacing, read from the file. */
  tracks: TrackAnalysis;
}

export interface SourceDeps {
  mediaDir: string;
  probe: ProbeMedia;
  remux: RemuxSource;
  analyse: AnalyseTracks;
}

export async function openMediaSource(deps: SourceDeps, relative: unknown): Promise<MediaSource> {
  const resolved = await resolveMediaPath(deps.mediaDir, relative);
  const original = await deps.probe(resolved.absolute);
  const info = original.needsRemux ? await deps.probe(await deps.remux(original)) : original;
  const tracks = await deps.analyse(info, original.demuxer);
  return { relative: resolved.relative, input: toFfmpegInput(info.absolute), demuxer: info.demuxer, info, tracks };
}
