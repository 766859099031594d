import { describe, it, expect } from 'vitest';
import { renderMediaPlaylist, renderMultivariantPlaylist } from '../../../src/manifest/hls.js';
import type { ManifestModel } from '../../../src/manifest/model.js';
import { buildModel as buildSharedModel, copyTitleModel, ladderTitleModel, type ModelOptions } from '../../support/manifest-model.js';
import { segmentUrl } from '../../../src/segment/naming.js';

// The 29.97 fps variant of the shared fixture.
function buildModel(options: ModelOptions = {}): ManifestModel {
  return buildSharedModel({ frameRate: { num: 30000, den: 1001 }, ...options });
}

function linesOf(playlist: string | undefined): string[] {
  expect(playlist).toBeDefined();
  expect(playlist!.endsWith('\n')).toBe(true);
  return playlist!.slice(0, -1).split('\n');
}

const MEDIA_HEADER = [
  '#EXTM3U',
  '#EXT-X-VERSION:7',
  '#EXT-X-TARGETDURATION:4',
  '#EXT-X-MEDIA-SEQUENCE:1',
  '#EXT-X-PLAYLIST-TYPE:VOD',
  '#EXT-X-INDEPENDENT-SEGMENTS',
];

// The EXTINF values of a media playlist, as printed.
function extinfs(lines: string[]): string[] {
  return lines.filter((line) => line.startsWith('#EXTINF:')).map((line) => line.slice('#EXTINF:'.length, -1));
}

describe('renderMultivariantPlaylist', () => {
  it('lists the audio group and one video variant that refers to it', () => {
    expect(linesOf(renderMultivariantPlaylist(buildModel()))).toEqual([
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio-1.m3u8"',
      '#EXT-X-STREAM-INF:BANDWIDTH=3440800,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=29.970,AUDIO="audio"',
      'video-720p.m3u8',
    ]);
  });

  it('leaves out LANGUAGE when the source language is unknown, and names the track by its position', () => {
    const lines = linesOf(renderMultivariantPlaylist(buildModel({ audio: { language: undefined } })));
    expect(lines[3]).toBe('#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Audio 1",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio-1.m3u8"');
  });

  it('lists only the video variant when the model has no audio', () => {
    const lines = linesOf(renderMultivariantPlaylist(buildModel({ audio: false, frameRate: { num: 30, den: 1 } })));
    expect(lines).toEqual([
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-STREAM-INF:BANDWIDTH=3300000,CODECS="avc1.64001f",RESOLUTION=1280x720,FRAME-RATE=30.000',
      'video-720p.m3u8',
    ]);
  });
});

