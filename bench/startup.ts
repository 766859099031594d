// Question (issue 11): how long does a viewer wait on a title nobody has watched, encoded
// 1080p30 -> 720p, and what does each way of starting sooner buy? Server configurations run side
// by side (one server process each, interleaved per repeat, so they share the machine's noise):
// `SEGMENT_SECONDS` 4 (before) and 2. Every sample is a fresh hardlink name (titles are keyed by path: nothing
// comes from a store or a cache; the file itself stays in the page cache), and the server is idle
// (no run alive) before it starts.
// (a) First segment: POST a session, the MPD, both inits, then video + audio segment 1.
// (b) Far jump, right after: the segment pair holding content second 96 (a restart).
// (c) shaka-player's first frame (Debian Chromium, default configuration) from `player.load()` of
//     `/media/<file>/stream.mpd` (probe, session and manifest included) to the first video frame.
// (d) Bytes of the whole 120 s title's video-720p at each segment length (the cost of more key
//     frames at the same CRF).
import { link, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchChromium, servePlayerPage, waitForPlayer } from '../test/browser/support/browser.js';
import { twoMinuteClip } from './latency.js';
import { BENCH_DIR, cell, createSession, fetchPair, get, median, percentile, round, startServerProcess, timed, type Scenario, type ServerProcess } from './support.js';

const VIDEO = 'video-720p';
const JUMP_TO_SECONDS = 96;
const REPEATS = 10;
const SHAKA_REPEATS = 5;
const TITLES = path.join(BENCH_DIR, 'startup-titles');

interface Config {
  name: string;
  segmentSeconds: number;
  env: Record<string, string>;
}

const CONFIGS: Config[] = [
  { name: 'D=4 s (before)', segmentSeconds: 4, env: { SEGMENT_SECONDS: '4' } },
  { name: 'D=2 s', segmentSeconds: 2, env: { SEGMENT_SECONDS: '2' } },
];

/** Waits until the server has no run alive (its `seekwell_runs` gauge is 0). */
async function idle(server: ServerProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = await (await fetch(`${server.base}/metrics`)).text();
    if (/^seekwell_runs 0$/m.test(text)) return;
    if (Date.now() > deadline) throw new Error(`${server.base} still has runs after 30 s`);
    await sleep(100);
  }
}

let titleSeq = 0;
async function freshTitle(source: string): Promise<string> {
  const name = `t${process.pid}-${titleSeq++}.mp4`;
  await link(source, path.join(TITLES, name));
  return name;
}

async function deleteSession(server: ServerProcess, id: string): Promise<void> {
  const response = await fetch(`${server.base}/api/sessions/${id}`, { method: 'DELETE' });
  await response.arrayBuffer();
}

async function firstAndJump(server: ServerProcess, config: Config, source: string): Promise<{ first: number; jump: number }> {
  const media = await freshTitle(source);
  let id = '';
  const first = await timed(async () => {
    id = await createSession(server.base, media);
    const prefix = `${server.base}/sessions/${id}`;
    await get(`${prefix}/stream.mpd`);
    await Promise.all([get(`${prefix}/init/${VIDEO}.mp4`), get(`${prefix}/init/audio-1.mp4`)]);
    await fetchPair(server.base, id, VIDEO, 1);
  });
  const jump = await timed(() => fetchPair(server.base, id, VIDEO, Math.floor(JUMP_TO_SECONDS / config.segmentSeconds) + 1));
  await deleteSession(server, id);
  return { first, jump };
}

async function titleBytes(server: ServerProcess, config: Config, source: string): Promise<number> {
  const id = await createSession(server.base, await freshTitle(source));
  let bytes = 0;
  for (let n = 1; n <= Math.ceil(120 / config.segmentSeconds); n++) bytes += await get(`${server.base}/sessions/${id}/segments/${VIDEO}-${String(n).padStart(5, '0')}.m4s`);
  await deleteSession(server, id);
  return bytes;
}

