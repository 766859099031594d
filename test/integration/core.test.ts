// The core promise with the real ffmpeg and Shaka Packager: a 40 s 1080p clip with audio, played
// with jumps. Segments from different runs must be interchangeable on one timeline.
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClip } from '../support/media.js';
import { createSession, fetchBytes, sessionStatus, startTestServer, type SessionUrls, type TestServer } from '../support/server.js';
import { decodeAll, inspectSegment, probeFrames, X, type SegmentCheck } from '../support/verify.js';

const D = 4;
const AAC_FRAME = 1024 / 48_000;
const TRACKS = ['video-720p', 'audio-1'] as const;

describe('core pipeline on a 40 s 1080p clip', () => {
  let media: string;
  let srv: TestServer;
  let jumpy: SessionUrls;
  const inits = new Map<string, Buffer>();
  const jumpySegments = new Map<string, Buffer>();

  beforeAll(async () => {
    media = await mkdtemp(path.join(tmpdir(), 'seekwell-media-'));
    await makeClip(path.join(media, 'clip.mp4'), { seconds: 40, audioRate: 48_000 });
    // Another name for the same bytes: another title, so its segments are encoded afresh rather
    // than shared from the store.
    await copyFile(path.join(media, 'clip.mp4'), path.join(media, 'clip-copy.mp4'));
    srv = await startTestServer({ MEDIA_DIR: media });
    jumpy = await createSession(srv.base, 'clip.mp4');
  });

  afterAll(async () => {
    await srv?.close();
    await rm(media, { recursive: true, force: true });
  });

  const url = (s: SessionUrls, rest: string): string => `${srv.base}/sessions/${s.id}/${rest}`;
  const segmentName = (track: string, n: number): string => `segments/${track}-${String(n).padStart(5, '0')}.m4s`;

  async function fetchSegment(s: SessionUrls, track: string, n: number): Promise<Buffer> {
    return fetchBytes(url(s, segmentName(track, n)));
  }

  async function expectTiming(track: string, n: number, bytes: Buffer): Promise<SegmentCheck> {
    const init = inits.get(track)!;
    const check = inspectSegment(init, bytes);
    if (track === 'audio-1') expect(Math.abs(check.firstPresentation - (n - 1) * D)).toBeLessThanOrEqual(AAC_FRAME);
    else expect(check.firstPresentation).toBeCloseTo((n - 1) * D, 6);
    const decoded = await probeFrames(path.join(srv.workDir, `probe-${track}-${n}.mp4`), Buffer.concat([init, bytes]));
    expect(decoded.stderr).toBe('');
    // ffprobe applies the edit list itself: an independent reading of the same presentation time.
    expect(Math.abs(decoded.pts[0]! - X - check.firstPresentation)).toBeLessThan(0.001);
    return check;
  }

  it('answers the manifest at once with every segment listed', async () => {
    const started = Date.now();
    const response = await fetch(`${srv.base}${jumpy.dash}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/dash+xml');
    expect(Date.now() - started).toBeLessThan(2000);
    const mpd = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(await response.text()).MPD;
    expect(mpd.mediaPresentationDuration).toBe('PT40S');
    const status = await sessionStatus(srv.base, jumpy.id);
    expect(status.segmentCount).toBe(10);
    expect(status.segments['video-720p']).toEqual([]);
  });

  it('serves init, segments 1 and 2, then restarts for a jump to 8 and for 3 behind it', async () => {
    for (const track of TRACKS) inits.set(track, await fetchBytes(url(jumpy, `init/${track}.mp4`)));
    for (const n of [1, 2, 8, 3]) {
      for (const track of TRACKS) {
        const bytes = await fetchSegment(jumpy, track, n);
        jumpySegments.set(`${track}-${n}`, bytes);
        await expectTiming(track, n, bytes);
      }
    }
    const status = await sessionStatus(srv.base, jumpy.id);
    const reasons = status.restartLog.map((r: { segment: number; reason: string }) => `${r.segment}:${r.reason}`);
    expect(reasons).toEqual(['8:cheaper-than-waiting', '3:behind-every-run']);
    expect(status.run.startSegment).toBe(3);
  });

  it('makes segment 8 in a restarted run identical in timing to segment 8 from a run from 0', async () => {
    const fromZero = await createSession(srv.base, 'clip-copy.mp4');
    for (let n = 1; n <= 8; n++) {
      for (const track of TRACKS) {
        const bytes = await fetchSegment(fromZero, track, n);
        if (n !== 8) continue;
        const a = inspectSegment(inits.get(track)!, jumpySegments.get(`${track}-8`)!);
        const b = inspectSegment(await fetchBytes(url(fromZero, `init/${track}.mp4`)), bytes);
        expect({ tfdt: a.baseMediaDecodeTime, samples: a.sampleCount, duration: a.duration })
          .toEqual({ tfdt: b.baseMediaDecodeTime, samples: b.sampleCount, duration: b.duration });
      }
    }
    const status = await sessionStatus(srv.base, fromZero.id);
    expect(status.restarts).toBe(0);
  });

  it('splices segments from three runs into tracks that decode cleanly and last as long as the source', async () => {
    for (const track of TRACKS) {
      const parts = [inits.get(track)!];
      let samples = 0;
      let duration = 0;
      for (let n = 1; n <= 10; n++) {
        const bytes = jumpySegments.get(`${track}-${n}`) ?? (await fetchSegment(jumpy, track, n));
        const check = await expectTiming(track, n, bytes);
        samples += check.sampleCount;
        duration += check.duration / check.timescale;
        parts.push(bytes);
      }
      const stderr = await decodeAll(path.join(srv.workDir, `all-${track}.mp4`), Buffer.concat(parts));
      expect(stderr).toBe('');
      if (track === 'audio-1') expect(Math.abs(duration - 40)).toBeLessThanOrEqual(AAC_FRAME);
      else {
        expect(samples).toBe(1200);
        expect(Math.abs(duration - 40)).toBeLessThanOrEqual(1 / 30);
      }
    }
  });
});
