import { describe, it, expect } from 'vitest';
import type { SidecarSubtitle, SubtitleStreamInfo } from '../../../src/media/subtitles.js';
import { planTextRenditions } from '../../../src/media/text-renditions.js';

const FILE = { input: 'file:/media/film.mkv', demuxer: 'matroska' };

function stream(index: number, codec: string, extra: Partial<SubtitleStreamInfo> = {}): SubtitleStreamInfo {
  return { index, codec, language: undefined, title: undefined, isDefault: false, forced: false, ...extra };
}

function sidecar(name: string, extra: Partial<SidecarSubtitle> = {}): SidecarSubtitle {
  return { path: `/media/${name}`, format: 'srt', language: undefined, title: undefined, forced: false, isDefault: false, ...extra };
}

describe('planTextRenditions', () => {
  // An embedded SubRip track, an embedded PGS track and a sidecar file.
  const planned = planTextRenditions(FILE, [
    stream(2, 'subrip', { language: 'eng', isDefault: true }),
    stream(3, 'hdmv_pgs_subtitle', { language: 'fra', title: 'Forced' }),
  ], [sidecar('film.de.srt', { language: 'de' })]);

  it('offers the text tracks as text-1 and text-2, embedded first, skipping the picture track', () => {
    expect(planned.renditions.map((r) => r.id)).toEqual(['text-1', 'text-2']);
    expect(planned.renditions[0]!.spec.source).toEqual({ kind: 'embedded', input: FILE.input, demuxer: 'matroska', streamIndex: 2, codec: 'subrip' });
    expect(planned.renditions[1]!.spec.source).toEqual({ kind: 'sidecar', path: '/media/film.de.srt', format: 'srt' });
  });

  it('converts each to WebVTT with its language, label and default flag', () => {
    expect(planned.renditions.map((r) => [r.kind, r.mode, r.codecs, r.language, r.label, r.isDefault])).toEqual([
      ['text', 'convert', 'wvtt', 'eng', 'English', true],
      ['text', 'convert', 'wvtt', 'de', 'German', false],
    ]);
  });

  it('marks only the first of several tracks flagged default as default (HLS allows one per group)', () => {
    const flagged = planTextRenditions(FILE, [stream(2, 'subrip', { isDefault: true }), stream(3, 'ass', { isDefault: true })],
      [sidecar('film.en.default.srt', { isDefault: true })]);
    expect(flagged.renditions.map((r) => r.isDefault)).toEqual([true, false, false]);
  });

  it('lists every track, the PGS one with no rendition and the reason why', () => {
    expect(planned.listing).toEqual([
      { source: 'embedded', ref: 2, codec: 'subrip', language: 'eng', title: undefined, rendition: 'text-1' },
      { source: 'embedded', ref: 3, codec: 'hdmv_pgs_subtitle', language: 'fra', title: 'Forced', rendition: null, reason: expect.stringContaining('PGS') },
      { source: 'sidecar', ref: 'film.de.srt', codec: 'srt', language: 'de', title: undefined, rendition: 'text-2' },
    ]);
    expect(planned.listing[1]!.reason).toContain('OCR');
  });

  it('labels forced subtitles as such unless they have a title, and untagged ones by their position', () => {
    const { renditions } = planTextRenditions(FILE, [
      stream(2, 'ass', { language: 'fra', forced: true }),
      stream(3, 'ass', { language: 'fra', forced: true, title: 'Signs' }),
      stream(4, 'mov_text'),
    ], []);
    expect(renditions.map((r) => [r.label, r.forced])).toEqual([['French (forced)', true], ['Signs', true], ['Subtitles 3', false]]);
  });

  it('plans nothing for a title without subtitles', () => {
    expect(planTextRenditions(FILE, [], [])).toEqual({ renditions: [], listing: [] });
  });
});
