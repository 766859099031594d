// HLS playlists (version 7, fMP4) for the whole title, rendered from the shared model.

import { segmentDuration, type ManifestModel, type ManifestOptions, type Rendition } from './model.js';
import { initUrl, mediaPlaylistName, segmentUrl } from '../segment/naming.js';

const AUDIO_GROUP = 'audio';

/**
 * The multivariant playlist: one audio rendition group (if any) and one video variant; for an
 * audio-only title, one variant that is the audio playlist itself.
 */
export function renderMultivariantPlaylist(model: ManifestModel, options: ManifestOptions = {}): string {
  const { video, audio } = model;
  const base = options.baseUrl ?? '';
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  if (!video) {
    const only = audio!;
    lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${only.bandwidth},CODECS=${quoted(only.codecs)}`, base + mediaPlaylistName(only.id));
    return toPlaylist(lines);
  }
  if (audio) {
    const media = [
      'TYPE=AUDIO',
      `GROUP-ID=${quoted(AUDIO_GROUP)}`,
      `NAME=${quoted(audio.language ?? 'Audio')}`,
      ...(audio.language === undefined ? [] : [`LANGUAGE=${quoted(audio.language)}`]),
      'DEFAULT=YES',
      'AUTOSELECT=YES',
      `CHANNELS=${quoted(String(audio.channels))}`,
      `URI=${quoted(base + mediaPlaylistName(audio.id))}`,
    ];
    lines.push(`#EXT-X-MEDIA:${media.join(',')}`);
  }
  const codecs = audio ? `${video.codecs},${audio.codecs}` : video.codecs;
  const streamInf = [
    `BANDWIDTH=${video.bandwidth + (audio?.bandwidth ?? 0)}`,
    `CODECS=${quoted(codecs)}`,
    `RESOLUTION=${video.width}x${video.height}`,
    `FRAME-RATE=${(video.frameRate.num / video.frameRate.den).toFixed(3)}`,
    ...(audio ? [`AUDIO=${quoted(AUDIO_GROUP)}`] : []),
  ];
  lines.push(`#EXT-X-STREAM-INF:${streamInf.join(',')}`, base + mediaPlaylistName(video.id));
  return toPlaylist(lines);
}

/** The VOD media playlist of one rendition listing all segments, or undefined for an unknown id. */
export function renderMediaPlaylist(model: ManifestModel, renditionId: string): string | undefined {
  const rendition = findRendition(model, renditionId);
  if (!rendition) return undefined;
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${Math.ceil(model.segmentSeconds)}`,
    '#EXT-X-MEDIA-SEQUENCE:1',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    '#EXT-X-INDEPENDENT-SEGMENTS',
    `#EXT-X-MAP:URI=${quoted(initUrl(rendition.id))}`,
  ];
  for (let number = 1; number <= model.segmentCount; number++) {
    lines.push(`#EXTINF:${formatDuration(segmentDuration(model, number))},`, segmentUrl(rendition.id, number));
  }
  lines.push('#EXT-X-ENDLIST');
  return toPlaylist(lines);
}

function findRendition(model: ManifestModel, renditionId: string): Rendition | undefined {
  if (model.video?.id === renditionId) return model.video;
  if (model.audio?.id === renditionId) return model.audio;
  return undefined;
}

// Seconds with exactly 3 decimals, via integer milliseconds so 119.967 - 116 prints 3.967.
function formatDuration(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  return `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}`;
}

// An HLS quoted-string may not contain a double quote, CR or LF: drop them rather than break the line.
function quoted(value: string): string {
  return `"${value.replace(/["\r\n]/g, '')}"`;
}

function toPlaylist(lines: string[]): string {
  return lines.map((line) => `${line}\n`).join('');
}
