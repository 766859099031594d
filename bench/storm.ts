// Question (issue 12): what do viewers get from a server in a storm? CLIENTS clients for
// STORM_SECONDS open sessions on one title and on several, jump at random, abort 15 % of their
// requests and delete their sessions (test/support/storm-client.ts, the CI storm test's clients),
// against one server process with the default SEGMENT_WAIT_MS (8 s). Validated first (a session,
// both inits and segment 1 answer 200 with whole bytes); every 200 of the storm is checked for
// whole, correctly timed bytes, and a wrong one fails the run. Reported: answers by status, the
// time each segment request took (p50/p95/max), and the server's RSS every 5 s and after the
// sessions are gone. Problems (a wrong byte, an answer past SEGMENT_WAIT_MS + 1 s, an
// undocumented status) fail the scenario; measureStorm() counts them instead, for older servers.
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeClip } from '../test/support/media.js';
import { newTally, random, StormClient, type StormShape } from '../test/support/storm-client.js';
import { BENCH_DIR, createSession, get, percentile, round, startServerProcess, type Scenario, type ServerProcess } from './support.js';

const CLIENTS = 8;
const STORM_SECONDS = 60;
const D = 4;
const CLIP_SECONDS = 120;
const WAIT_MS = 8000;
const TITLES = ['one.mp4', 'two.mp4', 'three.mp4'];

async function rssMb(server: ServerProcess): Promise<number> {
  const status = await readFile(`/proc/${server.child.pid}/status`, 'utf8');
  return Math.round(Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)![1]) / 1024);
}

async function metric(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
}

export const storm: Scenario = async () => {
  const result = await measureStorm('audio-1');
  const problems = result.data.problems as string[];
  if (problems.length > 0) throw new Error(`storm: ${problems.length} problems, first: ${problems.slice(0, 3).join('; ')}`);
  return result;
};

/**
 * The storm against the server in the current directory's `src/main.ts`; `audio` names its audio
 * rendition (`audio` before issue 9's renditions), so an older checkout can be measured with the
 * same clients: `cd <old worktree> && node --import tsx -e "import('<repo>/bench/storm.ts').then((m) => m.measureStorm('audio'))"`.
 */
export async function measureStorm(audio: string): ReturnType<Scenario> {
  const shape: StormShape = { segmentSeconds: D, count: CLIP_SECONDS / D, fps: 30, maxAnswerMs: WAIT_MS + 1000, renditions: { video: 'video-360p', audio } };
  const dir = path.join(BENCH_DIR, 'storm-media');
  await mkdir(dir, { recursive: true });
  await makeClip(path.join(dir, TITLES[0]!), { seconds: CLIP_SECONDS, width: 640, height: 360, audioRate: 48_000 });
  for (const name of TITLES.slice(1)) await copyFile(path.join(dir, TITLES[0]!), path.join(dir, name));
  const server = await startServerProcess('storm', { MEDIA_DIR: dir, SEGMENT_WAIT_MS: String(WAIT_MS), BUFFER_AHEAD_SECONDS: '12', CACHE_MAX_BYTES: String(64 * 1024 ** 2), LOAD_SHEDDING: 'on' });
  try {
    const id = await createSession(server.base, TITLES[0]!);
    for (const file of ['init/video-360p.mp4', `init/${audio}.mp4`, 'segments/video-360p-00001.m4s']) await get(`${server.base}/sessions/${id}/${file}`);
    await fetch(`${server.base}/api/sessions/${id}`, { method: 'DELETE' }).then((r) => r.arrayBuffer());
    const rssIdle = await rssMb(server);
    const tally = newTally();
    const until = Date.now() + STORM_SECONDS * 1000;
    const timeline: { second: number; rssMb: number; runs: number; sessions: number }[] = [];
    const sampling = (async () => {
      for (let second = 0; Date.now() < until; second += 5) {
        timeline.push({ second, rssMb: await rssMb(server), runs: await metric(server.base, 'seekwell_runs'), sessions: await metric(server.base, 'seekwell_sessions') });
        await sleep(5000);
      }
    })();
    const clients = Array.from({ length: CLIENTS }, (_, i) => new StormClient(server.base, shape, tally).run(until, false, () => (i % 2 === 0 ? TITLES[0]! : TITLES[random(TITLES.length)]!)));
    await Promise.all([...clients, sampling]);
    await sleep(5000);
    const rssAfter = await rssMb(server);
    const ms = tally.segmentMs;
    const statuses = Object.fromEntries([...tally.statuses].sort());
    return {
      question: `what do ${CLIENTS} jumping, aborting, deleting clients get from one server for ${STORM_SECONDS} s?`,
      headers: ['answers by status', 'problems', 'segments checked', 'segment request ms p50', 'p95', 'max', 'RSS MB idle', 'peak', 'after (5 s)'],
      rows: [[
        Object.entries(statuses).map(([k, v]) => `${k}: ${v}`).join(', '), tally.problems.length, tally.checked,
        round(percentile(ms, 0.5), 0), round(percentile(ms, 0.95), 0), Math.max(...ms),
        rssIdle, Math.max(...timeline.map((t) => t.rssMb)), rssAfter,
      ]],
      data: {
        clients: CLIENTS, seconds: STORM_SECONDS, segmentWaitMs: WAIT_MS,
        clip: `${TITLES.length} titles (copies) of a ${CLIP_SECONDS} s 640x360 30 fps testsrc2 + tone -> video-360p + audio-1, D = ${D} s`,
        client: 'POST, then 5-29 steps: the next pair (65 %) or a random one; 15 % of pairs aborted after 50-1550 ms; DELETE; again',
        statuses, timeline, rssIdle, rssAfter, problems: tally.problems.slice(0, 50),
      },
    };
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
