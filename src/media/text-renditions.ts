// Text subtitle tracks, embedded or sidecar files, become WebVTT renditions. Bitmap subtitles
// (PGS, VobSub, DVB) cannot become text: they are listed as not offered, with the reason.
import { languageName } from './language.js';
import { subtitleSupport, type SidecarSubtitle, type SubtitleStreamInfo } from './subtitles.js';

export type TextSource =
  /** `input`/`demuxer`: the original file (a remuxed copy keeps only video and audio). */
  | { kind: 'embedded'; input: string; demuxer: string; streamIndex: number; codec: string }
  | { kind: 'sidecar'; path: string; format: SidecarSubtitle['format'] };

export interface TextRendition {
  kind: 'text';
  /** `text-<n>`, n counting the offered subtitle tracks from 1 (embedded first, then sidecars). */
  id: string;
  mode: 'convert';
  spec: { source: TextSource };
  codecs: 'wvtt';
  /** Nominal: manifests require one; WebVTT is a few hundred bits per second. */
  bandwidth: number;
  language: string | undefined;
  label: string;
  isDefault: boolean;
  /** Forced subtitles: shown for foreign-language lines even when subtitles are off. */
  forced: boolean;
}

export interface SubtitleTrackListing {
  source: 'embedded' | 'sidecar';
  /** The stream index (embedded) or file name (sidecar). */
  ref: number | string;
  codec: string;
  language: string | undefined;
  title: string | undefined;
  /** The rendition serving it, or why it is not offered. */
  rendition: string | null;
  reason?: string;
}

export function planTextRenditions(file: { input: string; demuxer: string }, streams: SubtitleStreamInfo[], sidecars: SidecarSubtitle[]): { renditions: TextRendition[]; listing: SubtitleTrackListing[] } {
  const renditions: TextRendition[] = [];
  const listing: SubtitleTrackListing[] = [];
  const add = (source: TextSource, track: { language: string | undefined; title: string | undefined; isDefault: boolean; forced: boolean }): string => {
    const id = `text-${renditions.length + 1}`;
    const label = track.title ?? languageName(track.language) ?? `Subtitles ${renditions.length + 1}`;
    renditions.push({
      kind: 'text', id, mode: 'convert', spec: { source }, codecs: 'wvtt', bandwidth: 256,
      language: track.language, label: track.forced && !track.title ? `${label} (forced)` : label,
      // One default at most (HLS allows one per group): the first flagged track.
      isDefault: track.isDefault && !renditions.some((r) => r.isDefault), forced: track.forced,
    });
    return id;
  };
  for (const stream of streams) {
    const support = subtitleSupport(stream.codec);
    const rendition = support.offered ? add({ kind: 'embedded', ...file, streamIndex: stream.index, codec: stream.codec }, stream) : null;
    listing.push({
      source: 'embedded', ref: stream.index, codec: stream.codec, language: stream.language, title: stream.title, rendition,
      ...(support.offered ? {} : { reason: support.reason }),
    });
  }
  for (const sidecar of sidecars) {
    const rendition = add({ kind: 'sidecar', path: sidecar.path, format: sidecar.format }, sidecar);
    listing.push({ source: 'sidecar', ref: sidecar.path.split('/').at(-1)!, codec: sidecar.format, language: sidecar.language, title: sidecar.title, rendition });
  }
  return { renditions, listing };
}
