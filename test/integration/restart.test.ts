// Issue 11 (part 3) and issue 12 (defect 4): segments outlive the server process that made them
// (WORK_DIR/store), and a server never removes the folder of another one that is alive.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClip } from '../support/media.js';
import { createSession, metricSample, processAlive, sessionStatus, startServerProcess, type ServerProcess } from '../support/server.js';
import { inspectSegment } from '../support/verify.js';

const TRACKS = ['video-360p', 'audio-1'] as const;
const segmentName = (track: string, n: number): string => `${track}-${String(n).padStart(5, '0')}.m4s`;

let media: string;
const started: ServerProcess[] = [];

beforeAll(async () => {
  media = await mkdtemp(path.join(tmpdir(), 'seekwell-media-'));
  await makeClip(path.join(media, 'clip.mp4'), { seconds: 60, width: 640, height: 360, audioRate: 48_000 });
});

afterAll(async () => {
  for (const server of started) if (server.child.exitCode === null) server.child.kill('SIGKILL');
  await rm(media, { recursive: true, force: true });
});

async function start(workDir: string): Promise<ServerProcess> {
  const server = await startServerProcess({ MEDIA_DIR: media, WORK_DIR: workDir, VIDEO_LADDER: '360' });
  started.push(server);
  return server;
}

async function stop(server: ServerProcess): Promise<number | null> {
  server.child.kill('SIGTERM');
  return server.exited;
}

interface Served {
  bytes: Buffer;
  etag: string | null;
}

async function get(url: string): Promise<Served> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return { bytes: Buffer.from(await response.arrayBuffer()), etag: response.headers.get('etag') };
}

// The inits and the first segments of both tracks, by URL path below the session.
async function firstSegments(base: string, sessionId: string): Promise<Map<string, Served>> {
  const served = new Map<string, Served>();
  for (const track of TRACKS) {
    for (const rest of [`init/${track}.mp4`, `segments/${segmentName(track, 1)}`, `segments/${segmentName(track, 2)}`]) {
      served.set(rest, await get(`${base}/sessions/${sessionId}/${rest}`));
    }
  }
  return served;
}

describe('the segment store across a restart', () => {
  it('serves the same bytes after SIGTERM and a new server on the same WORK_DIR, without encoding anything', async () => {
    const workDir = await mkdtemp(path.join(tmpdir(), 'seekwell-restart-'));
    const first = await start(workDir);
    const session = await createSession(first.base, 'clip.mp4');
    const before = await firstSegments(first.base, session.id);
    // 60 s of media and 30 s buffered ahead: its run is still alive (paused or encoding) here.
    const pids = Object.values((await sessionStatus(first.base, session.id)).run?.pids ?? {}) as number[];
    expect(pids.length).toBe(2);
    expect(pids.every(processAlive)).toBe(true);
    expect(await metricSample(first.base, 'seekwell_segments_encoded_total')).toBeGreaterThanOrEqual(4);

    expect(await stop(first)).toBe(0);
    expect(pids.filter(processAlive)).toEqual([]);
    // Its own folder (runs, temp files) is gone; the store stays.
    expect(await readdir(path.join(workDir, 'instances'))).toEqual([]);
    const [title] = await readdir(path.join(workDir, 'store'));
    const kept = await readdir(path.join(workDir, 'store', title!));
    expect(kept).toEqual(expect.arrayContaining(['init-video-360p.mp4', 'init-audio-1.mp4', segmentName('video-360p', 2), segmentName('audio-1', 2)]));

    const second = await start(workDir);
    const again = await createSession(second.base, 'clip.mp4');
    const after = await firstSegments(second.base, again.id);
    for (const [rest, served] of before) {
      expect(after.get(rest)!.bytes.equals(served.bytes), rest).toBe(true);
      if (rest.startsWith('segments/')) expect(after.get(rest)!.etag, rest).toBe(served.etag);
    }
    const video = inspectSegment(after.get('init/video-360p.mp4')!.bytes, after.get(`segments/${segmentName('video-360p', 2)}`)!.bytes);
    expect(video.firstPresentation).toBeCloseTo(4, 6);
    expect(await metricSample(second.base, 'seekwell_segments_encoded_total')).toBe(0);
    expect(await metricSample(second.base, 'seekwell_runs_started_total')).toBe(0);
    expect(await metricSample(second.base, 'seekwell_segments_restored_total')).toBeGreaterThanOrEqual(4);
    expect((await sessionStatus(second.base, again.id)).run).toBeUndefined();
    expect(await stop(second)).toBe(0);
    await rm(workDir, { recursive: true, force: true });
  });

  it('a second server on the same WORK_DIR leaves the first one\'s folder and store alone, and the first keeps serving', async () => {
    const workDir = await mkdtemp(path.join(tmpdir(), 'seekwell-restart-'));
    const first = await start(workDir);
    const session = await createSession(first.base, 'clip.mp4');
    const segment1 = await get(`${first.base}/sessions/${session.id}/segments/${segmentName('video-360p', 1)}`);
    const [firstId] = await readdir(path.join(workDir, 'instances'));
    const [title] = await readdir(path.join(workDir, 'store'));

    const second = await start(workDir);
    const instances = await readdir(path.join(workDir, 'instances'));
    expect(instances).toHaveLength(2);
    expect(instances).toContain(firstId);
    expect(await readdir(path.join(workDir, 'instances', firstId!))).toEqual(expect.arrayContaining(['heartbeat', 'runs']));
    expect(await readdir(path.join(workDir, 'store', title!))).toContain(segmentName('video-360p', 1));

    // The first still serves what it stored and makes what it has not (its runs live in its folder).
    const base = `${first.base}/sessions/${session.id}`;
    expect((await get(`${base}/segments/${segmentName('video-360p', 1)}`)).bytes.equals(segment1.bytes)).toBe(true);
    const init = (await get(`${base}/init/video-360p.mp4`)).bytes;
    expect(inspectSegment(init, (await get(`${base}/segments/${segmentName('video-360p', 5)}`)).bytes).firstPresentation).toBeCloseTo(16, 6);
    // The second serves the first's segment from the shared store.
    const other = await createSession(second.base, 'clip.mp4');
    expect((await get(`${second.base}/sessions/${other.id}/segments/${segmentName('video-360p', 1)}`)).bytes.equals(segment1.bytes)).toBe(true);

    expect(await stop(second)).toBe(0);
    expect(await readdir(path.join(workDir, 'instances'))).toEqual([firstId]);
    expect(await stop(first)).toBe(0);
    expect(await readdir(path.join(workDir, 'instances'))).toEqual([]);
    await rm(workDir, { recursive: true, force: true });
  });
});
