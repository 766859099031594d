// Issue 13, part 1: stateless URLs. Everything a node needs is in the URL (the file's path, the
// title key it must still lead to, the viewer), so two servers on one library, sharing nothing
// else (own WORK_DIR, own process state), give the same manifest for the same URL, and either
// serves a viewer's next segment, with the timing the plan promises.
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClip } from '../support/media.js';
import { fetchBytes, segmentName, startTestServer, type TestServer } from '../support/server.js';
import { inspectSegment } from '../support/verify.js';

let media: string;
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  media = await mkdtemp(path.join(tmpdir(), 'seekwell-media-'));
  await makeClip(path.join(media, 'film.mp4'), { seconds: 40, width: 640, height: 360, audioRate: 48_000 });
  await makeClip(path.join(media, 'changes.mp4'), { seconds: 8, width: 640, height: 360, audioRate: 48_000 });
  [a, b] = [await startTestServer({ MEDIA_DIR: media }), await startTestServer({ MEDIA_DIR: media })];
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await rm(media, { recursive: true, force: true });
});

/** The stateless prefix `/media/` hands a new viewer (`/t/<token>/<viewer>/`). */
async function viewerBase(server: TestServer, file: string): Promise<string> {
  const response = await fetch(`${server.base}/media/${file}/stream.mpd`, { redirect: 'manual' });
  expect(response.status).toBe(302);
  const location = response.headers.get('location')!;
  expect(location).toMatch(/^\/t\/[A-Za-z0-9_-]+\.[0-9a-f]{32}\/[A-Za-z0-9_-]{8,64}\/stream\.mpd$/);
  return location.replace(/stream\.mpd$/, '');
}

describe('stateless URLs', () => {
  it('give the same manifest, byte for byte and ETag, on two servers that share nothing but the library', async () => {
    const base = await viewerBase(a, 'film.mp4');
    const [fromA, fromB] = [await fetch(`${a.base}${base}stream.mpd`), await fetch(`${b.base}${base}stream.mpd`)];
    const [textA, textB] = [await fromA.text(), await fromB.text()];
    expect(textA).toBe(textB);
    expect(textA).toContain(`<BaseURL>${base}</BaseURL>`);
    expect(fromA.headers.get('etag')).toBe(fromB.headers.get('etag'));
    for (const file of ['stream.m3u8', 'video-360p.m3u8', 'audio-1.m3u8']) {
      expect(await (await fetch(`${a.base}${base}${file}`)).text()).toBe(await (await fetch(`${b.base}${base}${file}`)).text());
    }
    // A manifest opens no session: only media requests do.
    expect(a.server.registry.size + b.server.registry.size).toBe(0);
  });

  it('let either server serve a viewer\'s next segment (a node fails over), with the planned timing', async () => {
    const base = await viewerBase(a, 'film.mp4');
    const init = await fetchBytes(`${a.base}${base}init/video-360p.mp4`);
    const segment = (server: TestServer, n: number): Promise<Buffer> => fetchBytes(`${server.base}${base}segments/${segmentName('video-360p', n)}`);
    const fromA = [await segment(a, 1), await segment(a, 2)];
    // Server a "dies": the player's next requests reach b, which has never seen this viewer.
    const fromB = [await segment(b, 3), await segment(b, 4)];
    expect(await fetchBytes(`${b.base}${base}init/video-360p.mp4`)).toEqual(init);
    [...fromA, ...fromB].forEach((bytes, i) => {
      const check = inspectSegment(init, bytes);
      expect(check.firstPresentation).toBeCloseTo(i * 4, 6);
      expect(check.sampleCount).toBe(120);
    });
    // The same run start on both: the same bytes (x264 and the packager are deterministic here),
    // and the same ETag (from the bytes, not from the file).
    expect(await segment(b, 1)).toEqual(fromA[0]);
    const etag = async (server: TestServer): Promise<string | null> => (await fetch(`${server.base}${base}segments/${segmentName('video-360p', 1)}`, { method: 'HEAD' })).headers.get('etag');
    expect(await etag(b)).toBe(await etag(a));
    expect(b.server.registry.list().map((s) => s.id)).toEqual([expect.stringMatching(new RegExp(`${base.split('/')[3]}$`))]);
  });

  it('refuse what is not a title (404 TITLE_NOT_FOUND), and a file changed since the URL was made (410 TITLE_CHANGED)', async () => {
    const bad = await fetch(`${a.base}/t/not-a-token/viewer-0001/stream.mpd`);
    expect(bad.status).toBe(404);
    expect(await bad.json()).toMatchObject({ code: 'TITLE_NOT_FOUND' });
    const base = await viewerBase(a, 'changes.mp4');
    expect((await fetch(`${a.base}${base.replace(/\/[^/]+\/$/, '/no!/')}stream.mpd`)).status).toBe(404);
    const later = new Date(Date.now() + 60_000);
    await utimes(path.join(media, 'changes.mp4'), later, later);
    // b has not seen this token: it checks the file and finds it changed.
    const changed = await fetch(`${b.base}${base}stream.mpd`);
    expect(changed.status).toBe(410);
    expect(await changed.json()).toMatchObject({ code: 'TITLE_CHANGED' });
    expect((await fetch(`${a.base}/media/missing.mp4/stream.mpd`, { redirect: 'manual' })).status).toBe(404);
  });
});
