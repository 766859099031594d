import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaInfo } from '../../../src/media/probe.js';
import { openMediaSource, type SourceDeps } from '../../../src/media/source.js';
import { mediaInfo, trackAnalysis } from '../../support/media-info.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'seekwell-source-'));
  await writeFile(path.join(dir, 'song.mp3'), 'not read: the probe is a stand-in');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// An MP3 whose gapless header says its audio starts 25 ms in, and its Matroska copy, which lost it.
function depsFor(original: MediaInfo, copy: MediaInfo): SourceDeps {
  return {
    mediaDir: dir,
    probe: async (absolute) => (absolute.endsWith('.mkv') ? copy : original),
    remux: async () => path.join(dir, 'copy.mkv'),
    analyse: async (info) => trackAnalysis(info),
  };
}

describe('openMediaSource', () => {
  const original = { ...mediaInfo({ durationSeconds: 10, audio: [{ index: 0, startSeconds: 0.025057 }] }), video: undefined, needsRemux: true, demuxer: 'mp3' };
  const copy = { ...mediaInfo({ durationSeconds: 10.031, absolute: path.join('/x', 'copy.mkv'), audio: [{ index: 0, startSeconds: 0 }] }), video: undefined, demuxer: 'matroska' };

  it('keeps the original start of a track whose remuxed copy starts earlier (an MP3 encoder delay)', async () => {
    const source = await openMediaSource(depsFor(original, copy), 'song.mp3');
    expect(source.demuxer).toBe('matroska');
    expect(source.tracks.extents).toEqual([{ index: 0, startSeconds: 0.025057, endSeconds: 10.031, lastSeconds: 10.031 }]);
  });

  it('keeps the copy start when the original says nothing later', async () => {
    const plain = { ...original, audio: [{ ...original.audio[0]!, startSeconds: 0 }] };
    const source = await openMediaSource(depsFor(plain, copy), 'song.mp3');
    expect(source.tracks.extents[0]?.startSeconds).toBe(0);
  });
});

describe('openMediaSource and the key-frame index', () => {
  const film = mediaInfo({ absolute: path.join('/x', 'film.mp4') });
  const deps = (keyFrames: SourceDeps['keyFrames']): SourceDeps => ({
    mediaDir: dir, probe: async () => film, remux: async () => '', analyse: async (info) => trackAnalysis(info), keyFrames,
  });
  const index = (times: number[], idr: boolean | undefined = true) => async () => ({ times, source: 'mp4' as const, elapsedMs: 1, idr });

  beforeAll(async () => {
    await writeFile(path.join(dir, 'film.mp4'), 'not read: the probe is a stand-in');
  });

  it('reads the key frames of an H.264 video', async () => {
    const source = await openMediaSource(deps(index([0, 2, 4])), 'film.mp4');
    expect([source.keyFrames, source.keyFramesMissing]).toEqual([[0, 2, 4], undefined]);
  });

  it('reads none for other codecs, nor without an indexer (COPY=never)', async () => {
    let asked = 0;
    const counting = async () => { asked++; return index([0])(); };
    const hevc = { ...deps(counting), probe: async () => ({ ...film, video: { ...film.video!, codec: 'hevc' } }) };
    expect((await openMediaSource(hevc, 'film.mp4')).keyFrames).toBeUndefined();
    expect((await openMediaSource(deps(undefined), 'film.mp4')).keyFrames).toBeUndefined();
    expect(asked).toBe(0);
  });

  it('gives no key frames for an open GOP, and says why', async () => {
    const source = await openMediaSource(deps(index([0, 2, 4], false)), 'film.mp4');
    expect([source.keyFrames, source.keyFramesMissing]).toEqual([undefined, expect.stringMatching(/not IDR pictures \(an open GOP\)/)]);
  });

  it('passes on why there are none (a scan still running), and opens the source all the same', async () => {
    const source = await openMediaSource(deps(async () => ({ missing: 'the key-frame scan takes over 1000 ms' })), 'film.mp4');
    expect([source.keyFrames, source.keyFramesMissing]).toEqual([undefined, 'the key-frame scan takes over 1000 ms']);
  });
});
