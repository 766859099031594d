// Shared bench plumbing: the server as a child process (so its reaped children's CPU time can be
// read from /proc), a cached long test clip, validated fetches and medians.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

export const BENCH_DIR = path.join(tmpdir(), 'seekwell-bench');
const CLOCK_TICKS = 100;

export interface ServerProcess {
  base: string;
  child: ChildProcess;
  /** CPU seconds of the server's exited (reaped) children: every ffmpeg and packager it ran. */
  childCpuSeconds(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts `src/main.ts` with `env` (COPY=never, SEGMENT_SECONDS=4 unless `env` says otherwise) on a fresh WORK_DIR; resolves once it listens. */
/**
 * A Seekwell child process on WORK_DIR `work/<name>`, emptied at start and removed at stop, unless
 * it shares the WORK_DIR of the live server `sharesWorkOf` (whose stop removes it).
 */
export async function startServerProcess(name: string, env: Record<string, string>, sharesWorkOf?: string): Promise<ServerProcess> {
  const workDir = path.join(BENCH_DIR, 'work', sharesWorkOf ?? name);
  if (!sharesWorkOf) await rm(workDir, { recursive: true, force: true });
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    // COPY=never and 4 s segments by default: the scenarios measure the encode path, comparable
    // with earlier runs (`startup` compares segment lengths, `encode-overhead` runs the default).
    // No load shedding: `concurrency` measures what happens past capacity; `overload` and
    // `storm` set it.
    env: { ...process.env, PORT: '0', WORK_DIR: workDir, SEGMENT_WAIT_MS: '600000', LOG_LEVEL: 'info', COPY: 'never', SEGMENT_SECONDS: '4', LOAD_SHEDDING: 'off', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const base = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-20_000);
      const match = /"url":"(http:[^"]+)"/.exec(log);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${log}`)));
  });
  return {
    base,
    child,
    async childCpuSeconds() {
      const text = await readFile(`/proc/${child.pid}/stat`, 'utf8');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      if (!sharesWorkOf) await rm(workDir, { recursive: true, force: true });
    },
  };
}

/** A lavfi test clip (moving picture + tone) made once into `dir/file` and reused by later runs. */
export async function makeBenchClip(dir: string, file: string, seconds: number, size = '1920x1080'): Promise<string> {
  const target = path.join(dir, file);
  if (!(await stat(target).then((s) => s.size > 0, () => false))) {
    await mkdir(dir, { recursive: true });
    await execa('ffmpeg', ['-nostdin', '-v', 'error', '-y',
      '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30:duration=${seconds}`,
      '-f', 'lavfi', '-i', `sine=frequency=440:beep_factor=4:sample_rate=48000:duration=${seconds}`,
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '250', '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-ac', '2', `${target}.partial.mp4`]);
    await execa('mv', [`${target}.partial.mp4`, target]);
  }
  return target;
}

/** A 10-minute 1080p30 clip with audio, made once and kept in the bench folder. */
export async function longClip(): Promise<{ dir: string; file: string; seconds: number }> {
  const dir = path.join(BENCH_DIR, 'media');
  await makeBenchClip(dir, 'long-1080p.mp4', 600);
  return { dir, file: 'long-1080p.mp4', seconds: 600 };
}

/** GET that must answer 200 with a body: a bench never times a failure. */
export async function get(url: string): Promise<number> {
  const response = await fetch(url);
  const bytes = (await response.arrayBuffer()).byteLength;
  if (response.status !== 200 || bytes === 0) throw new Error(`GET ${url}: ${response.status}, ${bytes} bytes`);
  return bytes;
}

export async function createSession(base: string, media: string): Promise<string> {
  const response = await fetch(`${base}/api/sessions`, { method: 'POST', body: JSON.stringify({ media }) });
  if (response.status !== 201) throw new Error(`POST /api/sessions: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

/** Fetches video and audio segment `n` of a session together. */
export async function fetchPair(base: string, id: string, video: string, n: number): Promise<void> {
  const num = String(n).padStart(5, '0');
  await Promise.all([get(`${base}/sessions/${id}/segments/${video}-${num}.m4s`), get(`${base}/sessions/${id}/segments/audio-1-${num}.m4s`)]);
}

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

export function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Deterministic pseudo-random numbers (mulberry32), so every policy meets the same jumps. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What each scenario of `npm run bench` returns: its question, a table for stdout and the raw data. */
export interface ScenarioResult {
  question: string;
  headers: string[];
  rows: (string | number)[][];
  data: Record<string, unknown>;
}

export type Scenario = () => Promise<ScenarioResult>;

export function summary(values: number[]): { median: number; min: number; max: number; samples: number[] } {
  return { median: round(median(values)), min: round(Math.min(...values)), max: round(Math.max(...values)), samples: values.map(round) };
}

export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** "median (min-max)" for a table cell. */
export function cell(values: number[], unit = ''): string {
  const s = summary(values);
  return `${s.median}${unit} (${s.min}-${s.max})`;
}

/** Fixed-width text table. */
export function formatTable(headers: string[], rows: (string | number)[][]): string {
  const all = [headers, ...rows].map((r) => r.map(String));
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(all[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}
