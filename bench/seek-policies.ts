// Questions: how long does a viewer wait after a jump, under Seekwell's cost model against
// "restart on every jump" and "never restart, wait for the encoder"? And how much encoder CPU
// does a realistic viewing cost against encoding the whole title?
// 10-minute 1080p30 clip -> 720p; the same 20 seeded random jumps for every policy, one run.
import { setTimeout as sleep } from 'node:timers/promises';
import { createSession, fetchPair, get, longClip, percentile, seededRandom, startServerProcess, timed } from './support.js';

const JUMPS = 20;
const D = 4;
const VIDEO = 'video-720p';
const POLICIES = ['cost', 'always-restart', 'never-restart'] as const;

async function seekLatencies(policy: (typeof POLICIES)[number], targets: number[], name = 'seek'): Promise<Record<string, unknown>> {
  const clip = await longClip();
  const server = await startServerProcess(`${name}-${policy}`, { MEDIA_DIR: clip.dir, SEEK_POLICY: policy });
  try {
    const id = await createSession(server.base, clip.file);
    await Promise.all([get(`${server.base}/sessions/${id}/init/${VIDEO}.mp4`), get(`${server.base}/sessions/${id}/init/audio-1.mp4`)]);
    await fetchPair(server.base, id, VIDEO, 1);
    const latencies: number[] = [];
    for (const n of targets) {
      latencies.push(await timed(() => fetchPair(server.base, id, VIDEO, n)));
      // Then play on for two segments, as a player buffers after a seek.
      for (const next of [n + 1, n + 2]) await fetchPair(server.base, id, VIDEO, next);
    }
    const status = (await (await fetch(`${server.base}/api/sessions/${id}`)).json()) as { restarts: number };
    return {
      p50Ms: Math.round(percentile(latencies, 0.5)),
      p95Ms: Math.round(percentile(latencies, 0.95)),
      maxMs: Math.round(Math.max(...latencies)),
      restarts: status.restarts,
      encoderCpuSeconds: await settledCpu(server, id),
    };
  } finally {
    await server.stop();
  }
}

// Ends the session (its runs stop and are reaped), then reads the children's CPU time.
async function settledCpu(server: Awaited<ReturnType<typeof startServerProcess>>, id: string): Promise<number> {
  await fetch(`${server.base}/api/sessions/${id}`, { method: 'DELETE' });
  await sleep(200);
  return Math.round((await server.childCpuSeconds()) * 10) / 10;
}

// Play 60 s at 1x, pause 60 s, jump to 5:00, play 30 s.
async function scriptedViewing(): Promise<number> {
  const clip = await longClip();
  const server = await startServerProcess('viewing', { MEDIA_DIR: clip.dir });
  try {
    const id = await createSession(server.base, clip.file);
    await get(`${server.base}/sessions/${id}/init/${VIDEO}.mp4`);
    const play = async (from: number, seconds: number): Promise<void> => {
      for (let n = from; n < from + seconds / D; n++) {
        const spent = await timed(() => fetchPair(server.base, id, VIDEO, n));
        await sleep(Math.max(0, D * 1000 - spent));
      }
    };
    await play(1, 60);
    await sleep(60_000);
    await play(300 / D + 1, 30);
    return await settledCpu(server, id);
  } finally {
    await server.stop();
  }
}

// Every segment of the title, fetched as fast as the encoder makes them.
async function wholeTitle(): Promise<number> {
  const clip = await longClip();
  const server = await startServerProcess('whole', { MEDIA_DIR: clip.dir });
  try {
    const id = await createSession(server.base, clip.file);
    for (let n = 1; n <= clip.seconds / D; n++) await fetchPair(server.base, id, VIDEO, n);
    return await settledCpu(server, id);
  } finally {
    await server.stop();
  }
}

// Jumps just past the window (8-15 segments ahead), where waiting for the running encoder can
// beat a cold start: this is where a cost model differs from a fixed rule.
export async function benchNearSeeks(): Promise<Record<string, unknown>> {
  const random = seededRandom(7);
  const targets: number[] = [];
  let at = 2;
  for (let i = 0; i < JUMPS; i++) {
    at += 8 + Math.floor(random() * 8) + 2;
    if (at > 140) at = 2 + Math.floor(random() * 10);
    targets.push(at);
  }
  const policies: Record<string, unknown> = {};
  for (const policy of POLICIES) policies[policy] = await seekLatencies(policy, targets, 'near');
  return { question: 'seek latency by policy for 20 jumps of 8-15 segments forward', jumps: targets, seekLatency: policies };
}

export async function benchSeekPolicies(): Promise<Record<string, unknown>> {
  const clip = await longClip();
  const random = seededRandom(20261125);
  const segments = clip.seconds / D;
  const targets = Array.from({ length: JUMPS }, () => 1 + Math.floor(random() * (segments - 2)));
  const policies: Record<string, unknown> = {};
  for (const policy of POLICIES) policies[policy] = await seekLatencies(policy, targets);
  const viewing = await scriptedViewing();
  const whole = await wholeTitle();
  return {
    question: 'seek latency by policy (20 seeded random jumps), and encoder CPU of a viewing vs the whole title',
    clip: '600 s 1920x1080 30 fps -> 720p veryfast + AAC',
    jumps: targets,
    seekLatency: policies,
    encoderCpuSeconds: {
      scriptedViewing: viewing,
      wholeTitle: whole,
      ratio: Math.round((viewing / whole) * 1000) / 1000,
      script: 'play 60 s at 1x, pause 60 s, jump to 5:00, play 30 s at 1x',
    },
    medianSeekMs: Object.fromEntries(Object.entries(policies).map(([k, v]) => [k, (v as { p50Ms: number }).p50Ms])),
  };
}