describe('renderMediaPlaylist', () => {
  it('lists ten 4 s segments of a 40 s title line by line', () => {
    const segments = Array.from({ length: 10 }, (_, i) => ['#EXTINF:4.000,', `segments/video-720p-${String(i + 1).padStart(5, '0')}.m4s`]);
    expect(linesOf(renderMediaPlaylist(buildModel(), 'video-720p'))).toEqual([
      ...MEDIA_HEADER,
      '#EXT-X-MAP:URI="init/video-720p.mp4"',
      ...segments.flat(),
      '#EXT-X-ENDLIST',
    ]);
  });

  it('uses segmentUrl for every segment, from the first to the last', () => {
    const lines = linesOf(renderMediaPlaylist(buildModel(), 'audio-1'));
    const urls = lines.filter((line) => !line.startsWith('#'));
    expect(urls).toEqual(Array.from({ length: 10 }, (_, i) => segmentUrl('audio-1', i + 1)));
    expect(urls[0]).toBe('segments/audio-1-00001.m4s');
    expect(urls[9]).toBe('segments/audio-1-00010.m4s');
  });

  it('serves the audio rendition with its own init segment', () => {
    const lines = linesOf(renderMediaPlaylist(buildModel({ durationSeconds: 41.5 }), 'audio-1'));
    expect(lines.slice(0, 7)).toEqual([...MEDIA_HEADER, '#EXT-X-MAP:URI="init/audio-1.mp4"']);
  });

  it('ends a 41.5 s title with an 11th segment of 1.500 s', () => {
    const lines = linesOf(renderMediaPlaylist(buildModel({ durationSeconds: 41.5 }), 'video-720p'));
    expect(extinfs(lines)).toEqual([...Array<string>(10).fill('4.000'), '1.500']);
    expect(lines.slice(-3)).toEqual(['#EXTINF:1.500,', 'segments/video-720p-00011.m4s', '#EXT-X-ENDLIST']);
  });

  it('prints the last segment of a 119.967 s title as 3.967 without float drift', () => {
    const lines = linesOf(renderMediaPlaylist(buildModel({ durationSeconds: 119.967 }), 'video-720p'));
    const durations = extinfs(lines);
    expect(durations).toHaveLength(30);
    expect(durations.slice(0, 29).every((d) => d === '4.000')).toBe(true);
    expect(durations[29]).toBe('3.967');
    expect(lines.slice(-3)).toEqual(['#EXTINF:3.967,', 'segments/video-720p-00030.m4s', '#EXT-X-ENDLIST']);
  });

  it.each([40, 41.5, 119.967, 0.1 + 0.2, 3723.5])('sums the EXTINFs of a %s s title to its duration within 1 ms', (durationSeconds) => {
    const lines = linesOf(renderMediaPlaylist(buildModel({ durationSeconds }), 'video-720p'));
    const totalMs = extinfs(lines).reduce((sum, d) => sum + Math.round(Number(d) * 1000), 0);
    expect(Math.abs(totalMs - durationSeconds * 1000)).toBeLessThanOrEqual(1);
  });

  it('rounds a fractional segment length up for the target duration', () => {
    const lines = linesOf(renderMediaPlaylist(buildModel({ segmentSeconds: 4.5, durationSeconds: 9 }), 'audio-1'));
    expect(lines[2]).toBe('#EXT-X-TARGETDURATION:5');
  });

  it('returns undefined for an id that is not a rendition of the model', () => {
    const model = buildModel();
    expect(renderMediaPlaylist(model, 'video-1080p')).toBeUndefined();
    expect(renderMediaPlaylist(model, 'audio')).toBeUndefined();
    expect(renderMediaPlaylist(model, '')).toBeUndefined();
  });

  it('returns undefined for the audio id when the model has no audio', () => {
    const model = buildModel({ audio: false });
    expect(renderMediaPlaylist(model, 'audio-1')).toBeUndefined();
    expect(extinfs(linesOf(renderMediaPlaylist(model, 'video-720p')))).toHaveLength(10);
  });
});

describe('renderMultivariantPlaylist with a base URL', () => {
  it('points at the media playlists by absolute path', () => {
    const lines = linesOf(renderMultivariantPlaylist(buildModel(), { baseUrl: '/sessions/abc/' }));
    expect(lines).toContain('/sessions/abc/video-720p.m3u8');
    expect(lines.find((l) => l.startsWith('#EXT-X-MEDIA:'))).toContain('URI="/sessions/abc/audio-1.m3u8"');
  });
});

// The attributes of an EXT-X-MEDIA or EXT-X-STREAM-INF line, quoted strings unquoted.
function attributesOf(line: string): Record<string, string> {
  const list = line.slice(line.indexOf(':') + 1);
  return Object.fromEntries([...list.matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g)].map(([, name, value]) => [name!, value!.replace(/^"|"$/g, '')]));
}

