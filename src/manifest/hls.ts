// Kept by hand: hls-parser 0.16 stringify prints float noise (#EXTINF:3.9669999999999983) and does
// not sanitise quoted strings; playlists are ~100 lines of fixed tags we pin exactly in tests.
// HLS playlists (version 7, fMP4; WebVTT subtitles) for the whole title, rendered from the shared
// model: one variant per video rendition, every audio rendition in one AUDIO group, every text
// rendition in one SUBTITLES group.

import type { AudioRendition, Rendition, TextRendition } from '../media/plan.js';
import { numberOf } from '../media/timeline.js';
import { groupRenditions, uniqueLabels, type ManifestModel, type ManifestOptions } from './model.js';
import { initUrl, mediaPlaylistName, segmentUrl } from '../segment/naming.js';

const AUDIO_GROUP = 'audio';
const TEXT_GROUP = 'subs';

/**
 * The multivariant playlist. An audio-only title has one variant: its default audio playlist
 * (with the other audio renditions as its group when there are several).
 */
export function renderMultivariantPlaylist(model: ManifestModel, options: ManifestOptions = {}): string {
  const { video, audio, text } = groupRenditions(model.renditions);
  const base = options.baseUrl ?? '';
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  const main = audio.find((r) => r.isDefault) ?? audio[0];
  const audioGroup = video.length > 0 ? audio.length > 0 : audio.length > 1;
  if (audioGroup) lines.push(...audioMedia(audio, base));
  if (text.length > 0) lines.push(...textMedia(text, base));
  const groups = [...(audioGroup ? [`AUDIO=${quoted(AUDIO_GROUP)}`] : []), ...(text.length > 0 ? [`SUBTITLES=${quoted(TEXT_GROUP)}`] : [])];
  const audioBandwidth = Math.max(0, ...audio.map((r) => r.bandwidth));
  if (video.length === 0) {
    lines.push(`#EXT-X-STREAM-INF:${[`BANDWIDTH=${audioBandwidth}`, `CODECS=${quoted(main!.codecs)}`, ...groups].join(',')}`, base + mediaPlaylistName(main!.id));
    return toPlaylist(lines);
  }
  for (const rendition of video) {
    const codecs = [rendition.codecs, ...new Set(audio.map((r) => r.codecs))].join(',');
    const streamInf = [
      `BANDWIDTH=${rendition.bandwidth + audioBandwidth}`,
      `CODECS=${quoted(codecs)}`,
      `RESOLUTION=${rendition.width}x${rendition.height}`,
      `FRAME-RATE=${(rendition.frameRate.num / rendition.frameRate.den).toFixed(3)}`,
      ...groups,
    ];
    lines.push(`#EXT-X-STREAM-INF:${streamInf.join(',')}`, base + mediaPlaylistName(rendition.id));
  }
  return toPlaylist(lines);
}

function audioMedia(audio: AudioRendition[], base: string): string[] {
  const names = uniqueLabels(audio);
  return audio.map((r) => `#EXT-X-MEDIA:${[
    'TYPE=AUDIO', `GROUP-ID=${quoted(AUDIO_GROUP)}`, `NAME=${quoted(names.get(r.id)!)}`,
    ...(r.language === undefined ? [] : [`LANGUAGE=${quoted(r.language)}`]),
    `DEFAULT=${r.isDefault ? 'YES' : 'NO'}`,
    // A 5.1 rendition is picked by hand only: a player auto-selecting by language takes stereo.
    `AUTOSELECT=${r.channels === 2 ? 'YES' : 'NO'}`,
    `CHANNELS=${quoted(String(r.channels))}`,
    `URI=${quoted(base + mediaPlaylistName(r.id))}`,
  ].join(',')}`);
}

function textMedia(text: TextRendition[], base: string): string[] {
  const names = uniqueLabels(text);
  return text.map((r) => `#EXT-X-MEDIA:${[
    'TYPE=SUBTITLES', `GROUP-ID=${quoted(TEXT_GROUP)}`, `NAME=${quoted(names.get(r.id)!)}`,
    ...(r.language === undefined ? [] : [`LANGUAGE=${quoted(r.language)}`]),
    `DEFAULT=${r.isDefault ? 'YES' : 'NO'}`, 'AUTOSELECT=YES', `FORCED=${r.forced ? 'YES' : 'NO'}`,
    `URI=${quoted(base + mediaPlaylistName(r.id))}`,
  ].join(',')}`);
}

/** The VOD media playlist of one rendition listing all segments, or undefined for an unknown id. */
export function renderMediaPlaylist(model: ManifestModel, renditionId: string): string | undefined {
  const rendition: Rendition | undefined = model.renditions.find((r) => r.id === renditionId);
  if (!rendition) return undefined;
  const { timeline } = model;
  const text = rendition.kind === 'text';
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${Math.ceil(timeline.longestSeconds - 1e-9)}`,
    '#EXT-X-MEDIA-SEQUENCE:1',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    '#EXT-X-INDEPENDENT-SEGMENTS',
    ...(text ? [] : [`#EXT-X-MAP:URI=${quoted(initUrl(rendition.id))}`]),
  ];
  for (let index = 0; index < timeline.count; index++) {
    lines.push(`#EXTINF:${formatDuration(timeline.durationOf(index))},`, segmentUrl(rendition.id, numberOf(index), text ? 'vtt' : 'm4s'));
  }
  lines.push('#EXT-X-ENDLIST');
  return toPlaylist(lines);
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
