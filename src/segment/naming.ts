// Segment naming in one place: a rendition id and a URL segment number <-> file names and URLs.
// (Numbers come from the title's timeline, media/timeline.ts: nothing here converts.)

/** Media segments are fMP4 (`.m4s`); text segments are WebVTT (`.vtt`). */
export type SegmentExtension = 'm4s' | 'vtt';

/** `video-720p-00001.m4s`: the segment's name in URLs and in the title's store. */
export function segmentFileName(renditionId: string, number: number, extension: SegmentExtension = 'm4s'): string {
  return `${renditionId}-${String(number).padStart(5, '0')}.${extension}`;
}

/** `video-720p.mp4`: the init segment's name in URLs. */
export function initFileName(renditionId: string): string {
  return `${renditionId}.mp4`;
}

/**
 * `init-video-720p.mp4`: a rendition's init segment in the title's store folder. Not its URL name
 * (`video-720p.mp4`): the `init-` prefix and `.mp4` keep it apart from every media segment name.
 */
export function storedInitFileName(renditionId: string): string {
  return `init-${renditionId}.mp4`;
}

/** The rendition id of a stored init file's name, or undefined for any other name. */
export function parseStoredInitFileName(name: string): string | undefined {
  return /^init-([a-z0-9]+(?:-[a-z0-9]+)*)\.mp4$/.exec(name)?.[1];
}

/** The DASH SegmentTemplate `media` attribute, relative to the MPD. */
export function dashMediaTemplate(renditionId: string): string {
  return `segments/${renditionId}-$Number%05d$.m4s`;
}

export function segmentUrl(renditionId: string, number: number, extension: SegmentExtension = 'm4s'): string {
  return `segments/${segmentFileName(renditionId, number, extension)}`;
}

export function initUrl(renditionId: string): string {
  return `init/${initFileName(renditionId)}`;
}

/** A text rendition as one whole WebVTT file (DASH lists it as the representation's BaseURL). */
export function wholeTextUrl(renditionId: string): string {
  return `text/${renditionId}.vtt`;
}

export function mediaPlaylistName(renditionId: string): string {
  return `${renditionId}.m3u8`;
}

const SEGMENT_NAME = /^([a-z0-9]+(?:-[a-z0-9]+)*)-(\d{5,})\.(m4s|vtt)$/;

/** Parses `video-720p-00012.m4s` (or `text-1-00012.vtt`) into rendition id, number and extension. */
export function parseSegmentFileName(name: string): { renditionId: string; number: number; extension: SegmentExtension } | undefined {
  const match = SEGMENT_NAME.exec(name);
  if (!match) return undefined;
  const number = Number(match[2]);
  if (!Number.isSafeInteger(number) || number < 1) return undefined;
  return { renditionId: match[1]!, number, extension: match[3] as SegmentExtension };
}
