// A film-shaped source through the renditions: a 720p picture (ladder 360p/480p/720p), a 5.1 English
// track whose only sound is in the centre channel, a French stereo track at 44.1 kHz, an embedded
// English SRT and a French sidecar file, in a Matroska file whose timestamps start at 10 s.
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession, fetchBytes, processAlive, sessionStatus, startTestServer, type SessionUrls, type TestServer } from '../support/server.js';
import { inspectSegment } from '../support/verify.js';

const D = 4;
const SECONDS = 24;
const EMBEDDED_SRT = '1\n00:00:05,000 --> 00:00:07,000\nEmbedded five\n';
// Times as written in a sidecar: the film's own clock, which starts at 0 whatever its timestamps.
const SIDECAR_SRT = '1\n00:00:01,000 --> 00:00:02,000\nSidecar one\n\n2\n00:00:11,000 --> 00:00:13,000\nSidecar eleven\n';

async function makeFilm(dir: string): Promise<void> {
  await writeFile(path.join(dir, 'embedded.srt'), EMBEDDED_SRT);
  await execa('ffmpeg', ['-nostdin', '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=25:duration=${SECONDS}`,
    '-f', 'lavfi', '-i', `sine=frequency=300:sample_rate=48000:duration=${SECONDS}`,
    '-f', 'lavfi', '-i', `sine=frequency=900:sample_rate=44100:duration=${SECONDS}`,
    '-i', path.join(dir, 'embedded.srt'),
    '-filter_complex', '[1]pan=5.1|FL=0*c0|FR=0*c0|FC=c0|LFE=0*c0|BL=0*c0|BR=0*c0[surround];[2]pan=stereo|FL=c0|FR=c0[french]',
    '-map', '0:v', '-map', '[surround]', '-map', '[french]', '-map', '3',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-pix_fmt', 'yuv420p',
    // FLAC: no encoder priming, so every track starts exactly at 10 s.
    '-c:a', 'flac', '-c:s', 'srt',
    '-metadata:s:a:0', 'language=eng', '-metadata:s:a:0', 'title=Main', '-metadata:s:a:1', 'language=fra', '-metadata:s:s:0', 'language=eng',
    '-disposition:a:0', 'default', '-disposition:a:1', '0',
    '-output_ts_offset', '10', '-f', 'matroska', path.join(dir, 'film.mkv')]);
  await writeFile(path.join(dir, 'film.fr.srt'), SIDECAR_SRT);
}

const segmentName = (id: string, n: number): string => `${id}-${String(n).padStart(5, '0')}.m4s`;

