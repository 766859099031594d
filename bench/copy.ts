// Question (issue 10): what does stream copy buy over encoding on this machine? A 120 s 1080p30
// H.264 source shaped like a real file (x264 veryfast CRF 20 with B-frames, 2 s GOPs, AAC-LC
// stereo 48 kHz 128k, MP4), made once. The server (COPY=auto) serves it as `original` + `audio-1`
// copied; the same server code with COPY=never encodes `video-720p` + `audio-1` (VIDEO_LADDER=720
// for both). Every measured title is a fresh hardlink name (titles are keyed by path), so nothing
// comes warm from a store or an index cache; the file itself stays in the page cache.
// (a) First segment (POST + MPD + both inits + pair 1) and a far jump (the pair starting nearest
//     80 s, read from the MPD), 10 titles each, copy and encode interleaved, each session deleted
//     and its processes reaped before the next.
// (b) CPU per minute of content: every pair of the title in order, until no run is running; the
//     server's reaped children (cutime + cstime) and its own Node CPU (utime + stime), deltas.
// (c) N copy viewers at once (N = 10..60, each on its own title), concurrency.ts's player (1x,
//     30 s buffer, stalls) on the MPD's segment durations, 60 s watched; client and server CPU.
// (d) Manifest (POST + MPD) of the keyframes scenario's 2-hour films on a new title, COPY=auto vs
//     never, each on a fresh hardlink, with the file dropped from the page cache first or not; 5 each.
// Validated first: modes in the status, MPD and media answers 200 with content type and bytes.
import { link, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { BENCH_DIR, formatTable, median, percentile, round, startServerProcess, timed, type ServerProcess } from './support.js';

const D = 4;
const CLIP_SECONDS = 120;
const DIR = path.join(BENCH_DIR, 'copy');
const TITLES = path.join(DIR, 'titles');
const FILMS = path.join(DIR, 'films');
const KEYFRAMES_DIR = path.join(BENCH_DIR, 'keyframes');
const FILM_FILES = ['2h-gop-2s.mp4', '2h-gop-2s.mkv'];
const AUDIO = 'audio-1';
const MODES = {
  copy: { video: 'original', env: { COPY: 'auto', VIDEO_LADDER: '720', SEGMENT_SECONDS: String(D) } },
  encode: { video: 'video-720p', env: { COPY: 'never', VIDEO_LADDER: '720', SEGMENT_SECONDS: String(D) } },
} as const;
type Mode = keyof typeof MODES;
const LATENCY_TITLES = 10;
const JUMP_TO_SECONDS = 80;
const WHOLE_REPEATS = 2;
const ROUNDS = [10, 20, 30, 40, 50, 60];
const BUFFER_SECONDS = 30;
const WATCH_SECONDS = 60;
const FILM_RUNS = 5;
/** Rounds stop being started past this (the scenario must end within 15 minutes). */
const BUDGET_MS = 12.5 * 60_000;
const CLIENT_BOTTLENECK = 0.7;
const RECIPE = ['-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=30:duration=${CLIP_SECONDS}`,
  '-f', 'lavfi', '-i', `sine=frequency=440:beep_factor=4:sample_rate=48000:duration=${CLIP_SECONDS}`,
  '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-g', '60', '-keyint_min', '60', '-sc_threshold', '0', '-pix_fmt', 'yuv420p',
  '-c:a', 'aac', '-b:a', '128k', '-ac', '2', '-ar', '48000', '-movflags', '+faststart'];

/** The source, made once; remade when the recipe changed or the file is not the size recorded. */
async function copySource(): Promise<string> {
  const file = path.join(DIR, 'source-1080p30-120s.mp4');
  const record = path.join(DIR, 'source.json');
  const saved = await readFile(record, 'utf8').then((t) => JSON.parse(t) as { recipe: string[]; size: number }, () => undefined);
  const size = await stat(file).then((s) => s.size, () => 0);
  if (JSON.stringify(saved?.recipe) === JSON.stringify(RECIPE) && saved?.size === size) return file;
  process.stderr.write('  copy: encoding the 120 s 1080p30 source…\n');
  await mkdir(DIR, { recursive: true });
  await execa('ffmpeg', ['-nostdin', '-v', 'error', '-y', ...RECIPE, `${file}.partial.mp4`]);
  await execa('mv', [`${file}.partial.mp4`, file]);
  await writeFile(record, JSON.stringify({ recipe: RECIPE, size: (await stat(file)).size }));
  return file;
}

/** A fresh name for `source` in `dir`: a new title to the server, the same bytes on disk. */
async function freshLink(source: string, dir: string, name: string): Promise<string> {
  await rm(path.join(dir, name), { force: true });
  await link(source, path.join(dir, name));
  return name;
}

/** CPU seconds of a process (utime + stime) and of its reaped children (cutime + cstime). */
async function processCpu(pid: number): Promise<{ self: number; children: number }> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ').map(Number);
  return { self: (f[11]! + f[12]!) / 100, children: (f[13]! + f[14]!) / 100 };
}

