// What both manifest renderers read: the title's timeline and its renditions, straight from the
// plan (media/plan.ts), so every manifest lists the whole title from the first response.
import { renditionsOfKind, type AudioRendition, type Rendition, type TextRendition, type TitlePlan, type VideoRendition } from '../media/plan.js';

export type ManifestModel = Pick<TitlePlan, 'timeline' | 'renditions'>;

export interface ManifestOptions {
  /**
   * Absolute path every relative URL resolves against. Players reached through a redirect
   * (/media/<path>/stream.mpd -> /sessions/<id>/stream.mpd) may resolve against the first URL:
   * ffmpeg's DASH demuxer does, and 404s on every segment without this.
   */
  baseUrl?: string;
}

export interface RenditionGroups {
  /** Lowest bandwidth first. */
  video: VideoRendition[];
  audio: AudioRendition[];
  text: TextRendition[];
}

export function groupRenditions(renditions: Rendition[]): RenditionGroups {
  const plan = { renditions };
  return {
    video: renditionsOfKind(plan, 'video').sort((a, b) => a.bandwidth - b.bandwidth),
    audio: renditionsOfKind(plan, 'audio'),
    text: renditionsOfKind(plan, 'text'),
  };
}

/** Player-facing names must differ within a group: a repeated label gets its rendition's position. */
export function uniqueLabels<T extends { id: string; label: string }>(renditions: T[]): Map<string, string> {
  const counts = new Map<string, number>();
  for (const r of renditions) counts.set(r.label, (counts.get(r.label) ?? 0) + 1);
  return new Map(renditions.map((r, at) => [r.id, counts.get(r.label)! > 1 ? `${r.label} ${at + 1}` : r.label]));
}
