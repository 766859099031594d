// Segment naming in one place: URL number n <-> content index k = n - 1 <-> file names.

/** `video-720p-00001.m4s`: the media segment's name in URLs and in the session's store. */
export function segmentFileName(renditionId: string, number: number): string {
  return `${renditionId}-${String(number).padStart(5, '0')}.m4s`;
}

/** `video-720p.mp4`: the init segment's name in URLs. */
export function initFileName(renditionId: string): string {
  return `${renditionId}.mp4`;
}

/** The DASH SegmentTemplate `media` attribute, relative to the MPD. */
export function dashMediaTemplate(renditionId: string): string {
  return `segments/${renditionId}-$Number%05d$.m4s`;
}

export function segmentUrl(renditionId: string, number: number): string {
  return `segments/${segmentFileName(renditionId, number)}`;
}

export function initUrl(renditionId: string): string {
  return `init/${initFileName(renditionId)}`;
}

export function mediaPlaylistName(renditionId: string): string {
  return `${renditionId}.m3u8`;
}

const SEGMENT_NAME = /^([a-z0-9]+(?:-[a-z0-9]+)*)-(\d{5,})\.m4s$/;

/** Parses `video-720p-00012.m4s` into its rendition id and number, or undefined. */
export function parseSegmentFileName(name: string): { renditionId: string; number: number } | undefined {
  const match = SEGMENT_NAME.exec(name);
  if (!match) return undefined;
  const number = Number(match[2]);
  if (!Number.isSafeInteger(number) || number < 1) return undefined;
  return { renditionId: match[1]!, number };
}
