// What the corpus test checks on the server's output, as functions that return the problems they
// find (empty: all good). Problems are sentences naming the track, the segment and the numbers, so
// a failing class reads as a diagnosis, and every check can be shown to fail on bad input.
import { writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { XMLParser } from 'fast-xml-parser';
import type { Expectation } from '../../fixtures/corpus.js';
import { idetCounts, interlacedShare } from '../../fixtures/verify.js';
import { readFragments, readInit } from './mp4-inspect.js';

// --- the manifest -------------------------------------------------------------------------------

export interface MpdSegment {
  number: number;
  url: string;
  /** Content time (presentationTimeOffset removed) where the MPD says the segment starts. */
  startSeconds: number;
  durationSeconds: number;
}

export interface MpdTrack {
  id: string;
  kind: 'video' | 'audio';
  lang: string | undefined;
  codecs: string;
  sampleRate: number | undefined;
  timescale: number;
  presentationTimeOffsetSeconds: number;
  initUrl: string;
  segments: MpdSegment[];
  /** The media URL the template gives for any number (and time), listed or not. */
  urlFor(number: number, time?: number): string;
}

export interface MpdInfo {
  durationSeconds: number;
  tracks: MpdTrack[];
  /** Audio adaptation sets (one per language/track offered), in MPD order. */
  /** Audio adaptation sets in MPD order, with their channel count. */
  audioSets: { lang: string | undefined; channels?: number }[];
}

type Node = Record<string, any>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  isArray: (name) => ['Period', 'AdaptationSet', 'Representation', 'S'].includes(name),
});

/** Reads the renditions and every segment's URL and time from a static MPD (SegmentTemplate, with or without SegmentTimeline). */
export function parseMpd(xml: string, mpdUrl: string): MpdInfo {
  const mpd = parser.parse(xml).MPD as Node;
  const durationSeconds = isoSeconds(String(mpd.mediaPresentationDuration));
  const period = (mpd.Period as Node[])[0]!;
  const base = new URL(String(mpd.BaseURL ?? period.BaseURL ?? ''), mpdUrl).href;
  const tracks: MpdTrack[] = [];
  const audioSets: MpdInfo['audioSets'] = [];
  for (const set of (period.AdaptationSet ?? []) as Node[]) {
    const kind = kindOf(set);
    if (kind === 'audio') audioSets.push({ lang: set.lang, channels: channelsOf(set) });
    if (!kind) continue;
    for (const rep of (set.Representation ?? []) as Node[]) {
      const template = { ...set.SegmentTemplate, ...rep.SegmentTemplate } as Node;
      tracks.push(trackOf(kind, set, rep, template, durationSeconds, base));
    }
  }
  return { durationSeconds, tracks, audioSets };
}

function kindOf(set: Node): 'video' | 'audio' | undefined {
  const type = String(set.contentType ?? set.mimeType ?? set.Representation?.[0]?.mimeType ?? '');
  return type.startsWith('video') ? 'video' : type.startsWith('audio') ? 'audio' : undefined;
}

