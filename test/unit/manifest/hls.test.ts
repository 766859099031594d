import { describe, it, expect } from 'vitest';
import { renderMediaPlaylist, renderMultivariantPlaylist } from '../../../src/manifest/hls.js';
import type { ManifestModel } from '../../../src/manifest/model.js';
import { buildModel as buildSharedModel, type ModelOptions } from '../../support/manifest-model.js';
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
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="en",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio.m3u8"',
      '#EXT-X-STREAM-INF:BANDWIDTH=3136000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=29.970,AUDIO="audio"',
      'video-720p.m3u8',
    ]);
  });

  it('leaves out LANGUAGE when the source language is unknown', () => {
    const lines = linesOf(renderMultivariantPlaylist(buildModel({ audio: { language: undefined } })));
    expect(lines[3]).toBe('#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio.m3u8"');
  });

  it('lists only the video variant when the model has no audio', () => {
    const lines = linesOf(renderMultivariantPlaylist(buildModel({ audio: false, frameRate: { num: 30, den: 1 } })));
    expect(lines).toEqual([
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-STREAM-INF:BANDWIDTH=3000000,CODECS="avc1.64001f",RESOLUTION=1280x720,FRAME-RATE=30.000',
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
    const lines = linesOf(renderMediaPlaylist(buildModel(), 'audio'));
    const urls = lines.filter((line) => !line.startsWith('#'));
    expect(urls).toEqual(Array.from({ length: 10 }, (_, i) => segmentUrl('audio', i + 1)));
    expect(urls[0]).toBe('segments/audio-00001.m4s');
    expect(urls[9]).toBe('segments/audio-00010.m4s');
  });

  it('serves the audio rendition with its own init segment', () => {
    const lines = linesOf(renderMediaPlaylist(buildModel({ durationSeconds: 41.5 }), 'audio'));
    expect(lines.slice(0, 7)).toEqual([...MEDIA_HEADER, '#EXT-X-MAP:URI="init/audio.mp4"']);
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
    const lines = linesOf(renderMediaPlaylist(buildModel({ segmentSeconds: 4.5, durationSeconds: 9 }), 'audio'));
    expect(lines[2]).toBe('#EXT-X-TARGETDURATION:5');
  });

  it('returns undefined for an id that is not a rendition of the model', () => {
    const model = buildModel();
    expect(renderMediaPlaylist(model, 'video-1080p')).toBeUndefined();
    expect(renderMediaPlaylist(model, '')).toBeUndefined();
  });

  it('returns undefined for the audio id when the model has no audio', () => {
    const model = buildModel({ audio: false });
    expect(renderMediaPlaylist(model, 'audio')).toBeUndefined();
    expect(extinfs(linesOf(renderMediaPlaylist(model, 'video-720p')))).toHaveLength(10);
  });
});

describe('renderMultivariantPlaylist with a base URL', () => {
  it('points at the media playlists by absolute path', () => {
    const lines = linesOf(renderMultivariantPlaylist(buildModel(), { baseUrl: '/sessions/abc/' }));
    expect(lines).toContain('/sessions/abc/video-720p.m3u8');
    expect(lines.find((l) => l.startsWith('#EXT-X-MEDIA:'))).toContain('URI="/sessions/abc/audio.m3u8"');
  });
});
