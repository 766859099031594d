// Starts a real Seekwell server in process on port 0, on a temp WORK_DIR.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createServer, type SeekwellServer, type ServerOptions } from '../../src/server.js';

export interface TestServer {
  server: SeekwellServer;
  base: string;
  workDir: string;
  close(): Promise<void>;
}

/**
 * COPY defaults to `never` here (the server's default is `auto`): most suites test the encoding
 * engine on H.264 clips (its rungs, restarts, windows and processes), which a copy would replace.
 * Suites about copies, and the corpus of real-file shapes, pass COPY=auto. SEGMENT_SECONDS
 * defaults to 4 here (the server's is 2): the suites' expectations (segment numbers, sample
 * counts, jump targets) were written for 4 s segments; the players suite runs the server's default.
 * LOAD_SHEDDING is off here: CI machines are shared, and a corpus title that cannot be encoded in
 * real time (4K HEVC on 2 cores) would make the server refuse the next suite's sessions. The load
 * and storm suites turn it on.
 */
export async function startTestServer(env: Record<string, string>, options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const workDir = await mkdtemp(path.join(tmpdir(), 'seekwell-test-'));
  const config = loadConfig({ PORT: '0', WORK_DIR: workDir, SEGMENT_WAIT_MS: '60000', COPY: 'never', SEGMENT_SECONDS: '4', LOAD_SHEDDING: 'off', ...env });
  const log = createLogger(process.env.TEST_LOG === '1' ? 'debug' : 'silent');
  const server = await createServer(config, { log, ...options });
  const port = await server.listen();
  return {
    server,
    base: `http://127.0.0.1:${port}`,
    workDir,
    async close() {
      await server.close();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

export interface ServerProcess {
  child: ChildProcess;
  base: string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** Everything it logged so far. */
  log(): string;
}

/**
 * Starts the `seekwell` command (src/bin/seekwell.js) as its own process (real signals, a real exit code) on port 0 with COPY
 * never and 4 s segments (as startTestServer); resolves once it listens.
 */
export async function startServerProcess(env: Record<string, string>, options: { prefix?: string[] } = {}): Promise<ServerProcess> {
  // `prefix`: a command that runs the server as its last arguments (e.g. in a mount namespace).
  const [command, ...args] = [...(options.prefix ?? []), process.execPath, 'src/bin/seekwell.js'];
  const child = spawn(command!, args, {
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', COPY: 'never', SEGMENT_SECONDS: '4', LOAD_SHEDDING: 'off', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const base = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const match = /"url":"(http:[^"]+)"/.exec(log);
      if (match) resolve(match[1]!);
    });
    void exited.then((code) => reject(new Error(`server exited with ${code}: ${log}`)));
  });
  return { child, base, exited, log: () => log };
}

export interface SessionUrls {
  id: string;
  dash: string;
  hls: string;
}

export async function createSession(base: string, media: string): Promise<SessionUrls> {
  const response = await fetch(`${base}/api/sessions`, { method: 'POST', body: JSON.stringify({ media }) });
  if (response.status !== 201) throw new Error(`POST /api/sessions: ${response.status} ${await response.text()}`);
  return (await response.json()) as SessionUrls;
}

export async function fetchBytes(url: string, init?: RequestInit): Promise<Buffer> {
  const response = await fetch(url, init);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return Buffer.from(await response.arrayBuffer());
}

export async function sessionStatus(base: string, id: string): Promise<Record<string, any>> {
  const response = await fetch(`${base}/api/sessions/${id}`);
  return (await response.json()) as Record<string, any>;
}

/** True while a process with this PID exists (and is not a zombie). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** A segment's file name: `video-720p-00001.m4s`. */
export function segmentName(renditionId: string, number: number): string {
  return `${renditionId}-${String(number).padStart(5, '0')}.m4s`;
}

/** Sends a signal to a child's whole process group; a no-op once it is gone. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * One sample of GET /metrics by its name and labels (`seekwell_limit{limit="sessions"}`); 0 when
 * absent, as a labelled counter nothing has counted yet is.
 */
export async function metricSample(base: string, sample: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}