function trackOf(kind: 'video' | 'audio', set: Node, rep: Node, template: Node, durationSeconds: number, base: string): MpdTrack {
  const timescale = Number(template.timescale ?? 1);
  const pto = Number(template.presentationTimeOffset ?? 0);
  const startNumber = Number(template.startNumber ?? 1);
  const fill = (pattern: string, number: number, time: number): string => new URL(pattern
    .replace(/\$RepresentationID\$/g, String(rep.id))
    .replace(/\$Bandwidth\$/g, String(rep.bandwidth))
    .replace(/\$(Number|Time)(?:%0(\d+)d)?\$/g, (_m, what: string, width?: string) => String(what === 'Number' ? number : time).padStart(Number(width ?? 0), '0'))
    .replace(/\$\$/g, '$'), base).href;
  const segments: MpdSegment[] = [];
  const timeline = template.SegmentTimeline?.S as Node[] | undefined;
  if (timeline) {
    let time = 0;
    for (const s of timeline) {
      time = s.t === undefined ? time : Number(s.t);
      for (let r = 0; r <= Number(s.r ?? 0); r++, time += Number(s.d)) {
        segments.push({ number: startNumber + segments.length, url: fill(String(template.media), startNumber + segments.length, time),
          startSeconds: (time - pto) / timescale, durationSeconds: Number(s.d) / timescale });
      }
    }
  } else {
    const segmentSeconds = Number(template.duration) / timescale;
    const count = Math.ceil(durationSeconds / segmentSeconds - 1e-9);
    for (let i = 0; i < count; i++) {
      segments.push({ number: startNumber + i, url: fill(String(template.media), startNumber + i, 0),
        startSeconds: i * segmentSeconds, durationSeconds: Math.min(segmentSeconds, durationSeconds - i * segmentSeconds) });
    }
  }
  return {
    id: String(rep.id), kind, lang: set.lang ?? rep.lang, codecs: String(rep.codecs ?? set.codecs ?? ''),
    sampleRate: rep.audioSamplingRate === undefined ? undefined : Number(rep.audioSamplingRate),
    timescale, presentationTimeOffsetSeconds: pto / timescale,
    initUrl: fill(String(template.initialization), startNumber, 0), segments,
    urlFor: (number, time = 0) => fill(String(template.media), number, time),
  };
}

/** PT1H2M3.5S -> 3723.5 */
export function isoSeconds(text: string): number {
  const match = /^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(text);
  if (!match) return Number.NaN;
  return Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
}

/** ISO 639-2 -> the 639-1 tag a manifest may use instead (only the languages the corpus has). */
const SHORT_LANGUAGE: Record<string, string> = { eng: 'en', fra: 'fr', fre: 'fr' };

/**
 * The presentation's tracks against the class's expectation: video or not, one stereo audio set
 * per source audio track (in source order, by language), and a 5.1 set per multichannel track.
 */
export function checkTrackSet(mpd: MpdInfo, expect: Expectation): string[] {
  const problems: string[] = [];
  const videos = mpd.tracks.filter((t) => t.kind === 'video').length;
  if ((videos > 0) !== expect.video) problems.push(`${videos} video representations, expected ${expect.video ? 'some' : 'none'}`);
  const wanted = expect.audio ? expect.audioLanguages : [];
  const stereo = mpd.audioSets.filter((s) => (s.channels ?? 2) <= 2);
  if (stereo.length !== wanted.length) {
    problems.push(`${stereo.length} audio adaptation sets (${stereo.map((s) => s.lang ?? 'no lang').join(', ')}), expected ${wanted.length} (${wanted.join(', ')})`);
  }
  const matches = (lang: string, got: string | undefined): boolean =>
    lang === 'und' ? got === undefined || got === 'und' : got === lang || got === SHORT_LANGUAGE[lang];
  wanted.forEach((lang, i) => {
    const got = stereo[i]?.lang;
    if (stereo[i] && !matches(lang, got)) problems.push(`audio set ${i + 1} has lang ${got ?? '(none)'}, expected ${lang}`);
  });
  const surround = mpd.audioSets.filter((s) => (s.channels ?? 2) === 6).map((s) => s.lang);
  const surroundWanted = expect.audio ? expect.surroundLanguages ?? [] : [];
  if (surround.length !== surroundWanted.length || !surroundWanted.every((lang, i) => matches(lang, surround[i]))) {
    problems.push(`5.1 audio sets (${surround.map((l) => l ?? 'no lang').join(', ')}), expected (${surroundWanted.join(', ')})`);
  }
  return problems;
}

function channelsOf(set: Node): number | undefined {
  const reps = (set.Representation ?? []) as Node[];
  const config = (reps[0]?.AudioChannelConfiguration ?? set.AudioChannelConfiguration) as Node | undefined;
  return config?.value === undefined ? undefined : Number(config.value);
}

// --- segments and their timing ------------------------------------------------------------------

export interface Fetched {
  url: string;
  status: number;
  /** The body: bytes on 200, the error text otherwise. */
  bytes: Buffer;
}

