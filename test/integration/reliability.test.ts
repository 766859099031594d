// Issue 12, defects 1-3, against the real ffmpeg and packager: a wait ends at SEGMENT_WAIT_MS
// whatever the garbage collector does, DELETE does not wait for other sessions' runs, and a
// stored segment whose file vanished is made again instead of being served empty.
import { chmod, copyFile, mkdtemp, readdir, readlink, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { makeClip } from '../support/media.js';
import { createSession, fetchBytes, processAlive, segmentName, sessionStatus, signalGroup, startTestServer, type TestServer } from '../support/server.js';
import { inspectSegment } from '../support/verify.js';

let media: string;

beforeAll(async () => {
  media = await mkdtemp(path.join(tmpdir(), 'seekwell-media-'));
  await makeClip(path.join(media, 'long.mp4'), { seconds: 120, width: 640, height: 360, audioRate: 48_000 });
  await makeClip(path.join(media, 'short.mp4'), { seconds: 12, width: 640, height: 360, audioRate: 48_000 });
  // Each test plays its own copy: a title of its own, so no segment comes from another's store.
  for (let i = 1; i <= 3; i++) await copyFile(path.join(media, 'long.mp4'), path.join(media, `long-${i}.mp4`));
});

afterAll(async () => {
  await rm(media, { recursive: true, force: true });
});

// A real full GC of this process (the test server runs in it), as V8 would do under load.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Collects garbage every 100 ms until the returned function is called. */
function collectGarbageMeanwhile(): () => void {
  const timer = setInterval(() => gc(), 100);
  gc();
  return () => clearInterval(timer);
}

async function waitUntil(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(50);
  }
  return check();
}

/** What a GET answered within `giveUpMs`: the status (if headers came), the body (if it came whole). */
interface Answer {
  status: number | 'no answer';
  ms: number;
  headers?: Headers;
  body?: Buffer;
  error?: string;
}

async function timedGet(url: string, giveUpMs: number, init: RequestInit = {}): Promise<Answer> {
  const started = Date.now();
  let answer: Answer = { status: 'no answer', ms: 0 };
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(giveUpMs) });
    answer = { status: response.status, ms: 0, headers: response.headers };
    answer.body = Buffer.from(await response.arrayBuffer());
  } catch (error) {
    answer.error = String(error);
  }
  answer.ms = Date.now() - started;
  return answer;
}

describe('SEGMENT_WAIT_MS (defect 1)', () => {
  const WAIT_MS = 3000;
  let srv: TestServer;

  beforeAll(async () => {
    // never-restart: the request waits on the stopped run instead of starting a new one.
    srv = await startTestServer({ MEDIA_DIR: media, SEGMENT_WAIT_MS: String(WAIT_MS), SEEK_POLICY: 'never-restart' });
  });

  afterAll(async () => {
    await srv?.close();
  });

  it('answers 503 SEGMENT_TIMEOUT with Retry-After at SEGMENT_WAIT_MS while the encoder is stopped, through forced GCs', async () => {
    const session = await createSession(srv.base, 'long-1.mp4');
    const base = `${srv.base}/sessions/${session.id}`;
    await fetchBytes(`${base}/segments/${segmentName('video-360p', 1)}`);
    const { run } = await sessionStatus(srv.base, session.id);
    const pids = [run.pids.ffmpeg, run.pids.packager] as number[];
    // Both groups: the server sends SIGCONT to ffmpeg when it resumes a run it paused itself.
    for (const pid of pids) signalGroup(pid, 'SIGSTOP');
    const stopGc = collectGarbageMeanwhile();
    try {
      await sleep(300);
      const produced = (await sessionStatus(srv.base, session.id)).run.producedSegment as number;
      const target = `${base}/segments/${segmentName('video-360p', produced + 2)}`;
      const timedOut = await timedGet(target, WAIT_MS + 5000);
      expect(timedOut.status).toBe(503);
      expect(timedOut.ms).toBeGreaterThanOrEqual(WAIT_MS - 50);
      expect(timedOut.ms).toBeLessThanOrEqual(WAIT_MS + 500);
      expect(timedOut.headers!.get('retry-after')).toBe('2');
      expect(JSON.parse(timedOut.body!.toString()).code).toBe('SEGMENT_TIMEOUT');
      stopGc();
      for (const pid of pids) signalGroup(pid, 'SIGCONT');
      // The encode went on: the retry joins it and gets the segment.
      expect((await timedGet(target, 30_000)).status).toBe(200);
    } finally {
      stopGc();
      for (const pid of pids) signalGroup(pid, 'SIGCONT');
      await fetch(`${srv.base}/api/sessions/${session.id}`, { method: 'DELETE' });
    }
  });

  it('ends init and segment waits on an encoder that never produces at SEGMENT_WAIT_MS, through forced GCs', async () => {
    // An "ffmpeg" that answers the startup checks and otherwise hangs without output.
    const fake = path.join(media, 'hung-ffmpeg.sh');
    await writeFile(fake, '#!/bin/sh\ncase " $* " in *" -version "*|*" -encoders "*) exec ffmpeg "$@";; esac\nexec sleep 600\n');
    await chmod(fake, 0o755);
    const hung = await startTestServer({ MEDIA_DIR: media, SEGMENT_WAIT_MS: String(WAIT_MS), FFMPEG_PATH: fake });
    const stopGc = collectGarbageMeanwhile();
    try {
      const session = await createSession(hung.base, 'short.mp4');
      const base = `${hung.base}/sessions/${session.id}`;
      const waits = await Promise.all([
        timedGet(`${base}/init/video-360p.mp4`, WAIT_MS + 5000),
        timedGet(`${base}/segments/${segmentName('audio-1', 1)}`, WAIT_MS + 5000),
      ]);
      for (const wait of waits) {
        expect(wait.status).toBe(503);
        expect(wait.ms).toBeLessThanOrEqual(WAIT_MS + 500);
        expect(wait.headers!.get('retry-after')).toBe('2');
        expect(JSON.parse(wait.body!.toString()).code).toBe('SEGMENT_TIMEOUT');
      }
    } finally {
      stopGc();
      await hung.close();
    }
  });
});

