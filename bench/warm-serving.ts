// Question: how fast does Seekwell serve segments it has already made, and small files (inits, the
// MPD), compared with nginx and a minimal node:http static server, one worker process each?
// A 40 s 1080p30 clip is made into all 10 segments of video-720p and audio; the exact bytes are
// copied into a folder that nginx (sendfile, worker_processes 1) and a node:http child
// (fs.createReadStream, 1 MiB reads) serve under the same paths. A second Seekwell process with
// MEMORY_CACHE_MAX_BYTES=0 (every segment read from disk) shows what the memory cache gives.
// Both classes are loaded with wrk (1 thread, 16 connections, cycling the class's URLs), so the
// load generator takes one core and the server the other. Each measurement runs 3 times per
// server, servers interleaved, so they share the machine's noise; medians are reported.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { freePort } from '../deploy/cluster.js';
import { BENCH_DIR, cell, createSession, makeBenchClip, median, round, startServerProcess, type Scenario, type ServerProcess } from './support.js';

const CLIP_SECONDS = 40;
const SEGMENT_COUNT = 10; // 40 s at the default SEGMENT_SECONDS=4
const VIDEO = 'video-720p';
const AUDIO = 'audio-1';
const REPEATS = 3;
const DURATION_S = 6;
const WARMUP_S = 1;
const CONNECTIONS = 16;
const WRK_THREADS = 1;
const NGINX = '/usr/sbin/nginx';
const WRK = '/usr/bin/wrk';
const CLOCK_TICKS = 100;

type ServerName = 'seekwell' | 'seekwell, no memory' | 'nginx' | 'node';
type FileClass = 'segments' | 'small';
const SERVERS: ServerName[] = ['seekwell', 'seekwell, no memory', 'nginx', 'node'];
const CLASSES: FileClass[] = ['segments', 'small'];

interface Target {
  name: ServerName;
  base: string;
  /** The URL path of a file made by the first Seekwell session, on this server. */
  pathOf(urlPath: string): string;
  /** Its bytes on this server (a manifest names its session). */
  bytesOf(file: ServedFile): Buffer;
  /** Processes whose CPU time counts as the server's (nginx: master and workers). */
  pids(): Promise<number[]>;
  stop(): Promise<void>;
}

interface ServedFile {
  /** URL path, also the path under the copy's root. */
  urlPath: string;
  contentType: string;
  bytes: Buffer;
  cls: FileClass;
}

interface Sample {
  server: ServerName;
  cls: FileClass;
  repeat: number;
  reqPerSec: number;
  mbPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  seconds: number;
  serverCpuPercent: number;
  serverCpuUsPerRequest: number;
}

/** A 40 s 1080p30 clip with audio, made once and kept in the bench folder. */
async function warmClip(): Promise<{ dir: string; file: string }> {
  const dir = path.join(BENCH_DIR, 'media');
  await makeBenchClip(dir, 'warm-1080p.mp4', CLIP_SECONDS);
  return { dir, file: 'warm-1080p.mp4' };
}

/** GET that must answer 200, a non-empty body and the expected content type. */
async function fetchChecked(url: string, contentType: string): Promise<Buffer> {
  const response = await fetch(url);
  const body = Buffer.from(await response.arrayBuffer());
  const type = response.headers.get('content-type') ?? '';
  if (response.status !== 200 || body.length === 0 || !type.startsWith(contentType)) {
    throw new Error(`GET ${url}: ${response.status}, ${body.length} bytes, content-type "${type}" (wanted 200, bytes, ${contentType})`);
  }
  return body;
}

