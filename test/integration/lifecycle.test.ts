// No ffmpeg or packager outlives its owner: DELETE, idle timeout, a crashed encoder, server
// close, SIGTERM to the server process, and the server process being killed outright.
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClip } from '../support/media.js';
import { createSession, fetchBytes, processAlive, sessionStatus, startServerProcess, startTestServer, type ServerProcess, type SessionUrls, type TestServer } from '../support/server.js';
import { inspectSegment } from '../support/verify.js';

let media: string;

beforeAll(async () => {
  media = await mkdtemp(path.join(tmpdir(), 'seekwell-media-'));
  await makeClip(path.join(media, 'long.mp4'), { seconds: 90, width: 1280, height: 720, audioRate: 48_000 });
  // Each test plays its own copy: a title of its own, so no segment comes from another's store.
  for (let i = 1; i <= 8; i++) await copyFile(path.join(media, 'long.mp4'), path.join(media, `long-${i}.mp4`));
});

afterAll(async () => {
  await rm(media, { recursive: true, force: true });
});

let copies = 0;

async function startPlaying(base: string): Promise<{ session: SessionUrls; pids: number[] }> {
  const session = await createSession(base, `long-${++copies}.mp4`);
  await fetchBytes(`${base}/sessions/${session.id}/segments/video-720p-00001.m4s`);
  const status = await sessionStatus(base, session.id);
  const pids = [status.run.pids.ffmpeg, status.run.pids.packager] as number[];
  expect(pids.every(processAlive)).toBe(true);
  return { session, pids };
}

async function waitUntil(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(50);
  }
  return check();
}

describe('process lifecycle', () => {
  let srv: TestServer;

  beforeAll(async () => {
    srv = await startTestServer({ MEDIA_DIR: media, SESSION_IDLE_MS: '1000' });
  });

  afterAll(async () => {
    await srv?.close();
  });

  it('ends both processes and removes the run\'s files when a session is deleted', async () => {
    const { session, pids } = await startPlaying(srv.base);
    const response = await fetch(`${srv.base}/api/sessions/${session.id}`, { method: 'DELETE' });
    expect(response.status).toBe(204);
    expect(pids.filter(processAlive)).toEqual([]);
    expect(await readdir(path.join(srv.server.instanceDir, 'runs'))).toEqual([]);
    expect((await fetch(`${srv.base}/api/sessions/${session.id}`)).status).toBe(404);
  });

  it('ends both processes of a session left idle past SESSION_IDLE_MS, and restarts cleanly on its return', async () => {
    const { session, pids } = await startPlaying(srv.base);
    expect(await waitUntil(() => pids.every((pid) => !processAlive(pid)), 5000)).toBe(true);
    const idle = await sessionStatus(srv.base, session.id);
    expect(idle.state).toBe('idle');
    const base = `${srv.base}/sessions/${session.id}`;
    const segment = await fetchBytes(`${base}/segments/video-720p-00015.m4s`);
    const init = await fetchBytes(`${base}/init/video-720p.mp4`);
    expect(inspectSegment(init, segment).firstPresentation).toBeCloseTo(56, 6);
    expect((await sessionStatus(srv.base, session.id)).run.startSegment).toBe(15);
    await fetch(`${srv.base}/api/sessions/${session.id}`, { method: 'DELETE' });
  });

  it('recovers from a killed ffmpeg without keeping the segment it was cutting', async () => {
    const { session, pids } = await startPlaying(srv.base);
    const base = `${srv.base}/sessions/${session.id}`;
    const waiting = fetchBytes(`${base}/segments/video-720p-00004.m4s`);
    process.kill(pids[0]!, 'SIGKILL');
    const segment = await waiting;
    const init = await fetchBytes(`${base}/init/video-720p.mp4`);
    expect(inspectSegment(init, segment).firstPresentation).toBeCloseTo(12, 6);
    expect(await waitUntil(() => pids.every((pid) => !processAlive(pid)), 5000)).toBe(true);
    // Every segment kept is a whole one: 120 frames of 1/30 s. Segments 1 and 4 were served, so
    // the store holds at least those two.
    const status = await sessionStatus(srv.base, session.id);
    const kept = status.segments['video-720p'] as number[];
    expect(kept).toEqual(expect.arrayContaining([1, 4]));
    for (const n of kept) {
      const check = inspectSegment(init, await fetchBytes(`${base}/segments/video-720p-${String(n).padStart(5, '0')}.m4s`));
      expect(check.sampleCount).toBe(120);
    }
    await fetch(`${srv.base}/api/sessions/${session.id}`, { method: 'DELETE' });
  });

  it('ends every process when the server closes', async () => {
    const other = await startTestServer({ MEDIA_DIR: media });
    const { pids } = await startPlaying(other.base);
    await other.close();
    expect(pids.filter(processAlive)).toEqual([]);
  });
});

describe('the server process', () => {
  function startMain(workDir: string): Promise<ServerProcess> {
    return startServerProcess({ MEDIA_DIR: media, WORK_DIR: workDir });
  }

  it('exits with code 0 on SIGTERM and leaves no child behind', async () => {
    const workDir = await mkdtemp(path.join(tmpdir(), 'seekwell-main-'));
    const { child, base, exited } = await startMain(workDir);
    const { pids } = await startPlaying(base);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(pids.filter(processAlive)).toEqual([]);
    await rm(workDir, { recursive: true, force: true });
  });

  it('leaves no child behind when the server process is killed outright', async () => {
    const workDir = await mkdtemp(path.join(tmpdir(), 'seekwell-main-'));
    const { child, base } = await startMain(workDir);
    const { pids } = await startPlaying(base);
    child.kill('SIGKILL');
    // ffmpeg's next progress write hits the closed stderr pipe; the packager then sees EOF.
    expect(await waitUntil(() => pids.every((pid) => !processAlive(pid)), 5000)).toBe(true);
    await rm(workDir, { recursive: true, force: true });
  });

  async function runMain(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: '0', MEDIA_DIR: media, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { code, stderr };
  }

  it('refuses to start without ffmpeg, naming it and how to install it', async () => {
    const { code, stderr } = await runMain({ FFMPEG_PATH: '/nonexistent/ffmpeg', PACKAGER_PATH: '/nonexistent/packager' });
    expect(code).toBe(3);
    expect(stderr).toContain('ffmpeg not found or not runnable at "/nonexistent/ffmpeg"');
    expect(stderr).toContain('apt-get install -y ffmpeg');
    expect(stderr).toContain('Shaka Packager not found');
    expect(stderr).toContain('npm ci');
  });

  it('refuses to start on bad configuration, naming every bad variable', async () => {
    const { code, stderr } = await runMain({ SEGMENT_SECONDS: 'four', PORT: '99999' });
    expect(code).toBe(2);
    expect(stderr).toContain('SEGMENT_SECONDS: expected an integer from 1 to 30, got "four"');
    expect(stderr).toContain('PORT:');
  });
});
