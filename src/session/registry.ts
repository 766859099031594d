// Who runs what: titles (one per file and encoding settings, sharing segments) and sessions (one
// per viewer). Idle sessions lose their encoder, and are forgotten later; close() resolves only
// after every run and child process is gone.
import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { SeekwellError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { planTitle, type TitlePlan } from '../media/plan.js';
import { openMediaSource, type MediaSource, type SourceDeps } from '../media/source.js';
import { StoreBudget } from '../segment/budget.js';
import { StoreRoot } from '../segment/store-root.js';
import { SegmentMemory } from '../segment/memory.js';
import { EncodeSlots } from './encode-slots.js';
import { EncoderEstimator } from './estimator.js';
import { LoadMonitor, type LoadLevel } from './load.js';
import { Session } from './session.js';
import { Title, type RunHandle, type TitleOptions } from './title.js';
import { checkViewerId, parseTitleToken, titleToken } from './title-token.js';

/**
 * Longest a DELETE waits for the processes its session's departure stopped: past the stop's own
 * SIGTERM -> SIGKILL bound (2 s), so normally they are gone when it answers.
 */
const DEPARTURE_STOP_WAIT_MS = 3000;
/** How often the load is read (each run's speed updates with ffmpeg's progress, every 0.5 s). */
const LOAD_READING_MS = 1000;
/** Title tokens remembered; past it the map starts over (each is checked again once). */
const MAX_TOKENS = 10_000;
/** Least a full disk makes the store give up. */
const DISK_RELIEF_BYTES = 64 * 1024 ** 2;

export interface RegistryOptions extends TitleOptions {
  /** This server instance's own folder in WORK_DIR: `runs/` and `tmp/` go below it. */
  instanceDir: string;
  /** WORK_DIR/store: every title's segments, shared by every instance and kept across restarts. */
  storeDir: string;
  segmentSeconds: number;
  /** Short sides of the video ladder's rungs (VIDEO_LADDER). */
  ladder: readonly number[];
  /** Offer stream copies where the source allows (COPY=auto). */
  copy: boolean;
  sessionIdleMs: number;
  /** A session idle this long is forgotten entirely (its state; segments stay in the store). */
  sessionExpireMs: number;
  /** Open sessions at most (MAX_SESSIONS): past it, new ones are refused with OVERLOADED. */
  maxSessions: number;
  /** Runs encoding video at most, over every title (MAX_VIDEO_ENCODES). */
  maxVideoEncodes: number;
  /** Act on the load level (LOAD_SHEDDING); it is measured and reported either way. */
  loadShedding: boolean;
  /** Replaces the measured load level (tests); default: the LoadMonitor's. */
  loadLevel?: () => LoadLevel;
  cacheMaxBytes: number;
  /** Bytes of recently served segments kept in memory (0: none). */
  memoryCacheMaxBytes: number;
}

export interface CreateSessionRequest {
  media: unknown;
  /** Where playback starts, in seconds: the first run begins at that segment. */
  startSeconds?: number;
}

export class SessionRegistry {
  readonly #sessions = new Map<string, Session>();
  readonly #titles = new Map<string, Title>();
  readonly #opening = new Map<string, Promise<Title>>();
  /** Titles by the token in their stateless URLs (checked once per token). */
  readonly #byToken = new Map<string, Title>();
  /** Stateless viewers' sessions, by `<title key>/<viewer id>`. */
  readonly #viewers = new Map<string, Session>();
  readonly #options: RegistryOptions;
  readonly #source: SourceDeps;
  readonly #metrics: Metrics;
  readonly #log: Logger;
  readonly #sweeper: NodeJS.Timeout;
  /** Cold start and speed per rendition id (a 360p run and a 1080p one are not alike). */
  readonly #estimators = new Map<string, EncoderEstimator>();
  readonly budget: StoreBudget;
  /** Every title's store, one per key: opened at start (restore()) or on a title's first session. */
  readonly stores: StoreRoot;
  readonly memory: SegmentMemory;
  readonly slots: EncodeSlots;
  readonly load: LoadMonitor;
  readonly #loadTimer: NodeJS.Timeout;
  #closing: Promise<void> | undefined;

  constructor(options: RegistryOptions, source: SourceDeps, metrics: Metrics, log: Logger) {
    this.#options = options;
    this.#source = source;
    this.#metrics = metrics;
    this.#log = log;
    this.memory = new SegmentMemory(options.memoryCacheMaxBytes);
    this.slots = new EncodeSlots(options.maxVideoEncodes, () => this.titles.flatMap((t) => t.productions.flatMap((p) => p.slotHolders())), metrics, log);
    this.budget = new StoreBudget(options.cacheMaxBytes, (store, renditionId, index) =>
      this.#titles.get(store.key)?.isPinned(renditionId, index) ?? false, () => metrics.evictions.inc());
    this.stores = new StoreRoot({ root: options.storeDir, tmpDir: path.join(options.instanceDir, 'tmp'), budget: this.budget, metrics, log });
    this.load = new LoadMonitor(() => this.titles.flatMap((t) => t.productions.flatMap((p) => p.loadViews())), options.now, log);
    // A change of level re-decides every run's pause (strained: buffered viewers' runs pause early).
    this.#loadTimer = setInterval(() => {
      if (this.load.update()) for (const title of this.titles) title.reconcile();
    }, LOAD_READING_MS);
    this.#loadTimer.unref();
    const every = Math.max(250, Math.min(30_000, Math.floor(options.sessionIdleMs / 4)));
    this.#sweeper = setInterval(() => this.sweepIdle(), every);
    this.#sweeper.unref();
  }

  get size(): number {
    return this.#sessions.size;
  }

  get titles(): Title[] {
    return [...this.#titles.values()];
  }

  /** Probes (and if needed remuxes) the media, finds or makes its title, opens a session on it. */
  async create(request: CreateSessionRequest): Promise<Session> {
    this.#assertOpen();
    const { source, plan, key } = await this.#planOf(request.media);
    this.#assertOpen();
    const startIndex = plan.timeline.indexAt(request.startSeconds ?? 0);
    this.#refuseWhenOverloaded();
    const title = this.#titles.get(key) ?? (await this.#openTitle(key, source, plan));
    // randomUUID: 122 random bits, as ids must not be guessable.
    const id = randomUUID();
    const session = this.#openSession(id, title, startIndex);
    this.#log.info('session opened', { session: id, media: source.relative, segments: plan.timeline.count, startIndex });
    return session;
  }

  /**
   * The title a stateless URL names: its path must still lead to a file with the key in the
   * token (TITLE_CHANGED otherwise: the file or the encoding settings changed since the URL was
   * made). Any node mounting the same library answers the same.
   */
  async titleFor(token: string): Promise<Title> {
    const known = this.#byToken.get(token);
    if (known) return known;
    this.#assertOpen();
    const { relative, key } = parseTitleToken(token);
    let planned;
    try {
      planned = await this.#planOf(relative);
    } catch (error) {
      if (error instanceof SeekwellError && (error.code === 'MEDIA_NOT_FOUND' || error.code === 'MEDIA_PATH_INVALID')) {
        throw new SeekwellError('TITLE_NOT_FOUND', 'no such title', { cause: error });
      }
      throw error;
    }
    if (planned.key !== key) throw new SeekwellError('TITLE_CHANGED', 'the file or the encoding settings changed since this URL was made: load the manifest again');
    const title = this.#titles.get(key) ?? (await this.#openTitle(key, planned.source, planned.plan));
    if (this.#byToken.size >= MAX_TOKENS) this.#byToken.clear();
    this.#byToken.set(token, title);
    return title;
  }

  /**
   * A stateless viewer's session, made on its first request here: after a node failed, its
   * viewers' next requests make them again on the node that takes over (no admission check: the
   * viewer is already playing). MAX_SESSIONS still bounds them.
   */
  async viewer(token: string, viewerId: string): Promise<Session> {
    const title = await this.titleFor(token);
    const key = `${title.key}/${checkViewerId(viewerId)}`;
    const known = this.#viewers.get(key);
    if (known && !known.closed) return known;
    const session = this.#openSession(`${title.key.slice(0, 12)}-${viewerId}`, title, 0);
    this.#viewers.set(key, session);
    this.#log.info('viewer opened', { session: session.id, media: title.source.relative });
    return session;
  }

  // Past MAX_SESSIONS, OVERLOADED. Checked after the last await before the session is added, so
  // requests arriving together cannot all pass it.
  #openSession(id: string, title: Title, startIndex: number): Session {
    if (this.#sessions.size >= this.#options.maxSessions) {
      this.#metrics.refused.inc({ limit: 'sessions' });
      throw new SeekwellError('OVERLOADED', `the server has its maximum of ${this.#options.maxSessions} sessions (MAX_SESSIONS); retry later`);
    }
    const session = new Session(id, title, startIndex, { now: this.#options.now, metrics: this.#metrics, budget: this.budget, memory: this.memory }, this.#log.child({ session: id }));
    this.#sessions.set(id, session);
    return session;
  }

  /** A new viewer may start (a stateless manifest request): OVERLOADED while the server is. */
  admitViewer(): void {
    this.#assertOpen();
    this.#refuseWhenOverloaded();
  }

  /** The stateless URL prefix of `title` for `viewerId`. */
  static viewerBase(title: Title, viewerId: string): string {
    return `/t/${titleToken(title.source.relative, title.key)}/${viewerId}/`;
  }

  /** Checks that `media` can be played (path, probe, plan) without opening a session. */
  async check(media: unknown): Promise<void> {
    this.#assertOpen();
    await this.#planOf(media);
  }

  /** The stateless URL prefix for a new viewer of `media`: `/t/<title token>/<viewer>/`. */
  async newViewerBase(media: unknown): Promise<string> {
    this.admitViewer();
    const { source, plan, key } = await this.#planOf(media);
    const title = this.#titles.get(key) ?? (await this.#openTitle(key, source, plan));
    return SessionRegistry.viewerBase(title, randomUUID().replaceAll('-', ''));
  }

  #refuseWhenOverloaded(): void {
    if (!this.#options.loadShedding || this.loadLevel !== 'overloaded') return;
    this.#metrics.refused.inc({ limit: 'load' });
    const slowest = this.load.slowestSpeed;
    throw new SeekwellError('OVERLOADED', `the encoders are not keeping up with their viewers${slowest === undefined ? '' : ` (slowest at ${slowest.toFixed(2)}x real time)`}; retry later`);
  }

  async #planOf(media: unknown): Promise<{ source: MediaSource; plan: TitlePlan; key: string }> {
    const source = await openMediaSource(this.#source, media);
    const plan = planTitle(source.info, source.tracks, {
      segmentSeconds: this.#options.segmentSeconds, ladder: this.#options.ladder, text: source.text,
      copy: this.#options.copy, keyFrames: source.keyFrames, keyFramesMissing: source.keyFramesMissing,
    });
    return { source, plan, key: titleKey(source, plan) };
  }

  // Concurrent first requests for a title share one opening: two Title objects for one key would
  // run encoders into the same run folders.
  #openTitle(key: string, source: MediaSource, plan: TitlePlan): Promise<Title> {
    let pending = this.#opening.get(key);
    if (!pending) {
      pending = this.stores.open(key).then((store) => {
        const title = new Title(key, source, plan, {
          store,
          runsDir: path.join(this.#options.instanceDir, 'runs'),
          options: this.#options,
          estimatorFor: (renditionId) => this.estimatorFor(renditionId),
          budget: this.budget,
          slots: this.slots,
          makeRoom: () => this.makeRoom(),
          strained: () => this.#options.loadShedding && this.loadLevel !== 'normal',
          metrics: this.#metrics,
          log: this.#log.child({ title: key.slice(0, 8), media: source.relative }),
        });
        this.#titles.set(key, title);
        return title;
      });
      this.#opening.set(key, pending);
      void pending.finally(() => this.#opening.delete(key)).catch(() => {});
    }
    return pending;
  }

  /**
   * The disk filled before the budget did: the budget shrinks below what is stored (by a tenth, at
   * least DISK_RELIEF_BYTES) and segments outside every viewer's window are evicted. Resolves
   * with the bytes freed.
   */
  async makeRoom(): Promise<number> {
    const freed = await this.budget.shrink(Math.max(DISK_RELIEF_BYTES, Math.floor(this.budget.bytes / 10)));
    this.#log.warn('disk full: store budget lowered', { freedBytes: freed, maxBytes: this.budget.maxBytes });
    return freed;
  }

  /** True while a session or a run plays from `input` (what ffmpeg reads: `file:` + path). */
  isSourceInUse(input: string): boolean {
    return this.list().some((s) => s.title.source.input === input) || this.titles.some((t) => t.source.input === input && t.runs.length > 0);
  }

  /** normal, strained or overloaded (session/load.ts). */
  get loadLevel(): LoadLevel {
    return this.#options.loadLevel?.() ?? this.load.level;
  }

  estimatorFor(renditionId: string): EncoderEstimator {
    let estimator = this.#estimators.get(renditionId);
    if (!estimator) this.#estimators.set(renditionId, (estimator = new EncoderEstimator()));
    return estimator;
  }

  get(id: string): Session {
    const session = this.#sessions.get(id);
    if (!session || session.closed) throw new SeekwellError('SESSION_NOT_FOUND', 'no such session');
    return session;
  }

  list(): Session[] {
    return [...this.#sessions.values()];
  }

  /**
   * Ends a session: its encoder stops unless another session uses it; segments stay shared.
   * Resolves once the run this departure stopped has ended (bounded), never waiting on runs
   * other sessions still use.
   */
  async delete(id: string, reason = 'deleted'): Promise<void> {
    const session = this.get(id);
    this.#sessions.delete(id);
    for (const [key, viewer] of this.#viewers) if (viewer === session) this.#viewers.delete(key);
    const handles = session.title.runsOf(session);
    session.close(reason);
    await Promise.all(handles.map((handle) => this.#awaitDeparture(session.title, handle, id)));
  }

  // The session's aborted waits leave the store a few microtasks after close(): only then is its
  // run known to be nobody's, and stopped by the title's reconcile.
  async #awaitDeparture(title: Title, handle: RunHandle, id: string): Promise<void> {
    const ended = (async () => {
      await handle.started;
      await nextTurn();
      title.reconcile();
      if (!title.runs.includes(handle)) await handle.run?.ended;
    })();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), DEPARTURE_STOP_WAIT_MS)));
    const timedOut = await Promise.race([ended.then(() => false, () => false), late]);
    clearTimeout(timer);
    if (timedOut) this.#log.warn('session deleted while its run is still stopping', { session: id, run: handle.id });
  }

  /**
   * Idle sessions release their encoder; long-idle sessions are forgotten, and so are sessions
   * never used once idle (a manifest fetched by a crawler or a health check, a player that gave up).
   */
  sweepIdle(): void {
    const now = this.#options.now();
    for (const session of this.list()) {
      if (session.busy) continue;
      const idle = now - session.lastActivity;
      if (idle >= this.#options.sessionExpireMs) void this.delete(session.id, 'expired').catch(() => {});
      else if (!session.claimed && idle >= this.#options.sessionIdleMs) void this.delete(session.id, 'never used').catch(() => {});
      else if (idle >= this.#options.sessionIdleMs) session.release();
    }
  }

  /** Closes every session and title; idempotent, never rejects. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#sweeper);
      clearInterval(this.#loadTimer);
      for (const session of this.list()) session.close('server closing');
      this.#sessions.clear();
      this.#viewers.clear();
      this.#byToken.clear();
      await Promise.all(this.titles.map((t) => t.close('server closing')));
      this.#titles.clear();
      await this.stores.close(new SeekwellError('SHUTTING_DOWN', 'the server is shutting down'));
    })();
    return this.#closing;
  }

  #assertOpen(): void {
    if (this.#closing) throw new SeekwellError('SHUTTING_DOWN', 'the server is shutting down');
  }
}

// Segments are keyed by content: the file's identity (its path under MEDIA_DIR, size and mtime:
// the same on every node that mounts the library) and everything that shapes the encoding.
function titleKey(source: Pick<MediaSource, 'relative' | 'identity'>, plan: TitlePlan): string {
  const { timeline } = plan;
  const timing = [timeline.segmentSeconds, timeline.count, timeline.durationSeconds, timeline.isUniform, plan.sourceStartSeconds];
  const identity = JSON.stringify([source.relative, source.identity.size, source.identity.mtimeMs, timing, plan.renditions.map((r) => [r.id, r.spec])]);
  return createHash('sha256').update(identity).digest('hex').slice(0, 32);
}
