// A ManifestModel for renderer tests: the renditions are planned by the real planTitle from a
// source probed by hand (test/support/media-info.ts); the timeline is uniform over exactly the
// duration asked for, so renderers can be tested on durations the AAC-grid rounding would move.
import type { ManifestModel } from '../../src/manifest/model.js';
import { DEFAULT_LADDER } from '../../src/media/ladder.js';
import { planTitle, type TextRendition } from '../../src/media/plan.js';
import type { AudioStreamInfo, Rational } from '../../src/media/probe.js';
import { planTextRenditions } from '../../src/media/text-renditions.js';
import { Timeline } from '../../src/media/timeline.js';
import { mediaInfo, trackAnalysis } from './media-info.js';

export interface ModelOptions {
  durationSeconds?: number;
  segmentSeconds?: number;
  frameRate?: Rational;
  /** Short sides of the video ladder; by default [720]: one 720p rendition of the 1080p source. */
  ladder?: readonly number[];
  /** The source's one audio track (English stereo by default), all its audio tracks, or none. */
  audio?: Partial<AudioStreamInfo> | Partial<AudioStreamInfo>[] | false;
  /** False for an audio-only title. */
  video?: false;
  text?: TextRendition[];
}

/** By default a 1080p30 source of 40 s with English stereo audio, planned as 720p + audio-1, D = 4. */
export function buildModel(options: ModelOptions = {}): ManifestModel {
  const durationSeconds = options.durationSeconds ?? 40;
  const segmentSeconds = options.segmentSeconds ?? 4;
  const audio = options.audio === false ? [] : Array.isArray(options.audio) ? options.audio : [{ language: 'en', ...options.audio }];
  const probed = mediaInfo({ durationSeconds, audio, video: { frameRate: options.frameRate ?? { num: 30, den: 1 } } });
  const info = options.video === false ? { ...probed, video: undefined } : probed;
  const plan = planTitle(info, trackAnalysis(info), { segmentSeconds, ladder: options.ladder ?? [720], text: options.text });
  const count = Math.ceil(durationSeconds / segmentSeconds - 1e-9);
  return { timeline: Timeline.uniform(durationSeconds, segmentSeconds, count), renditions: plan.renditions };
}

/**
 * A title with every kind of rendition: the default ladder over a 1080p source (360p to 1080p),
 * French stereo (audio-1), then English 5.1 flagged default by the source (audio-2 in stereo and
 * audio-2-6ch), an embedded English SubRip track flagged default (text-1) and a French sidecar
 * file (text-2).
 */
export function ladderTitleModel(): ManifestModel {
  const text = planTextRenditions({ input: 'file:/media/a.mkv', demuxer: 'matroska' }, [
    { index: 3, codec: 'subrip', language: 'eng', title: undefined, isDefault: true, forced: false },
  ], [
    { path: '/media/a.fr.srt', format: 'srt', language: 'fr', title: undefined, forced: false, isDefault: false },
  ]).renditions;
  return buildModel({
    ladder: DEFAULT_LADDER,
    audio: [{ language: 'fra', channels: 2 }, { language: 'eng', channels: 6, isDefault: true }],
    text,
  });
}

/**
 * A copied title: a 40 s 1080p H.264 source with key frames every 5.2 s, planned with COPY=auto
 * (720p encoded, `original`, audio-1 copied) on its key-frame timeline.
 */
export function copyTitleModel(): ManifestModel {
  const info = mediaInfo({ audio: [{ language: 'en' }] });
  const keyFrames = Array.from({ length: 8 }, (_, i) => Math.round(i * 5.2 * 1e6) / 1e6);
  const plan = planTitle(info, trackAnalysis(info), { segmentSeconds: 4, ladder: [720], copy: true, keyFrames });
  return { timeline: plan.timeline, renditions: plan.renditions };
}
