// Issue 14: the `seekwell` command as a person runs it (package.json "bin", through npx and a
// global install), with flags over environment variables, its logs and metrics, and the progress
// of the work it makes a person wait for (the demo clip on first start, a TS remux).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClip } from '../support/media.js';
import { processAlive } from '../support/server.js';

const BIN = path.resolve('src/bin/seekwell.js');
const VERSION = (JSON.parse(await readFile('package.json', 'utf8')) as { version: string }).version;

interface Running {
  child: ChildProcess;
  base: string;
  stdout: () => string;
  records: () => Record<string, unknown>[];
  exited: Promise<number | null>;
}

let scratch: string;
let media: string;
const running: Running[] = [];

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'seekwell-command-'));
  media = path.join(scratch, 'media');
  await mkdir(media);
  await makeClip(path.join(media, 'clip.mp4'), { seconds: 8, width: 640, height: 360, audioRate: 48_000 });
  await makeClip(path.join(media, 'recording.ts'), { seconds: 8, width: 640, height: 360, audioRate: 48_000, format: 'mpegts' });
});

afterAll(async () => {
  for (const r of running) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  await rm(scratch, { recursive: true, force: true });
});

/** Runs the command to its end: exit code and output. */
async function runToEnd(args: string[], env: Record<string, string> = {}) {
  const result = await execa(process.execPath, [BIN, ...args], { reject: false, env, stdin: 'ignore', timeout: 30_000 });
  return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}