export async function fetchOne(url: string, timeoutMs: number): Promise<Fetched> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { url, status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
  } catch (error) {
    return { url, status: 0, bytes: Buffer.from(error instanceof Error ? error.message : String(error)) };
  }
}

/** "segments/audio-00003.m4s: 502 {"code":"PIPELINE_FAILED",...}" for every answer that is not 200. */
export function describeFailures(fetched: readonly Fetched[]): string[] {
  return fetched.filter((f) => f.status !== 200)
    .map((f) => `${new URL(f.url, 'http://x').pathname.split('/').slice(3).join('/')}: ${f.status} ${f.bytes.toString('utf8').slice(0, 300)}`);
}

export interface SegmentTiming {
  number: number;
  /** tfdt, in the track's timescale. */
  tfdt: number;
  sampleCount: number;
  /** Sum of sample durations, in the track's timescale. */
  duration: number;
  timescale: number;
  /** Content seconds of the first presented sample (composition offset, edit list and PTO applied). */
  firstPresentation: number;
}

export function segmentTiming(init: Buffer, segment: Buffer, number: number, ptoSeconds: number): SegmentTiming {
  const info = readInit(init);
  const frag = readFragments(segment, info);
  return {
    number, tfdt: frag.baseMediaDecodeTime, sampleCount: frag.sampleCount, duration: frag.duration, timescale: info.timescale,
    firstPresentation: (frag.baseMediaDecodeTime + frag.firstCompositionOffset - info.editShift) / info.timescale - ptoSeconds,
  };
}

/**
 * One track's segments against the title: each starts where the MPD says, tfdt runs on from one
 * segment to the next, and together they last the title's duration; all within `toleranceSeconds`
 * (one frame). `segments` must be the whole track, in order.
 */
export function checkTimeline(track: Pick<MpdTrack, 'id' | 'segments'>, timings: readonly SegmentTiming[], titleSeconds: number, toleranceSeconds: number): string[] {
  const problems: string[] = [];
  if (timings.length !== track.segments.length) problems.push(`${track.id}: ${timings.length} segments, the MPD lists ${track.segments.length}`);
  timings.forEach((t, i) => {
    const planned = track.segments.find((s) => s.number === t.number);
    if (planned && Math.abs(t.firstPresentation - planned.startSeconds) > toleranceSeconds) {
      problems.push(`${track.id} segment ${t.number} starts at ${t.firstPresentation.toFixed(4)} s, the MPD says ${planned.startSeconds.toFixed(4)} s`);
    }
    const next = timings[i + 1];
    if (next && Math.abs(t.tfdt + t.duration - next.tfdt) > toleranceSeconds * t.timescale) {
      problems.push(`${track.id} tfdt jumps between segments ${t.number} and ${next.number}: ${t.tfdt} + ${t.duration} != ${next.tfdt} (${((next.tfdt - t.tfdt - t.duration) / t.timescale).toFixed(4)} s)`);
    }
  });
  const total = timings.reduce((sum, t) => sum + t.duration / t.timescale, 0);
  if (!(Math.abs(total - titleSeconds) <= toleranceSeconds)) {
    problems.push(`${track.id} lasts ${total.toFixed(4)} s, the title ${titleSeconds.toFixed(4)} s (tolerance ${toleranceSeconds.toFixed(4)} s)`);
  }
  return problems;
}

/** Decodes a whole track (init + every segment) with ffmpeg; the problems are what it printed. */
export async function checkDecodes(id: string, file: string, bytes: Buffer): Promise<string[]> {
  await writeFile(file, bytes);
  // Passthrough timing at 90 kHz: otherwise ffmpeg's null output rounds a variable frame rate to a
  // 1/fps grid and complains about its own duplicate timestamps.
  const result = await execa('ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-fps_mode', 'passthrough', '-enc_time_base:v', '1:90000',
    '-f', 'null', '-'], { reject: false });
  const printed = `${result.stderr}`.trim();
  if (result.exitCode === 0 && printed === '') return [];
  return [`${id} does not decode cleanly (exit ${result.exitCode}): ${printed.split('\n').slice(0, 4).join(' | ').slice(0, 400)}`];
}

