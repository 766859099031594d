import { describe, it, expect } from 'vitest';
import { planAudioRenditions, type AudioRendition } from '../../../src/media/audio-renditions.js';
import type { TrackSpan } from '../../../src/media/plan.js';
import type { AudioStreamInfo } from '../../../src/media/probe.js';
import { mediaInfo } from '../../support/media-info.js';

// A span that names its stream: stream i ends at 30 + i seconds.
const spanOf = (index: number): TrackSpan => ({ startSeconds: 0, endSeconds: 30 + index, lastSeconds: 30 + index });

function renditionsOf(tracks: Partial<AudioStreamInfo>[]): AudioRendition[] {
  return planAudioRenditions(mediaInfo({ audio: tracks }).audio, spanOf);
}

function defaults(renditions: AudioRendition[]): string[] {
  return renditions.filter((r) => r.isDefault).map((r) => r.id);
}

// English 5.1 flagged default (stream 1), French stereo (stream 2).
const ENG_51 = { index: 1, language: 'eng', channels: 6, isDefault: true };
const FRA = { index: 2, language: 'fra', channels: 2 };

describe('planAudioRenditions', () => {
  it('makes English 5.1 + French stereo into audio-1, audio-1-6ch and audio-2', () => {
    const renditions = renditionsOf([ENG_51, FRA]);
    expect(renditions.map((r) => [r.id, r.channels, r.language, r.label, r.track])).toEqual([
      ['audio-1', 2, 'eng', 'English (stereo)', 1],
      ['audio-1-6ch', 6, 'eng', 'English (5.1)', 1],
      ['audio-2', 2, 'fra', 'French', 2],
    ]);
  });

  it('encodes stereo at 128 kbit/s and 5.1 at 384 kbit/s, 48 kHz AAC, from the track\'s own stream', () => {
    const renditions = renditionsOf([ENG_51, FRA]);
    expect(renditions.map((r) => [r.spec.sourceIndex, r.spec.channels, 'bitrateBps' in r.spec ? r.spec.bitrateBps : 'copied', r.bandwidth])).toEqual([
      [1, 2, 128_000, 140_800], [1, 6, 384_000, 422_400], [2, 2, 128_000, 140_800],
    ]);
    for (const r of renditions) expect(r).toMatchObject({ kind: 'audio', mode: 'encode', codecs: 'mp4a.40.2', sampleRate: 48_000, spec: { sampleRate: 48_000 } });
    expect(renditions.map((r) => r.spec.span.endSeconds)).toEqual([31, 31, 32]);
  });

  it('makes the source\'s default track the default, in stereo only', () => {
    expect(defaults(renditionsOf([ENG_51, FRA]))).toEqual(['audio-1']);
    expect(defaults(renditionsOf([{ ...ENG_51, isDefault: false }, { ...FRA, isDefault: true }]))).toEqual(['audio-2']);
  });

  it('makes the first track the default when the source flags none', () => {
    expect(defaults(renditionsOf([{ ...ENG_51, isDefault: false }, FRA]))).toEqual(['audio-1']);
    expect(defaults(renditionsOf([{ language: 'deu' }]))).toEqual(['audio-1']);
  });

  it('makes exactly one default however many tracks the source flags', () => {
    const renditions = renditionsOf([{ isDefault: true }, { isDefault: true, channels: 6 }, { isDefault: true }]);
    expect(defaults(renditions)).toEqual(['audio-1']);
  });

  it('labels a track by its title before its language', () => {
    const renditions = renditionsOf([{ language: 'eng', title: 'Director\'s commentary' }, { language: 'eng', channels: 6, title: 'Main' }]);
    expect(renditions.map((r) => r.label)).toEqual(['Director\'s commentary', 'Main (stereo)', 'Main (5.1)']);
  });

  it('labels a track with neither title nor language by its position', () => {
    expect(renditionsOf([{ language: 'eng' }, {}]).map((r) => r.label)).toEqual(['English', 'Audio 2']);
  });

  it('makes a 5.1 rendition of a 7.1 track too, and none of a mono or stereo one', () => {
    expect(renditionsOf([{ channels: 8 }, { channels: 1 }, { channels: 2 }]).map((r) => r.id)).toEqual(['audio-1', 'audio-1-6ch', 'audio-2', 'audio-3']);
  });

  it('plans nothing for a source without audio', () => {
    expect(planAudioRenditions([], spanOf)).toEqual([]);
  });
});
