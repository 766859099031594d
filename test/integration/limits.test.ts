// Issue 12, defects 5-7, against a real server: request bodies, sessions and video encodes are
// bounded (refused with a stable code instead of growing without end), `/media/` URLs and HEAD
// requests do not make a session per request, and manifests are kept per title, not per session.
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClip } from '../support/media.js';
import { createSession, fetchBytes, metricSample, segmentName, sessionStatus, signalGroup, startTestServer, type TestServer } from '../support/server.js';

let media: string;

beforeAll(async () => {
  media = await mkdtemp(path.join(tmpdir(), 'seekwell-media-'));
  await makeClip(path.join(media, 'a.mp4'), { seconds: 60, width: 640, height: 360, audioRate: 48_000 });
  for (const name of ['b.mp4', 'c.mp4']) await copyFile(path.join(media, 'a.mp4'), path.join(media, name));
  await makeClip(path.join(media, 'one.ts'), { seconds: 8, width: 640, height: 360, audioRate: 48_000, format: 'mpegts' });
  await copyFile(path.join(media, 'one.ts'), path.join(media, 'two.ts'));
});

afterAll(async () => {
  await rm(media, { recursive: true, force: true });
});

async function post(base: string, mediaPath: string): Promise<Response> {
  return fetch(`${base}/api/sessions`, { method: 'POST', body: JSON.stringify({ media: mediaPath }) });
}

/** A server on the test media for one describe block: started before its tests, closed after. */
function serverFor(env: Record<string, string>): TestServer {
  const srv = {} as TestServer;
  beforeAll(async () => {
    Object.assign(srv, await startTestServer({ MEDIA_DIR: media, ...env }));
  });
  afterAll(async () => {
    await srv.close?.();
  });
  return srv;
}

async function deleteAll(srv: TestServer): Promise<void> {
  for (const session of srv.server.registry.list()) await srv.server.registry.delete(session.id);
}

