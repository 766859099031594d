// Real ffmpeg turning embedded and sidecar text subtitles into WebVTT (fixtures/subtitles.ts makes
// the media), and the guarantee that an aborted or timed-out conversion leaves no ffmpeg behind.
import { readdir, readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSubtitleMedia, type SubtitleMedia } from '../../fixtures/subtitles.js';
import { SeekwellError } from '../../src/errors.js';
import { findSidecarSubtitles, subtitleStreamOf } from '../../src/media/subtitles.js';
import { embeddedWebVttArgs, extractEmbeddedWebVtt, extractSidecarWebVtt, type ExtractOptions } from '../../src/pipeline/subtitle-extract.js';
import { parseWebVtt, type WebVttCue } from '../../src/segment/webvtt.js';

const EN: Pick<WebVttCue, 'startSeconds' | 'endSeconds' | 'text'>[] = [
  { startSeconds: 1, endSeconds: 2.5, text: 'Hello, café déjà vu' },
  { startSeconds: 3, endSeconds: 4, text: 'Second <i>line</i>\ntwo' },
];
const FR: typeof EN = [
  { startSeconds: 1.5, endSeconds: 3, text: 'Bonjour <i>le</i> monde' },
  { startSeconds: 4, endSeconds: 5, text: 'Ligne une\nLigne deux' },
];

const shifted = (cues: typeof EN, by: number): typeof EN => cues.map((c) => ({ ...c, startSeconds: c.startSeconds + by, endSeconds: c.endSeconds + by }));
const timesAndText = (vtt: string): typeof EN => parseWebVtt(vtt).map(({ startSeconds, endSeconds, text }) => ({ startSeconds, endSeconds, text }));