/** Waits until the server has no child process left (every run stopped and reaped). */
async function childrenReaped(server: ServerProcess, timeoutMs = 15_000): Promise<void> {
  const pid = server.child.pid!;
  const deadline = Date.now() + timeoutMs;
  while ((await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8')).trim() !== '') {
    if (Date.now() > deadline) throw new Error(`server ${pid} still has children after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** GET that must answer 200 with `type` and a body; returns the body. */
async function fetchChecked(url: string, type: string): Promise<Buffer> {
  const response = await fetch(url);
  const body = Buffer.from(await response.arrayBuffer());
  const got = response.headers.get('content-type') ?? '';
  if (response.status !== 200 || body.byteLength === 0 || !got.startsWith(type)) throw new Error(`GET ${url}: ${response.status}, ${got}, ${body.byteLength} bytes`);
  return body;
}

const num = (k: number): string => String(k).padStart(5, '0');

interface Opened { id: string; prefix: string; durations: number[] }

/** POST a session and GET its MPD; the segment durations in seconds, from the MPD. */
async function openSession(base: string, media: string): Promise<Opened> {
  const response = await fetch(`${base}/api/sessions`, { method: 'POST', body: JSON.stringify({ media }) });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`POST /api/sessions ${media}: ${response.status} ${text}`);
  const { id, dash } = JSON.parse(text) as { id: string; dash: string };
  const mpd = (await fetchChecked(`${base}${dash}`, 'application/dash+xml')).toString();
  return { id, prefix: `${base}/sessions/${id}`, durations: segmentDurations(mpd) };
}

/** Segment durations (s) of the MPD's first SegmentTemplate: its SegmentTimeline, or @duration. */
export function segmentDurations(mpd: string): number[] {
  const template = /<SegmentTemplate\b([^>]*?)(?:\/>|>([\s\S]*?)<\/SegmentTemplate>)/.exec(mpd);
  if (!template) throw new Error('MPD without SegmentTemplate');
  const attr = (s: string, name: string): number | undefined => {
    const m = new RegExp(`\\b${name}="([^"]+)"`).exec(s);
    return m ? Number(m[1]) : undefined;
  };
  const timescale = attr(template[1]!, 'timescale') ?? 1;
  const uniform = attr(template[1]!, 'duration');
  if (uniform !== undefined) {
    const total = isoSeconds(/mediaPresentationDuration="([^"]+)"/.exec(mpd)?.[1] ?? '');
    const d = uniform / timescale;
    const count = Math.ceil(total / d - 1e-6);
    return Array.from({ length: count }, (_, i) => Math.min(d, total - i * d));
  }
  const out: number[] = [];
  for (const s of (template[2] ?? '').matchAll(/<S\b([^>]*)\/>/g)) {
    const d = attr(s[1]!, 'd')! / timescale;
    for (let r = 0; r <= (attr(s[1]!, 'r') ?? 0); r++) out.push(d);
  }
  if (out.length === 0) throw new Error('MPD SegmentTemplate has neither @duration nor a SegmentTimeline');
  return out;
}