describe('DELETE /api/sessions/<id> (defect 2)', () => {
  let srv: TestServer;

  beforeAll(async () => {
    // A two-segment window: the first run pauses early, so the jump far ahead starts a run of its own.
    srv = await startTestServer({ MEDIA_DIR: media, BUFFER_AHEAD_SECONDS: '8' });
  });

  afterAll(async () => {
    await srv?.close();
  });

  it('answers 204 at once while another session\'s run of the same title lives on and keeps serving', async () => {
    const first = await createSession(srv.base, 'long-2.mp4');
    await fetchBytes(`${srv.base}/sessions/${first.id}/segments/${segmentName('video-360p', 1)}`);
    const far = await createSession(srv.base, 'long-2.mp4');
    await fetchBytes(`${srv.base}/sessions/${far.id}/segments/${segmentName('video-360p', 26)}`);
    const [firstRun, farRun] = [(await sessionStatus(srv.base, first.id)).run, (await sessionStatus(srv.base, far.id)).run];
    expect(farRun.id).not.toBe(firstRun.id);
    const firstPids = [firstRun.pids.ffmpeg, firstRun.pids.packager] as number[];
    const farPids = [farRun.pids.ffmpeg, farRun.pids.packager] as number[];
    expect([...firstPids, ...farPids].every(processAlive)).toBe(true);

    const deleted = await timedGet(`${srv.base}/api/sessions/${first.id}`, 10_000, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect(deleted.ms).toBeLessThan(1500);
    // The deleted session's processes end (at once or within the stop bound), the other's live on.
    expect(await waitUntil(() => firstPids.every((pid) => !processAlive(pid)), 3000)).toBe(true);
    expect(farPids.every(processAlive)).toBe(true);

    // The surviving run resumes for the next segment past its window and serves it.
    const produced = (await sessionStatus(srv.base, far.id)).run.producedSegment as number;
    const next = await timedGet(`${srv.base}/sessions/${far.id}/segments/${segmentName('video-360p', produced + 1)}`, 30_000);
    expect(next.status).toBe(200);
    const after = (await sessionStatus(srv.base, far.id)).run;
    expect(after.id).toBe(farRun.id);
    expect(after.pids).toEqual(farRun.pids);
    const gone = await timedGet(`${srv.base}/api/sessions/${far.id}`, 10_000, { method: 'DELETE' });
    expect(gone.status).toBe(204);
    expect(farPids.filter(processAlive)).toEqual([]);
  });
});

describe('a stored segment whose file vanished (defect 3)', () => {
  let srv: TestServer;
  const logged: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const log = createLogger('warn', (line) => logged.push(JSON.parse(line) as Record<string, unknown>));
    // Nothing kept in memory: a segment in memory is served from there even once its file is gone.
    srv = await startTestServer({ MEDIA_DIR: media, MEMORY_CACHE_MAX_BYTES: '0' }, { log });
  });

  afterAll(async () => {
    await srv?.close();
  });

  async function storedFile(name: string): Promise<string> {
    const storeRoot = path.join(srv.workDir, 'store');
    const [title] = await readdir(storeRoot);
    return path.join(storeRoot, title!, name);
  }

  it('makes the segment again with the right bytes instead of sending an empty 200', async () => {
    const session = await createSession(srv.base, 'short.mp4');
    const base = `${srv.base}/sessions/${session.id}`;
    const init = await fetchBytes(`${base}/init/video-360p.mp4`);
    const original = await fetchBytes(`${base}/segments/${segmentName('video-360p', 2)}`);
    // The whole title is encoded and its run has ended: nothing would make the segment again by itself.
    await fetchBytes(`${base}/segments/${segmentName('video-360p', 3)}`);
    expect(await waitUntil(async () => (await sessionStatus(srv.base, session.id)).run === undefined, 10_000)).toBe(true);

    await unlink(await storedFile(segmentName('video-360p', 2)));
    const again = await timedGet(`${base}/segments/${segmentName('video-360p', 2)}`, 30_000);
    expect({ status: again.status, length: again.headers?.get('content-length'), error: again.error, bytes: again.body?.length })
      .toEqual({ status: 200, length: String(again.body?.length), error: undefined, bytes: again.body?.length });
    expect(Number(again.headers!.get('content-length'))).toBe(again.body!.length);
    expect(again.body!.length).toBeGreaterThan(0);
    expect(Math.abs(again.body!.length - original.length)).toBeLessThanOrEqual(original.length * 0.05);
    const check = inspectSegment(init, again.body!);
    expect(check.firstPresentation).toBeCloseTo(4, 6);
    expect(check.sampleCount).toBe(120);
    expect(logged.some((r) => r.level === 'warn' && String(r.msg).includes('gone'))).toBe(true);
    // Every session sees it again, from the store.
    const other = await createSession(srv.base, 'short.mp4');
    expect(await fetchBytes(`${srv.base}/sessions/${other.id}/segments/${segmentName('video-360p', 2)}`)).toEqual(again.body);
    await fetch(`${srv.base}/api/sessions/${other.id}`, { method: 'DELETE' });
    await fetch(`${srv.base}/api/sessions/${session.id}`, { method: 'DELETE' });
  });

  // This process's open descriptors on files in the store (the test server runs in it).
  async function openStoreFiles(): Promise<string[]> {
    const storeRoot = path.join(srv.workDir, 'store');
    const targets = await Promise.all((await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
    return targets.filter((t) => t.startsWith(storeRoot));
  }

  it('closes the segment file it opened on every answer: whole, range, HEAD, 304, 416, client gone', async () => {
    const session = await createSession(srv.base, 'short.mp4');
    const url = `${srv.base}/sessions/${session.id}/segments/${segmentName('video-360p', 1)}`;
    const whole = await fetch(url);
    const etag = whole.headers.get('etag')!;
    const size = Number(whole.headers.get('content-length'));
    await whole.arrayBuffer();
    const answers = await Promise.all([
      fetch(url, { headers: { range: 'bytes=100-199' } }).then(async (r) => [r.status, (await r.arrayBuffer()).byteLength]),
      fetch(url, { method: 'HEAD' }).then((r) => [r.status]),
      fetch(url, { headers: { 'if-none-match': etag } }).then((r) => [r.status]),
      fetch(url, { headers: { range: `bytes=${size}-` } }).then(async (r) => [r.status, (await r.text()).length > 0]),
    ]);
    expect(answers).toEqual([[206, 100], [200], [304], [416, true]]);
    for (let i = 0; i < 5; i++) {
      const client = new AbortController();
      const response = await fetch(url, { signal: client.signal });
      client.abort();
      await response.arrayBuffer().catch(() => {});
    }
    expect(await waitUntil(async () => (await openStoreFiles()).length === 0, 3000)).toBe(true);
    await fetch(`${srv.base}/api/sessions/${session.id}`, { method: 'DELETE' });
  });
});
