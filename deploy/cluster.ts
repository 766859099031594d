// N Seekwell nodes and nginx in front of them, on 127.0.0.1 ports (issue 13). Each node has its
// own WORK_DIR; they share nothing but MEDIA_DIR. Used by the edge tests and bench, and by hand:
//   node --import tsx deploy/cluster.ts [--nodes 3] [--port 8080] [MEDIA_DIR]
// prints the URL to open and stops every process it started on Ctrl-C or SIGTERM.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDemo } from '../src/media/demo.js';
import { renderNginxConf } from './nginx-conf.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NGINX = '/usr/sbin/nginx';
const START_TIMEOUT_MS = 30_000;

export interface ClusterNode {
  port: number;
  base: string;
  workDir: string;
  child: ChildProcess;
}

export interface Cluster {
  /** nginx's URL: what players use. */
  base: string;
  nodes: ClusterNode[];
  /** The folder with nginx's config, logs and cache, and every node's WORK_DIR and log. */
  dir: string;
  /** Stops nginx and every node still running, then removes `dir` unless it was given. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  nodes: number;
  mediaDir?: string;
  /** nginx's port (default: a free one). */
  port?: number;
  /** Kept after stop() when given; a fresh temp folder otherwise. */
  dir?: string;
  /** More environment for every node (SEGMENT_SECONDS, COPY…). */
  env?: Record<string, string>;
  cacheMaxBytes?: number;
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), 'seekwell-cluster-')));
  await mkdir(path.join(dir, 'tmp'), { recursive: true });
  // Without a library, the built-in demo, made once here: nodes making their own would each have
  // another file version (mtime), hence other title keys.
  const mediaDir = options.mediaDir ?? (await ensureDemo('ffmpeg', path.join(dir, 'demo')));
  const nodes: ClusterNode[] = [];
  let nginx: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    await Promise.all([...nodes.map((n) => stopChild(n.child)), ...(nginx ? [stopChild(nginx)] : [])]);
    if (!options.dir) await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < options.nodes; i++) nodes.push(await startNode(i, dir, mediaDir, options.env));
    const port = options.port ?? (await freePort());
    const conf = path.join(dir, 'nginx.conf');
    await writeFile(conf, renderNginxConf({ port, nodes: nodes.map((n) => String(n.port)), dir, cacheMaxBytes: options.cacheMaxBytes ?? 1024 ** 3 }));
    nginx = guarded(NGINX, ['-e', path.join(dir, 'error.log'), '-c', conf, '-p', `${dir}/`, '-g', `daemon off;${process.getuid?.() === 0 ? ' user root;' : ''}`], ['ignore', 'ignore', 'pipe']);
    let stderr = '';
    nginx.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const base = `http://127.0.0.1:${port}`;
    await waitFor(`${base}/healthz`, nginx, () => stderr);
    return { base, nodes, dir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startNode(i: number, dir: string, mediaDir: string, env: Record<string, string> = {}): Promise<ClusterNode> {
  const port = await freePort();
  const workDir = path.join(dir, `node-${i + 1}`);
  const log = createWriteStream(path.join(dir, `node-${i + 1}.log`));
  const child = guarded(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/main.ts')], ['ignore', 'ignore', 'pipe'], {
    ...process.env, PORT: String(port), HOST: '127.0.0.1', WORK_DIR: workDir, MEDIA_DIR: mediaDir, ...env,
  });
  child.stderr!.pipe(log);
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/healthz`, child, () => `see ${path.join(dir, `node-${i + 1}.log`)}`);
  return { port, base, workDir, child };
}

const hasSetpriv = spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status === 0;

// A child that gets SIGTERM if this process dies (setpriv execs it, keeping the PID).
function guarded(command: string, args: string[], stdio: ('ignore' | 'pipe')[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return hasSetpriv
    ? spawn('setpriv', ['--pdeathsig', 'TERM', '--', command, ...args], { stdio, env, cwd: REPO })
    : spawn(command, args, { stdio, env, cwd: REPO });
}

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (!running(child)) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(timer);
}

async function waitFor(url: string, child: ChildProcess, why: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (!running(child)) throw new Error(`${url}: the process exited (${child.exitCode ?? child.signalCode}): ${why()}`);
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    if (Date.now() > deadline) throw new Error(`${url}: no answer within ${START_TIMEOUT_MS} ms: ${why()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function main(argv: string[]): Promise<void> {
  let nodes = 3;
  let port = 8080;
  let mediaDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--nodes') nodes = Number(argv[++i]);
    else if (arg === '--port') port = Number(argv[++i]);
    else if (!arg.startsWith('--')) mediaDir = path.resolve(arg);
    else throw new Error(`unknown option ${arg}: use [--nodes N] [--port P] [MEDIA_DIR]`);
  }
  if (!Number.isInteger(nodes) || nodes < 1 || !Number.isInteger(port)) throw new Error('--nodes and --port take whole numbers');
  const cluster = await startCluster({ nodes, port, ...(mediaDir ? { mediaDir } : {}) });
  process.stdout.write(`${nodes} nodes (${cluster.nodes.map((n) => n.base).join(', ')}) behind nginx: open ${cluster.base}/\n`
    + `a title: ${cluster.base}/media/<path under MEDIA_DIR>/stream.mpd (or .m3u8); logs and cache in ${cluster.dir}\n`);
  const stop = (): void => void cluster.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  });
}
