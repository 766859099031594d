// Questions (issue 9, item 7), through the real server, on copies of the concurrency bench's 120 s
// 1080p30 clip (one copy per player, so no title or segment is shared) with the default ladder
// (video-360p/480p/720p/1080p) and audio-1:
// 1. How do N = 1, 2, 3 simultaneous throughput-based ABR players fare? Player model: start on the
//    lowest rung; after each video segment, sample throughput = bytes * 8 / (response complete -
//    request sent), which includes the server's encode wait, as a real player's estimate does when
//    a segment is made on demand; estimate = min(fast, slow) of two EWMAs weighted by download
//    seconds (hls.js's EwmaBandWidthEstimator: half-lives 3 s and 9 s, zero-factor corrected);
//    play next the highest rung whose MPD bandwidth <= 0.7 x estimate (the lowest if none), fetching
//    its init first. audio-1 is fetched alongside each video segment. 30 s buffer, 1x playback from
//    the first segment, stalls counted as concurrency.ts does; 60 s watched (15 segments). Reported:
//    stalls, the rung each player settled on (its last 5 segments), content seconds per rung,
//    switches, first-segment time, encoder CPU per viewer (reaped children of the server / N).
//    The climb stops early when a round stalls more than 10 s in all.
// 2. How long after a quality switch until the new rung's first segment? Fresh server and title
//    each: play segments 1..5 of one rung at 1x (segment k requested at (k-1) x 4 s after the first
//    arrived), then at 20 s request the other rung's init + segment 6 (and audio 6): ms until video
//    segment 6 is complete. 360p -> 720p and 720p -> 360p, interleaved, median of 3.
// 3. What does each rung cost through the server? Per rung, a fresh server and one session asking
//    only for that rung's init and segments 1..6 back to back. Steady CPU per segment from the run's
//    pids (/proc/<pid>/stat utime + stime of ffmpeg and packager, read with the status when segment
//    1 and segment 6 arrive, over the segments made in between); all-in CPU per segment (reaped
//    children / segments encoded, start-up included); first-segment time and wall per segment.
// Validated first: MPD lists the four rungs and audio with bandwidths, every init and segment 1
// answers 200 with the right content type and bytes, the status shows each run's pids.
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { viewerClips } from './concurrency.js';
import { createSession, formatTable, median, round, startServerProcess, type ServerProcess } from './support.js';

const D = 4;
const BUFFER_SECONDS = 30;
const WATCH_SEGMENTS = 15;
const CLIP_SECONDS = 120;
const MAX_VIEWERS = 3;
const BAD_STALL_SECONDS = 10;
const RUNGS = ['video-360p', 'video-480p', 'video-720p', 'video-1080p'];
const AUDIO = 'audio-1';
const SERVER_ENV = { SEGMENT_SECONDS: String(D), VIDEO_LADDER: '360,480,720,1080' };

interface Fetched { bytes: number; ms: number }

/** GET that must answer 200, the expected content type and a body; times request sent -> last byte. */
async function fetchMedia(url: string, type: string): Promise<Fetched> {
  const start = performance.now();
  const response = await fetch(url);
  const bytes = (await response.arrayBuffer()).byteLength;
  const ms = performance.now() - start;
  const got = response.headers.get('content-type') ?? '';
  if (response.status !== 200 || bytes === 0 || !got.startsWith(type)) throw new Error(`GET ${url}: ${response.status}, ${got}, ${bytes} bytes`);
  return { bytes, ms };
}

const typeOf = (rendition: string): string => (rendition === AUDIO ? 'audio/mp4' : 'video/mp4');
const init = (base: string, id: string, r: string): Promise<Fetched> => fetchMedia(`${base}/sessions/${id}/init/${r}.mp4`, typeOf(r));
const segment = (base: string, id: string, r: string, k: number): Promise<Fetched> =>
  fetchMedia(`${base}/sessions/${id}/segments/${r}-${String(k).padStart(5, '0')}.m4s`, typeOf(r));

