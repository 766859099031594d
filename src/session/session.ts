// One viewer: where it is in the title (its frontier, from requests and CMCD), how long its
// requests waited, and its restarts. The title decides which run serves it.
import { setMaxListeners } from 'node:events';
import { SeekwellError } from '../errors.js';
import type { Logger } from '../log.js';
import type { EncodedRendition, Rendition, TextRendition } from '../media/plan.js';
import { indexOf, numberOf } from '../media/timeline.js';
import type { Metrics } from '../metrics.js';
import type { StoreBudget } from '../segment/budget.js';
import type { SegmentBody, SegmentMemory } from '../segment/memory.js';
import type { StoredSegment } from '../segment/store.js';
import type { Cmcd } from './cmcd.js';
import type { RestartReason } from './policy.js';
import type { Title, Viewer } from './title.js';

export interface SessionOptions {
  now: () => number;
  metrics: Metrics;
  /** Told when a stored segment's file turns out to be gone. */
  budget: Pick<StoreBudget, 'forget'>;
  /** Bytes of recently served segments. */
  memory: Pick<SegmentMemory, 'read'>;
}

/** A stored segment with its bytes: in memory, or its file open (the caller streams and closes it). */
export interface OpenSegment extends StoredSegment {
  body: SegmentBody;
}

const WAIT_SAMPLES = 200;
/** Restarts at one segment within this long are one jump seen by several renditions. */
const SAME_JUMP_MS = 5000;

export class Session implements Viewer {
  readonly id: string;
  readonly title: Title;
  readonly createdAt: number;
  /** Content index the first run starts at (from POST's `start`). */
  readonly startIndex: number;
  lastActivity: number;
  frontier: number | undefined;
  /** The player's last reported buffer length (CMCD `bl`), seconds. */
  bufferSeconds: number | undefined;
  restarts = 0;
  readonly restartLog: { at: number; index: number; reason: RestartReason; renditions: string[] }[] = [];
  readonly #waitsMs: number[] = [];
  readonly #options: SessionOptions;
  readonly #log: Logger;
  readonly #controller = new AbortController();
  #closed = false;
  #claimed = false;
  #inFlight = 0;

  constructor(id: string, title: Title, startIndex: number, options: SessionOptions, log: Logger) {
    this.id = id;
    this.title = title;
    this.startIndex = startIndex;
    this.#options = options;
    this.#log = log;
    this.createdAt = options.now();
    this.lastActivity = this.createdAt;
    // Every waiting request listens to this signal until it settles: any number may wait at once.
    setMaxListeners(0, this.#controller.signal);
  }

  /** Aborted when the session closes: every wait of this session listens to it. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get renditions(): Rendition[] {
    return this.title.plan.renditions;
  }

  /** Median and 95th percentile of this session's recent segment waits, in milliseconds. */
  get waitPercentiles(): { p50: number; p95: number } | undefined {
    if (this.#waitsMs.length === 0) return undefined;
    const sorted = [...this.#waitsMs].sort((a, b) => a - b);
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    return { p50: at(0.5), p95: at(0.95) };
  }

  touch(): void {
    this.lastActivity = this.#options.now();
  }

  /** True once a player asked it for an init or a segment: a session handed out and never used is not. */
  get claimed(): boolean {
    return this.#claimed;
  }

  /** True while a request of this session is waiting: such a session is never idle. */
  get busy(): boolean {
    return this.#inFlight > 0;
  }

  // Counts the request as in flight until it settles, and as activity at both ends.
  async #track<T>(work: () => Promise<T>): Promise<T> {
    this.#inFlight++;
    this.#claimed = true;
    this.touch();
    try {
      return await work();
    } finally {
      this.#inFlight--;
      this.touch();
    }
  }

  // One jump restarts each rendition the viewer watches (its video and its audio): it is counted
  // and logged once, with every rendition it restarted.
  recordRestart(index: number, reason: RestartReason, renditionId: string): void {
    const now = this.#options.now();
    const last = this.restartLog.at(-1);
    if (last && last.index === index && now - last.at < SAME_JUMP_MS && !last.renditions.includes(renditionId)) {
      last.renditions.push(renditionId);
      return;
    }
    this.restarts++;
    this.restartLog.push({ at: now, index, reason, renditions: [renditionId] });
    if (this.restartLog.length > 100) this.restartLog.shift();
    this.#log.info('restart', { segment: numberOf(index), reason, rendition: renditionId });
  }

  /** Resolves with the segment's file, open, once it is complete on disk. */
  async segment(renditionId: string, number: number, signal: AbortSignal, cmcd?: Cmcd): Promise<OpenSegment> {
    const rendition = this.#encoded(renditionId);
    const index = this.#index(number);
    this.#assertOpen();
    this.#noteDemand(index, cmcd);
    const started = this.#options.now();
    const onDisk = this.title.store.getSegment(renditionId, index) !== undefined;
    const segment = await this.#track(() => this.#open(rendition, index, signal));
    this.#recordWait(renditionId, this.#options.now() - started, onDisk);
    return segment;
  }

  // Never resolves with a file gone from disk (unless its bytes are still in memory, which are the
  // stored bytes): such a segment is dropped from the store and the budget, logged, and then made
  // again (or waited for) like any segment not stored.
  async #open(rendition: EncodedRendition, index: number, signal: AbortSignal): Promise<OpenSegment> {
    const { store } = this.title;
    for (;;) {
      signal.throwIfAborted();
      const segment = await this.title.segment(this, rendition, index, signal);
      const body = await this.#options.memory.read(store, segment);
      if (body) return { ...segment, body };
      if (store.drop(rendition.id, index, segment)) {
        this.#options.budget.forget(store, rendition.id, index);
        this.#log.warn('stored segment file gone: making it again', { rendition: rendition.id, segment: numberOf(index), path: segment.path });
      }
    }
  }

  /** Resolves with the rendition's init segment, starting a run at the viewer's position if needed. */
  async init(renditionId: string, signal: AbortSignal): Promise<Buffer> {
    const rendition = this.#encoded(renditionId);
    this.#assertOpen();
    return this.#track(() => this.title.init(this, rendition, this.frontier ?? this.startIndex, signal));
  }

  /** A text rendition's segment `number` as WebVTT (HLS). Text is no demand on any encoder. */
  async textSegment(renditionId: string, number: number, signal: AbortSignal): Promise<string> {
    const rendition = this.#text(renditionId);
    const index = this.#index(number);
    this.#assertOpen();
    return this.#track(() => this.title.text.segment(rendition, index, signal));
  }

  /** A text rendition as one WebVTT file (DASH). */
  async textWhole(renditionId: string, signal: AbortSignal): Promise<string> {
    const rendition = this.#text(renditionId);
    this.#assertOpen();
    return this.#track(() => this.title.text.whole(rendition, signal));
  }

  /** Ends this viewer's claim on the encoder (idle); the session stays and can resume. */
  release(): void {
    this.title.detach(this);
  }

  /** Detaches from the title and fails this session's waits. Idempotent. */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#controller.abort(new SeekwellError('SESSION_CLOSED', `session closed: ${reason}`));
    this.title.detach(this);
    this.#log.info('session closed', { reason });
  }