// --- the picture --------------------------------------------------------------------------------

interface PictureStream {
  width?: number;
  height?: number;
  pix_fmt?: string;
  sample_aspect_ratio?: string;
  color_transfer?: string;
  color_primaries?: string;
  color_space?: string;
  side_data_list?: { side_data_type?: string; rotation?: number }[];
}

const SDR_TRANSFERS = new Set([undefined, 'unknown', 'bt709']);
/** avc1 profile_idc values that allow only 8-bit 4:2:0 (Baseline, Main, Extended, High). */
const AVC_8BIT_420 = new Set([0x42, 0x4d, 0x58, 0x64]);

/**
 * The decoded picture of a video track (or a source file): shown the right way up without relying
 * on a rotation matrix, at the expected display aspect, SDR, in a pixel format its codecs string
 * allows, and (for interlaced sources) progressive by ffmpeg's idet.
 */
export async function checkPicture(id: string, file: string, codecs: string, expect: Expectation): Promise<string[]> {
  const { stdout } = await execa('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_streams', '-of', 'json', file]);
  const stream = (JSON.parse(stdout) as { streams?: PictureStream[] }).streams?.[0];
  if (!stream?.width || !stream.height) return [`${id}: no picture to probe`];
  const problems: string[] = [];
  const sar = /^(\d+):(\d+)$/.exec(stream.sample_aspect_ratio ?? '');
  const sarValue = sar && Number(sar[1]) > 0 && Number(sar[2]) > 0 ? Number(sar[1]) / Number(sar[2]) : 1;
  const shownWidth = stream.width * sarValue;
  const rotation = stream.side_data_list?.find((d) => d.side_data_type === 'Display Matrix')?.rotation ?? 0;
  if (rotation !== 0) problems.push(`${id} relies on a display matrix rotation of ${rotation}° (players that ignore it show it sideways)`);
  const orientation = shownWidth < stream.height ? 'portrait' : 'landscape';
  if (expect.orientation && orientation !== expect.orientation) {
    problems.push(`${id} is ${orientation} (${stream.width}x${stream.height}, SAR ${stream.sample_aspect_ratio ?? '1:1'}), expected ${expect.orientation}`);
  }
  if (expect.displayAspect !== undefined && Math.abs(shownWidth / stream.height / expect.displayAspect - 1) > 0.02) {
    problems.push(`${id} displays at ${(shownWidth / stream.height).toFixed(4)}:1 (${stream.width}x${stream.height}, SAR ${stream.sample_aspect_ratio ?? '1:1'}), expected ${expect.displayAspect.toFixed(4)}:1 ± 2 %`);
  }
  if (!SDR_TRANSFERS.has(stream.color_transfer)) problems.push(`${id} has transfer ${stream.color_transfer}, expected SDR (bt709 or unset)`);
  if (stream.color_primaries === 'bt2020' || stream.color_space?.startsWith('bt2020')) {
    problems.push(`${id} is tagged BT.2020 (primaries ${stream.color_primaries}, matrix ${stream.color_space}), expected SDR`);
  }
  const avc = /^avc1\.([0-9a-f]{2})/i.exec(codecs);
  if (avc && AVC_8BIT_420.has(parseInt(avc[1]!, 16)) && stream.pix_fmt !== 'yuv420p' && stream.pix_fmt !== 'yuvj420p') {
    problems.push(`${id} is ${stream.pix_fmt}, but its codecs ${codecs} promise 8-bit 4:2:0`);
  }
  if (expect.interlacedSource) {
    const counts = await idetCounts(file);
    const share = interlacedShare(counts);
    if (share > 0.1) problems.push(`${id} is still interlaced: idet finds ${counts.tff} TFF + ${counts.bff} BFF of ${counts.tff + counts.bff + counts.progressive} frames (${(share * 100).toFixed(0)} %, at most 10 % allowed)`);
  }
  return problems;
}
