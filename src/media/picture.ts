// The picture a person expects from a source, decided before encoding: upright (display rotation
// applied), progressive (deinterlaced by the stream's field order, or by idet where the flag lies),
// SDR BT.709 (HDR10/HLG tone-mapped), its display aspect kept, 8-bit 4:2:0 at even sizes.
import type { VideoStreamInfo } from './probe.js';
import type { TrackAnalysis } from './tracks.js';

export interface PictureSpec {
  /** Output size after rotation, scaling and aspect correction: even, square pixels. */
  width: number;
  height: number;
  /** Clockwise rotation applied before scaling. */
  rotation: 0 | 90 | 180 | 270;
  /** Deinterlacing: only frames flagged interlaced (`flagged`), or every frame (`all`, the flag lies). */
  deinterlace: { frames: 'flagged' | 'all'; parity: 'auto' | 'tff' | 'bff' } | undefined;
  /** HDR transfer tone-mapped to SDR BT.709. */
  toneMap: 'pq' | 'hlg' | undefined;
}

/** The displayed picture's short side (the height of a landscape picture), before any scaling. */
export function shownShortSide(video: Pick<VideoStreamInfo, 'displayWidth' | 'height'>): number {
  return Math.min(video.displayWidth, video.height);
}

/** The picture of one rendition whose short side is at most `shortSide` lines (never upscaled). */
export function planPicture(video: VideoStreamInfo, tracks: Pick<TrackAnalysis, 'detectedInterlace'>, shortSide: number): PictureSpec {
  const quarterTurn = video.rotation === 90 || video.rotation === 270;
  // Displayed size before scaling: the stored picture with its sample aspect, then rotated.
  const shownWidth = quarterTurn ? video.height : video.displayWidth;
  const shownHeight = quarterTurn ? video.displayWidth : video.height;
  let width: number;
  let height: number;
  if (shownWidth >= shownHeight) {
    height = evenFloor(Math.min(shortSide, shownHeight));
    width = evenRound((shownWidth * height) / shownHeight);
  } else {
    width = evenFloor(Math.min(shortSide, shownWidth));
    height = evenRound((shownHeight * width) / shownWidth);
  }
  return { width, height, rotation: video.rotation, deinterlace: deinterlaceOf(video, tracks.detectedInterlace), toneMap: toneMapOf(video.colorTransfer) };
}

function deinterlaceOf(video: VideoStreamInfo, detected: 'tff' | 'bff' | undefined): PictureSpec['deinterlace'] {
  if (video.fieldOrder === 'interlaced') return { frames: 'flagged', parity: 'auto' };
  if (detected) return { frames: 'all', parity: detected };
  return undefined;
}

function toneMapOf(transfer: string | undefined): PictureSpec['toneMap'] {
  if (transfer === 'smpte2084') return 'pq';
  if (transfer === 'arib-std-b67') return 'hlg';
  return undefined;
}

/** The rendition's name: `video-<short side>p`, so a 720x1280 portrait rendition is `video-720p` too. */
export function pictureName(picture: Pick<PictureSpec, 'width' | 'height'>): string {
  return `video-${Math.min(picture.width, picture.height)}p`;
}

function evenFloor(n: number): number {
  return Math.max(2, Math.floor(n / 2) * 2);
}

function evenRound(n: number): number {
  return Math.max(2, Math.round(n / 2) * 2);
}
