// Question (issue 13): what does nginx in front of three nodes cost or give? (deploy/cluster.ts,
// one nginx worker, 3 nodes on this machine, 4 s segments, encoded 360p.)
// (a) A warm segment loaded with wrk (1 thread, 16 connections, 8 s): from nginx's cache vs from
//     the title's node directly (its memory cache), interleaved, 3 rounds each.
// (b) Added latency, one request at a time: a segment warm on the node, fetched directly vs
//     through nginx for the first time (a cache miss: nginx asks the node) vs again (a hit).
// (c) Failover: a viewer fetches segments 1-2, the title's node is SIGKILLed, then the time to
//     its segment 3 through nginx (another node starts a run there). A fresh cluster each of 3.
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { startCluster, type Cluster, type ClusterNode } from '../deploy/cluster.js';
import { makeClip } from '../test/support/media.js';
import { BENCH_DIR, cell, median, round, timed, type Scenario } from './support.js';
import { parseWrk } from './warm-serving.js';

const ROUNDS = 3;
const LATENCY_SAMPLES = 20;
const FAILOVERS = 3;
const ENV = { COPY: 'never', SEGMENT_SECONDS: '4', LOAD_SHEDDING: 'off' };

const name = (n: number): string => `video-360p-${String(n).padStart(5, '0')}.m4s`;

async function viewerBase(cluster: Cluster, file: string): Promise<string> {
  const response = await fetch(`${cluster.base}/media/${file}/stream.mpd`, { redirect: 'manual' });
  if (response.status !== 302) throw new Error(`/media/${file}: ${response.status}`);
  return new URL(response.headers.get('location')!, cluster.base).pathname.replace(/stream\.mpd$/, '');
}

async function ok(url: string): Promise<string | null> {
  const response = await fetch(url);
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status}`);
  return response.headers.get('x-cache-status');
}

async function owner(cluster: Cluster): Promise<ClusterNode> {
  for (const node of cluster.nodes) {
    const text = await (await fetch(`${node.base}/metrics`)).text();
    if (/^seekwell_runs_started_total [1-9]/m.test(text)) return node;
  }
  throw new Error('no node encoded the title');
}

async function wrk(url: string): Promise<{ reqPerSec: number; p50Ms: number; p99Ms: number }> {
  const { stdout } = await execa('/usr/bin/wrk', ['-t1', '-c16', '-d8s', '--latency', url], { timeout: 60_000 });
  return parseWrk(stdout);
}

export const edge: Scenario = async () => {
  const dir = path.join(BENCH_DIR, 'edge-media');
  await mkdir(dir, { recursive: true });
  await makeClip(path.join(dir, 'film.mp4'), { seconds: 120, width: 640, height: 360, audioRate: 48_000 });
  for (let k = 1; k <= FAILOVERS; k++) await copyFile(path.join(dir, 'film.mp4'), path.join(dir, `failover-${k}.mp4`));
  const load: { nginx: number[]; direct: number[]; nginxP99: number[]; directP99: number[] } = { nginx: [], direct: [], nginxP99: [], directP99: [] };
  const latency: { direct: number[]; miss: number[]; hit: number[] } = { direct: [], miss: [], hit: [] };
  let cluster = await startCluster({ nodes: 3, mediaDir: dir, env: ENV });
  try {
    const base = await viewerBase(cluster, 'film.mp4');
    // The init through nginx starts the title's run on the node the hash picks; its segments are
    // then made warm there directly, so nginx's cache holds none of them yet.
    await ok(`${cluster.base}${base}init/video-360p.mp4`);
    const node = await owner(cluster);
    for (let n = 1; n <= LATENCY_SAMPLES; n++) await ok(`${node.base}${base}segments/${name(n)}`);
    // Validation: through nginx the first request is a miss, the next a hit.
    if ((await ok(`${cluster.base}${base}segments/${name(1)}`)) !== 'MISS' || (await ok(`${cluster.base}${base}segments/${name(1)}`)) !== 'HIT') {
      throw new Error('nginx did not cache segment 1');
    }
    for (let n = 2; n <= LATENCY_SAMPLES; n++) {
      latency.direct.push(await timed(() => ok(`${node.base}${base}segments/${name(n)}`)));
      latency.miss.push(await timed(() => ok(`${cluster.base}${base}segments/${name(n)}`)));
      latency.hit.push(await timed(() => ok(`${cluster.base}${base}segments/${name(n)}`)));
    }
    for (let round = 0; round < ROUNDS; round++) {
      const viaNginx = await wrk(`${cluster.base}${base}segments/${name(1)}`);
      const direct = await wrk(`${node.base}${base}segments/${name(1)}`);
      load.nginx.push(viaNginx.reqPerSec);
      load.nginxP99.push(viaNginx.p99Ms);
      load.direct.push(direct.reqPerSec);
      load.directP99.push(direct.p99Ms);
    }
  } finally {
    await cluster.stop();
  }
  const failoverMs: number[] = [];
  for (let k = 1; k <= FAILOVERS; k++) {
    cluster = await startCluster({ nodes: 3, mediaDir: dir, env: ENV });
    try {
      const base = await viewerBase(cluster, `failover-${k}.mp4`);
      for (let n = 1; n <= 2; n++) await ok(`${cluster.base}${base}segments/${name(n)}`);
      const node = await owner(cluster);
      node.child.kill('SIGKILL');
      await new Promise((resolve) => node.child.once('exit', resolve));
      failoverMs.push(await timed(() => ok(`${cluster.base}${base}segments/${name(3)}`)));
    } finally {
      await cluster.stop();
    }
  }
  const ms = (values: number[]): string => cell(values.map((v) => round(v, 1)));
  return {
    question: 'what does nginx in front of 3 nodes cost or give: warm throughput, added latency, a node\'s death?',
    headers: ['measure', 'through nginx', 'direct to the node', 'ratio'],
    rows: [
      ['warm segment req/s (wrk 1 thread 16 conn.), median (min-max)', cell(load.nginx.map((v) => Math.round(v))), cell(load.direct.map((v) => Math.round(v))), round(median(load.nginx) / median(load.direct), 2)],
      ['  p99 ms', ms(load.nginxP99), ms(load.directP99), round(median(load.nginxP99) / median(load.directP99), 2)],
      ['one request, ms p50: cache miss (nginx asks the node)', ms(latency.miss), ms(latency.direct), round(median(latency.miss) / median(latency.direct), 2)],
      ['one request, ms p50: cache hit', ms(latency.hit), ms(latency.direct), round(median(latency.hit) / median(latency.direct), 2)],
      ['next segment after the viewer\'s node is SIGKILLed, ms', ms(failoverMs), '', ''],
    ],
    data: { load, latency, failoverMs, env: ENV, nodes: 3, nginx: 'worker_processes 1, proxy_cache on init/ and segments/' },
  };
};
