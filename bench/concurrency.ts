// Question: how many simultaneous 720p viewers does this machine serve without stalls?
// A 120 s 1080p30 clip with audio (made once), copied to one file per viewer so no two viewers
// share a title (every viewer has its own encoder, no shared segments). For N = 1, 2, ... one server
// process and N simulated players started together. Each player: POST a session, both inits, then
// segment pairs (video-720p + audio) in order, requesting the next one as soon as its buffer
// (media downloaded minus playback position) is below 30 s. Playback starts when segment 1
// arrives and advances at 1x in wall time; when the playhead reaches the end of the buffer before
// the next segment has arrived, that is one stall (counted once, with its duration), and playback
// resumes on arrival. Each player watches 60 s (15 segments), then DELETEs its session.
// The climb stops after two stalling rounds in a row (N stalls, and N + 1 confirms it), or at 6;
// the answer is the largest N such that no round with N or fewer viewers stalled. ~65 s a round.
import { copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_DIR, createSession, makeBenchClip, fetchPair, get, median, round, startServerProcess, type Scenario, type ServerProcess } from './support.js';

const D = 4;
const VIDEO = 'video-720p';
const PLAYER_BUFFER_SECONDS = 30;
const WATCH_SECONDS = 60;
const SEGMENTS = WATCH_SECONDS / D;
const MAX_VIEWERS = 6;
const CLIP_SECONDS = 120;

/** The 120 s 1080p30 source, made once, and one copy per viewer in a folder of their own (abr.ts uses them too). */
export async function viewerClips(count: number): Promise<{ dir: string; files: string[] }> {
  const mediaDir = path.join(BENCH_DIR, 'media');
  const source = path.join(mediaDir, `conc-1080p-${CLIP_SECONDS}s.mp4`);
  await makeBenchClip(mediaDir, path.basename(source), CLIP_SECONDS);
  const size = (await stat(source)).size;
  const dir = path.join(mediaDir, 'concurrency');
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (let i = 1; i <= count; i++) {
    const file = `viewer-${i}.mp4`;
    const target = path.join(dir, file);
    // A copy of another size is stale (the source was remade): copy again; an intact copy is kept.
    if ((await stat(target).then((s) => s.size, () => 0)) !== size) await copyFile(source, target);
    files.push(file);
  }
  return { dir, files };
}

export interface ViewerResult {
  viewer: number;
  firstSegmentMs: number;
  stalls: number;
  stallSeconds: number;
  stallDurationsMs: number[];
  /** The segment each stall waited for. */
  stallSegments: number[];
  /** Lowest buffer seen just before a segment arrived (segments 2..15); 0 when it stalled. */
  minBufferSeconds: number;
  restarts: number;
}

