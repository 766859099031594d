// Restart-vs-run-from-0 on the sources that break naive pipelines: raw MPEG-TS whose timestamps
// start at 1.4 s (remuxed once at ingest), and 29.97 fps video with 44.1 kHz audio.
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClip, type ClipOptions } from '../support/media.js';
import { createSession, fetchBytes, sessionStatus, startTestServer, type SessionUrls, type TestServer } from '../support/server.js';
import { inspectSegment } from '../support/verify.js';

const D = 4;
const TRACKS = ['video-720p', 'audio-1'] as const;

const SOURCES: { name: string; file: string; clip: ClipOptions; frame: number }[] = [
  { name: 'an MPEG-TS source starting at 1.4 s', file: 'late.ts', frame: 1 / 30,
    clip: { seconds: 24, width: 1280, height: 720, audioRate: 48_000, format: 'mpegts', startSeconds: 1.4 } },
  { name: 'a 29.97 fps source with 44.1 kHz audio', file: 'ntsc.mkv', frame: 1001 / 30000,
    clip: { seconds: 24, width: 1280, height: 720, fps: '30000/1001', audioRate: 44_100, format: 'matroska' } },
];

describe.each(SOURCES)('restarts on $name', ({ file, clip, frame }) => {
  let media: string;
  let srv: TestServer;

  beforeAll(async () => {
    media = await mkdtemp(path.join(tmpdir(), 'seekwell-media-'));
    await makeClip(path.join(media, file), clip);
    await copyFile(path.join(media, file), path.join(media, `copy-${file}`));
    srv = await startTestServer({ MEDIA_DIR: media });
  });

  afterAll(async () => {
    await srv?.close();
    await rm(media, { recursive: true, force: true });
  });

  async function segments(s: SessionUrls, numbers: number[]): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    for (const track of TRACKS) out.set(`${track}-init`, await fetchBytes(`${srv.base}/sessions/${s.id}/init/${track}.mp4`));
    for (const n of numbers) {
      for (const track of TRACKS) {
        out.set(`${track}-${n}`, await fetchBytes(`${srv.base}/sessions/${s.id}/segments/${track}-${String(n).padStart(5, '0')}.m4s`));
      }
    }
    return out;
  }

  it('has the source start time the test intends', async () => {
    const probe = await execa('ffprobe', ['-v', 'error', '-show_entries', 'format=start_time', '-of', 'csv=p=0', path.join(media, file)]);
    // The audio's AAC priming starts 21 ms before the video.
    expect(Number(probe.stdout)).toBeCloseTo(clip.startSeconds ?? 0, 1);
  });

  it('makes segments 4 and 5 of a run started at segment 4 match those of a run from 0', async () => {
    const started = await createSession(srv.base, file);
    // A copy is another title: encoded afresh, not shared from the first session's store.
    const fromZero = await createSession(srv.base, `copy-${file}`);
    const late = await segments(started, [4, 5]);
    expect((await sessionStatus(srv.base, started.id)).run.startSegment).toBe(4);
    const early = await segments(fromZero, [1, 2, 3, 4, 5]);
    for (const track of TRACKS) {
      for (const n of [4, 5]) {
        const a = inspectSegment(late.get(`${track}-init`)!, late.get(`${track}-${n}`)!);
        const b = inspectSegment(early.get(`${track}-init`)!, early.get(`${track}-${n}`)!);
        expect({ tfdt: a.baseMediaDecodeTime, samples: a.sampleCount, duration: a.duration })
          .toEqual({ tfdt: b.baseMediaDecodeTime, samples: b.sampleCount, duration: b.duration });
        // The first frame is the first at or after the boundary: exact on a 30 fps grid, within a frame at 29.97.
        const tolerance = track === 'audio-1' ? 1024 / 48_000 : frame;
        expect(a.firstPresentation).toBeGreaterThanOrEqual((n - 1) * D - 1e-6);
        expect(a.firstPresentation - (n - 1) * D).toBeLessThanOrEqual(tolerance);
      }
      for (const n of [1, 2, 3]) {
        const c = inspectSegment(early.get(`${track}-init`)!, early.get(`${track}-${n}`)!);
        expect(c.firstPresentation - (n - 1) * D).toBeLessThanOrEqual(track === 'audio-1' ? 1024 / 48_000 : frame);
        expect(c.firstPresentation).toBeGreaterThanOrEqual((n - 1) * D - 1e-6);
      }
    }
  });
});