/** Video rungs of the session's MPD, ascending bandwidth; throws unless they are exactly RUNGS. */
async function ladderOf(base: string, id: string): Promise<{ id: string; bandwidth: number }[]> {
  const response = await fetch(`${base}/sessions/${id}/stream.mpd`);
  const mpd = await response.text();
  const reps = [...mpd.matchAll(/<Representation\b[^>]*>/g)].map((m) => ({ id: /\bid="([^"]+)"/.exec(m[0])?.[1] ?? '', bandwidth: Number(/\bbandwidth="(\d+)"/.exec(m[0])?.[1]) }));
  const video = reps.filter((r) => r.id.startsWith('video-')).sort((a, b) => a.bandwidth - b.bandwidth);
  const ok = response.status === 200 && video.map((r) => r.id).join() === RUNGS.join() && video.every((r) => r.bandwidth > 0) && reps.some((r) => r.id === AUDIO);
  if (!ok) throw new Error(`MPD of ${id}: ${response.status}, representations ${JSON.stringify(reps)}`);
  return video;
}

async function status(base: string, id: string): Promise<{ renditions: { id: string; state: string; runs: { pids: Record<string, number | undefined> }[] }[]; segments: Record<string, number[]> }> {
  const response = await fetch(`${base}/api/sessions/${id}`);
  if (response.status !== 200) throw new Error(`GET /api/sessions/${id}: ${response.status}`);
  return (await response.json()) as never;
}

async function deleteSession(base: string, id: string): Promise<void> {
  const response = await fetch(`${base}/api/sessions/${id}`, { method: 'DELETE' });
  await response.arrayBuffer();
  if (response.status !== 204) throw new Error(`DELETE /api/sessions/${id}: ${response.status}`);
}

/** CPU seconds (utime + stime, every thread) of the rendition's live run pids; 0 for a gone pid. */
async function runCpuSeconds(base: string, id: string, rendition: string): Promise<{ cpuS: number; made: number }> {
  const s = await status(base, id);
  const pids = s.renditions.find((r) => r.id === rendition)?.runs.flatMap((run) => Object.values(run.pids)) ?? [];
  let ticks = 0;
  for (const pid of pids.filter((p): p is number => typeof p === 'number')) {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    if (text) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return { cpuS: ticks / 100, made: s.segments[rendition]?.length ?? 0 };
}

/** Waits until the server has no child process left (its encoders are stopped and reaped). */
async function childrenReaped(server: ServerProcess): Promise<void> {
  const pid = server.child.pid!;
  for (const deadline = Date.now() + 10_000; ; await sleep(100)) {
    if ((await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8')).trim() === '') return;
    if (Date.now() > deadline) throw new Error('server children not reaped after 10 s');
  }
}

async function withServer<T>(name: string, dir: string, fn: (server: ServerProcess) => Promise<T>): Promise<T> {
  const server = await startServerProcess(name, { MEDIA_DIR: dir, ...SERVER_ENV });
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

// Every request each question makes, checked once before anything is timed.
async function validate(dir: string, file: string): Promise<void> {
  await withServer('abr-check', dir, async ({ base }) => {
    const id = await createSession(base, file);
    await ladderOf(base, id);
    await Promise.all([init(base, id, AUDIO), segment(base, id, AUDIO, 1)]);
    for (const r of RUNGS) {
      await init(base, id, r);
      await segment(base, id, r, 1);
      const pids = (await status(base, id)).renditions.find((x) => x.id === r)?.runs[0]?.pids;
      if (typeof pids?.ffmpeg !== 'number') throw new Error(`status of ${r}: no ffmpeg pid (${JSON.stringify(pids)})`);
    }
    await deleteSession(base, id);
  });
}

/** hls.js's Ewma: weight = download seconds, estimate corrected for its zero start. */
function ewma(halfLifeS: number): { sample: (w: number, v: number) => void; get: () => number } {
  const alpha = Math.exp(Math.log(0.5) / halfLifeS);
  let estimate = 0;
  let total = 0;
  return {
    sample: (w, v) => { const a = alpha ** w; estimate = v * (1 - a) + a * estimate; total += w; },
    get: () => estimate / (1 - alpha ** total),
  };
}

interface Player {
  viewer: number; firstSegmentMs: number; stalls: number; stallSeconds: number; switches: number;
  rungs: string[]; estimatesKbps: number[]; videoMs: number[]; settled: string; secondsPerRung: Record<string, number>;
}

async function playAbr(base: string, media: string, viewer: number): Promise<Player> {
  const t0 = performance.now();
  const id = await createSession(base, media);
  const ladder = await ladderOf(base, id);
  const [fast, slow] = [ewma(3), ewma(9)];
  let rung = 0;
  await Promise.all([init(base, id, RUNGS[0]!), init(base, id, AUDIO)]);
  let playStart: number | undefined;
  let stalledMs = 0;
  let downloaded = 0;
  const p: Player = { viewer, firstSegmentMs: 0, stalls: 0, stallSeconds: 0, switches: 0, rungs: [], estimatesKbps: [], videoMs: [], settled: '', secondsPerRung: {} };
  for (let k = 1; k <= WATCH_SEGMENTS; k++) {
    if (playStart !== undefined) {
      const wait = playStart + stalledMs + (downloaded - BUFFER_SECONDS) * 1000 - performance.now();
      if (wait > 0) await sleep(wait + 1);
      const estimate = Math.min(fast.get(), slow.get());
      const want = Math.max(0, ...ladder.map((r, i) => (r.bandwidth <= 0.7 * estimate ? i : 0)));
      if (want !== rung) [rung, p.switches] = [want, p.switches + 1];
    }
    const r = RUNGS[rung]!;
    const newRung = p.rungs.at(-1) !== undefined && p.rungs.at(-1) !== r;
    const [video] = await Promise.all([(newRung ? init(base, id, r) : Promise.resolve()).then(() => segment(base, id, r, k)), segment(base, id, AUDIO, k)]);
    const now = performance.now();
    fast.sample(video.ms / 1000, (video.bytes * 8) / (video.ms / 1000));
    slow.sample(video.ms / 1000, (video.bytes * 8) / (video.ms / 1000));
    p.rungs.push(r);
    p.videoMs.push(Math.round(video.ms));
    p.estimatesKbps.push(Math.round(Math.min(fast.get(), slow.get()) / 1000));
    if (playStart === undefined) [playStart, p.firstSegmentMs] = [now, Math.round(now - t0)];
    else if (downloaded - (now - playStart - stalledMs) / 1000 <= 0) {
      const stallMs = now - (playStart + stalledMs + downloaded * 1000);
      [p.stalls, p.stallSeconds, stalledMs] = [p.stalls + 1, round(p.stallSeconds + stallMs / 1000, 2), stalledMs + stallMs];
    }
    downloaded += D;
  }
  const left = playStart! + stalledMs + downloaded * 1000 - performance.now();
  if (left > 0) await sleep(left);
  await deleteSession(base, id);
  for (const r of p.rungs) p.secondsPerRung[r] = (p.secondsPerRung[r] ?? 0) + D;
  const last = p.rungs.slice(-5);
  p.settled = last.every((r) => r === last[0]) ? last[0]! : `mixed (${last.map((r) => r.slice(6)).join(' ')})`;
  return p;
}

interface Round { viewers: number; load: number; stalls: number; stallSeconds: number; encoderCpuSecondsPerViewer: number; players: Player[] }

async function abrRound(n: number, dir: string, files: string[]): Promise<Round> {
  return withServer(`abr-${n}`, dir, async (server) => {
    const load = round(loadavg()[0]!, 2);
    const cpuBefore = await server.childCpuSeconds();
    const players = await Promise.all(files.slice(0, n).map((f, i) => playAbr(server.base, f, i + 1)));
    await childrenReaped(server);
    await sleep(300);
    const cpu = (await server.childCpuSeconds()) - cpuBefore;
    return { viewers: n, load, stalls: players.reduce((a, x) => a + x.stalls, 0), stallSeconds: round(players.reduce((a, x) => a + x.stallSeconds, 0), 2), encoderCpuSecondsPerViewer: round(cpu / n), players };
  });
}

// Question 2: one fresh title plays `from` 1..5 at 1x, then switches to `to` at segment 6.
async function switchTrial(dir: string, file: string, from: string, to: string, tag: string): Promise<Record<string, unknown> & { ms: number }> {
  return withServer(`abr-switch-${tag}`, dir, async ({ base }) => {
    const id = await createSession(base, file);
    await ladderOf(base, id);
    await Promise.all([init(base, id, from), init(base, id, AUDIO)]);
    let playStart = 0;
    for (let k = 1; k <= 5; k++) {
      if (k > 1) await sleep(Math.max(0, playStart + (k - 1) * D * 1000 - performance.now()));
      await Promise.all([segment(base, id, from, k), segment(base, id, AUDIO, k)]);
      if (k === 1) playStart = performance.now();
    }
    await sleep(Math.max(0, playStart + 5 * D * 1000 - performance.now()));
    const start = performance.now();
    const audio = segment(base, id, AUDIO, 6);
    await init(base, id, to);
    await segment(base, id, to, 6);
    const ms = performance.now() - start;
    await audio;
    const s = await status(base, id);
    const fromMade = s.segments[from]?.length ?? 0;
    await deleteSession(base, id);
    return { from, to, ms: Math.round(ms), load: round(loadavg()[0]!, 2), oldRungState: s.renditions.find((r) => r.id === from)?.state, oldRungSegmentsMade: fromMade };
  });
}

// Question 3: one rung alone, segments 1..6 back to back.
async function rungCost(dir: string, file: string, r: string): Promise<Record<string, number | string>> {
  return withServer(`abr-rung-${r}`, dir, async (server) => {
    const { base } = server;
    const id = await createSession(base, file);
    const cpuBefore = await server.childCpuSeconds();
    const t0 = performance.now();
    await init(base, id, r);
    const bytes: number[] = [(await segment(base, id, r, 1)).bytes];
    const t1 = performance.now();
    const atFirst = await runCpuSeconds(base, id, r);
    for (let k = 2; k <= 6; k++) bytes.push((await segment(base, id, r, k)).bytes);
    const t6 = performance.now();
    const atSixth = await runCpuSeconds(base, id, r);
    await deleteSession(base, id);
    await childrenReaped(server);
    await sleep(300);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const encoded = Number(/^seekwell_segments_encoded_total (\d+)$/m.exec(metrics)?.[1]);
    if (!(encoded > 0)) throw new Error('no seekwell_segments_encoded_total');
    const allIn = (await server.childCpuSeconds()) - cpuBefore;
    return {
      rung: r, load: round(loadavg()[0]!, 2), firstSegmentMs: Math.round(t1 - t0), wallMsPerSegment: Math.round((t6 - t1) / 5),
      steadyCpuSPerSegment: round((atSixth.cpuS - atFirst.cpuS) / Math.max(1, atSixth.made - atFirst.made), 2),
      madeBetween: `${atFirst.made} -> ${atSixth.made}`, allInCpuSPerSegment: round(allIn / encoded, 2), segmentsEncoded: encoded,
      kbitPerSegment: Math.round(median(bytes) * 8 / 1000),
    };
  });
}

export async function benchAbr(): Promise<Record<string, unknown>> {
  const { dir, files } = await viewerClips(MAX_VIEWERS);
  await validate(dir, files[0]!);
  process.stderr.write('abr: validated\n');
  const rounds: Round[] = [];
  for (let n = 1; n <= MAX_VIEWERS; n++) {
    rounds.push(await abrRound(n, dir, files));
    process.stderr.write(`abr: ${n} players: ${JSON.stringify(rounds.at(-1)!.players.map((x) => [x.settled, x.stalls, x.switches]))}\n`);
    if (rounds.at(-1)!.stallSeconds > BAD_STALL_SECONDS) break;
  }
  const switches: Awaited<ReturnType<typeof switchTrial>>[] = [];
  for (let i = 0; i < 3; i++) {
    switches.push(await switchTrial(dir, files[0]!, 'video-360p', 'video-720p', `up-${i}`));
    switches.push(await switchTrial(dir, files[0]!, 'video-720p', 'video-360p', `down-${i}`));
  }
  process.stderr.write(`abr: switches ${JSON.stringify(switches.map((s) => s.ms))}\n`);
  const rungs = [];
  for (const r of RUNGS) rungs.push(await rungCost(dir, files[0]!, r));
  return report(rounds, switches, rungs);
}

function report(rounds: Round[], switches: (Record<string, unknown> & { ms: number })[], rungs: Record<string, number | string>[]): Record<string, unknown> {
  const short = (r: string): string => r.replace('video-', '');
  const abrHeaders = ['players', 'stalls (s)', 'settled on (last 5)', 'content s per rung 360/480/720/1080', 'switches', 'first segment ms', 'encoder CPU s / viewer'];
  const abrRows = rounds.map((r) => [r.viewers, `${r.stalls} (${r.stallSeconds})`, r.players.map((x) => short(x.settled)).join(', '),
    r.players.map((x) => RUNGS.map((g) => x.secondsPerRung[g] ?? 0).join('/')).join(', '), r.players.map((x) => x.switches).join(', '),
    r.players.map((x) => x.firstSegmentMs).join(', '), r.encoderCpuSecondsPerViewer]);
  const dir = (from: string): number[] => switches.filter((s) => s.from === from).map((s) => s.ms);
  const switchHeaders = ['switch at segment 6', 'ms to new rung segment 6, median (samples)'];
  const switchRows = [['360p -> 720p', `${median(dir('video-360p'))} (${dir('video-360p').join(', ')})`], ['720p -> 360p', `${median(dir('video-720p'))} (${dir('video-720p').join(', ')})`]];
  const base = rungs[0]!.steadyCpuSPerSegment as number;
  const rungHeaders = ['rung', 'steady CPU s / segment', 'vs 360p', 'all-in CPU s / segment', 'first segment ms', 'wall ms / segment', 'x realtime', 'kbit / segment'];
  const rungRows = rungs.map((r) => [short(r.rung as string), r.steadyCpuSPerSegment!, round((r.steadyCpuSPerSegment as number) / base, 2), r.allInCpuSPerSegment!, r.firstSegmentMs!, r.wallMsPerSegment!, round((D * 1000) / (r.wallMsPerSegment as number), 2), r.kbitPerSegment!]);
  process.stderr.write(`\n${formatTable(abrHeaders, abrRows)}\n\n${formatTable(switchHeaders, switchRows)}\n\n${formatTable(rungHeaders, rungRows)}\n`);
  return {
    question: 'Issue 9 item 7: N ABR players at once; wait for the first segment after a quality switch; CPU per segment of each rung through the server',
    clip: `${CLIP_SECONDS} s 1920x1080 30 fps testsrc2 + tone (libx264 ultrafast), one copy per player; SEGMENT_SECONDS=${D}, VIDEO_LADDER=360,480,720,1080`,
    player: `hls.js-style EWMA (3 s / 9 s half-lives, min of both) of bytes*8/(request -> last byte); highest rung with MPD bandwidth <= 0.7 x estimate; ${BUFFER_SECONDS} s buffer; ${WATCH_SEGMENTS} segments at 1x; audio-1 alongside`,
    abr: { headers: abrHeaders, rows: abrRows, rounds },
    switch: { headers: switchHeaders, rows: switchRows, trials: switches },
    rungs: { headers: rungHeaders, rows: rungRows, samples: rungs },
  };
}
