// Issue 12, defect 9 and the disk: a full disk is reported as 507 INSUFFICIENT_STORAGE with the
// free space, makes the store give up segments before anything fails, never turns into a loop of
// encoders spawned and failing, and the budget fits the disk at start. WORK_DIR is a real small
// tmpfs, mounted in a mount namespace of the server's own (unshare -m, as root), filled by a real
// file written from inside that namespace (nsenter).
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeClip } from '../support/media.js';
import { createSession, metricSample, processAlive, sessionStatus, startServerProcess, type ServerProcess } from '../support/server.js';

const run = promisify(execFile);
const DISK_BYTES = 16 * 1024 * 1024;

let media: string;
let work: string;

beforeAll(async () => {
  media = await mkdtemp(path.join(tmpdir(), 'seekwell-media-'));
  work = await mkdtemp(path.join(tmpdir(), 'seekwell-disk-'));
  await makeClip(path.join(media, 'a.mp4'), { seconds: 60, width: 640, height: 360, audioRate: 48_000 });
  await makeClip(path.join(media, 'broadcast.ts'), { seconds: 10, width: 640, height: 360, audioRate: 48_000, format: 'mpegts' });
  for (const name of ['b.mp4', 'c.mp4']) await copyFile(path.join(media, 'a.mp4'), path.join(media, name));
});

afterAll(async () => {
  await rm(media, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

interface SmallDiskServer extends ServerProcess {
  /** Runs a shell command inside the server's mount namespace (where WORK_DIR is the tmpfs). */
  inside(script: string): Promise<string>;
  stop(): Promise<void>;
}

let current: SmallDiskServer | undefined;

afterEach(async () => {
  await current?.stop();
  current = undefined;
});

async function startOnSmallDisk(env: Record<string, string> = {}): Promise<SmallDiskServer> {
  const mount = `mount -t tmpfs -o size=${DISK_BYTES} tmpfs "$WORK_DIR" && exec "$@"`;
  const server = await startServerProcess({ MEDIA_DIR: media, WORK_DIR: work, ...env }, { prefix: ['unshare', '-m', 'sh', '-c', mount, 'sh'] });
  const pid = server.child.pid!;
  current = {
    ...server,
    async inside(script) {
      const { stdout } = await run('nsenter', ['-t', String(pid), '-m', 'sh', '-c', script], { env: { ...process.env, WORK_DIR: work } });
      return stdout;
    },
    async stop() {
      if (server.child.exitCode === null) server.child.kill('SIGTERM');
      await server.exited;
    },
  };
  return current;
}

/** Fills the tmpfs with a file, leaving `leaveBytes` free (to the nearest 64 KiB). */
async function fill(server: SmallDiskServer, leaveBytes = 0): Promise<void> {
  const free = Number((await server.inside('df -B1 --output=avail "$WORK_DIR" | tail -1')).trim());
  const blocks = Math.max(0, Math.floor((free - leaveBytes) / 65_536));
  await server.inside(`dd if=/dev/zero of="$WORK_DIR/filler" bs=64k count=${blocks} 2>/dev/null || true`);
}

function segmentUrl(base: string, id: string, rendition: string, n: number): string {
  return `${base}/sessions/${id}/segments/${rendition}-${String(n).padStart(5, '0')}.m4s`;
}

describe('a full disk', () => {
  it('fits the default store budget to the free space at start', async () => {
    const server = await startOnSmallDisk();
    const budget = await metricSample(server.base, 'seekwell_limit{limit="store_bytes"}');
    expect(budget).toBeGreaterThan(DISK_BYTES / 2);
    expect(budget).toBeLessThan(DISK_BYTES);
    expect(server.log()).toMatch(/store budget lowered/);
  });

  it('answers 507 INSUFFICIENT_STORAGE with the free space, and spawns no encoder per retry', async () => {
    const server = await startOnSmallDisk();
    await fill(server);
    const session = await createSession(server.base, 'a.mp4');
    const url = segmentUrl(server.base, session.id, 'video-360p', 1);
    const first = await fetch(url);
    expect(first.status).toBe(507);
    expect(first.headers.get('retry-after')).toBe('30');
    const body = await first.json() as { code: string; message: string };
    expect(body.code).toBe('INSUFFICIENT_STORAGE');
    expect(body.message).toMatch(/WORK_DIR is full \(\d+\.\d MB free\)/);
    const started = await metricSample(server.base, 'seekwell_runs_started_total');
    // Retries (a player's, every second) are refused at once, without a new encoder.
    for (let i = 0; i < 5; i++) {
      const at = Date.now();
      const retry = await fetch(url);
      expect(retry.status).toBe(507);
      expect(Date.now() - at).toBeLessThan(500);
      await retry.arrayBuffer();
    }
    expect(await metricSample(server.base, 'seekwell_runs_started_total')).toBe(started);
    // Space comes back: once the refusal ends (5 s), the segment is made.
    await server.inside('rm -f "$WORK_DIR/filler"');
    await sleep(5200);
    expect((await fetch(url)).status).toBe(200);
  });

  it('refuses a TS source whose remuxed copy does not fit with 507, not as "not media"', async () => {
    const server = await startOnSmallDisk();
    await fill(server);
    const refused = await fetch(`${server.base}/api/sessions`, { method: 'POST', body: JSON.stringify({ media: 'broadcast.ts' }) });
    expect(refused.status).toBe(507);
    expect(await refused.json()).toMatchObject({ code: 'INSUFFICIENT_STORAGE', message: expect.stringMatching(/could not remux/) });
    await server.inside('rm -f "$WORK_DIR/filler"');
    expect((await fetch(`${server.base}/api/sessions`, { method: 'POST', body: JSON.stringify({ media: 'broadcast.ts' }) })).status).toBe(201);
  });

  it('evicts stored segments to make room before failing a request', async () => {
    const server = await startOnSmallDisk();
    const a = await createSession(server.base, 'a.mp4');
    for (let n = 1; n <= 8; n++) expect((await fetch(segmentUrl(server.base, a.id, 'video-360p', n))).status).toBe(200);
    await fetch(`${server.base}/api/sessions/${a.id}`, { method: 'DELETE' });
    await fill(server);
    const b = await createSession(server.base, 'b.mp4');
    const made = await fetch(segmentUrl(server.base, b.id, 'video-360p', 1));
    expect(made.status).toBe(200);
    expect(await metricSample(server.base, 'seekwell_store_evictions_total')).toBeGreaterThan(0);
    expect(server.log()).toMatch(/disk full: stored segments evicted, trying again/);
  });
});

describe('a failed run (defect 9)', () => {
  it('names the packager when the packager was killed, not the ffmpeg it took down', async () => {
    const server = await startServerProcess({ MEDIA_DIR: media, WORK_DIR: work });
    current = { ...server, inside: async () => '', async stop() {
      if (server.child.exitCode === null) server.child.kill('SIGTERM');
      await server.exited;
    } };
    const session = await createSession(server.base, 'c.mp4');
    expect((await fetch(segmentUrl(server.base, session.id, 'video-360p', 1))).status).toBe(200);
    const { run } = await sessionStatus(server.base, session.id);
    const packager = run.pids.packager as number;
    process.kill(packager, 'SIGKILL');
    const deadline = Date.now() + 10_000;
    while (!/"msg":"run failed"/.test(server.log()) && Date.now() < deadline) await sleep(50);
    const failed = server.log().split('\n').find((line) => line.includes('"msg":"run failed"'))!;
    expect(failed).toContain('packager failed (signal SIGKILL)');
    expect(processAlive(run.pids.ffmpeg as number)).toBe(false);
  });
});