describe('HLS playlists for a title with a ladder, several audio tracks and subtitles', () => {
  const model = ladderTitleModel();
  const lines = linesOf(renderMultivariantPlaylist(model));
  const media = lines.filter((line) => line.startsWith('#EXT-X-MEDIA:')).map(attributesOf);
  const groupOf = (type: string): Record<string, string>[] => media.filter((m) => m['TYPE'] === type);
  const variants = lines.flatMap((line, at) => (line.startsWith('#EXT-X-STREAM-INF:') ? [{ attributes: attributesOf(line), uri: lines[at + 1]! }] : []));

  it('lists every rendition exactly once, as a variant or a group member', () => {
    const uris = [...variants.map((v) => v.uri), ...media.map((m) => m['URI']!)];
    expect(uris).toHaveLength(9);
    expect([...uris].sort()).toEqual(model.renditions.map((r) => `${r.id}.m3u8`).sort());
    expect(variants.map((v) => v.uri)).toEqual(['video-360p.m3u8', 'video-480p.m3u8', 'video-720p.m3u8', 'video-1080p.m3u8']);
  });

  it('counts the largest audio rendition (5.1 at 422400) into every variant\'s BANDWIDTH', () => {
    const video = new Map(model.renditions.map((r) => [`${r.id}.m3u8`, r.bandwidth]));
    for (const variant of variants) expect(Number(variant.attributes['BANDWIDTH'])).toBe(video.get(variant.uri)! + 422_400);
  });

  it('refers every variant to the audio and the subtitles group', () => {
    for (const variant of variants) expect([variant.attributes['AUDIO'], variant.attributes['SUBTITLES']]).toEqual(['audio', 'subs']);
    expect(groupOf('AUDIO').map((m) => m['GROUP-ID'])).toEqual(['audio', 'audio', 'audio']);
    expect(groupOf('SUBTITLES').map((m) => m['GROUP-ID'])).toEqual(['subs', 'subs']);
  });

  it('gives every member of a group its own NAME', () => {
    for (const type of ['AUDIO', 'SUBTITLES']) {
      const names = groupOf(type).map((m) => m['NAME']);
      expect(new Set(names).size).toBe(names.length);
    }
    expect(groupOf('AUDIO').map((m) => m['NAME'])).toEqual(['French', 'English (stereo)', 'English (5.1)']);
  });

  it('makes exactly one member of each group the default: the source\'s default track, in stereo', () => {
    const defaults = (type: string): string[] => groupOf(type).filter((m) => m['DEFAULT'] === 'YES').map((m) => m['URI']!);
    expect(defaults('AUDIO')).toEqual(['audio-2.m3u8']);
    expect(defaults('SUBTITLES')).toEqual(['text-1.m3u8']);
  });

  it('offers the 5.1 rendition by hand only, with six channels', () => {
    const surround = groupOf('AUDIO').find((m) => m['URI'] === 'audio-2-6ch.m3u8');
    expect(surround).toMatchObject({ AUTOSELECT: 'NO', CHANNELS: '6', DEFAULT: 'NO', LANGUAGE: 'eng' });
    for (const stereo of groupOf('AUDIO').filter((m) => m !== surround)) expect(stereo).toMatchObject({ AUTOSELECT: 'YES', CHANNELS: '2' });
  });

  it('lists a text rendition\'s WebVTT segments with no init segment', () => {
    const text = linesOf(renderMediaPlaylist(model, 'text-2'));
    expect(text.some((line) => line.startsWith('#EXT-X-MAP'))).toBe(false);
    const urls = text.filter((line) => !line.startsWith('#'));
    expect(urls).toEqual(Array.from({ length: 10 }, (_, i) => segmentUrl('text-2', i + 1, 'vtt')));
    expect(urls[0]).toBe('segments/text-2-00001.vtt');
    expect(extinfs(text)).toEqual(Array<string>(10).fill('4.000'));
  });

  it('numbers a repeated label so NAMEs stay unique', () => {
    const repeated = buildModel({ audio: [{ title: 'English' }, { title: 'English' }] });
    const names = linesOf(renderMultivariantPlaylist(repeated)).filter((l) => l.startsWith('#EXT-X-MEDIA:')).map((l) => attributesOf(l)['NAME']);
    expect(names).toEqual(['English 1', 'English 2']);
  });
});

describe('HLS on a key-frame timeline (stream copy)', () => {
  const model = copyTitleModel();

  it('lists each copied segment with its own length and a target duration that covers the longest', () => {
    const lines = linesOf(renderMediaPlaylist(model, 'original'));
    expect(lines).toContain('#EXT-X-TARGETDURATION:6');
    expect(extinfs(lines)).toEqual(['5.200', '5.200', '5.200', '5.200', '5.200', '5.200', '5.200', '3.600']);
    expect(lines).toContain(segmentUrl('original', 8));
  });

  it('offers the original as the top variant with the source\'s codecs string and size', () => {
    const lines = linesOf(renderMultivariantPlaylist(model));
    const original = lines.findIndex((l) => l === 'original.m3u8');
    expect(lines[original - 1]).toMatch(/^#EXT-X-STREAM-INF:BANDWIDTH=\d+,CODECS="avc1\.640028,mp4a\.40\.2",RESOLUTION=1920x1080,/);
  });

  it('gives the encoded rendition and the copied audio the same segment list as the copy', () => {
    expect(extinfs(linesOf(renderMediaPlaylist(model, 'video-720p')))).toEqual(extinfs(linesOf(renderMediaPlaylist(model, 'original'))));
    expect(extinfs(linesOf(renderMediaPlaylist(model, 'audio-1')))).toEqual(extinfs(linesOf(renderMediaPlaylist(model, 'original'))));
  });
});