/** Makes every segment, init and manifest of a session, validated, and returns the files to serve. */
async function makeContent(base: string, id: string): Promise<ServedFile[]> {
  const prefix = `/sessions/${id}`;
  const files: ServedFile[] = [];
  const add = async (urlPath: string, contentType: string, cls: FileClass): Promise<void> => {
    files.push({ urlPath, contentType, cls, bytes: await fetchChecked(`${base}${urlPath}`, contentType) });
  };
  await add(`${prefix}/stream.mpd`, 'application/dash+xml', 'small');
  for (const m3u8 of ['stream.m3u8', `${VIDEO}.m3u8`, `${AUDIO}.m3u8`]) {
    await fetchChecked(`${base}${prefix}/${m3u8}`, 'application/vnd.apple.mpegurl');
  }
  await add(`${prefix}/init/${VIDEO}.mp4`, 'video/mp4', 'small');
  await add(`${prefix}/init/${AUDIO}.mp4`, 'audio/mp4', 'small');
  for (let n = 1; n <= SEGMENT_COUNT; n++) {
    const num = String(n).padStart(5, '0');
    await add(`${prefix}/segments/${VIDEO}-${num}.m4s`, 'video/mp4', 'segments');
    await add(`${prefix}/segments/${AUDIO}-${num}.m4s`, 'audio/mp4', 'segments');
  }
  // The plan must hold exactly SEGMENT_COUNT segments, so the copy holds the whole title.
  const past = await fetch(`${base}${prefix}/segments/${VIDEO}-${String(SEGMENT_COUNT + 1).padStart(5, '0')}.m4s`);
  await past.arrayBuffer();
  if (past.status !== 404) throw new Error(`segment ${SEGMENT_COUNT + 1} answered ${past.status}: the clip has more than ${SEGMENT_COUNT} segments`);
  return files;
}

const hasSetpriv = spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status === 0;

/** Spawns a child that gets SIGTERM if this process dies (util-linux setpriv execs, keeping the PID). */
function spawnGuarded(command: string, args: string[], stdio: ('ignore' | 'pipe')[]): ChildProcess {
  return hasSetpriv
    ? spawn('setpriv', ['--pdeathsig', 'TERM', '--', command, ...args], { stdio })
    : spawn(command, args, { stdio });
}

/** ServerProcess.stop() waits for an exit that already happened forever: skip a dead server. */
async function stopSeekwell(server: ServerProcess, name: string): Promise<void> {
  if (exited(server.child)) await rm(path.join(BENCH_DIR, 'work', name), { recursive: true, force: true });
  else await server.stop();
}

