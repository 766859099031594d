// Issue 13: three nodes behind nginx (deploy/). Viewers of a title meet on one node, inits and
// segments are cached by nginx for every viewer, and when that node dies (SIGKILL) the viewer's
// next segment comes from another node, in time and on the same timeline.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster, type ClusterNode } from '../../deploy/cluster.js';
import { makeClip } from '../support/media.js';
import { metricSample, segmentName } from '../support/server.js';
import { inspectSegment } from '../support/verify.js';

let media: string;
let cluster: Cluster;

beforeAll(async () => {
  media = await mkdtemp(path.join(tmpdir(), 'seekwell-media-'));
  await makeClip(path.join(media, 'film.mp4'), { seconds: 60, width: 640, height: 360, audioRate: 48_000 });
  cluster = await startCluster({ nodes: 3, mediaDir: media, env: { COPY: 'never', SEGMENT_SECONDS: '4', LOG_LEVEL: 'info', LOAD_SHEDDING: 'off' } });
});

afterAll(async () => {
  await cluster?.stop();
  await rm(media, { recursive: true, force: true });
});

async function viewerBase(): Promise<string> {
  const response = await fetch(`${cluster.base}/media/film.mp4/stream.mpd`, { redirect: 'manual' });
  expect(response.status).toBe(302);
  return new URL(response.headers.get('location')!, cluster.base).pathname.replace(/stream\.mpd$/, '');
}

async function get(url: string): Promise<{ status: number; cache: string | null; body: Buffer; ms: number }> {
  const started = Date.now();
  const response = await fetch(url);
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, cache: response.headers.get('x-cache-status'), body, ms: Date.now() - started };
}

/** The node that encoded for the title (all its viewers' requests hash to it). */
async function owner(): Promise<ClusterNode> {
  const encoded = await Promise.all(cluster.nodes.map((n) => metricSample(n.base, 'seekwell_runs_started_total')));
  expect(encoded.filter((n) => n > 0)).toHaveLength(1);
  return cluster.nodes[encoded.findIndex((n) => n > 0)]!;
}

describe('three nodes behind nginx', () => {
  let first: string;
  let init: Buffer;

  it('serves a title through nginx from one node, and the manifest the same from any node', async () => {
    first = await viewerBase();
    const mpd = await get(`${cluster.base}${first}stream.mpd`);
    expect(mpd.status).toBe(200);
    for (const node of cluster.nodes) expect((await get(`${node.base}${first}stream.mpd`)).body).toEqual(mpd.body);
    init = (await get(`${cluster.base}${first}init/video-360p.mp4`)).body;
    for (let n = 1; n <= 3; n++) {
      const segment = await get(`${cluster.base}${first}segments/${segmentName('video-360p', n)}`);
      expect(segment.status).toBe(200);
      expect(segment.cache).toBe('MISS');
    }
    await owner();
  });

  it('gives a second viewer of the title the inits and segments from nginx\'s cache, with no new encode', async () => {
    const node = await owner();
    const runsBefore = await metricSample(node.base, 'seekwell_runs_started_total');
    const servedBefore = await metricSample(node.base, 'seekwell_segments_served_total{from="store"}') + await metricSample(node.base, 'seekwell_segments_served_total{from="encoder"}');
    const second = await viewerBase();
    expect(second).not.toBe(first);
    const again = await get(`${cluster.base}${second}init/video-360p.mp4`);
    expect(again.body).toEqual(init);
    for (let n = 1; n <= 3; n++) {
      const segment = await get(`${cluster.base}${second}segments/${segmentName('video-360p', n)}?CMCD=bl%3D4000`);
      expect(segment.status).toBe(200);
      expect(segment.cache).toBe('HIT');
    }
    const servedAfter = await metricSample(node.base, 'seekwell_segments_served_total{from="store"}') + await metricSample(node.base, 'seekwell_segments_served_total{from="encoder"}');
    expect(servedAfter).toBe(servedBefore);
    expect(await metricSample(node.base, 'seekwell_runs_started_total')).toBe(runsBefore);
  });

  it('serves the viewer\'s next segment from another node when its node is killed, in time and on the same timeline', async () => {
    const node = await owner();
    node.child.kill('SIGKILL');
    await new Promise((resolve) => node.child.once('exit', resolve));
    const next = await get(`${cluster.base}${first}segments/${segmentName('video-360p', 4)}`);
    expect(next.status).toBe(200);
    expect(next.ms).toBeLessThan(10_000);
    const check = inspectSegment(init, next.body);
    expect(check.firstPresentation).toBeCloseTo(12, 6);
    expect(check.sampleCount).toBe(120);
    const later = await get(`${cluster.base}${first}segments/${segmentName('video-360p', 5)}`);
    expect(later.status).toBe(200);
    console.log(`failover: segment 4 in ${next.ms} ms after the node died, segment 5 in ${later.ms} ms`);
  });
});
