// Question: does the server's memory stay flat?
// One server process on a 30 s 1280x720 clip with audio (made once). Its resident set (VmRSS of
// the Node process itself, not of its encoders) is read idle 2 s after start, then over 3 cycles:
// 10 sessions on the one shared title, each fetching both inits and its first 2 segment pairs
// (read with the 10 sessions open), then all 10 DELETEd and 2 s later read again.
// The segments stay in the shared store after a DELETE, so only cycle 1 encodes; cycles 2 and 3
// serve from the store (the /metrics counters in `data` show it).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_DIR, createSession, makeBenchClip, fetchPair, get, round, startServerProcess, type Scenario, type ScenarioResult } from './support.js';

const SESSIONS = 10;
const CYCLES = 3;
const SEGMENTS = 2;
const VIDEO = 'video-720p';
const CLIP_SECONDS = 30;
const SETTLE_MS = 2000;

async function shortClip(): Promise<{ dir: string; file: string }> {
  const dir = path.join(BENCH_DIR, 'media', 'memory');
  const file = `clip-720p-${CLIP_SECONDS}s.mp4`;
  await makeBenchClip(dir, file, CLIP_SECONDS, '1280x720');
  return { dir, file };
}

/** VmRSS and VmHWM of a process, in MB. */
async function memoryOf(pid: number): Promise<{ rssMb: number; hwmMb: number }> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
    return Number(match[1]);
  };
  return { rssMb: round(kb('VmRSS') / 1024), hwmMb: round(kb('VmHWM') / 1024) };
}

/** The server's gauges and counters that tell what a cycle did. */
async function metricsOf(base: string): Promise<Record<string, number>> {
  const response = await fetch(`${base}/metrics`);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET /metrics: ${response.status}`);
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^(seekwell_(?:sessions|runs|store_bytes|segments_encoded_total|runs_started_total|segments_served_total)(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match) out[match[1]!] = Number(match[2]);
  }
  return out;
}

async function deleteSession(base: string, id: string): Promise<void> {
  const response = await fetch(`${base}/api/sessions/${id}`, { method: 'DELETE' });
  await response.arrayBuffer();
  if (response.status !== 204) throw new Error(`DELETE /api/sessions/${id}: ${response.status}`);
}

/** The scenario with a chosen number of cycles (the standard run uses 3). */
export async function measureMemory(cycles = CYCLES): Promise<ScenarioResult> {
  const clip = await shortClip();
  const server = await startServerProcess('memory', { MEDIA_DIR: clip.dir });
  const pid = server.child.pid!;
  const phases: { phase: string; rssMb: number; hwmMb: number; metrics: Record<string, number> }[] = [];
  const record = async (phase: string): Promise<void> => {
    phases.push({ phase, ...(await memoryOf(pid)), metrics: await metricsOf(server.base) });
  };
  try {
    await sleep(SETTLE_MS);
    await record('idle, 2 s after start');
    for (let cycle = 1; cycle <= cycles; cycle++) {
      // The first POST alone: concurrent POSTs on a title not yet open each make their own Title
      // object under one key (SessionRegistry.create awaits store.open() before registering it),
      // whose runs then collide in runs/<key>-1 (mkfifo EEXIST, packager errors, 502s).
      const first = await createSession(server.base, clip.file);
      const ids = [first, ...(await Promise.all(Array.from({ length: SESSIONS - 1 }, () => createSession(server.base, clip.file))))];
      try {
        await Promise.all(ids.map(async (id) => {
          await Promise.all([get(`${server.base}/sessions/${id}/init/${VIDEO}.mp4`), get(`${server.base}/sessions/${id}/init/audio-1.mp4`)]);
          for (let n = 1; n <= SEGMENTS; n++) await fetchPair(server.base, id, VIDEO, n);
        }));
        await record(`cycle ${cycle}: ${SESSIONS} sessions open, ${SEGMENTS} segments each`);
      } catch (error) {
        await Promise.allSettled(ids.map((id) => deleteSession(server.base, id)));
        throw error;
      }
      await Promise.all(ids.map((id) => deleteSession(server.base, id)));
      await sleep(SETTLE_MS);
      await record(`cycle ${cycle}: all deleted, 2 s later`);
    }
  } finally {
    await server.stop();
  }
  const idle = phases[0]!.rssMb;
  const released = phases.filter((p) => p.phase.includes('deleted')).map((p) => p.rssMb);
  return {
    question: "Does the server's memory stay flat?",
    headers: ['phase', 'RSS MB', 'vs idle MB', 'peak RSS so far MB'],
    rows: phases.map((p) => [p.phase, p.rssMb, `${p.rssMb >= idle ? '+' : ''}${round(p.rssMb - idle)}`, p.hwmMb]),
    data: {
      clip: `${CLIP_SECONDS} s 1280x720 30 fps testsrc2 + tone -> 720p + AAC, one title shared by ${SESSIONS} sessions`,
      measured: 'VmRSS (and VmHWM, the peak) of the server (Node) process from /proc/<pid>/status; encoders are separate processes and not included',
      note: 'RSS follows V8 garbage collection (segments are streamed in 1 MiB reads), so single readings swing by tens of MB; a leak shows as a rising peak and a rising floor over cycles',
      growthAfterDeleteMb: round(released.at(-1)! - released[0]!),
      phases,
    },
  };
}

export const memory: Scenario = () => measureMemory(CYCLES);