/** A Seekwell target: its own session on the same title, the same files under its session's id. */
async function seekwellTarget(name: ServerName, server: ServerProcess, workName: string, firstId: string, media: string): Promise<Target> {
  const id = name === 'seekwell' ? firstId : await createSession(server.base, media);
  return {
    name, base: server.base, pathOf: (urlPath) => urlPath.replace(`/sessions/${firstId}/`, `/sessions/${id}/`),
    bytesOf: (file) => (file.contentType.startsWith('video/') || file.contentType.startsWith('audio/') ? file.bytes
      : Buffer.from(file.bytes.toString('utf8').replaceAll(firstId, id), 'utf8')),
    pids: async () => [server.child.pid!], stop: () => stopSeekwell(server, workName),
  };
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** SIGTERM, then SIGKILL (to `extraPids` too) after 3 s. */
async function stopChild(child: ChildProcess, extraPids: () => Promise<number[]> = async () => []): Promise<void> {
  if (exited(child) || child.pid === undefined) return; // exited, or never started
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const survivors = await extraPids();
  child.kill('SIGTERM');
  const inTime = await Promise.race([gone.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
  if (!inTime) {
    child.kill('SIGKILL');
    await gone;
  }
  for (const pid of survivors) {
    try {
      process.kill(pid, 0);
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function childPids(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return text.split(/\s+/).filter(Boolean).map(Number);
}

/** utime + stime of live processes, in seconds. */
async function cpuSeconds(pids: number[]): Promise<number> {
  let ticks = 0;
  for (const pid of pids) {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / CLOCK_TICKS;
}

async function waitUntilAnswers(url: string, child: ChildProcess, describe: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (exited(child)) throw new Error(`server for ${url} exited (${child.exitCode ?? child.signalCode}): ${await describe()}`);
    const ok = await fetch(url).then(async (r) => (await r.arrayBuffer(), r.status === 200), () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`no 200 from ${url} within 10 s: ${await describe()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startNginx(root: string, work: string, probePath: string): Promise<Target> {
  const port = await freePort();
  const prefix = path.join(work, 'nginx');
  await mkdir(prefix, { recursive: true });
  const conf = path.join(prefix, 'nginx.conf');
  const errorLog = path.join(prefix, 'error.log');
  await writeFile(conf, [
    'worker_processes 1;',
    `pid ${path.join(prefix, 'nginx.pid')};`,
    `error_log ${errorLog};`,
    'events {}',
    'http {',
    '  access_log off;',
    '  sendfile on;',
    '  tcp_nopush on;',
    '  keepalive_requests 100000;',
    '  types { video/mp4 m4s mp4; application/dash+xml mpd; }',
    `  server { listen 127.0.0.1:${port}; root ${root}; }`,
    '}',
    '',
  ].join('\n'));
  // -e: the startup error log too goes to the temp folder, not /var/log/nginx.
  const child = spawnGuarded(NGINX, ['-e', errorLog, '-c', conf, '-p', `${prefix}/`, '-g', 'daemon off;'], ['ignore', 'ignore', 'pipe']);
  let stderr = '';
  child.on('error', (error) => { stderr += String(error); });
  child.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-5000); });
  const describe = async (): Promise<string> => `${stderr} ${(await readFile(errorLog, 'utf8').catch(() => '')).slice(-2000)}`;
  const pid = child.pid!;
  const target: Target = {
    name: 'nginx',
    base: `http://127.0.0.1:${port}`,
    pathOf: (urlPath) => urlPath,
    bytesOf: (file) => file.bytes,
    pids: async () => [pid, ...(await childPids(pid))],
    stop: () => stopChild(child, () => childPids(pid)),
  };
  try {
    await waitUntilAnswers(`${target.base}${probePath}`, child, describe);
  } catch (error) {
    await target.stop();
    throw error;
  }
  return target;
}

// The minimal static server: stat for Content-Length, a 1 MiB-chunk read stream, nothing else.
// `end` bounds the read like Seekwell's own (start/end): without it, fs.ReadStream allocates a
// full 1 MiB buffer for every read, even of an 800-byte init: that doubled to tripled this
// server's CPU per request (segments and small files alike).
const NODE_STATIC = `
import http from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import path from 'node:path';
const root = path.resolve(process.argv[2]);
const TYPES = { '.m4s': 'video/mp4', '.mp4': 'video/mp4', '.mpd': 'application/dash+xml' };
const server = http.createServer(async (req, res) => {
  try {
    const file = path.join(root, decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (!file.startsWith(root + path.sep)) throw new Error('outside');
    const info = await stat(file);
    if (!info.isFile()) throw new Error('not a file');
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Content-Length': info.size });
    if (req.method === 'HEAD') return void res.end();
    pipeline(createReadStream(file, { highWaterMark: 1 << 20, end: Math.max(0, info.size - 1) }), res, () => {});
  } catch {
    res.writeHead(404).end();
  }
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.on('SIGTERM', () => process.exit(0));
`;

async function startNodeStatic(root: string, work: string, probePath: string): Promise<Target> {
  const script = path.join(work, 'node-static.mjs');
  await writeFile(script, NODE_STATIC);
  const child = spawnGuarded(process.execPath, [script, root], ['ignore', 'pipe', 'pipe']);
  let stderr = '';
  child.on('error', (error) => { stderr += String(error); });
  child.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-5000); });
  const target: Target = {
    name: 'node',
    base: '',
    pathOf: (urlPath) => urlPath,
    bytesOf: (file) => file.bytes,
    pids: async () => [child.pid!],
    stop: () => stopChild(child),
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /^(\d+)\n/.exec(out);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', (code) => reject(new Error(`node static server exited with ${code}: ${stderr}`)));
      setTimeout(() => reject(new Error(`node static server did not listen within 10 s: ${stderr}`)), 10_000).unref();
    });
    target.base = `http://127.0.0.1:${port}`;
    await waitUntilAnswers(`${target.base}${probePath}`, child, async () => stderr);
  } catch (error) {
    await target.stop();
    throw error;
  }
  return target;
}

/** One GET of every file on a server: 200 and exactly the bytes Seekwell made. */
async function validate(target: Target, files: ServedFile[]): Promise<void> {
  for (const file of files) {
    const response = await fetch(`${target.base}${target.pathOf(file.urlPath)}`);
    const body = Buffer.from(await response.arrayBuffer());
    if (response.status !== 200 || !body.equals(target.bytesOf(file))) {
      throw new Error(`${target.name}: GET ${target.pathOf(file.urlPath)}: ${response.status}, ${body.length} bytes (wanted 200 and the ${file.bytes.length} bytes Seekwell made)`);
    }
  }
}

const BYTE_UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
const TIME_UNITS_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export interface LoadResult { reqPerSec: number; mbPerSec: number; p50Ms: number; p99Ms: number; requests: number; seconds: number }

/** Parses wrk 4's report; throws on any socket error or non-2xx/3xx response. */
export function parseWrk(out: string): LoadResult {
  const need = (re: RegExp, what: string): RegExpExecArray => {
    const match = re.exec(out);
    if (!match) throw new Error(`wrk output has no ${what}:\n${out}`);
    return match;
  };
  const errors = /Socket errors: (.*)/.exec(out);
  if (errors) throw new Error(`wrk: socket errors (${errors[1]}):\n${out}`);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) throw new Error(`wrk: ${non2xx[1]} non-2xx/3xx responses:\n${out}`);
  const latency = (q: string): number => {
    const m = need(new RegExp(`^\\s+${q}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, 'm'), `${q}% latency`);
    return Number(m[1]) * TIME_UNITS_MS[m[2]!]!;
  };
  const total = need(/(\d+) requests in ([\d.]+)(us|ms|s|m)/, 'request count');
  const transfer = need(/Transfer\/sec:\s+([\d.]+)([KMGT]?B)/, 'Transfer/sec');
  return {
    reqPerSec: Number(need(/Requests\/sec:\s+([\d.]+)/, 'Requests/sec')[1]),
    mbPerSec: (Number(transfer[1]) * BYTE_UNITS[transfer[2]!]!) / 1e6,
    p50Ms: latency('50'),
    p99Ms: latency('99'),
    requests: Number(total[1]),
    seconds: (Number(total[2]) * TIME_UNITS_MS[total[3]!]!) / 1000,
  };
}

async function runWrk(base: string, script: string, seconds: number): Promise<LoadResult> {
  const { stdout } = await execa(WRK, [`-t${WRK_THREADS}`, `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-s', script, `${base}/`], {
    timeout: (seconds + 30) * 1000,
  });
  const result = parseWrk(stdout);
  if (result.requests === 0) throw new Error(`wrk against ${base} completed no request:\n${stdout}`);
  return result;
}

function version(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return `${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n')[0]!.trim() || 'unknown';
}

export const warmServing: Scenario = async () => {
  for (const binary of [NGINX, WRK]) {
    if (!(await stat(binary).then(() => true, () => false))) throw new Error(`${binary} is missing (apt-get install nginx wrk)`);
  }
  const clip = await warmClip();
  const work = await mkdtemp(path.join(tmpdir(), 'seekwell-warm-'));
  // nginx workers run as "nobody" when started by root: the copy must be world-readable.
  await chmod(work, 0o755);
  const root = path.join(work, 'root');
  const seekwells: [ServerProcess, string][] = [];
  const targets: Target[] = [];
  let completed = false;
  try {
    const seekwell = await startServerProcess('warm', { MEDIA_DIR: clip.dir });
    seekwells.push([seekwell, 'warm']);
    const makeStart = performance.now();
    const id = await createSession(seekwell.base, clip.file);
    const files = await makeContent(seekwell.base, id);
    const makeSeconds = (performance.now() - makeStart) / 1000;
    for (const file of files) {
      const target = path.join(root, file.urlPath);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, file.bytes);
    }
    targets.push(await seekwellTarget('seekwell', seekwell, 'warm', id, clip.file));
    // On the same WORK_DIR: it finds the title's segments in the store the first one made.
    const diskOnly = await startServerProcess('warm-disk', { MEDIA_DIR: clip.dir, MEMORY_CACHE_MAX_BYTES: '0' }, 'warm');
    seekwells.push([diskOnly, 'warm-disk']);
    targets.push(await seekwellTarget('seekwell, no memory', diskOnly, 'warm-disk', id, clip.file));
    const probePath = files[0]!.urlPath;
    targets.push(await startNginx(root, work, probePath));
    targets.push(await startNodeStatic(root, work, probePath));
    for (const target of targets) await validate(target, files);

    const paths: Record<FileClass, string[]> = {
      segments: files.filter((f) => f.cls === 'segments').map((f) => f.urlPath),
      small: files.filter((f) => f.cls === 'small').map((f) => f.urlPath),
    };
    const scripts = new Map<string, string>();
    for (const target of targets) {
      for (const cls of CLASSES) {
        const lua = path.join(work, `${targets.indexOf(target)}-${cls}.lua`);
        await writeFile(lua, [
          `local paths = { ${paths[cls].map((p) => JSON.stringify(target.pathOf(p))).join(', ')} }`,
          'local i = 0',
          'request = function()',
          '  i = i % #paths + 1',
          '  return wrk.format(nil, paths[i])',
          'end',
          '',
        ].join('\n'));
        scripts.set(`${target.name}/${cls}`, lua);
      }
    }
    const load = (target: Target, cls: FileClass, seconds: number): Promise<LoadResult> =>
      runWrk(target.base, scripts.get(`${target.name}/${cls}`)!, seconds);

    // Unrecorded warm-up: JIT, page cache, connection pools.
    for (const cls of CLASSES) for (const target of targets) await load(target, cls, WARMUP_S);

    const samples: Sample[] = [];
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      for (const cls of CLASSES) {
        for (const target of targets) {
          const pids = await target.pids();
          const cpuBefore = await cpuSeconds(pids);
          const result = await load(target, cls, DURATION_S);
          const cpu = (await cpuSeconds(pids)) - cpuBefore;
          samples.push({
            server: target.name, cls, repeat, ...result,
            serverCpuPercent: (cpu / result.seconds) * 100,
            serverCpuUsPerRequest: (cpu / result.requests) * 1e6,
          });
        }
      }
    }

    const pick = (cls: FileClass, server: ServerName): Sample[] => samples.filter((s) => s.cls === cls && s.server === server);
    const sizes = (cls: FileClass): number[] => files.filter((f) => f.cls === cls).map((f) => f.bytes.length);
    const range = (prefix: string): string => {
      const kb = files.filter((f) => f.cls === 'segments' && f.urlPath.includes(`/${prefix}-`)).map((f) => f.bytes.length / 1e3);
      return `${Math.round(Math.min(...kb))}-${Math.round(Math.max(...kb))} kB`;
    };
    const label: Record<FileClass, string> = {
      segments: `segments (10 video ${range(VIDEO)}, 10 audio ${range(AUDIO)})`,
      small: `inits + MPD (${sizes('small').join(', ')} B)`,
    };
    const rows: (string | number)[][] = [];
    const summaryData: Record<string, unknown> = {};
    for (const cls of CLASSES) {
      const nginxMedian = median(pick(cls, 'nginx').map((s) => s.reqPerSec));
      for (const server of SERVERS) {
        const mine = pick(cls, server);
        const reqMedian = median(mine.map((s) => s.reqPerSec));
        const row = {
          reqPerSec: round(reqMedian, 0),
          p50Ms: round(median(mine.map((s) => s.p50Ms)), 2),
          p99Ms: round(median(mine.map((s) => s.p99Ms)), 2),
          mbPerSec: round(median(mine.map((s) => s.mbPerSec)), 0),
          ratioToNginx: round(reqMedian / nginxMedian, 2),
          serverCpuUsPerRequest: round(median(mine.map((s) => s.serverCpuUsPerRequest)), 0),
          p99RatioToNginx: round(median(mine.map((s) => s.p99Ms)) / median(pick(cls, 'nginx').map((s) => s.p99Ms)), 2),
        };
        summaryData[`${cls}/${server}`] = row;
        rows.push([
          label[cls], server, cell(mine.map((s) => round(s.reqPerSec, 0))), row.p50Ms, row.p99Ms, row.mbPerSec,
          row.ratioToNginx.toFixed(2), row.p99RatioToNginx.toFixed(2), row.serverCpuUsPerRequest,
        ]);
      }
    }
    const nginxWorkers = (await targets.find((t) => t.name === 'nginx')!.pids()).length - 1;
    const result = {
      question: 'how fast does Seekwell serve already-made segments and small files, compared with nginx and a minimal node:http static server (one worker process each)?',
      headers: ['files', 'server', 'req/s median (min-max)', 'p50 ms', 'p99 ms', 'MB/s', 'ratio to nginx', 'p99 / nginx p99', 'server CPU us/req'],
      rows,
      data: {
        clip: `${clip.file}: ${CLIP_SECONDS} s 1920x1080 30 fps + AAC -> ${VIDEO} + ${AUDIO}, ${SEGMENT_COUNT} segments each`,
        makeContentSeconds: round(makeSeconds),
        files: files.map((f) => ({ path: f.urlPath.replace(`/sessions/${id}/`, ''), bytes: f.bytes.length, contentType: f.contentType })),
        load: {
          segments: `wrk -t${WRK_THREADS} -c${CONNECTIONS} -d${DURATION_S}s, cycling the 20 segment URLs`,
          small: `wrk -t${WRK_THREADS} -c${CONNECTIONS} -d${DURATION_S}s, cycling ${paths.small.length} URLs`,
          workers: `one process each: Seekwell 1 Node process, nginx ${nginxWorkers} worker, node:http 1 process`,
          repeats: REPEATS,
          warmupSeconds: WARMUP_S,
          order: 'per repeat: segments then small files; seekwell, nginx, node',
        },
        servers: {
          seekwell: 'src/main.ts child process (tsx), written to node\'s response directly: segments from memory (MEMORY_CACHE_MAX_BYTES), inits from memory, manifests rendered once',
          'seekwell, no memory': 'the same with MEMORY_CACHE_MAX_BYTES=0: every segment read from disk (one whole read per request)',
          nginx: `${version(NGINX, ['-v'])}, worker_processes 1 (${nginxWorkers} worker), sendfile on`,
          node: `node:http ${process.version} child process, stat + fs.createReadStream(highWaterMark 1 MiB, end = size - 1)`,
        },
        wrk: version(WRK, ['--version']),
        mbIs: '10^6 bytes (wrk reports MiB-based units; converted)',
        summary: summaryData,
        samples: samples.map((s) => ({
          ...s,
          reqPerSec: round(s.reqPerSec, 0), mbPerSec: round(s.mbPerSec, 1), p50Ms: round(s.p50Ms, 2), p99Ms: round(s.p99Ms, 2),
          serverCpuPercent: round(s.serverCpuPercent, 0), serverCpuUsPerRequest: round(s.serverCpuUsPerRequest, 0),
        })),
      },
    };
    completed = true;
    return result;
  } finally {
    // Stop everything started (together); every stop is attempted even if one fails.
    const started = targets.filter((t) => !t.name.startsWith('seekwell'));
    const stops = started.map((t) => t.stop());
    // The server sharing the first one's WORK_DIR stops first.
    stops.push((async () => {
      for (const [server, name] of seekwells.reverse()) await stopSeekwell(server, name);
    })());
    const outcomes = await Promise.allSettled(stops);
    await rm(work, { recursive: true, force: true });
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    // A failed stop is reported, unless it would hide the error that brought us here.
    if (failed && completed) throw failed.reason;
  }
};
