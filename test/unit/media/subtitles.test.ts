import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSidecarSubtitles, subtitleStreamOf, subtitleSupport } from '../../../src/media/subtitles.js';

describe('subtitleStreamOf', () => {
  it('reads codec, language, title and dispositions from an ffprobe stream', () => {
    const stream = { index: 3, codec_name: 'ass', codec_type: 'subtitle', tags: { language: 'fra', title: 'Français' }, disposition: { default: 0, forced: 1 } };
    expect(subtitleStreamOf(stream)).toEqual({ index: 3, codec: 'ass', language: 'fra', title: 'Français', isDefault: false, forced: true });
  });

  it('takes "und", a blank or a missing language as no language', () => {
    expect(subtitleStreamOf({ index: 2, codec_name: 'subrip', tags: { language: 'und' } }).language).toBeUndefined();
    expect(subtitleStreamOf({ index: 2, codec_name: 'subrip', tags: { language: ' ' } }).language).toBeUndefined();
    expect(subtitleStreamOf({ index: 2 })).toEqual({ index: 2, codec: 'unknown', language: undefined, title: undefined, isDefault: false, forced: false });
  });

  it('reads upper-case tag names and lower-cases the language', () => {
    const info = subtitleStreamOf({ index: 4, codec_name: 'mov_text', tags: { LANGUAGE: 'ENG', TITLE: 'SDH' }, disposition: { default: 1 } });
    expect(info).toMatchObject({ language: 'eng', title: 'SDH', isDefault: true, forced: false });
  });
});

describe('subtitleSupport', () => {
  it.each(['subrip', 'srt', 'ass', 'ssa', 'mov_text', 'webvtt', 'text'])('offers the text codec %s', (codec) => {
    expect(subtitleSupport(codec)).toEqual({ offered: true });
  });

  it.each([
    ['hdmv_pgs_subtitle', /PGS.*pictures/],
    ['dvd_subtitle', /VobSub.*pictures/],
    ['dvb_subtitle', /DVB.*pictures/],
    ['xsub', /XSUB.*pictures/],
    ['eia_608', /closed captions/],
    ['something_new', /"something_new" is not a text format/],
  ])('does not offer %s, and says why', (codec, reason) => {
    const support = subtitleSupport(codec);
    expect(support.offered).toBe(false);
    expect(support.offered === false && support.reason).toMatch(reason);
  });
});

describe('findSidecarSubtitles', () => {
  let root: string;
  let media: string;
  let film: string;
  let outside: string;

  beforeAll(async () => {
    const top = await realpath(await mkdtemp(path.join(tmpdir(), 'seekwell-sidecars-')));
    root = path.join(top, 'media');
    outside = path.join(top, 'outside');
    media = path.join(root, 'films');
    await mkdir(media, { recursive: true });
    await mkdir(outside);
    film = path.join(media, 'film.mkv');
    const names = [
      'film.mkv', 'film.en.srt', 'film.fr.forced.vtt', 'film.srt', 'film.EN.SRT', 'film.pt-BR.sdh.ass', 'film.default.ssa',
      'FILM.EN.SRT', 'other.en.srt', 'film.en.txt', 'film.commentary.srt', 'film.en.fr.srt', 'filmx.en.srt', 'film..srt',
    ];
    for (const name of names) await writeFile(path.join(media, name), 'x');
    await writeFile(path.join(outside, 'secret.srt'), 'x');
    await symlink(path.join(outside, 'secret.srt'), path.join(media, 'film.de.srt'));
    await symlink(path.join(media, 'film.en.srt'), path.join(media, 'film.it.srt'));
    await mkdir(path.join(media, 'film.es.srt'));
  });

  afterAll(async () => {
    await rm(path.dirname(root), { recursive: true, force: true });
  });

  it('finds the media base name with an optional language and flags, extension in any case, in name order', async () => {
    const found = await findSidecarSubtitles(root, film);
    expect(found.map((s) => path.basename(s.path))).toEqual([
      'film.EN.SRT', 'film.default.ssa', 'film.en.srt', 'film.fr.forced.vtt', 'film.en.srt', 'film.pt-BR.sdh.ass', 'film.srt',
    ]);
    expect(found[0]).toEqual({ path: path.join(media, 'film.EN.SRT'), format: 'srt', language: 'en', title: undefined, forced: false, isDefault: false });
    expect(found[1]).toMatchObject({ format: 'ssa', language: undefined, isDefault: true });
    expect(found[3]).toMatchObject({ format: 'vtt', language: 'fr', forced: true, isDefault: false });
    expect(found[5]).toMatchObject({ format: 'ass', language: 'pt-BR', title: 'SDH' });
    expect(found[6]).toMatchObject({ format: 'srt', language: undefined, forced: false });
  });

  it('gives a symlink inside the media directory as its real path', async () => {
    const found = await findSidecarSubtitles(root, film);
    // film.it.srt -> film.en.srt: listed under the target's real path (5th in name order).
    expect(found[4]!.path).toBe(path.join(media, 'film.en.srt'));
    expect(found[4]!.language).toBe('it');
  });

  it('ignores other base names (case matters), other extensions, unknown parts, folders and a symlink out of the media directory', async () => {
    const names = (await findSidecarSubtitles(root, film)).map((s) => s.path);
    for (const ignored of ['FILM.EN.SRT', 'other.en.srt', 'film.en.txt', 'film.commentary.srt', 'film.en.fr.srt', 'filmx.en.srt', 'film..srt', 'film.es.srt']) {
      expect(names).not.toContain(path.join(media, ignored));
    }
    expect(names).not.toContain(path.join(outside, 'secret.srt'));
  });

  it('finds nothing in an unreadable or missing folder, without throwing', async () => {
    await expect(findSidecarSubtitles(root, path.join(root, 'missing', 'film.mkv'))).resolves.toEqual([]);
  });

  it('returns at most 20', async () => {
    const many = path.join(root, 'many');
    await mkdir(many);
    await writeFile(path.join(many, 'show.mkv'), 'x');
    for (let i = 0; i < 30; i++) await writeFile(path.join(many, `show.${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}.srt`), 'x');
    expect(await findSidecarSubtitles(root, path.join(many, 'show.mkv'))).toHaveLength(20);
  });
});