/** Starts the command and resolves once it printed the URL to open. */
async function start(args: string[], env: Record<string, string> = {}, waitMs = 60_000): Promise<Running> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const r: Running = {
    child, base: '', exited, stdout: () => out,
    records: () => err.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>),
  };
  running.push(r);
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  r.base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed in ${waitMs} ms: ${out}\n${err}`)), waitMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /Open (http:\S+)\/ to browse/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then((code) => reject(new Error(`exited with ${code}: ${out}\n${err}`)));
  });
  return r;
}

async function stop(r: Running): Promise<number | null> {
  r.child.kill('SIGTERM');
  return r.exited;
}

/** The first media segment of the first variant of a title's HLS playlist, after the redirect. */
async function firstSegment(base: string, file: string): Promise<{ playlist: string; init: Response; segment: Response }> {
  const master = await fetch(`${base}/media/${file}/stream.m3u8`);
  expect(master.status).toBe(200);
  const variantUri = (await master.text()).split('\n').find((l) => l && !l.startsWith('#'))!;
  const variantUrl = new URL(variantUri, master.url);
  const playlist = await (await fetch(variantUrl)).text();
  const init = await fetch(new URL(/#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)![1]!, variantUrl));
  const segment = await fetch(new URL(playlist.split('\n').find((l) => l && !l.startsWith('#'))!, variantUrl));
  return { playlist, init, segment };
}

function sample(metrics: string, name: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('the seekwell command', () => {
  it('lists every option with --help, prints its version, and exits 0', async () => {
    const help = await runToEnd(['--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--port N', '--host ADDRESS', '--work-dir DIR', '--segment-seconds N', '--buffer-ahead SECONDS', '--cache-max BYTES', '--log-format auto|json|pretty']) {
      expect(help.stdout).toContain(flag);
    }
    expect(help.stdout).toContain('env CACHE_MAX_BYTES, default: 2G');
    expect(await runToEnd(['--version'])).toMatchObject({ code: 0, stdout: `seekwell ${VERSION}` });
  });

  it('exits 2 naming every bad flag and value at once, before starting anything', async () => {
    const workDir = path.join(scratch, 'never-made');
    const result = await runToEnd([media, '--prot', '80', '--segment-seconds', '99', '--work-dir', workDir], { SEGMENT_WAIT_MS: 'soon' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown option --prot (did you mean --port?)');
    expect(result.stderr).toContain('--segment-seconds: expected an integer from 1 to 30, got "99"');
    expect(result.stderr).toContain('SEGMENT_WAIT_MS: expected an integer from 100 to 600000, got "soon"');
    expect(result.stdout).toBe('');
    await expect(readFile(workDir)).rejects.toThrow(/ENOENT/);
  });

  it('says at once, with exit 1, that the port is taken, naming the flag to change', async () => {
    const taken = createNetServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const started = performance.now();
      const result = await runToEnd(['--port', String(port), '--work-dir', path.join(scratch, 'taken')]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`seekwell: cannot listen on 127.0.0.1:${port}: the port is in use (another Seekwell?); pick another with --port`);
      // Before the demo clip (~20 s) is made: nothing of it in the work folder.
      expect(performance.now() - started).toBeLessThan(10_000);
      await expect(readFile(path.join(scratch, 'taken', 'demo', 'demo.mp4'))).rejects.toThrow(/ENOENT/);
    } finally {
      taken.close();
    }
  });

  it('runs as `npx seekwell` in the checkout and after `npm install -g`, with no download', async () => {
    const npx = await execa('npx', ['--offline', 'seekwell', '--version'], { reject: false, stdin: 'ignore', timeout: 60_000 });
    expect(npx.stdout).toBe(`seekwell ${VERSION}`);
    const help = await execa('npx', ['--offline', 'seekwell', '--help'], { reject: false, stdin: 'ignore', timeout: 60_000 });
    expect(help.stdout).toContain('Usage: seekwell [MEDIA_DIR] [options]');
    const prefix = path.join(scratch, 'global');
    await execa('npm', ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', process.cwd()], { stdin: 'ignore', timeout: 120_000 });
    const global = await execa(path.join(prefix, 'bin', 'seekwell'), ['--version'], { reject: false, stdin: 'ignore', timeout: 30_000 });
    expect(global.stdout).toBe(`seekwell ${VERSION}`);
  });

  it('serves MEDIA_DIR with its flags over the environment: URLs, JSON logs, request lines, metrics, remux progress', async () => {
    const r = await start([media, '--port', '0', '--host', '127.0.0.1', '--work-dir', path.join(scratch, 'work'), '--segment-seconds', '3',
      '--video-ladder', '360', '--copy', 'never', '--log-format', 'json', '--log-level', 'debug'], { SEGMENT_SECONDS: '5', MAX_SESSIONS: '7', LOG_LEVEL: 'warn' });
    try {
      expect(r.stdout()).toContain(`Seekwell ${VERSION} is serving ${media}`);
      expect(r.stdout()).toContain(`${r.base}/metrics`);
      const { playlist, init, segment } = await firstSegment(r.base, 'clip.mp4');
      // --segment-seconds 3 won over SEGMENT_SECONDS=5.
      expect(playlist).toContain('#EXT-X-TARGETDURATION:3');
      expect([init.status, segment.status]).toEqual([200, 200]);
      expect((await segment.arrayBuffer()).byteLength).toBeGreaterThan(1000);
      const ts = await firstSegment(r.base, 'recording.ts');
      expect([ts.init.status, ts.segment.status]).toEqual([200, 200]);

      const metrics = await (await fetch(`${r.base}/metrics`)).text();
      // The environment still counts where no flag was given.
      expect(sample(metrics, 'seekwell_limit{limit="sessions"}')).toBe(7);
      expect(sample(metrics, 'process_cpu_seconds_total')).toBeGreaterThan(0);
      expect(sample(metrics, 'process_resident_memory_bytes')).toBeGreaterThan(10e6);
      expect(metrics).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
      expect(metrics).toMatch(/^nodejs_gc_duration_seconds_count\{kind="\w+"\} \d+/m);
      expect(sample(metrics, 'seekwell_segment_wait_seconds_count{rendition="video-360p"}')).toBeGreaterThanOrEqual(2);
      expect(sample(metrics, 'seekwell_first_segment_seconds_count{rendition="video-360p"}')).toBeGreaterThanOrEqual(2);

      const records = r.records();
      // --log-level debug won over LOG_LEVEL=warn: lifecycle lines at info, a line per request at debug.
      expect(records.find((x) => x.msg === 'listening')).toMatchObject({ level: 'info', url: r.base });
      const requests = records.filter((x) => x.msg === 'request');
      expect(requests.find((x) => typeof x.path === 'string' && x.path.endsWith('.m4s'))).toMatchObject({ level: 'debug', method: 'GET', status: 200, ms: expect.any(Number) });
      const remux = records.filter((x) => typeof x.msg === 'string' && x.msg.startsWith('remuxing recording.ts for seeking'));
      expect(remux.map((x) => x.msg).at(0)).toBe('remuxing recording.ts for seeking: started');
      expect(remux.at(-1)).toMatchObject({ msg: 'remuxing recording.ts for seeking: done', percent: 100 });
    } finally {
      expect(await stop(r)).toBe(0);
    }
  });

  it('makes the demo clip on first start with its progress, then plays it', async () => {
    const r = await start(['--port', '0', '--work-dir', path.join(scratch, 'demo-work'), '--log-format', 'json', '--video-ladder', '360'], {}, 170_000);
    try {
      expect(r.stdout()).toContain(`${r.base}/media/demo.mp4/stream.m3u8`);
      const progress = r.records().filter((x) => typeof x.msg === 'string' && x.msg.startsWith('making the demo clip'));
      const percents = progress.map((x) => x.percent).filter((p) => typeof p === 'number') as number[];
      expect(progress[0]?.msg).toBe('making the demo clip (first start only): started');
      expect(percents.length).toBeGreaterThanOrEqual(5);
      expect(percents).toEqual([...percents].sort((a, b) => a - b));
      expect(progress.at(-1)).toMatchObject({ msg: 'making the demo clip (first start only): done', percent: 100 });
      const { init, segment } = await firstSegment(r.base, 'demo.mp4');
      expect([init.status, segment.status]).toEqual([200, 200]);
    } finally {
      const pids = r.child.pid;
      expect(await stop(r)).toBe(0);
      expect(processAlive(pids!)).toBe(false);
    }
  }, 240_000);
});
