// Stream copy (issue 10) with the real ffmpeg and packager, on H.264 + AAC-LC sources shaped like
// real files (fixtures/copy.ts): irregular GOPs with B-frames and an edit list in MP4, the same
// streams in Matroska and in MPEG-TS, and 8.32 s GOPs.
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COPY_BOUNDARIES, LONG_GOP_BOUNDARIES, makeCopySources } from '../../fixtures/copy.js';
import { createSession, fetchBytes, sessionStatus, startTestServer, type SessionUrls, type TestServer } from '../support/server.js';
import { inspectSegment } from '../support/verify.js';

const AAC_FRAME = 1024 / 48_000;
const SOURCES = ['copy.mp4', 'copy.mkv', 'copy.ts', 'long-gop.mp4'] as const;
const segmentName = (id: string, n: number): string => `${id}-${String(n).padStart(5, '0')}.m4s`;

describe('stream copy', () => {
  let media: string;
  let srv: TestServer;

  beforeAll(async () => {
    media = await mkdtemp(path.join(tmpdir(), 'seekwell-copy-'));
    await makeCopySources(media);
    // Separate files are separate titles: one is started late, the other from 0.
    for (const name of SOURCES) {
      for (const prefix of ['late-', 'zero-']) await copyFile(path.join(media, name), path.join(media, prefix + name));
    }
    // VIDEO_LADDER=240,360: a 240p encode under the 360p original. A short window keeps runs small.
    srv = await startTestServer({ MEDIA_DIR: media, VIDEO_LADDER: '240,360', BUFFER_AHEAD_SECONDS: '8', COPY: 'auto' });
  });

  afterAll(async () => {
    await srv?.close();
    await rm(media, { recursive: true, force: true });
  });

  const url = (s: SessionUrls, file: string): string => `${srv.base}/sessions/${s.id}/${file}`;
  const segment = (s: SessionUrls, id: string, n: number): Promise<Buffer> => fetchBytes(url(s, `segments/${segmentName(id, n)}`));
  const init = (s: SessionUrls, id: string): Promise<Buffer> => fetchBytes(url(s, `init/${id}.mp4`));

  it('offers the source H.264 as `original` over the encoded rung, copies MP4 AAC, and says why Matroska\'s is encoded', async () => {
    const modes = async (name: string): Promise<Record<string, unknown>> => {
      const status = await sessionStatus(srv.base, (await createSession(srv.base, name)).id);
      return { renditions: status.renditions.map((r: Record<string, unknown>) => `${r.id}:${r.mode}`), copy: status.copy };
    };
    expect(await modes('copy.mp4')).toEqual({
      renditions: ['video-240p:encode', 'original:copy', 'audio-1:copy'], copy: { video: { copy: true }, audio: [{ copy: true }] },
    });
    for (const name of ['copy.mkv', 'copy.ts']) {
      expect(await modes(name)).toEqual({
        renditions: ['video-240p:encode', 'original:copy', 'audio-1:encode'],
        copy: { video: { copy: true }, audio: [{ copy: false, reason: 'its timestamps (1/1000 s) are coarser than its samples' }] },
      });
    }
  });

  it('lists the key-frame boundaries in the MPD\'s SegmentTimeline, the same for every representation', async () => {
    const s = await createSession(srv.base, 'copy.mp4');
    const mpd = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (n) => ['AdaptationSet', 'Representation', 'S'].includes(n) })
      .parse(await (await fetch(`${srv.base}${s.dash}`)).text()) as Record<string, any>;
    const timelines = mpd.MPD.Period.AdaptationSet.flatMap((set: any) => set.Representation.map((r: any) => r.SegmentTemplate.SegmentTimeline.S));
    expect(timelines).toHaveLength(3);
    for (const runs of timelines) {
      const starts: number[] = [];
      let t = Number(runs[0].t);
      for (const run of runs) {
        for (let i = 0; i <= Number(run.r ?? 0); i++, t += Number(run.d)) starts.push(Math.round((t / 90_000 - 4) * 1e6) / 1e6);
      }
      expect(starts).toEqual(COPY_BOUNDARIES);
    }
  });

  it('starts every copied segment on its key frame and keeps audio within one AAC frame of it', async () => {
    const s = await createSession(srv.base, 'copy.mp4');
    const [videoInit, audioInit] = await Promise.all([init(s, 'original'), init(s, 'audio-1')]);
    for (const [i, start] of COPY_BOUNDARIES.entries()) {
      const video = inspectSegment(videoInit, await segment(s, 'original', i + 1));
      const audio = inspectSegment(audioInit, await segment(s, 'audio-1', i + 1));
      const end = COPY_BOUNDARIES[i + 1] ?? 30;
      expect({ i, start: video.firstPresentation, frames: video.sampleCount }).toEqual({ i, start: expect.closeTo(start, 5), frames: Math.round((end - start) * 25) });
      // The first audio segment also holds the AAC priming frame from before 0.
      expect(Math.abs(audio.firstPresentation - video.firstPresentation), `segment ${i + 1}`).toBeLessThanOrEqual(AAC_FRAME + 1e-6);
    }
  });

  it('cuts 8.32 s GOPs at their key frames: segments as long as the GOP', async () => {
    const s = await createSession(srv.base, 'long-gop.mp4');
    const status = await sessionStatus(srv.base, s.id);
    expect(status.segmentCount).toBe(LONG_GOP_BOUNDARIES.length);
    const videoInit = await init(s, 'original');
    for (const [i, start] of LONG_GOP_BOUNDARIES.entries()) {
      expect(inspectSegment(videoInit, await segment(s, 'original', i + 1)).firstPresentation).toBeCloseTo(start, 5);
    }
  });

  // Nothing is encoded in a copy, so nothing excuses a difference: a run started at segment k
  // writes the very bytes a run from 0 writes (the packager's fragment counter renumbered).
  it.each(SOURCES)('makes copied segments of %s in a run started far in byte-identical to a run from 0', async (name) => {
    const k = name === 'long-gop.mp4' ? 3 : 5;
    const late = await createSession(srv.base, `late-${name}`);
    const zero = await createSession(srv.base, `zero-${name}`);
    const copied = name.endsWith('.mp4') ? ['original', 'audio-1'] : ['original'];
    for (const id of ['original', 'audio-1']) {
      const lateSegments = [await segment(late, id, k), await segment(late, id, k + 1)];
      const runs = (await sessionStatus(srv.base, late.id)).renditions.find((r: Record<string, unknown>) => r.id === id).runs;
      expect(runs.map((r: Record<string, unknown>) => r.startSegment)).toEqual([k]);
      for (let n = 1; n < k; n++) await segment(zero, id, n);
      const zeroSegments = [await segment(zero, id, k), await segment(zero, id, k + 1)];
      const [lateInit, zeroInit] = [await init(late, id), await init(zero, id)];
      if (copied.includes(id)) {
        expect({ id, init: lateInit.equals(zeroInit), segments: lateSegments.map((b, i) => b.equals(zeroSegments[i]!)) })
          .toEqual({ id, init: true, segments: [true, true] });
      } else {
        // Encoded audio (Matroska's 1 ms clock): same samples at the same times.
        for (const [i, bytes] of lateSegments.entries()) {
          const [a, b] = [inspectSegment(lateInit, bytes), inspectSegment(zeroInit, zeroSegments[i]!)];
          expect({ id, tfdt: a.baseMediaDecodeTime, samples: a.sampleCount }).toEqual({ id, tfdt: b.baseMediaDecodeTime, samples: b.sampleCount });
        }
      }
    }
  });

  it('forces the encoded rung\'s key frames on the copy\'s boundaries, so a player can switch at any segment', async () => {
    const s = await createSession(srv.base, 'copy.mp4');
    const [copyInit, encodedInit] = await Promise.all([init(s, 'original'), init(s, 'video-240p')]);
    for (const n of [1, 2, 3, 4]) {
      const copy = inspectSegment(copyInit, await segment(s, 'original', n));
      const encoded = inspectSegment(encodedInit, await segment(s, 'video-240p', n));
      expect({ n, start: encoded.firstPresentation, frames: encoded.sampleCount })
        .toEqual({ n, start: expect.closeTo(copy.firstPresentation, 3), frames: copy.sampleCount });
    }
  });

  // The packager starts segments on IDR pictures only: a copy of an open GOP came out as one
  // segment for the whole title, and every request failed.
  it('offers no copy of an open-GOP H.264 source, and plays it encoded', async () => {
    const s = await createSession(srv.base, 'open-gop.mp4');
    const status = await sessionStatus(srv.base, s.id);
    expect(status.copy.video).toEqual({ copy: false, reason: expect.stringMatching(/not IDR pictures \(an open GOP\)/) });
    expect(status.renditions.map((r: Record<string, unknown>) => `${r.id}:${r.mode}`)).toEqual(['video-240p:encode', 'video-360p:encode', 'audio-1:copy']);
    const video = inspectSegment(await init(s, 'video-360p'), await segment(s, 'video-360p', 2));
    expect(video.firstPresentation).toBeCloseTo(4, 3);
  });

  it('copies nothing with COPY=never: every rendition encoded on uniform 4 s segments', async () => {
    const never = await startTestServer({ MEDIA_DIR: media, VIDEO_LADDER: '240,360', COPY: 'never' });
    try {
      const s = await createSession(never.base, 'copy.mp4');
      const status = await sessionStatus(never.base, s.id);
      expect(status.renditions.map((r: Record<string, unknown>) => `${r.id}:${r.mode}`)).toEqual(['video-240p:encode', 'video-360p:encode', 'audio-1:encode']);
      expect(status.copy.video).toEqual({ copy: false, reason: 'COPY=never' });
      expect(await (await fetch(`${never.base}${s.dash}`)).text()).toContain('duration="360000"');
    } finally {
      await never.close();
    }
  });
});