export const startup: Scenario = async () => {
  const clip = await twoMinuteClip();
  const source = path.join(clip.dir, clip.file);
  await rm(TITLES, { recursive: true, force: true });
  await mkdir(TITLES, { recursive: true });
  const servers: ServerProcess[] = [];
  const page = await servePlayerPage();
  const browser = await launchChromium();
  try {
    for (const [i, config] of CONFIGS.entries()) {
      // A short idle time: a closed player tab's run stops 1 s after its last request.
      servers.push(await startServerProcess(`startup-${i}`, { MEDIA_DIR: TITLES, SESSION_IDLE_MS: '1000', ...config.env }));
    }
    // Validation and warm-up (JIT, page cache): one unrecorded sample each.
    for (const [i, config] of CONFIGS.entries()) {
      await idle(servers[i]!);
      await firstAndJump(servers[i]!, config, source);
    }
    const first = CONFIGS.map((): number[] => []);
    const jump = CONFIGS.map((): number[] => []);
    const frame = CONFIGS.map((): number[] => []);
    const rungs = CONFIGS.map((): string[] => []);
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      for (const [i, config] of CONFIGS.entries()) {
        await idle(servers[i]!);
        const sample = await firstAndJump(servers[i]!, config, source);
        first[i]!.push(sample.first);
        jump[i]!.push(sample.jump);
      }
    }
    for (let repeat = 0; repeat < SHAKA_REPEATS; repeat++) {
      for (const [i] of CONFIGS.entries()) {
        await idle(servers[i]!);
        const tab = await browser.newPage();
        const fetched: string[] = [];
        tab.on('request', (request) => {
          const match = /segments\/(video-\d+p)-/.exec(request.url());
          if (match) fetched.push(match[1]!);
        });
        try {
          await tab.goto(page.url);
          const media = await freshTitle(source);
          await tab.evaluate(`window.openPlayer('shaka', ${JSON.stringify(`${servers[i]!.base}/media/${media}/stream.mpd`)})`);
          const state = await waitForPlayer(tab, 'shaka first frame', (s) => s.firstFrameMs !== null, 20_000);
          frame[i]!.push(state.firstFrameMs as number);
          rungs[i]!.push(fetched[0] ?? 'none');
        } finally {
          await tab.close();
        }
      }
    }
    const bytes: number[] = [];
    for (const [i, config] of CONFIGS.entries()) {
      await idle(servers[i]!);
      bytes.push(await titleBytes(servers[i]!, config, source));
    }
    const p = (values: number[], q: number): number => round(percentile(values, q), 0);
    const rows = CONFIGS.map((config, i) => [
      config.name, cell(first[i]!.map((v) => round(v, 0))), p(first[i]!, 0.95), cell(jump[i]!.map((v) => round(v, 0))), p(jump[i]!, 0.95),
      cell(frame[i]!.map((v) => round(v, 0))), round(bytes[i]! / 1e6, 2), round(bytes[i]! / bytes[0]!, 3),
    ]);
    return {
      question: 'how long does a viewer wait on a fresh 1080p30 -> 720p title, by segment length?',
      headers: ['server', 'first segment ms p50 (min-max)', 'p95', 'far jump ms p50 (min-max)', 'p95', 'shaka first frame ms p50 (min-max)', 'video-720p MB / 120 s', 'bytes vs D=4'],
      rows,
      data: {
        clip: `${clip.file}: 120 s 1920x1080 30 fps testsrc2 + tone -> ${VIDEO} veryfast CRF 23 + audio-1`,
        repeats: { firstAndJump: REPEATS, shaka: SHAKA_REPEATS },
        jumpToSeconds: JUMP_TO_SECONDS,
        configs: CONFIGS,
        samples: CONFIGS.map((config, i) => ({
          name: config.name, firstMs: first[i]!.map((v) => round(v, 0)), jumpMs: jump[i]!.map((v) => round(v, 0)),
          shakaFirstFrameMs: frame[i]!.map((v) => round(v, 0)), shakaFirstRung: rungs[i], videoBytes: bytes[i],
          medians: { first: round(median(first[i]!), 0), jump: round(median(jump[i]!), 0), shaka: round(median(frame[i]!), 0) },
        })),
      },
    };
  } finally {
    await browser.close().catch(() => {});
    await page.close().catch(() => {});
    await Promise.allSettled(servers.map((s) => s.stop()));
    await rm(TITLES, { recursive: true, force: true });
  }
};