function isoSeconds(iso: string): number {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?$/.exec(iso);
  if (!m) throw new Error(`MPD duration ${iso}`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/** Number (1-based) of the segment whose start is nearest `seconds`. */
function numberNear(durations: number[], seconds: number): { number: number; start: number } {
  let best = { number: 1, start: 0 };
  for (let i = 0, start = 0; i < durations.length; start += durations[i]!, i++) {
    if (Math.abs(start - seconds) < Math.abs(best.start - seconds)) best = { number: i + 1, start };
  }
  return best;
}

async function inits(s: Opened, video: string): Promise<number> {
  const [v, a] = await Promise.all([fetchChecked(`${s.prefix}/init/${video}.mp4`, 'video/mp4'), fetchChecked(`${s.prefix}/init/${AUDIO}.mp4`, 'audio/mp4')]);
  return v.byteLength + a.byteLength;
}

/** Video and audio segment k together; their bytes. */
async function pair(s: Opened, video: string, k: number): Promise<number> {
  const [v, a] = await Promise.all([
    fetchChecked(`${s.prefix}/segments/${video}-${num(k)}.m4s`, 'video/mp4'),
    fetchChecked(`${s.prefix}/segments/${AUDIO}-${num(k)}.m4s`, 'audio/mp4'),
  ]);
  return v.byteLength + a.byteLength;
}

interface Status {
  segmentCount: number;
  renditions: { id: string; mode: string; state: string }[];
  copy: unknown;
  segments: Record<string, number[]>;
}

async function sessionStatus(s: Opened): Promise<Status> {
  const base = s.prefix.replace(/\/sessions\/[^/]+$/, '');
  return JSON.parse((await fetchChecked(`${base}/api/sessions/${s.id}`, 'application/json')).toString()) as Status;
}

async function deleteSession(s: Opened): Promise<void> {
  const base = s.prefix.replace(/\/sessions\/[^/]+$/, '');
  const response = await fetch(`${base}/api/sessions/${s.id}`, { method: 'DELETE' });
  await response.arrayBuffer();
  if (response.status !== 204) throw new Error(`DELETE /api/sessions/${s.id}: ${response.status}`);
}

/** The status must list `video` and audio-1 in the mode expected; init and pair 1 must answer. */
async function validate(server: ServerProcess, media: string, mode: Mode): Promise<Record<string, unknown>> {
  const { video } = MODES[mode];
  const s = await openSession(server.base, media);
  const status = await sessionStatus(s);
  const want = mode === 'copy' ? 'copy' : 'encode';
  for (const id of [video, AUDIO]) {
    const r = status.renditions.find((x) => x.id === id);
    if (r?.mode !== want) throw new Error(`${mode}: rendition ${id} is ${r ? `mode ${r.mode}` : 'missing'}, want ${want} (${JSON.stringify(status.copy)})`);
  }
  if (s.durations.length !== status.segmentCount) throw new Error(`${mode}: MPD has ${s.durations.length} segments, status ${status.segmentCount}`);
  await inits(s, video);
  const bytes = await pair(s, video, 1);
  await deleteSession(s);
  await childrenReaped(server);
  return { renditions: status.renditions.map((r) => `${r.id}:${r.mode}`), copy: status.copy, segments: s.durations.length, firstPairBytes: bytes, durations: s.durations.map((d) => round(d, 3)) };
}

export async function benchCopy(): Promise<Record<string, unknown>> {
  const started = Date.now();
  const source = await copySource();
  await rm(TITLES, { recursive: true, force: true });
  await mkdir(TITLES, { recursive: true });
  const servers: Partial<Record<Mode, ServerProcess>> = {};
  try {
    servers.copy = await startServerProcess('copy-auto', { MEDIA_DIR: TITLES, ...MODES.copy.env });
    servers.encode = await startServerProcess('copy-never', { MEDIA_DIR: TITLES, ...MODES.encode.env });
    const validation = {
      copy: await validate(servers.copy, await freshLink(source, TITLES, 'valid-copy.mp4'), 'copy'),
      encode: await validate(servers.encode, await freshLink(source, TITLES, 'valid-encode.mp4'), 'encode'),
    };
    process.stderr.write(`  copy: validated ${JSON.stringify({ copy: validation.copy.renditions, encode: validation.encode.renditions })}\n`);
    const latency = await measureLatency(servers as Record<Mode, ServerProcess>, source);
    const whole = await measureWhole(servers as Record<Mode, ServerProcess>, source);
    await Promise.all(Object.values(servers).map((s) => s.stop()));
    delete servers.copy;
    delete servers.encode;
    const concurrency = await measureConcurrency(source, started);
    const films = await measureFilms();
    const sourceInfo = { file: source, bytes: (await stat(source)).size, mbitPerSecond: round(((await stat(source)).size * 8) / CLIP_SECONDS / 1e6, 2), recipe: RECIPE.join(' ') };
    return {
      question: 'What does stream copy (`original` + copied audio-1, COPY=auto) buy over encoding (`video-720p` + encoded audio-1, COPY=never) on this machine: first segment, far jump, CPU per minute of content, simultaneous viewers, cold manifest of a 2-hour film?',
      source: sourceInfo,
      validation,
      ...latency,
      ...whole,
      ...concurrency,
      ...films,
      scenarioSeconds: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
    await rm(TITLES, { recursive: true, force: true });
    await rm(FILMS, { recursive: true, force: true });
  }
}

// (a) First segment and far jump, copy and encode interleaved on fresh titles.
async function measureLatency(servers: Record<Mode, ServerProcess>, source: string): Promise<Record<string, unknown>> {
  const samples: Record<Mode, { first: number[]; manifest: number[]; jump: number[]; jumpNumber: number[]; jumpStart: number[] }> = {
    copy: { first: [], manifest: [], jump: [], jumpNumber: [], jumpStart: [] },
    encode: { first: [], manifest: [], jump: [], jumpNumber: [], jumpStart: [] },
  };
  for (let i = 0; i < LATENCY_TITLES; i++) {
    for (const mode of ['copy', 'encode'] as const) {
      const server = servers[mode];
      const { video } = MODES[mode];
      const media = await freshLink(source, TITLES, `lat-${mode}-${i}.mp4`);
      let s: Opened | undefined;
      let manifest = 0;
      const first = await timed(async () => {
        manifest = await timed(async () => { s = await openSession(server.base, media); });
        await inits(s!, video);
          await pair(s!, video, 1);
      });
      const target = numberNear(s!.durations, JUMP_TO_SECONDS);
      const jump = await timed(() => pair(s!, video, target.number));
      await deleteSession(s!);
      await childrenReaped(server);
      await rm(path.join(TITLES, media));
      const x = samples[mode];
      x.first.push(first); x.manifest.push(manifest); x.jump.push(jump); x.jumpNumber.push(target.number); x.jumpStart.push(round(target.start, 3));
    }
  }
  const stats = (v: number[]): { p50: number; p95: number; min: number; max: number } =>
    ({ p50: round(median(v)), p95: round(percentile(v, 0.95)), min: round(Math.min(...v)), max: round(Math.max(...v)) });
  const headers = ['what', 'copy p50 ms', 'copy p95 ms', 'encode p50 ms', 'encode p95 ms', 'copy / encode (p50)'];
  const rows = (['first', 'manifest', 'jump'] as const).map((k) => {
    const c = stats(samples.copy[k]);
    const e = stats(samples.encode[k]);
    const label = k === 'first' ? 'first segment (POST + MPD + inits + pair 1)' : k === 'manifest' ? '  of which POST + MPD' : `far jump (pair starting nearest ${JUMP_TO_SECONDS} s: copy #${samples.copy.jumpNumber[0]} at ${samples.copy.jumpStart[0]} s, encode #${samples.encode.jumpNumber[0]})`;
    return [label, c.p50, c.p95, e.p50, e.p95, round(c.p50 / e.p50, 3)];
  });
  process.stderr.write(`\n${formatTable(headers, rows)}\n`);
  return {
    latency: {
      question: `(a) ms to the first segment and to a far jump, ${LATENCY_TITLES} fresh titles each, copy and encode interleaved; goal copy <= 300 ms p50`,
      headers, rows,
      samples: Object.fromEntries(Object.entries(samples).map(([m, x]) => [m, { firstMs: x.first.map((v) => round(v)), manifestMs: x.manifest.map((v) => round(v)), jumpMs: x.jump.map((v) => round(v)), jumpNumber: x.jumpNumber, jumpStartSeconds: x.jumpStart }])),
    },
  };
}

// (b) Every pair of a title in order; CPU from the server's /proc stat, before and after.
async function measureWhole(servers: Record<Mode, ServerProcess>, source: string): Promise<Record<string, unknown>> {
  const runs: Record<Mode, { childCpu: number; serverCpu: number; wallMs: number; bytes: number; segments: number }[]> = { copy: [], encode: [] };
  for (let i = 0; i < WHOLE_REPEATS; i++) {
    for (const mode of ['copy', 'encode'] as const) {
      const server = servers[mode];
      const { video } = MODES[mode];
      const media = await freshLink(source, TITLES, `whole-${mode}-${i}.mp4`);
      await childrenReaped(server);
      const before = await processCpu(server.child.pid!);
      const t0 = performance.now();
      const s = await openSession(server.base, media);
      let bytes = await inits(s, video);
      for (let k = 1; k <= s.durations.length; k++) bytes += await pair(s, video, k);
      let status = await sessionStatus(s);
      while (status.renditions.some((r) => r.state === 'running')) {
        await sleep(100);
        status = await sessionStatus(s);
      }
      const wallMs = performance.now() - t0;
      for (const id of [video, AUDIO]) {
        if (status.segments[id]?.length !== s.durations.length) throw new Error(`${mode}: ${id} stored ${status.segments[id]?.length} of ${s.durations.length} segments`);
      }
      await deleteSession(s);
      await childrenReaped(server);
      await sleep(200);
      const after = await processCpu(server.child.pid!);
      await rm(path.join(TITLES, media));
      runs[mode].push({ childCpu: after.children - before.children, serverCpu: after.self - before.self, wallMs, bytes, segments: s.durations.length });
    }
  }
  const perMinute = (mode: Mode, k: 'childCpu' | 'serverCpu'): number => median(runs[mode].map((r) => r[k])) / (CLIP_SECONDS / 60);
  const headers = ['mode', 'children CPU s / content min', 'server Node CPU s / content min', 'wall s for 120 s (x realtime)', 'MB sent'];
  const rows = (['copy', 'encode'] as const).map((mode) => {
    const wall = median(runs[mode].map((r) => r.wallMs)) / 1000;
    return [`${mode} (${MODES[mode].video} + ${AUDIO})`, round(perMinute(mode, 'childCpu'), 2), round(perMinute(mode, 'serverCpu'), 2), `${round(wall, 1)} (${round(CLIP_SECONDS / wall, 1)}x)`, round(runs[mode][0]!.bytes / 1e6, 1)];
  });
  const ratio = { children: round(perMinute('copy', 'childCpu') / perMinute('encode', 'childCpu'), 4), server: round(perMinute('copy', 'serverCpu') / perMinute('encode', 'serverCpu'), 3) };
  rows.push(['copy / encode', ratio.children, ratio.server, '', '']);
  process.stderr.write(`\n${formatTable(headers, rows)}\n`);
  return {
    cpu: {
      question: `(b) CPU seconds per minute of content, the whole ${CLIP_SECONDS} s title fetched in order (median of ${WHOLE_REPEATS}); children = ffprobe + ffmpeg + packager reaped by the server (cutime + cstime)`,
      headers, rows, ratio,
      samples: Object.fromEntries(Object.entries(runs).map(([m, r]) => [m, r.map((x) => ({ childCpuSeconds: round(x.childCpu, 2), serverCpuSeconds: round(x.serverCpu, 2), wallMs: Math.round(x.wallMs), bytes: x.bytes, segments: x.segments }))])),
    },
  };
}

interface ViewerResult { viewer: number; manifestMs: number; firstSegmentMs: number; stalls: number; stallSeconds: number; stallSegments: number[]; minBufferSeconds: number; bytes: number; segments: number }

/** concurrency.ts's player on the copy timeline: 1x, 30 s buffer target, stalls, 60 s watched. */
async function watch(base: string, media: string, viewer: number): Promise<ViewerResult> {
  const t0 = performance.now();
  const s = await openSession(base, media);
  const manifestMs = Math.round(performance.now() - t0);
  let failed = true;
  try {
    let bytes = await inits(s, MODES.copy.video);
    let playStart: number | undefined;
    let stalledMs = 0;
    let downloaded = 0;
    let firstSegmentMs = 0;
    let minBuffer = Infinity;
    const stalls: { ms: number; k: number }[] = [];
    let k = 1;
    for (; downloaded < WATCH_SECONDS - 1e-6 && k <= s.durations.length; k++) {
      if (playStart !== undefined) {
        const wait = playStart + stalledMs + (downloaded - BUFFER_SECONDS) * 1000 - performance.now();
        if (wait > 0) await sleep(wait + 1);
      }
      bytes += await pair(s, MODES.copy.video, k);
      const now = performance.now();
      if (playStart === undefined) {
        playStart = now;
        firstSegmentMs = now - t0;
      } else {
        const buffer = downloaded - (now - playStart - stalledMs) / 1000;
        if (buffer <= 0) {
          const stallStart = playStart + stalledMs + downloaded * 1000;
          stalls.push({ ms: now - stallStart, k });
          stalledMs += now - stallStart;
        }
        minBuffer = Math.min(minBuffer, Math.max(0, buffer));
      }
      downloaded += s.durations[k - 1]!;
    }
    const left = playStart! + stalledMs + downloaded * 1000 - performance.now();
    if (left > 0) await sleep(left);
    failed = false;
    return {
      viewer, manifestMs, firstSegmentMs: Math.round(firstSegmentMs), stalls: stalls.length,
      stallSeconds: round(stalls.reduce((a, x) => a + x.ms, 0) / 1000, 2), stallSegments: stalls.map((x) => x.k),
      minBufferSeconds: round(minBuffer, 2), bytes, segments: k - 1,
    };
  } finally {
    const deleted = await deleteSession(s).catch((error: unknown) => error);
    if (deleted instanceof Error && !failed) throw deleted;
  }
}

/** Opened at once, as the round's viewers will be: how many first openings got the copy (and how long each took). */
async function firstOpenings(base: string, media: string[]): Promise<{ postMs: number[]; copied: number; reasons: string[]; without: string[] }> {
  const opened = await Promise.all(media.map(async (m) => {
    let s: Opened | undefined;
    const ms = await timed(async () => { s = await openSession(base, m); });
    const status = await sessionStatus(s!);
    await deleteSession(s!);
    const copied = status.renditions.some((r) => r.id === MODES.copy.video && r.mode === 'copy');
    return { m, ms, copied, reason: copied ? '' : JSON.stringify(status.copy) };
  }));
  return {
    postMs: opened.map((o) => Math.round(o.ms)), copied: opened.filter((o) => o.copied).length,
    reasons: [...new Set(opened.map((o) => o.reason).filter(Boolean))], without: opened.filter((o) => !o.copied).map((o) => o.m),
  };
}

/** Reopens a title until the server plans it with the copy (its key-frame index is then cached). */
async function ensureCopy(base: string, media: string): Promise<void> {
  for (let attempt = 0; attempt < 30; attempt++) {
    const s = await openSession(base, media);
    const status = await sessionStatus(s);
    await deleteSession(s);
    if (status.renditions.some((r) => r.id === MODES.copy.video && r.mode === 'copy')) return;
    await sleep(500);
  }
  throw new Error(`${media}: no copy after 30 openings`);
}

interface Round {
  failedViewers: number;
  errors: string[];
  burst: { postMs: number[]; copied: number; reasons: string[]; without: string[] };
  viewers: number; stalls: number; stalledViewers: number; stallSeconds: number; firstSegmentMs: number[]; minBufferSeconds: number;
  wallSeconds: number; clientCores: number; serverNodeCores: number; childrenCores: number; childrenCpuSecondsPerViewer: number;
  mbitPerSecond: number; load1: number[]; perViewer: ViewerResult[];
}

// (c) One server per round, N viewers each on its own fresh title.
async function copyRound(n: number, source: string): Promise<Round> {
  for (let i = 1; i <= n; i++) await freshLink(source, TITLES, `r${n}-v${i}.mp4`);
  // A bounded wait: a segment that never comes fails its viewer in 30 s, not in 10 minutes.
  const server = await startServerProcess(`copy-conc-${n}`, { MEDIA_DIR: TITLES, ...MODES.copy.env, SEGMENT_WAIT_MS: '30000' });
  try {
    // A burst of first openings races each title's key-frame read against a 1 s bound (src/media/
    // source.ts): reported, then every title is reopened until it has the copy, so the viewers
    // below are all copy viewers. Sessions open no run until a segment is asked for: no segment
    // is made here, every viewer's title stays cold.
    const names = Array.from({ length: n }, (_, i) => `r${n}-v${i + 1}.mp4`);
    const burst = await firstOpenings(server.base, names);
    for (const name of burst.without) await ensureCopy(server.base, name);
    await childrenReaped(server);
    const load1 = [loadavg()[0]!];
    const before = await processCpu(server.child.pid!);
    const clientBefore = process.cpuUsage();
    const t0 = performance.now();
    const loadTimer = setInterval(() => load1.push(loadavg()[0]!), 10_000);
    const settled = await Promise.allSettled(names.map((name, i) => watch(server.base, name, i + 1)));
    clearInterval(loadTimer);
    // Validation passed before any round: a request failing under load is this round's result
    // (it ends the climb), reported with its message, not a reason to lose the earlier rounds.
    const errors = settled.filter((x): x is PromiseRejectedResult => x.status === 'rejected').map((x) => String(x.reason instanceof Error ? x.reason.message : x.reason).replace(/http:\/\/127\.0\.0\.1:\d+\/sessions\/[0-9a-f-]+/, '<session>'));
    const perViewer = settled.filter((x): x is PromiseFulfilledResult<ViewerResult> => x.status === 'fulfilled').map((x) => x.value);
    if (perViewer.length === 0) throw new Error(`${n} viewers: every viewer failed: ${errors[0]}`);
    const viewingMs = performance.now() - t0;
    const client = process.cpuUsage(clientBefore);
    await childrenReaped(server);
    await sleep(200);
    const after = await processCpu(server.child.pid!);
    const wall = (performance.now() - t0) / 1000;
    const children = after.children - before.children;
    return {
      burst,
      failedViewers: errors.length,
      errors: [...new Set(errors)],
      viewers: n,
      stalls: perViewer.reduce((a, v) => a + v.stalls, 0),
      stalledViewers: perViewer.filter((v) => v.stalls > 0).length,
      stallSeconds: round(perViewer.reduce((a, v) => a + v.stallSeconds, 0), 2),
      firstSegmentMs: perViewer.map((v) => v.firstSegmentMs),
      minBufferSeconds: Math.min(...perViewer.map((v) => v.minBufferSeconds)),
      wallSeconds: round(wall),
      clientCores: round((client.user + client.system) / 1e6 / (viewingMs / 1000), 3),
      serverNodeCores: round((after.self - before.self) / wall, 3),
      childrenCores: round(children / wall, 3),
      childrenCpuSecondsPerViewer: round(children / n, 2),
      mbitPerSecond: round((perViewer.reduce((a, v) => a + v.bytes, 0) * 8) / (viewingMs / 1000) / 1e6, 1),
      load1: load1.map((l) => round(l, 2)),
      perViewer,
    };
  } finally {
    await server.stop();
    for (let i = 1; i <= n; i++) await rm(path.join(TITLES, `r${n}-v${i}.mp4`), { force: true });
  }
}

async function measureConcurrency(source: string, started: number): Promise<Record<string, unknown>> {
  const rounds: Round[] = [];
  let cut: string | undefined;
  for (const n of ROUNDS) {
    if (Date.now() - started > BUDGET_MS) {
      cut = `rounds from N = ${n} not run: the scenario's 15-minute bound`;
      break;
    }
    process.stderr.write(`  copy: ${n} viewers…\n`);
    const r = await copyRound(n, source);
    rounds.push(r);
    process.stderr.write(`  copy: ${n} viewers: ${r.failedViewers} failed ${JSON.stringify(r.errors)}, ${r.stalls} stalls, client ${r.clientCores} cores, server node ${r.serverNodeCores}, children ${r.childrenCores}\n`);
    if (r.failedViewers > 0 || (r.stalls > 0 && (rounds.at(-2)?.stalls ?? 0) > 0)) break;
  }
  let answer = 0;
  for (const r of rounds) {
    if (r.stalls > 0 || r.failedViewers > 0) break;
    answer = r.viewers;
  }
  const headers = ['copy viewers', 'failed viewers', 'stalls', 'stall s', 'first segment ms, median (min-max)', 'of which POST + MPD ms, median', 'min buffer s', 'client CPU (cores)', 'server Node CPU (cores)', 'ffmpeg+packager CPU (cores)', 'children CPU s / viewer', 'Mbit/s served', 'load1 max', 'burst of N first openings: with copy, POST+MPD ms median'];
  const rows = rounds.map((r) => [
    r.viewers, r.failedViewers === 0 ? 0 : `${r.failedViewers}: ${r.errors.join('; ')}`, r.stalls === 0 ? 0 : `${r.stalls} (${r.stalledViewers} of ${r.perViewer.length} viewers that did not fail)`, r.stallSeconds,
    `${Math.round(median(r.firstSegmentMs))} (${Math.min(...r.firstSegmentMs)}-${Math.max(...r.firstSegmentMs)})`,
    Math.round(median(r.perViewer.map((v) => v.manifestMs))), r.minBufferSeconds, `${r.clientCores}${r.clientCores > CLIENT_BOTTLENECK ? ' (client-bound?)' : ''}`, r.serverNodeCores, r.childrenCores,
    r.childrenCpuSecondsPerViewer, r.mbitPerSecond, Math.max(...r.load1), `${r.burst.copied} of ${r.viewers}, ${Math.round(median(r.burst.postMs))}`,
  ]);
  process.stderr.write(`\n${formatTable(headers, rows)}\n`);
  return {
    concurrency: {
      question: `(c) How many simultaneous copy viewers of a 1080p H.264 source without stalls? N = ${ROUNDS.join(', ')}; 1x, ${BUFFER_SECONDS} s buffer, ${WATCH_SECONDS} s watched, each on its own title; stop after two stalling rounds in a row or a round with a failed request (SEGMENT_WAIT_MS=30000); stalls and first segments are of the viewers that did not fail`,
      answer,
      reachedMax: answer === ROUNDS.at(-1),
      cut: cut ?? null,
      clientBottleneckAbove: `${CLIENT_BOTTLENECK} of one core`,
      encodeFigure: 'bench/README.md concurrency (2026-11-25, commit 8f05cc8): 4 simultaneous 720p encode viewers without stalls (5 stalled)',
      headers, rows, rounds,
    },
  };
}

// (d) Cold POST + MPD of the 2-hour films, a server per COPY mode, interleaved.
async function measureFilms(): Promise<Record<string, unknown>> {
  const present = await Promise.all(FILM_FILES.map((f) => stat(path.join(KEYFRAMES_DIR, f)).then((s) => s.size > 1e9, () => false)));
  if (!present.every(Boolean)) return { films: { skipped: `${FILM_FILES.join(', ')} missing in ${KEYFRAMES_DIR}: run \`npm run bench -- keyframes\` first` } };
  await rm(FILMS, { recursive: true, force: true });
  await mkdir(FILMS, { recursive: true });
  const servers: Partial<Record<Mode, ServerProcess>> = {};
  try {
    servers.copy = await startServerProcess('copy-films-auto', { MEDIA_DIR: FILMS, ...MODES.copy.env });
    servers.encode = await startServerProcess('copy-films-never', { MEDIA_DIR: FILMS, ...MODES.encode.env });
    const samples: Record<string, Record<Mode, number[]>> = {};
    const checked: Record<string, Record<Mode, string[]>> = {};
    for (const film of FILM_FILES) {
      const original = path.join(KEYFRAMES_DIR, film);
      checked[film] = { copy: [], encode: [] };
      for (const cache of ['cold', 'warm'] as const) {
        const key = `${film}, page cache ${cache}`;
        samples[key] = { copy: [], encode: [] };
        // Run 0 validates (modes, segment count) and is not timed; runs 1..FILM_RUNS are.
        for (let i = 0; i <= FILM_RUNS; i++) {
          for (const mode of ['copy', 'encode'] as const) {
            const server = servers[mode]!;
            const media = await freshLink(original, FILMS, `${mode}-${cache}-${i}-${film}`);
            if (cache === 'cold') await execa('dd', [`if=${original}`, 'iflag=nocache', 'count=0', 'status=none']);
            let s: Opened | undefined;
            const ms = await timed(async () => { s = await openSession(server.base, media); });
            if (i === 0) {
              const status = await sessionStatus(s!);
              const video = status.renditions.find((r) => r.id === MODES[mode].video);
              if (video?.mode !== (mode === 'copy' ? 'copy' : 'encode')) throw new Error(`${film} ${mode}: ${MODES[mode].video} is ${video?.mode ?? 'missing'} (${JSON.stringify(status.copy)})`);
              if (status.segmentCount !== s!.durations.length || status.segmentCount < 1700) throw new Error(`${film} ${mode}: ${status.segmentCount} segments, MPD ${s!.durations.length}`);
              checked[film]![mode] = status.renditions.map((r) => `${r.id}:${r.mode}`);
            } else samples[key]![mode].push(ms);
            await deleteSession(s!);
            await rm(path.join(FILMS, media));
          }
        }
      }
    }
    const headers = ['2-hour 1080p24 film, new title', 'COPY=auto ms median (min-max)', 'COPY=never ms median (min-max)', 'auto / never', 'auto within 150 ms'];
    const c = (v: number[]): string => `${round(median(v))} (${round(Math.min(...v))}-${round(Math.max(...v))})`;
    const rows = Object.entries(samples).map(([key, x]) => [key, c(x.copy), c(x.encode), round(median(x.copy) / median(x.encode), 2), median(x.copy) <= 150 ? 'yes' : 'no']);
    process.stderr.write(`\n${formatTable(headers, rows)}\n`);
    return {
      films: {
        question: `(d) cold POST /api/sessions + GET MPD of a 2-hour film (keyframes scenario's), a fresh hardlink (new title) each time, the file dropped from the page cache first (cold) or not (warm); median of ${FILM_RUNS}; budget 150 ms`,
        headers, rows, renditions: checked,
        samples: Object.fromEntries(Object.entries(samples).map(([f, x]) => [f, { autoMs: x.copy.map((v) => round(v)), neverMs: x.encode.map((v) => round(v)) }])),
      },
    };
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
    await rm(FILMS, { recursive: true, force: true });
  }
}
