// Composition root: builds every part from the config, and close() tears them down in reverse.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Config } from './config.js';
import { createApp } from './http/app.js';
import { registerUi } from './http/ui.js';
import type { Logger } from './log.js';
import { ensureDemo } from './media/demo.js';
import { createRemuxer } from './media/ingest.js';
import { toFfmpegInput } from './media/media-path.js';
import { listMedia } from './media/library.js';
import { createProber } from './media/probe.js';
import { createKeyFrameIndexer } from './media/keyframes.js';
import { createTrackAnalyser } from './media/tracks.js';
import { checkBinaries, type BinaryVersions } from './pipeline/binaries.js';
import { fitBudgetToDisk } from './segment/disk.js';
import { claimInstanceDir } from './segment/work-dir.js';
import { Metrics, type Gauges } from './metrics.js';
import { silentProgress, type ProgressReporter } from './progress.js';
import type { LoadLevel } from './session/load.js';
import { SessionRegistry } from './session/registry.js';

export interface ServerOptions {
  log: Logger;
  now?: () => number;
  /** This instance's id: its folder in WORK_DIR/instances (default: a random UUID). */
  instanceId?: string;
  /** Replaces the measured load level (tests that need a strained or overloaded server). */
  loadLevel?: () => LoadLevel;
  /** Reports long work a person waits for (the demo clip, TS remuxes); silent by default. */
  progress?: ProgressReporter;
  /** Adds the process's own metrics to /metrics: for the one server that owns the process (main.ts). */
  processMetrics?: boolean;
}

export interface SeekwellServer {
  app: Hono;
  registry: SessionRegistry;
  mediaDir: string;
  /** This instance's own folder (WORK_DIR/instances/<id>), removed on close. */
  instanceDir: string;
  versions: BinaryVersions;
  /** Starts listening; resolves with the bound port (PORT=0 picks a free one). */
  listen(): Promise<number>;
  /** Stops accepting, closes every session and child process. Idempotent, never rejects. */
  close(): Promise<void>;
}

/** Longest single run: bounds ffmpeg's key-frame list (3,000 entries at 2 s segments). */
const MAX_RUN_SECONDS = 6000;

export async function createServer(config: Config, options: ServerOptions): Promise<SeekwellServer> {
  const { log } = options;
  const versions = await checkBinaries(config);
  log.info('binaries', { ...versions });
  // Sessions and runs do not survive a restart (what a dead instance left is removed); segments
  // do (WORK_DIR/store, indexed below).
  const instance = await claimInstanceDir(path.join(config.workDir, 'instances'), { id: options.instanceId ?? randomUUID(), now: options.now });
  const instanceDir = instance.dir;
  const { launcher } = versions;
  const progress = options.progress ?? silentProgress;
  const mediaDir = config.mediaDir ?? (await ensureDemo(config.ffmpegPath, path.join(config.workDir, 'demo'), { launcher, progress }));
  const probe = createProber(config.ffprobePath);
  const metrics = new Metrics();
  if (options.processMetrics) metrics.collectProcessMetrics();
  const registry: SessionRegistry = new SessionRegistry({
    instanceDir,
    storeDir: path.join(config.workDir, 'store'),
    segmentSeconds: config.segmentSeconds,
    ladder: config.videoLadder,
    copy: config.copy === 'auto',
    sessionIdleMs: config.sessionIdleMs,
    sessionExpireMs: Math.max(config.sessionIdleMs * 12, 3_600_000),
    maxSessions: config.maxSessions,
    maxVideoEncodes: config.maxVideoEncodes,
    loadShedding: config.loadShedding,
    ...(options.loadLevel ? { loadLevel: options.loadLevel } : {}),
    bufferAheadSeconds: config.bufferAheadSeconds,
    seekPolicy: config.seekPolicy,
    cacheMaxBytes: config.cacheMaxBytes,
    memoryCacheMaxBytes: config.memoryCacheMaxBytes,
    ffmpegPath: config.ffmpegPath,
    packagerPath: config.packagerPath,
    launcher,
    maxRunSegments: Math.ceil(MAX_RUN_SECONDS / config.segmentSeconds),
    now: options.now ?? Date.now,
  }, { mediaDir, probe, remux: createRemuxer(config.ffmpegPath, path.join(config.workDir, 'ingest'), {
    maxBytes: config.ingestMaxBytes,
    // A title plays from its copy while it has a session or a run; the registry exists by then.
    inUse: (file): boolean => registry.isSourceInUse(toFfmpegInput(file)),
    launcher,
    progress,
  }),
    analyse: createTrackAnalyser(config.ffprobePath, config.ffmpegPath),
    ...(config.copy === 'auto' ? { keyFrames: createKeyFrameIndexer(config.ffprobePath) } : {}) }, metrics, log);
  await registry.stores.restore();
  const disk = await fitBudgetToDisk(registry.budget, config.workDir);
  if (disk.lowered) {
    log.warn('CACHE_MAX_BYTES is more than WORK_DIR can hold: store budget lowered', { cacheMaxBytes: config.cacheMaxBytes, maxBytes: disk.maxBytes, freeBytes: disk.freeBytes });
  }
  const app = createApp({
    registry,
    listMedia: () => listMedia(mediaDir, probe),
    metrics: () => metrics.render(gaugesOf(registry, config)),
    segmentWaitMs: config.segmentWaitMs,
    bodyMaxBytes: config.bodyMaxBytes,
    log,
  });
  await registerUi(app);
  let server: ServerType | undefined;
  let closing: Promise<void> | undefined;

  return {
    app, registry, mediaDir, instanceDir, versions,
    listen: () => new Promise((resolve, reject) => {
      server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info: AddressInfo) => resolve(info.port));
      server.once('error', reject);
    }),
    close: () => {
      closing ??= (async () => {
        const stopped = server ? new Promise<void>((resolve) => server!.close(() => resolve())) : Promise.resolve();
        await registry.close();
        if (server && 'closeAllConnections' in server) server.closeAllConnections();
        await stopped;
        await instance.close();
      })().catch((error: unknown) => log.error('close failed', { error }));
      return closing;
    },
  };
}

function gaugesOf(registry: SessionRegistry, config: Config): Gauges {
  const runs = registry.titles.flatMap((t) => t.runs);
  return {
    sessions: registry.size,
    runs: runs.length,
    pausedRuns: runs.filter((h) => h.run?.paused).length,
    storeBytes: registry.budget.bytes,
    memoryCacheBytes: registry.memory.bytes,
    loadLevel: ['normal', 'strained', 'overloaded'].indexOf(registry.loadLevel),
    limits: {
      sessions: config.maxSessions,
      video_encodes: config.maxVideoEncodes,
      body_bytes: config.bodyMaxBytes,
      store_bytes: registry.budget.maxBytes,
      memory_cache_bytes: config.memoryCacheMaxBytes,
      ingest_bytes: config.ingestMaxBytes,
      segment_wait_ms: config.segmentWaitMs,
    },
  };
}
