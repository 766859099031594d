// The HTTP contract: status codes, error bodies, CORS, ranges, caching, waits. Real ffprobe,
// ffmpeg and packager on a short clip.
import http from 'node:http';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClip } from '../support/media.js';
import { createSession, fetchBytes, sessionStatus, startTestServer, type TestServer } from '../support/server.js';

let media: string;
let srv: TestServer;

beforeAll(async () => {
  media = await mkdtemp(path.join(tmpdir(), 'seekwell-media-'));
  await makeClip(path.join(media, 'clip.mp4'), { seconds: 12, width: 640, height: 360, audioRate: 48_000 });
  await mkdir(path.join(media, 'sub'));
  await makeClip(path.join(media, 'sub', 'silent.mkv'), { seconds: 6, width: 320, height: 240, format: 'matroska' });
  await execa('cp', [path.join(media, 'clip.mp4'), path.join(media, '-i.mp4')]);
  await execa('cp', [path.join(media, 'clip.mp4'), path.join(media, 'a:b.mp4')]);
  await mkdir(path.join(media, 'copies'));
  await execa('cp', [path.join(media, 'clip.mp4'), path.join(media, 'copies', 'fresh.mp4')]);
  await execa('cp', [path.join(media, 'clip.mp4'), path.join(media, 'copies', 'crowd.mp4')]);
  await execa('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=duration=3', path.join(media, 'tone.m4a')]);
  // A Matroska file holding only a subtitle track: neither video nor audio to play.
  await writeFile(path.join(media, 'subs.srt'), '1\n00:00:00,000 --> 00:00:02,000\nHello\n');
  await execa('ffmpeg', ['-v', 'error', '-i', path.join(media, 'subs.srt'), '-c:s', 'srt', path.join(media, 'subs-only.mkv')]);
  await rm(path.join(media, 'subs.srt'));
  await writeFile(path.join(media, 'empty.mp4'), '');
  await writeFile(path.join(media, 'notes.mp4'), 'this is not a video\n'.repeat(50));
  await writeFile(path.join(media, 'list.m3u8'), '#EXTM3U\n#EXTINF:12,\nclip.mp4\n#EXT-X-ENDLIST\n');
  await writeFile(path.join(media, 'concat.mp4'), "ffconcat version 1.0\nfile 'clip.mp4'\n");
  await symlink('/etc/passwd', path.join(media, 'escape.mp4'));
  srv = await startTestServer({ MEDIA_DIR: media });
});

afterAll(async () => {
  await srv?.close();
  await rm(media, { recursive: true, force: true });
});

async function expectError(response: Response, status: number, code: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('access-control-allow-origin')).toBe('*');
  const body = (await response.json()) as { code: string; message: string };
  expect(body.code).toBe(code);
  expect(body.message.length).toBeGreaterThan(0);
}

// fetch() normalises `..` and `%2e%2e` away before sending: hostile paths go out raw.
function rawGet(rawPath: string): Promise<Response> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(srv.base);
    const request = http.get({ hostname, port, path: rawPath }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve(new Response(Buffer.concat(chunks), {
        status: res.statusCode, headers: res.headers as Record<string, string>,
      })));
    });
    request.on('error', reject);
  });
}

// seekwell_runs_started_total from GET /metrics; fails when the sample is not there.
async function runsStarted(): Promise<number> {
  const text = await (await fetch(`${srv.base}/metrics`)).text();
  const sample = /^seekwell_runs_started_total (\d+)$/m.exec(text);
  expect(sample, 'seekwell_runs_started_total in /metrics').not.toBeNull();
  return Number(sample![1]);
}