  // The frontier is the furthest segment asked for since the last jump back; CMCD's `nor` (the
  // player's next request) moves it ahead of the request itself.
  #noteDemand(index: number, cmcd: Cmcd | undefined): void {
    const window = this.title.windowSegments;
    let frontier = this.frontier === undefined || index < this.frontier - window ? index : Math.max(this.frontier, index);
    if (cmcd?.nextIndex !== undefined && cmcd.nextIndex > frontier && cmcd.nextIndex <= frontier + window) frontier = cmcd.nextIndex;
    this.frontier = frontier;
    if (cmcd?.bufferSeconds !== undefined) this.bufferSeconds = cmcd.bufferSeconds;
  }

  #recordWait(renditionId: string, ms: number, fromStore: boolean): void {
    this.#waitsMs.push(ms);
    if (this.#waitsMs.length > WAIT_SAMPLES) this.#waitsMs.shift();
    this.#options.metrics.waitSeconds.observe({ rendition: renditionId }, ms / 1000);
    this.#options.metrics.segmentsServed.inc({ from: fromStore ? 'store' : 'encoder' });
  }

  /** The rendition, or RENDITION_NOT_FOUND. */
  rendition(renditionId: string): Rendition {
    const rendition = this.title.rendition(renditionId);
    if (!rendition) throw new SeekwellError('RENDITION_NOT_FOUND', `no rendition "${renditionId.slice(0, 40)}" in this session`);
    return rendition;
  }

  #encoded(renditionId: string): EncodedRendition {
    const rendition = this.rendition(renditionId);
    if (rendition.kind === 'text') throw new SeekwellError('RENDITION_NOT_FOUND', `"${renditionId}" is a text rendition: its segments are .vtt files`);
    return rendition;
  }

  #text(renditionId: string): TextRendition {
    const rendition = this.rendition(renditionId);
    if (rendition.kind !== 'text') throw new SeekwellError('RENDITION_NOT_FOUND', `"${renditionId}" is not a text rendition`);
    return rendition;
  }

  /** The index of URL segment `number`, or SEGMENT_NOT_FOUND. */
  #index(number: number): number {
    const { timeline } = this.title.plan;
    const index = indexOf(number);
    if (!timeline.has(index)) throw new SeekwellError('SEGMENT_NOT_FOUND', `segment ${number} is not in the plan (1..${timeline.count})`);
    return index;
  }

  #assertOpen(): void {
    if (this.#closed) throw new SeekwellError('SESSION_CLOSED', 'the session is closed');
  }
}