describe('renditions of a film with two audio tracks and two subtitle tracks', () => {
  let media: string;
  let srv: TestServer;

  beforeAll(async () => {
    media = await mkdtemp(path.join(tmpdir(), 'seekwell-media-'));
    await makeFilm(media);
    for (const copy of ['restart.mkv', 'zero.mkv', 'switch.mkv']) await copyFile(path.join(media, 'film.mkv'), path.join(media, copy));
    // A short window: a run pauses (alive, 0 CPU) two segments ahead instead of finishing the clip.
    srv = await startTestServer({ MEDIA_DIR: media, BUFFER_AHEAD_SECONDS: '8' });
  });

  afterAll(async () => {
    await srv?.close();
    await rm(media, { recursive: true, force: true });
  });

  const url = (s: SessionUrls, file: string): string => `${srv.base}/sessions/${s.id}/${file}`;
  // init + the given segments of one rendition, as one decodable file.
  const track = async (s: SessionUrls, id: string, numbers: number[]): Promise<Buffer> =>
    Buffer.concat([await fetchBytes(url(s, `init/${id}.mp4`)), ...(await Promise.all(numbers.map((n) => fetchBytes(url(s, `segments/${segmentName(id, n)}`)))))]);

  it('lists the audio and subtitle tracks in /api/media, with languages, titles and the default', async () => {
    const entry = ((await (await fetch(`${srv.base}/api/media`)).json()) as Record<string, any>[]).find((e) => e.path === 'film.mkv')!;
    expect(entry.audio.map((a: Record<string, unknown>) => [a.channels, a.language, a.title, a.default])).toEqual([[6, 'eng', 'Main', true], [2, 'fra', undefined, false]]);
    expect(entry.subtitles.map((t: Record<string, unknown>) => [t.source, t.language, t.offered])).toEqual([['embedded', 'eng', true], ['sidecar', 'fr', true]]);
  });

  it('offers the ladder up to the source, every audio track (5.1 twice) and both subtitle tracks', async () => {
    const s = await createSession(srv.base, 'film.mkv');
    const status = await sessionStatus(srv.base, s.id);
    expect(status.renditions.map((r: Record<string, unknown>) => [r.id, r.kind, r.label ?? null, r.isDefault ?? null])).toEqual([
      ['video-360p', 'video', null, null], ['video-480p', 'video', null, null], ['video-720p', 'video', null, null],
      ['audio-1', 'audio', 'Main (stereo)', true], ['audio-1-6ch', 'audio', 'Main (5.1)', false], ['audio-2', 'audio', 'French', false],
      ['text-1', 'text', 'English', false], ['text-2', 'text', 'French', false],
    ]);
    // Nothing is encoded before it is asked for.
    expect(Object.values(status.segments).flat()).toEqual([]);
    expect(status.renditions.flatMap((r: Record<string, any>) => r.runs)).toEqual([]);
  });

  it('downmixes 5.1 to stereo with the centre channel in it, and keeps all six channels in the 5.1 rendition', async () => {
    const s = await createSession(srv.base, 'film.mkv');
    const level = async (file: string, filter: string): Promise<number> => {
      const out = await execa('ffmpeg', ['-nostdin', '-hide_banner', '-i', file, '-af', `${filter}volumedetect`, '-f', 'null', '-'], { all: true });
      const match = /mean_volume: (-?[\d.]+|-inf) dB/.exec(out.all ?? '');
      return match?.[1] === '-inf' ? -Infinity : Number(match?.[1]);
    };
    // The check can fail: the source's front pair alone (what dropping channels would keep) is silent.
    expect(await level(path.join(media, 'film.mkv'), 'pan=stereo|FL=FL|FR=FR,')).toBeLessThan(-80);
    const stereo = path.join(media, 'stereo.mp4');
    await writeFile(stereo, await track(s, 'audio-1', [1, 2]));
    expect(await level(stereo, '')).toBeGreaterThan(-30);
    const surround = path.join(media, 'surround.mp4');
    await writeFile(surround, await track(s, 'audio-1-6ch', [1, 2]));
    const probe = await execa('ffprobe', ['-v', 'error', '-show_entries', 'stream=channels,channel_layout', '-of', 'csv=p=0', surround]);
    expect(probe.stdout.trim()).toBe('6,5.1');
    expect(await level(surround, 'pan=mono|c0=FC,')).toBeGreaterThan(-30);
    expect(await level(surround, 'pan=mono|c0=FL,')).toBeLessThan(-80);
  });

  // Timing and sample counts, not bytes: the AAC and x264 encoders start from a different state
  // after a cut, so the coded bytes differ while every sample sits at the same time.
  it('makes segments 4 and 5 of the French track and of 360p in a run started at 4 match a run from 0', async () => {
    const late = await createSession(srv.base, 'restart.mkv');
    const zero = await createSession(srv.base, 'zero.mkv');
    for (const id of ['video-360p', 'audio-2']) {
      const lateInit = await fetchBytes(url(late, `init/${id}.mp4`));
      const lateSegments = await Promise.all([4, 5].map((n) => fetchBytes(url(late, `segments/${segmentName(id, n)}`))));
      const runs = (await sessionStatus(srv.base, late.id)).renditions.find((r: Record<string, unknown>) => r.id === id).runs;
      expect(runs.map((r: Record<string, unknown>) => r.startSegment)).toEqual([4]);
      const zeroInit = await fetchBytes(url(zero, `init/${id}.mp4`));
      for (const n of [1, 2, 3]) await fetchBytes(url(zero, `segments/${segmentName(id, n)}`));
      for (const [i, n] of [4, 5].entries()) {
        const a = inspectSegment(lateInit, lateSegments[i]!);
        const b = inspectSegment(zeroInit, await fetchBytes(url(zero, `segments/${segmentName(id, n)}`)));
        expect({ id, n, tfdt: a.baseMediaDecodeTime, samples: a.sampleCount, duration: a.duration })
          .toEqual({ id, n, tfdt: b.baseMediaDecodeTime, samples: b.sampleCount, duration: b.duration });
      }
    }
  });

  it('cuts every video rung at the same boundaries, so a player can switch at any segment', async () => {
    const s = await createSession(srv.base, 'zero.mkv');
    const timing = async (id: string, n: number): Promise<Record<string, number>> => {
      const c = inspectSegment(await fetchBytes(url(s, `init/${id}.mp4`)), await fetchBytes(url(s, `segments/${segmentName(id, n)}`)));
      return { tfdt: c.baseMediaDecodeTime / c.timescale, first: c.firstPresentation, duration: c.duration / c.timescale, samples: c.sampleCount };
    };
    for (const n of [1, 2, 6]) {
      const reference = await timing('video-360p', n);
      expect(reference.first).toBeCloseTo((n - 1) * D, 6);
      for (const id of ['video-480p', 'video-720p']) expect({ id, n, ...(await timing(id, n)) }).toEqual({ id, n, ...reference });
    }
  });

  it('stops the previous quality\'s encoder when a viewer switches, and keeps nothing else running', async () => {
    const s = await createSession(srv.base, 'switch.mkv');
    await fetchBytes(url(s, 'init/video-720p.mp4'));
    await fetchBytes(url(s, `segments/${segmentName('video-720p', 1)}`));
    const before = await sessionStatus(srv.base, s.id);
    const old = before.renditions.find((r: Record<string, unknown>) => r.id === 'video-720p').runs[0];
    expect(old.pids.ffmpeg).toBeGreaterThan(0);
    await fetchBytes(url(s, 'init/video-360p.mp4'));
    await fetchBytes(url(s, `segments/${segmentName('video-360p', 2)}`));
    // The old quality is left once it has not been asked for in SWITCH_GRACE_MS (10 s) while the
    // new one is: the player keeps playing the new one.
    expect(processAlive(old.pids.ffmpeg)).toBe(true);
    for (let n = 3; n <= 5; n++) {
      await new Promise((r) => setTimeout(r, 3500));
      await fetchBytes(url(s, `segments/${segmentName('video-360p', n)}`));
    }
    const deadline = Date.now() + 5000;
    while (processAlive(old.pids.ffmpeg) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(processAlive(old.pids.ffmpeg)).toBe(false);
    expect(processAlive(old.pids.packager)).toBe(false);
    const after = await sessionStatus(srv.base, s.id);
    const byId = (id: string): Record<string, any> => after.renditions.find((r: Record<string, unknown>) => r.id === id);
    expect([byId('video-720p').watched, byId('video-720p').runs.length]).toEqual([false, 0]);
    expect(after.segments['video-360p']).toEqual(expect.arrayContaining([2, 3, 4, 5]));
    // Audio was never asked for: no audio run, no audio segment.
    expect(['audio-1', 'audio-1-6ch', 'audio-2'].map((id) => [byId(id).runs.length, after.segments[id].length])).toEqual([[0, 0], [0, 0], [0, 0]]);
  });

  it('serves the embedded subtitles on the content timeline and the sidecar cut at the segment boundaries', async () => {
    const s = await createSession(srv.base, 'film.mkv');
    const whole = await (await fetch(url(s, 'text/text-1.vtt'))).text();
    // The file's timestamps start at 10 s; the cue is 5 s into the film.
    expect(whole).toContain('00:00:05.000 --> 00:00:07.000\nEmbedded five');
    const segment = async (n: number): Promise<{ type: string | null; text: string }> => {
      const response = await fetch(url(s, `segments/text-2-${String(n).padStart(5, '0')}.vtt`));
      expect(response.status).toBe(200);
      return { type: response.headers.get('content-type'), text: await response.text() };
    };
    const [first, third, fourth, fifth] = await Promise.all([1, 3, 4, 5].map(segment));
    expect(first!.type).toBe('text/vtt; charset=utf-8');
    expect(first!.text.startsWith('WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:360000,LOCAL:00:00:00.000\n')).toBe(true);
    expect(first!.text).toContain('00:00:01.000 --> 00:00:02.000\nSidecar one');
    // 11-13 s crosses the boundary at 12 s: in segments 3 and 4, not in 5.
    for (const s of [third!, fourth!]) expect(s.text).toContain('00:00:11.000 --> 00:00:13.000\nSidecar eleven');
    expect(fifth!.text).not.toContain('Sidecar');
    const playlist = await (await fetch(url(s, 'text-2.m3u8'))).text();
    expect(playlist).toContain('segments/text-2-00006.vtt');
    expect(playlist).not.toContain('EXT-X-MAP');
    expect((await fetch(url(s, `segments/${segmentName('text-2', 1)}`))).status).toBe(404);
    expect((await fetch(url(s, 'text/audio-1.vtt'))).status).toBe(404);
  });
});