describe('request bodies (defect 5)', () => {
  const srv = serverFor({ BODY_MAX_BYTES: '4096' });

  it('answers a 256 MB POST with 413 PAYLOAD_TOO_LARGE and closes the connection without reading it', async () => {
    const total = 256 * 1024 * 1024;
    const url = new URL(`${srv.base}/api/sessions`);
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let written = 0;
    const answer = await new Promise<{ status: number; body: string; writtenAtResponse: number; closed: boolean }>((resolve, reject) => {
      const request = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-length': total, 'content-type': 'application/json' } });
      request.on('response', (response) => {
        const writtenAtResponse = written;
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (part: string) => (body += part));
        response.on('end', () => {
          // The server closes the socket: the client's writes then fail, and it ends too.
          request.destroy();
          resolve({ status: response.statusCode!, body, writtenAtResponse, closed: response.headers.connection === 'close' });
        });
      });
      request.on('error', (error) => (written >= total ? reject(error) : undefined));
      const pump = (): void => {
        while (written < total && !request.destroyed) {
          written += chunk.length;
          if (!request.write(chunk)) return void request.once('drain', pump);
        }
        if (written >= total) request.end();
      };
      pump();
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(answer.closed).toBe(true);
    expect(answer.writtenAtResponse).toBeLessThan(64 * 1024 * 1024);
    // The server is fine afterwards, and still takes a normal request.
    expect((await post(srv.base, 'a.mp4')).status).toBe(201);
  });
});

describe('sessions (defects 6 and 7)', () => {
  const srv = serverFor({ MAX_SESSIONS: '3' });

  it('refuses a session past MAX_SESSIONS with 503 OVERLOADED and Retry-After, counted in /metrics', async () => {
    await deleteAll(srv);
    for (let i = 0; i < 3; i++) expect((await post(srv.base, 'a.mp4')).status).toBe(201);
    const refused = await post(srv.base, 'b.mp4');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toMatchObject({ code: 'OVERLOADED' });
    expect(await metricSample(srv.base, 'seekwell_limit{limit="sessions"}')).toBe(3);
    expect(await metricSample(srv.base, 'seekwell_refused_total{limit="sessions"}')).toBe(1);
    // One closed: room for one more.
    await srv.server.registry.delete(srv.server.registry.list()[0]!.id);
    expect((await post(srv.base, 'b.mp4')).status).toBe(201);
    await deleteAll(srv);
  });

  it('answers HEAD /media/<path>/stream.mpd without opening a session, and refuses what does not play', async () => {
    await deleteAll(srv);
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${srv.base}/media/a.mp4/stream.mpd`, { method: 'HEAD' });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/dash+xml');
    }
    expect((await fetch(`${srv.base}/media/missing.mp4/stream.m3u8`, { method: 'HEAD' })).status).toBe(404);
    expect(srv.server.registry.size).toBe(0);
  });

  it('opens no session for GET /media/ and the manifest it leads to, only on a viewer\'s first media request', async () => {
    await deleteAll(srv);
    const locations = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const response = await fetch(`${srv.base}/media/a.mp4/stream.mpd`, { redirect: 'manual' });
      expect(response.status).toBe(302);
      const location = response.headers.get('location')!;
      locations.add(location);
      expect((await fetch(`${srv.base}${location}`)).status).toBe(200);
    }
    // Each fetch is a new viewer (its own URL), and none of them is a session yet.
    expect(locations.size).toBe(20);
    expect(srv.server.registry.size).toBe(0);
    const [first] = [...locations];
    await fetchBytes(`${srv.base}${first!.replace('stream.mpd', 'init/audio-1.mp4')}`);
    expect(srv.server.registry.size).toBe(1);
    // The same viewer's next request finds its session.
    await fetchBytes(`${srv.base}${first!.replace('stream.mpd', `segments/${segmentName('audio-1', 1)}`)}`);
    expect(srv.server.registry.size).toBe(1);
    await deleteAll(srv);
  });

  it('renders manifests once per title: media playlists shared byte for byte, the MPD with each session\'s own base', async () => {
    await deleteAll(srv);
    const [one, two] = [await createSession(srv.base, 'a.mp4'), await createSession(srv.base, 'a.mp4')];
    const get = async (id: string, file: string): Promise<{ text: string; etag: string | null }> => {
      const response = await fetch(`${srv.base}/sessions/${id}/${file}`);
      expect(response.status).toBe(200);
      return { text: await response.text(), etag: response.headers.get('etag') };
    };
    const [p1, p2] = [await get(one.id, 'video-360p.m3u8'), await get(two.id, 'video-360p.m3u8')];
    expect(p1.text).toBe(p2.text);
    expect(p1.etag).toBe(p2.etag);
    const [m1, m2] = [await get(one.id, 'stream.mpd'), await get(two.id, 'stream.mpd')];
    expect(m1.text).toContain(`<BaseURL>/sessions/${one.id}/</BaseURL>`);
    expect(m2.text).toContain(`<BaseURL>/sessions/${two.id}/</BaseURL>`);
    expect(m1.text.replace(one.id, two.id)).toBe(m2.text);
    expect(m1.etag).not.toBe(m2.etag);
    const [h1, h2] = [await get(one.id, 'stream.m3u8'), await get(two.id, 'stream.m3u8')];
    expect(h1.text).toContain(`/sessions/${one.id}/video-360p.m3u8`);
    expect(h1.text.replaceAll(one.id, two.id)).toBe(h2.text);
    await deleteAll(srv);
  });
});

describe('sessions nobody uses (defect 7)', () => {
  const srv = serverFor({ SESSION_IDLE_MS: '1000' });

  it('forgets a session nobody used once SESSION_IDLE_MS passed, and only releases one that was used', async () => {
    await deleteAll(srv);
    const unused = await createSession(srv.base, 'a.mp4');
    const used = await createSession(srv.base, 'b.mp4');
    await fetchBytes(`${srv.base}/sessions/${used.id}/init/audio-1.mp4`);
    await sleep(1100);
    srv.server.registry.sweepIdle();
    await sleep(50);
    expect(srv.server.registry.list().map((s) => s.id)).toEqual([used.id]);
    expect((await fetch(`${srv.base}${unused.dash}`)).status).toBe(404);
    await deleteAll(srv);
  });
});

describe('video encodes (defect 6)', () => {
  const srv = serverFor({ MAX_VIDEO_ENCODES: '1' });

  it('gives a waiting viewer the slot of a run nobody waits on, and refuses with OVERLOADED only when every slot is waited on', async () => {
    const a = await createSession(srv.base, 'a.mp4');
    const b = await createSession(srv.base, 'b.mp4');
    const c = await createSession(srv.base, 'c.mp4');
    const segment = (id: string, rendition: string, n: number): string => `${srv.base}/sessions/${id}/segments/${segmentName(rendition, n)}`;
    await fetchBytes(segment(a.id, 'video-360p', 1));
    expect((await sessionStatus(srv.base, a.id)).run).toBeTruthy();
    // b's request needs an encode: a's run, ahead of its viewer and waited on by nobody, gives way.
    await fetchBytes(segment(b.id, 'video-360p', 1));
    const aVideo = (await sessionStatus(srv.base, a.id)).renditions.find((r: { id: string }) => r.id === 'video-360p');
    expect(aVideo.runs).toEqual([]);
    expect(await metricSample(srv.base, 'seekwell_refused_total{limit="video_encodes"}')).toBe(0);
    // b's encoder stopped while b waits on it: the one slot is waited on.
    const { run } = await sessionStatus(srv.base, b.id);
    const pids = [run.pids.ffmpeg, run.pids.packager] as number[];
    for (const pid of pids) signalGroup(pid, 'SIGSTOP');
    try {
      await sleep(200);
      const produced = (await sessionStatus(srv.base, b.id)).run.producedSegment as number;
      const waiting = fetch(segment(b.id, 'video-360p', produced + 2));
      await sleep(200);
      const started = Date.now();
      const refused = await fetch(segment(c.id, 'video-360p', 1));
      expect(refused.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(await refused.json()).toMatchObject({ code: 'OVERLOADED' });
      expect(await metricSample(srv.base, 'seekwell_refused_total{limit="video_encodes"}')).toBe(1);
      expect(await metricSample(srv.base, 'seekwell_limit{limit="video_encodes"}')).toBe(1);
      // Audio is not counted: c's audio is made meanwhile.
      expect((await fetchBytes(segment(c.id, 'audio-1', 1))).length).toBeGreaterThan(0);
      for (const pid of pids) signalGroup(pid, 'SIGCONT');
      expect((await waiting).status).toBe(200);
    } finally {
      for (const pid of pids) signalGroup(pid, 'SIGCONT');
    }
  });
});

describe('remuxed copies of TS sources (INGEST_MAX_BYTES)', () => {
  it('keeps the folder within its budget, never removing a copy a session plays from, and remuxes again when needed', async () => {
    const srv = await startTestServer({ MEDIA_DIR: media, INGEST_MAX_BYTES: '1' });
    const copies = async (): Promise<string[]> => (await readdir(path.join(srv.workDir, 'ingest'))).filter((n) => n.endsWith('.mkv'));
    try {
      const one = await createSession(srv.base, 'one.ts');
      expect(await copies()).toHaveLength(1);
      // one.ts is played from: a second copy cannot push it out, even over budget.
      const two = await createSession(srv.base, 'two.ts');
      expect(await copies()).toHaveLength(2);
      await srv.server.registry.delete(one.id);
      await srv.server.registry.delete(two.id);
      // A third remux (one.ts is gone from use, so its copy may go): one.ts again gets its copy back.
      const again = await createSession(srv.base, 'two.ts');
      const left = await copies();
      expect(left).toHaveLength(1);
      const replay = await createSession(srv.base, 'one.ts');
      expect((await fetchBytes(`${srv.base}/sessions/${replay.id}/segments/${segmentName('video-360p', 1)}`)).length).toBeGreaterThan(0);
      // two.ts is still played from (session `again`): its copy stays.
      expect(await copies()).toEqual(expect.arrayContaining(left));
      await srv.server.registry.delete(again.id);
    } finally {
      await srv.close();
    }
  });
});