describe('subtitle extraction with ffmpeg', () => {
  let fx: SubtitleMedia;
  let options: ExtractOptions;

  beforeAll(async () => {
    fx = await makeSubtitleMedia(await mkdtemp(path.join(tmpdir(), 'seekwell-subtitles-')));
    const setpriv = await execa('setpriv', ['--pdeathsig', 'KILL', '--', 'true'], { reject: false }).catch(() => undefined);
    options = { ffmpegPath: 'ffmpeg', launcher: setpriv?.exitCode === 0 ? ['setpriv', '--pdeathsig', 'KILL', '--'] : [], timeoutMs: 30_000 };
  });

  afterAll(async () => {
    if (fx) await rm(fx.dir, { recursive: true, force: true });
  });

  it('reads the embedded tracks ffprobe reports as SubtitleStreamInfo', async () => {
    const probe = await execa('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', fx.film]);
    const streams = (JSON.parse(probe.stdout) as { streams: { index: number; codec_type: string }[] }).streams;
    expect(streams.filter((s) => s.codec_type === 'subtitle').map(subtitleStreamOf)).toEqual([
      { index: 2, codec: 'subrip', language: 'eng', title: undefined, isDefault: true, forced: false },
      { index: 3, codec: 'ass', language: 'fra', title: 'Français', isDefault: false, forced: true },
    ]);
  });

  it('converts an embedded SRT track in Matroska', async () => {
    expect(timesAndText(await extractEmbeddedWebVtt(`file:${fx.film}`, 'matroska', 2, options))).toEqual(EN);
  });

  it('converts an embedded ASS track, override tags to WebVTT tags and \\N to a line break', async () => {
    expect(timesAndText(await extractEmbeddedWebVtt(`file:${fx.film}`, 'matroska', 3, options))).toEqual(FR);
  });

  it('converts an embedded mov_text track in MP4, without cues for the gaps between lines', async () => {
    expect(timesAndText(await extractEmbeddedWebVtt(`file:${fx.phone}`, 'mov', 2, options))).toEqual(EN);
  });

  it('keeps absolute times in a file starting at 10 s: a cue at 1 s comes out at 11 s', async () => {
    const start = await execa('ffprobe', ['-v', 'error', '-show_entries', 'format=start_time', '-of', 'csv=p=0', fx.late]);
    expect(Number(start.stdout)).toBe(10);
    expect(timesAndText(await extractEmbeddedWebVtt(`file:${fx.late}`, 'matroska', 2, options))).toEqual(shifted(EN, 10));
    expect(timesAndText(await extractEmbeddedWebVtt(`file:${fx.late}`, 'matroska', 3, options))).toEqual(shifted(FR, 10));
  });

  it('needs -copyts for that: without it ffmpeg rebases the cues to the file start', async () => {
    const args = embeddedWebVttArgs(`file:${fx.late}`, 'matroska', 2);
    expect(args).toContain('-copyts');
    const rebased = await execa('ffmpeg', args.filter((a) => a !== '-copyts'));
    expect(timesAndText(rebased.stdout)).toEqual(EN);
  });

  it('converts a sidecar SRT in UTF-8 with a BOM and CRLF line ends', async () => {
    expect((await readFile(fx.enSrt)).subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(timesAndText(await extractSidecarWebVtt(fx.enSrt, 'srt', options))).toEqual(EN);
  });

  it('converts a sidecar ASS file', async () => {
    expect(timesAndText(await extractSidecarWebVtt(fx.frAss, 'ass', options))).toEqual(FR);
  });

  it('converts a Latin-1 sidecar SRT (which ffmpeg refuses without -sub_charenc)', async () => {
    expect(timesAndText(await extractSidecarWebVtt(fx.ptSrtLatin1, 'srt', options))).toEqual([{ startSeconds: 2, endSeconds: 3, text: 'Olá, coração' }]);
  });

  it('converts a hand-written sidecar WebVTT file with hours, keeping its times', async () => {
    const vtt = path.join(fx.dir, 'film.de.vtt');
    await writeFile(vtt, 'WEBVTT\n\nNOTE hand-written\n\nc1\n01:00:00.000 --> 01:00:01.500 align:start\nSpät\n');
    expect(timesAndText(await extractSidecarWebVtt(vtt, 'vtt', options))).toEqual([{ startSeconds: 3600, endSeconds: 3601.5, text: 'Spät' }]);
  });

  it('finds the fixture sidecars next to film.mkv', async () => {
    const found = await findSidecarSubtitles(fx.dir, fx.film);
    expect(found.map((s) => [path.basename(s.path), s.format, s.language])).toEqual([
      ['film.de.vtt', 'vtt', 'de'], ['film.en.srt', 'srt', 'en'], ['film.fr.ass', 'ass', 'fr'], ['film.pt.srt', 'srt', 'pt'],
    ]);
  });

  it('fails with PIPELINE_FAILED naming the track when ffmpeg fails', async () => {
    const error = await extractEmbeddedWebVtt(`file:${fx.film}`, 'matroska', 9, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SeekwellError);
    expect(error).toMatchObject({ code: 'PIPELINE_FAILED', message: expect.stringMatching(/subtitle stream 9 of "film\.mkv".*exit code/) });
  });

  describe('on a source that never delivers (a FIFO nobody writes)', () => {
    let fifo: string;

    beforeAll(async () => {
      fifo = path.join(fx.dir, 'stuck.mkv');
      await execa('mkfifo', [fifo]);
    });

    it('kills ffmpeg when aborted and rejects only once it is gone', async () => {
      const controller = new AbortController();
      const extraction = extractEmbeddedWebVtt(`file:${fifo}`, 'matroska', 2, { ...options, signal: controller.signal }).catch((e: unknown) => e);
      const pid = await pidOf(fifo);
      expect(isRunning(pid)).toBe(true);
      controller.abort(new Error('the viewer left'));
      const error = await extraction;
      expect(error).toMatchObject({ code: 'PIPELINE_FAILED', message: expect.stringMatching(/subtitle stream 2 of "stuck\.mkv".*stopped: the viewer left/) });
      expect(isRunning(pid)).toBe(false);
    });

    it('kills ffmpeg at the timeout', async () => {
      const extraction = extractEmbeddedWebVtt(`file:${fifo}`, 'matroska', 2, { ...options, timeoutMs: 1500 }).catch((e: unknown) => e);
      const pid = await pidOf(fifo);
      const error = await extraction;
      expect(error).toMatchObject({ code: 'PIPELINE_FAILED', message: expect.stringMatching(/longer than 1500 ms/) });
      expect(isRunning(pid)).toBe(false);
    });

    it('passes on an abort reason that is already a SeekwellError', async () => {
      const reason = new SeekwellError('SHUTTING_DOWN', 'the server is stopping');
      const controller = new AbortController();
      const extraction = extractEmbeddedWebVtt(`file:${fifo}`, 'matroska', 2, { ...options, signal: controller.signal }).catch((e: unknown) => e);
      const pid = await pidOf(fifo);
      controller.abort(reason);
      expect(await extraction).toBe(reason);
      expect(isRunning(pid)).toBe(false);
    });

    it('starts nothing for a signal that is already aborted', async () => {
      const error = await extractSidecarWebVtt(fx.enSrt, 'srt', { ...options, signal: AbortSignal.abort(new Error('too late')) }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'PIPELINE_FAILED', message: expect.stringMatching(/stopped: too late/) });
    });
  });
});

// The pid of this test's process whose command line names `file` (setpriv execs ffmpeg in place).
async function pidOf(file: string): Promise<number> {
  for (let tries = 0; tries < 100; tries++) {
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
      if (cmdline.split('\0').includes(`file:${file}`) && cmdline.includes('ffmpeg')) return Number(entry);
    }
    await sleep(50);
  }
  throw new Error(`no ffmpeg reading ${file} appeared`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