const post = (media: unknown): Promise<Response> =>
  fetch(`${srv.base}/api/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ media }) });

describe('library and sessions', () => {
  it('answers /healthz', async () => {
    expect((await fetch(`${srv.base}/healthz`)).status).toBe(200);
  });

  it('lists only playable files, with duration, video and audio', async () => {
    const list = (await (await fetch(`${srv.base}/api/media`)).json()) as { path: string; durationSeconds: number; video: { width: number } | null; audio: unknown[] }[];
    expect(list.map((e) => e.path)).toEqual(['-i.mp4', 'a:b.mp4', 'clip.mp4', 'copies/crowd.mp4', 'copies/fresh.mp4', 'sub/silent.mkv', 'tone.m4a']);
    const clip = list.find((e) => e.path === 'clip.mp4')!;
    expect(clip.durationSeconds).toBeCloseTo(12, 1);
    expect(clip.video).toMatchObject({ width: 640 });
    expect(list.find((e) => e.path === 'tone.m4a')).toMatchObject({ video: null, audio: [{ channels: 1 }] });
    expect(clip.audio).toHaveLength(1);
    expect(list.find((e) => e.path === 'sub/silent.mkv')!.audio).toEqual([]);
  });

  it('creates a session with an unguessable id and both manifest URLs', async () => {
    const response = await post('clip.mp4');
    expect(response.status).toBe(201);
    const body = (await response.json()) as { id: string; dash: string; hls: string };
    expect(body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(body.dash).toBe(`/sessions/${body.id}/stream.mpd`);
    expect(body.hls).toBe(`/sessions/${body.id}/stream.m3u8`);
    expect(response.headers.get('location')).toBe(`/api/sessions/${body.id}`);
  });

  it.each([
    ['clip.mp4', 201],
    ['-i.mp4', 201],
    ['a:b.mp4', 201],
    ['sub/silent.mkv', 201],
  ])('plays %s, whose name must never reach ffmpeg as an option or protocol', async (name, status) => {
    const response = await post(name);
    expect(response.status).toBe(status);
    const { id } = (await response.json()) as { id: string };
    const segment = await fetch(`${srv.base}/sessions/${id}/segments/video-${name.includes('silent') ? 240 : 360}p-00001.m4s`);
    expect(segment.status).toBe(200);
    await fetch(`${srv.base}/api/sessions/${id}`, { method: 'DELETE' });
  });

  it.each([
    ['../clip.mp4', 400, 'MEDIA_PATH_INVALID'],
    ['/etc/passwd', 400, 'MEDIA_PATH_INVALID'],
    ['escape.mp4', 400, 'MEDIA_PATH_INVALID'],
    ['missing.mp4', 404, 'MEDIA_NOT_FOUND'],
    ['sub', 404, 'MEDIA_NOT_FOUND'],
    ['empty.mp4', 422, 'MEDIA_EMPTY'],
    ['notes.mp4', 422, 'MEDIA_NOT_MEDIA'],
    ['subs-only.mkv', 422, 'MEDIA_NO_STREAMS'],
    ['list.m3u8', 422, 'MEDIA_FORMAT_REFUSED'],
    ['concat.mp4', 422, 'MEDIA_FORMAT_REFUSED'],
    [42, 400, 'MEDIA_PATH_INVALID'],
  ])('refuses %s with %i %s', async (name, status, code) => {
    await expectError(await post(name), status, code);
  });

  it('refuses a body that is not JSON or has no media', async () => {
    await expectError(await fetch(`${srv.base}/api/sessions`, { method: 'POST', body: '{nope' }), 400, 'BAD_REQUEST');
    await expectError(await fetch(`${srv.base}/api/sessions`, { method: 'POST', body: '{}' }), 400, 'BAD_REQUEST');
  });

  it('redirects /media/<path>/stream.* to a new viewer\'s stateless URL, and refuses traversal there too', async () => {
    const response = await fetch(`${srv.base}/media/sub/silent.mkv/stream.m3u8`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toMatch(/^\/t\/[A-Za-z0-9_-]+\.[0-9a-f]{32}\/[A-Za-z0-9_-]{32}\/stream\.m3u8$/);
    const playlist = await fetch(`${srv.base}${response.headers.get('location')}`);
    expect(playlist.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(await playlist.text()).toContain('#EXT-X-STREAM-INF');
    // The URL parser resolves a %2e%2e segment before routing: the request leaves /media/ entirely.
    await expectError(await rawGet('/media/%2e%2e/etc/passwd/stream.mpd'), 404, 'ROUTE_NOT_FOUND');
    for (const bad of ['sub%2F..%2F..%2Fetc%2Fpasswd', '%2E%2E%2Fclip.mp4', '%00clip.mp4', 'clip.mp4%00', '%2Fetc%2Fpasswd', 'sub%5C..%5Cclip.mp4']) {
      await expectError(await rawGet(`/media/${bad}/stream.mpd`), 400, 'MEDIA_PATH_INVALID');
    }
    await expectError(await fetch(`${srv.base}/media/%E0%A4%A/stream.mpd`), 400, 'MEDIA_PATH_INVALID');
    await expectError(await fetch(`${srv.base}/media/clip.mp4/other.txt`), 404, 'ROUTE_NOT_FOUND');
  });

  it.each(['mpd', 'm3u8'])('plays the whole title to ffmpeg as a client through /media/<path>/stream.%s', async (format) => {
    // ffmpeg exits 0 even after a 404 on a segment: count the decoded frames instead.
    const result = await execa('ffmpeg', ['-nostdin', '-v', 'error', '-i', `${srv.base}/media/clip.mp4/stream.${format}`,
      '-map', '0:v:0', '-map', '0:a:0', '-f', 'null', '-progress', 'pipe:1', '-']);
    // ffmpeg's DASH demuxer always asks for one segment past the end (a 404, as it should be)
    // and complains about it; anything else on stderr is a real error.
    const noise = /fragment of playlist|Invalid data found when processing input|Last message repeated/;
    expect(result.stderr.split('\n').filter((line) => line && !noise.test(line))).toEqual([]);
    const frames = [...result.stdout.matchAll(/^frame=(\d+)$/gm)].map((m) => Number(m[1]));
    expect(frames.at(-1)).toBe(360);
    // Audio and video start together: within one frame.
    const probe = await execa('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,start_time', '-of', 'json', `${srv.base}/media/clip.mp4/stream.${format}`]);
    const streams = (JSON.parse(probe.stdout) as { streams: { codec_type: string; start_time: string }[] }).streams;
    const start = (type: string): number => Number(streams.find((s) => s.codec_type === type)?.start_time);
    expect(Math.abs(start('video') - start('audio'))).toBeLessThanOrEqual(1 / 30);
  });

  it('answers CORS preflights', async () => {
    const response = await fetch(`${srv.base}/sessions/x/segments/video-360p-00001.m4s`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://player.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'range' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('range');
  });

  // Bytes are written to node directly, past Hono's response: each answer must still carry CORS
  // headers exactly once (a second copy reads "*, *" and browsers refuse it).
  it('sends CORS headers once on manifests, inits, segments, JSON and errors', async () => {
    const { id } = await createSession(srv.base, 'clip.mp4');
    const paths = [
      `/sessions/${id}/stream.mpd`, `/sessions/${id}/video-360p.m3u8`, `/sessions/${id}/init/video-360p.mp4`,
      `/sessions/${id}/segments/video-360p-00001.m4s`, `/api/sessions/${id}`, `/sessions/${id}/segments/video-360p-00099.m4s`,
    ];
    const answers = await Promise.all(paths.map(async (p) => {
      const response = await fetch(`${srv.base}${p}`, { headers: { Origin: 'https://player.example' } });
      await response.arrayBuffer();
      return [p, response.status, response.headers.get('access-control-allow-origin'), response.headers.get('access-control-expose-headers')?.includes('Content-Range')];
    }));
    expect(answers).toEqual(paths.map((p) => [p, p.endsWith('00099.m4s') ? 404 : 200, '*', true]));
  });
});

describe('a session', () => {
  it('refuses unknown sessions, renditions and numbers outside the plan', async () => {
    const { id } = await createSession(srv.base, 'clip.mp4');
    const at = (p: string): Promise<Response> => fetch(`${srv.base}/sessions/${id}/${p}`);
    await expectError(await fetch(`${srv.base}/sessions/00000000-0000-4000-8000-000000000000/stream.mpd`), 404, 'SESSION_NOT_FOUND');
    await expectError(await fetch(`${srv.base}/api/sessions/nope`), 404, 'SESSION_NOT_FOUND');
    await expectError(await at('segments/video-360p-00000.m4s'), 404, 'SEGMENT_NOT_FOUND');
    await expectError(await at('segments/video-360p-00004.m4s'), 404, 'SEGMENT_NOT_FOUND');
    await expectError(await at('segments/video-1080p-00001.m4s'), 404, 'RENDITION_NOT_FOUND');
    await expectError(await rawGet(`/sessions/${id}/segments/../../../etc/passwd`), 404, 'ROUTE_NOT_FOUND');
    await expectError(await at('segments/whatever.m4s'), 404, 'SEGMENT_NOT_FOUND');
    await expectError(await at('init/video-1080p.mp4'), 404, 'RENDITION_NOT_FOUND');
    await expectError(await at('video-1080p.m3u8'), 404, 'ROUTE_NOT_FOUND');
    const status = await sessionStatus(srv.base, id);
    expect(status).toMatchObject({ id, state: 'idle', restarts: 0 });
    expect(status.run).toBeUndefined();
  });

  it('serves manifests with their types and short caching', async () => {
    const { id } = await createSession(srv.base, 'clip.mp4');
    for (const [file, type] of [['stream.mpd', 'application/dash+xml'], ['stream.m3u8', 'application/vnd.apple.mpegurl'], ['video-360p.m3u8', 'application/vnd.apple.mpegurl'], ['audio-1.m3u8', 'application/vnd.apple.mpegurl']]) {
      const response = await fetch(`${srv.base}/sessions/${id}/${file}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(type);
      expect(response.headers.get('cache-control')).toBe('public, max-age=2');
    }
    const media = await (await fetch(`${srv.base}/sessions/${id}/video-360p.m3u8`)).text();
    expect(media.match(/#EXTINF:4\.000,/g)).toHaveLength(3);
  });

  it('shares one wait among concurrent requests and serves byte ranges of immutable segments', async () => {
    const { id } = await createSession(srv.base, 'clip.mp4');
    const url = `${srv.base}/sessions/${id}/segments/video-360p-00002.m4s`;
    const [a, b, c] = await Promise.all([fetchBytes(url), fetchBytes(url), fetchBytes(url)]);
    expect(b.equals(a) && c.equals(a)).toBe(true);
    const status = await sessionStatus(srv.base, id);
    expect(status.restarts).toBe(0);
    const full = await fetch(url);
    expect(full.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(full.headers.get('content-type')).toBe('video/mp4');
    const etag = full.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    const open = await fetch(url, { headers: { Range: 'bytes=0-' } });
    expect(open.status).toBe(206);
    expect(open.headers.get('content-range')).toBe(`bytes 0-${a.length - 1}/${a.length}`);
    const part = await fetch(url, { headers: { Range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(a.subarray(10, 20))).toBe(true);
    const tail = await fetch(url, { headers: { Range: 'bytes=-100' } });
    expect(Buffer.from(await tail.arrayBuffer()).equals(a.subarray(a.length - 100))).toBe(true);
    expect((await fetch(url, { headers: { 'If-None-Match': etag } })).status).toBe(304);
    await expectError(await fetch(url, { headers: { Range: `bytes=${a.length}-` } }), 416, 'RANGE_NOT_SATISFIABLE');
    const init = await fetch(`${srv.base}/sessions/${id}/init/audio-1.mp4`, { headers: { Range: 'bytes=0-' } });
    expect(init.status).toBe(206);
    expect(init.headers.get('content-type')).toBe('audio/mp4');
  });

  // Regression: concurrent first sessions on one file each opened their own title, and their runs
  // collided in one folder (mkfifo: File exists -> 502 on every init).
  it('opens one title for many sessions created at once on a new file', async () => {
    const sessions = await Promise.all(Array.from({ length: 6 }, () => createSession(srv.base, 'copies/crowd.mp4')));
    const inits = await Promise.all(sessions.map((s) => fetch(`${srv.base}/sessions/${s.id}/init/audio-1.mp4`)));
    expect(inits.map((r) => r.status)).toEqual(Array(6).fill(200));
  });

  it('keeps encoding when a waiting client disconnects, and the retry joins the same run', async () => {
    // A file no other test played: nothing of it is in the shared store yet.
    const { id } = await createSession(srv.base, 'copies/fresh.mp4');
    const runsBefore = await runsStarted();
    const url = `${srv.base}/sessions/${id}/segments/audio-1-00003.m4s`;
    const controller = new AbortController();
    const first = fetch(url, { signal: controller.signal });
    setTimeout(() => controller.abort(), 150);
    await expect(first).rejects.toThrow();
    // The server sees the disconnect about 100 ms after the client: retry only once it has, so
    // the retry cannot simply join the wait the first request left.
    await sleep(500);
    expect((await fetch(url)).status).toBe(200);
    const status = await sessionStatus(srv.base, id);
    expect(status.restarts).toBe(0);
    // Exactly one run served both requests, and it started at segment 3 (nothing before it was
    // made): had it stopped when its only waiter left, the retry would have needed a second.
    expect(await runsStarted()).toBe(runsBefore + 1);
    expect(status.segments['audio-1']).toEqual([3]);
  });
});

describe('a segment slower than SEGMENT_WAIT_MS', () => {
  it('gets 503 with Retry-After, and is there on retry', async () => {
    const quick = await startTestServer({ MEDIA_DIR: media, SEGMENT_WAIT_MS: '100' });
    try {
      const { id } = await createSession(quick.base, 'clip.mp4');
      const url = `${quick.base}/sessions/${id}/segments/video-360p-00001.m4s`;
      const response = await fetch(url);
      await expectError(response, 503, 'SEGMENT_TIMEOUT');
      expect(response.headers.get('retry-after')).toBe('2');
      let retry = await fetch(url);
      for (let i = 0; retry.status === 503 && i < 100; i++) retry = await fetch(url);
      expect(retry.status).toBe(200);
      expect((await sessionStatus(quick.base, id)).restarts).toBe(0);
    } finally {
      await quick.close();
    }
  });
});