export async function watch(base: string, media: string, viewer: number): Promise<ViewerResult> {
  const t0 = performance.now();
  const id = await createSession(base, media);
  let failed = true;
  try {
    await Promise.all([get(`${base}/sessions/${id}/init/${VIDEO}.mp4`), get(`${base}/sessions/${id}/init/audio-1.mp4`)]);
    let playStart: number | undefined; // wall time (ms) playback started
    let stalledMs = 0; // wall time spent stalled so far
    let downloaded = 0; // media seconds downloaded
    let firstSegmentMs = 0;
    let minBuffer = Infinity;
    const stallDurationsMs: number[] = [];
    const stallSegments: number[] = [];
    for (let k = 1; k <= SEGMENTS; k++) {
      if (playStart !== undefined) {
        // Request k as soon as the buffer is below the player's target.
        const due = playStart + stalledMs + (downloaded - PLAYER_BUFFER_SECONDS) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait + 1);
      }
      await fetchPair(base, id, VIDEO, k);
      const now = performance.now();
      if (playStart === undefined) {
        playStart = now;
        firstSegmentMs = now - t0;
      } else {
        // Where the playhead would be had it never stopped since the last stall.
        const buffer = downloaded - (now - playStart - stalledMs) / 1000;
        if (buffer <= 0) {
          const stallStart = playStart + stalledMs + downloaded * 1000;
          stallDurationsMs.push(now - stallStart);
          stallSegments.push(k);
          stalledMs += now - stallStart;
        }
        minBuffer = Math.min(minBuffer, Math.max(0, buffer));
      }
      downloaded += D;
    }
    // Play out what is buffered: the viewing ends at 60 s of playback.
    const end = playStart! + stalledMs + downloaded * 1000;
    const left = end - performance.now();
    if (left > 0) await sleep(left);
    const response = await fetch(`${base}/api/sessions/${id}`);
    if (response.status !== 200) throw new Error(`GET /api/sessions/${id}: ${response.status} ${await response.text()}`);
    const status = (await response.json()) as { restarts: number };
    failed = false;
    return {
      viewer,
      firstSegmentMs: Math.round(firstSegmentMs),
      stalls: stallDurationsMs.length,
      stallSeconds: round(stallDurationsMs.reduce((a, b) => a + b, 0) / 1000, 2),
      stallDurationsMs: stallDurationsMs.map(Math.round),
      stallSegments,
      minBufferSeconds: round(minBuffer, 2),
      restarts: status.restarts,
    };
  } finally {
    // A failure of the viewing itself is the error to report, not a DELETE after it.
    const deleted = await deleteSession(base, id).catch((error: unknown) => error);
    if (deleted instanceof Error && !failed) throw deleted;
  }
}

async function deleteSession(base: string, id: string): Promise<void> {
  const response = await fetch(`${base}/api/sessions/${id}`, { method: 'DELETE' });
  await response.arrayBuffer();
  if (response.status !== 204) throw new Error(`DELETE /api/sessions/${id}: ${response.status}`);
}

/** Waits until the server has no child process left (its encoders are stopped and reaped). */
async function childrenReaped(server: ServerProcess, timeoutMs = 10_000): Promise<void> {
  const pid = server.child.pid!;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const tasks = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
    if (tasks.trim() === '') return;
    if (Date.now() > deadline) throw new Error(`server still has children after ${timeoutMs} ms: ${tasks.trim()}`);
    await sleep(100);
  }
}

async function segmentsEncoded(base: string): Promise<number> {
  const response = await fetch(`${base}/metrics`);
  const text = await response.text();
  const match = /^seekwell_segments_encoded_total (\d+)$/m.exec(text);
  if (response.status !== 200 || !match) throw new Error(`GET /metrics: ${response.status}, no seekwell_segments_encoded_total`);
  return Number(match[1]);
}

interface Round {
  viewers: number;
  stalls: number;
  stallSeconds: number;
  stalledViewers: number;
  firstSegmentMs: number[];
  encoderCpuSecondsPerViewer: number;
  encodedSecondsPerViewer: number;
  minBufferSeconds: number;
  restarts: number;
  wallSeconds: number;
  perViewer: ViewerResult[];
}

async function runRound(n: number, dir: string, files: string[]): Promise<Round> {
  const started = performance.now();
  const server = await startServerProcess(`conc-${n}`, { MEDIA_DIR: dir, SEGMENT_SECONDS: String(D) });
  try {
    const cpuBefore = await server.childCpuSeconds();
    const settled = await Promise.allSettled(files.slice(0, n).map((file, i) => watch(server.base, file, i + 1)));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const perViewer = settled.map((s) => (s as PromiseFulfilledResult<ViewerResult>).value);
    await childrenReaped(server);
    await sleep(300);
    const cpu = (await server.childCpuSeconds()) - cpuBefore;
    const encodedSegments = await segmentsEncoded(server.base);
    return {
      viewers: n,
      stalls: perViewer.reduce((a, v) => a + v.stalls, 0),
      stallSeconds: round(perViewer.reduce((a, v) => a + v.stallSeconds, 0), 2),
      stalledViewers: perViewer.filter((v) => v.stalls > 0).length,
      firstSegmentMs: perViewer.map((v) => v.firstSegmentMs),
      encoderCpuSecondsPerViewer: round(cpu / n),
      // Video and audio segments are counted apart: a pair is D seconds of content.
      encodedSecondsPerViewer: round((encodedSegments / 2) * D / n),
      minBufferSeconds: Math.min(...perViewer.map((v) => v.minBufferSeconds)),
      restarts: perViewer.reduce((a, v) => a + v.restarts, 0),
      wallSeconds: Math.round((performance.now() - started) / 1000),
      perViewer,
    };
  } finally {
    await server.stop();
  }
}

