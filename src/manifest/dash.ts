// Kept on fast-xml-parser's builder (escaping, layout): npm has MPD parsers (mpd-parser) but no
// maintained MPD writer beyond the alpha CMAF-HAM converters in @svta/common-media-library.
// Static DASH MPD for the whole title, rendered from the shared model before anything is encoded:
// one video AdaptationSet holding the ladder, one AdaptationSet per audio rendition (the default
// first, Role main), one per text rendition (a whole WebVTT file).

import { XMLBuilder } from 'fast-xml-parser';
import type { AudioRendition, TextRendition, VideoRendition } from '../media/plan.js';
import { groupRenditions, uniqueLabels, type ManifestModel, type ManifestOptions } from './model.js';
import { dashMediaTemplate, initUrl, wholeTextUrl } from '../segment/naming.js';

type XmlNode = Record<string, unknown>;

// suppressBooleanAttributes: false keeps attributes as name="value"; the builder escapes values.
const builder = new XMLBuilder({
  ignoreAttributes: false,
  suppressBooleanAttributes: false,
  suppressEmptyNode: true,
  format: true,
  attributeNamePrefix: '@_',
});

/** Renders a static, isoff-live MPD listing every segment of the title. */
export function renderMpd(model: ManifestModel, options: ManifestOptions = {}): string {
  const groups = groupRenditions(model.renditions);
  const audio = [...groups.audio].sort((a, b) => Number(b.isDefault) - Number(a.isDefault));
  const labels = new Map([...uniqueLabels(groups.audio), ...uniqueLabels(groups.text)]);
  const adaptationSets: XmlNode[] = [
    ...(groups.video.length > 0 ? [videoAdaptationSet(model, groups.video)] : []),
    ...audio.map((r) => audioAdaptationSet(model, r, labels.get(r.id)!)),
    ...groups.text.map((r) => textAdaptationSet(r, labels.get(r.id)!)),
  ].map((set, id) => ({ '@_id': String(id), ...set }));
  return builder.build({
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    MPD: {
      '@_xmlns': 'urn:mpeg:dash:schema:mpd:2011',
      '@_profiles': 'urn:mpeg:dash:profile:isoff-live:2011',
      '@_type': 'static',
      '@_mediaPresentationDuration': isoDuration(model.timeline.durationSeconds),
      '@_minBufferTime': 'PT2S',
      ...(options.baseUrl === undefined ? {} : { BaseURL: options.baseUrl }),
      Period: { '@_id': '0', '@_start': 'PT0S', AdaptationSet: adaptationSets },
    },
  }) as string;
}

// ISO 8601 duration rounded to milliseconds, computed in integers so no float noise leaks:
// 40 -> PT40S, 119.967 -> PT1M59.967S, 3723.5 -> PT1H2M3.5S.
function isoDuration(seconds: number): string {
  const totalMs = Math.round(seconds * 1000);
  const hours = Math.floor(totalMs / 3_600_000);
  const minutes = Math.floor((totalMs % 3_600_000) / 60_000);
  const ms = totalMs % 60_000;
  let out = 'PT';
  if (hours > 0) out += `${hours}H`;
  if (minutes > 0) out += `${minutes}M`;
  if (ms > 0 || out === 'PT') out += `${formatSeconds(ms)}S`;
  return out;
}

// "59.967", "3.5", "40": whole seconds plus the millisecond fraction without trailing zeros.
function formatSeconds(ms: number): string {
  const whole = Math.floor(ms / 1000);
  const fraction = ms % 1000;
  if (fraction === 0) return String(whole);
  return `${whole}.${String(fraction).padStart(3, '0').replace(/0+$/, '')}`;
}

// DASH frame rate: the reduced rational, "30" or "30000/1001".
function dashFrameRate(frameRate: VideoRendition['frameRate']): string {
  const divisor = gcd(frameRate.num, frameRate.den);
  const num = frameRate.num / divisor;
  const den = frameRate.den / divisor;
  return den === 1 ? String(num) : `${num}/${den}`;
}

function gcd(a: number, b: number): number {
  return b === 0 ? Math.abs(a) : gcd(b, a % b);
}