export const concurrency: Scenario = async () => {
  const { dir, files } = await viewerClips(MAX_VIEWERS);
  const rounds: Round[] = [];
  for (let n = 1; n <= MAX_VIEWERS; n++) {
    process.stderr.write(`concurrency: ${n} viewer${n === 1 ? '' : 's'}…\n`);
    const result = await runRound(n, dir, files);
    rounds.push(result);
    // A stall confirmed by one more viewer stalling too ends the climb.
    if (result.stalls > 0 && (rounds.at(-2)?.stalls ?? 0) > 0) break;
  }
  // The answer: the largest N such that every round with N or fewer viewers had no stall.
  let answer = 0;
  for (let k = 1; k <= MAX_VIEWERS; k++) {
    const ofK = rounds.filter((r) => r.viewers === k);
    if (ofK.length === 0 || ofK.some((r) => r.stalls > 0)) break;
    answer = k;
  }
  const reachedMax = answer === MAX_VIEWERS;
  const sentence = `this machine serves ${reachedMax ? 'at least ' : ''}${answer} simultaneous 720p viewer${answer === 1 ? '' : 's'} without stalls`;
  const rows = rounds.map((r) => [
    r.viewers,
    r.stalls === 0 ? 0 : `${r.stalls} (${r.stalledViewers} of ${r.viewers} viewers)`,
    r.stallSeconds,
    `${Math.round(median(r.firstSegmentMs))} (${Math.min(...r.firstSegmentMs)}-${Math.max(...r.firstSegmentMs)})`,
    r.encoderCpuSecondsPerViewer,
    r.encodedSecondsPerViewer,
    r.minBufferSeconds,
    r.stalls > 0 ? 'stalls' : r.viewers === answer ? `no stalls  <- answer: ${answer}` : 'no stalls',
  ]);
  return {
    question: 'How many simultaneous 720p viewers does this machine serve without stalls?',
    headers: ['viewers', 'stalls', 'stall s', 'first segment ms, median (min-max)', 'encoder CPU s / viewer', 'encoded s / viewer', 'min buffer s', 'result'],
    rows,
    data: {
      answer,
      sentence,
      clip: `${CLIP_SECONDS} s 1920x1080 30 fps testsrc2 + 440 Hz tone (libx264 ultrafast) -> 720p + AAC; one copy per viewer (no shared title)`,
      player: `${PLAYER_BUFFER_SECONDS} s buffer target, ${D} s segments, ${WATCH_SECONDS} s of playback (${SEGMENTS} segment pairs) at 1x, then DELETE`,
      stopRule: 'N = 1..6; two stalling rounds in a row (N and N + 1) end the climb',
      firstSegment: 'POST /api/sessions to segment 1 (video + audio) received, inits included',
      encoderCpu: 'reaped children CPU (cutime + cstime) over the round / viewers, read after every session is deleted and all encoders reaped',
      encoded: 'content seconds encoded per viewer (segments_encoded_total / 2 x D / N): 60 s watched plus what the encoder made ahead (up to the 30 s window); fewer when encoders cannot get ahead, hence less CPU per viewer at high N',
      minBuffer: 'lowest buffer just before a segment arrived (segments 2..15), over all viewers',
      firstSegmentMedianMs: Object.fromEntries(rounds.map((r) => [r.viewers, Math.round(median(r.firstSegmentMs))])),
      rounds,
    },
  };
};