function videoAdaptationSet(model: ManifestModel, ladder: VideoRendition[]): XmlNode {
  const frameRate = dashFrameRate(ladder[0]!.frameRate);
  return {
    '@_contentType': 'video',
    '@_mimeType': 'video/mp4',
    '@_segmentAlignment': 'true',
    '@_startWithSAP': '1',
    '@_maxWidth': Math.max(...ladder.map((r) => r.width)),
    '@_maxHeight': Math.max(...ladder.map((r) => r.height)),
    '@_frameRate': frameRate,
    Representation: ladder.map((video) => ({
      '@_id': video.id,
      '@_codecs': video.codecs,
      '@_bandwidth': video.bandwidth,
      '@_width': video.width,
      '@_height': video.height,
      '@_frameRate': frameRate,
      '@_sar': video.sar,
      SegmentTemplate: segmentTemplate(model, video.id),
    })),
  };
}

// dash.js starts with the set of highest selectionPriority (its default mode), shaka-player with
// the one whose Role is main: both name the source's default track, in stereo.
function audioAdaptationSet(model: ManifestModel, audio: AudioRendition, label: string): XmlNode {
  return {
    '@_contentType': 'audio',
    '@_mimeType': 'audio/mp4',
    ...(audio.language === undefined ? {} : { '@_lang': audio.language }),
    '@_segmentAlignment': 'true',
    '@_startWithSAP': '1',
    '@_selectionPriority': audio.isDefault ? '2' : '1',
    Label: label,
    Role: { '@_schemeIdUri': ROLE_SCHEME, '@_value': audio.isDefault ? 'main' : 'alternate' },
    Representation: {
      '@_id': audio.id,
      '@_codecs': audio.codecs,
      '@_bandwidth': audio.bandwidth,
      '@_audioSamplingRate': audio.sampleRate,
      AudioChannelConfiguration: {
        '@_schemeIdUri': 'urn:mpeg:dash:23003:3:audio_channel_configuration:2011',
        '@_value': audio.channels,
      },
      SegmentTemplate: segmentTemplate(model, audio.id),
    },
  };
}

function textAdaptationSet(text: TextRendition, label: string): XmlNode {
  return {
    '@_contentType': 'text',
    '@_mimeType': 'text/vtt',
    ...(text.language === undefined ? {} : { '@_lang': text.language }),
    Label: label,
    Role: { '@_schemeIdUri': ROLE_SCHEME, '@_value': text.forced ? 'forced-subtitle' : 'subtitle' },
    Representation: { '@_id': text.id, '@_bandwidth': text.bandwidth, BaseURL: wholeTextUrl(text.id) },
  };
}

const ROLE_SCHEME = 'urn:mpeg:dash:role:2011';

// Media time = content time + X, so presentationTimeOffset maps segment timestamps back to 0.
// Uniform segments are said once (@duration); key-frame ones each (a SegmentTimeline).
function segmentTemplate(model: ManifestModel, renditionId: string): XmlNode {
  const { timeline } = model;
  return {
    '@_timescale': timeline.timescale,
    ...(timeline.isUniform ? { '@_duration': Math.round(timeline.segmentSeconds * timeline.timescale) } : {}),
    '@_startNumber': '1',
    '@_presentationTimeOffset': Math.round(timeline.mediaOffsetSeconds * timeline.timescale),
    '@_initialization': initUrl(renditionId),
    '@_media': dashMediaTemplate(renditionId),
    ...(timeline.isUniform ? {} : { SegmentTimeline: { S: segmentRuns(model.timeline) } }),
  };
}

// <S t d r>: runs of equal durations in media time, computed from rounded starts so they add up.
function segmentRuns(timeline: ManifestModel['timeline']): XmlNode[] {
  const runs: XmlNode[] = [];
  let previous: { d: number; node: XmlNode } | undefined;
  for (let i = 0; i < timeline.count; i++) {
    const t = timeline.mediaTimeOf(i);
    const d = timeline.mediaTimeOf(i + 1) - t;
    if (previous?.d === d) {
      previous.node['@_r'] = Number(previous.node['@_r'] ?? 0) + 1;
      continue;
    }
    const node: XmlNode = { ...(i === 0 ? { '@_t': t } : {}), '@_d': d };
    runs.push(node);
    previous = { d, node };
  }
  return runs;
}
