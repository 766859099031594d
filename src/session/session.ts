// One viewer's session: its plan, its segment store and at most one pipeline run at a time.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { SeekwellError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Rendition } from '../manifest/model.js';
import type { PlaybackPlan } from '../media/plan.js';
import type { MediaSource } from '../media/source.js';
import type { RunRange } from '../pipeline/ffmpeg-args.js';
import { PipelineRun, type RunEnd } from '../pipeline/run.js';
import { SegmentStore, type StoredSegment } from '../segment/store.js';
import { decideRun, type RestartReason, type RunView } from './policy.js';

export interface SessionOptions {
  ffmpegPath: string;
  packagerPath: string;
  launcher: string[];
  /** Longest run, in segments: bounds ffmpeg's key-frame list; a later request starts a new run. */
  maxRunSegments: number;
  maxLeadSegments: number;
  now: () => number;
}

interface RunSlot {
  seq: number;
  range: RunRange;
  run: PipelineRun | undefined;
  started: Promise<PipelineRun | undefined>;
}

/** Runs that failed one after another without producing anything before waits are failed. */
const MAX_FAILED_RUNS = 2;

export class Session {
  readonly id: string;
  readonly source: MediaSource;
  readonly plan: PlaybackPlan;
  readonly createdAt: number;
  lastActivity: number;
  restarts = 0;
  readonly restartLog: { at: number; index: number; reason: RestartReason }[] = [];
  readonly #store: SegmentStore;
  readonly #options: SessionOptions;
  readonly #log: Logger;
  readonly #controller = new AbortController();
  readonly #dir: string;
  #slot: RunSlot | undefined;
  #runSeq = 0;
  #failedRuns = 0;
  #closing: Promise<void> | undefined;

  constructor(id: string, dir: string, source: MediaSource, plan: PlaybackPlan, options: SessionOptions, log: Logger) {
    this.id = id;
    this.source = source;
    this.plan = plan;
    this.#dir = dir;
    this.#options = options;
    this.#log = log;
    this.createdAt = options.now();
    this.lastActivity = this.createdAt;
    this.#store = new SegmentStore(path.join(dir, 'segments'));
  }

  async open(): Promise<void> {
    await this.#store.open();
  }

  /** Aborted when the session closes: every wait of this session listens to it. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  get renditions(): Rendition[] {
    const { video, audio } = this.plan.model;
    return audio ? [video, audio] : [video];
  }

  get store(): SegmentStore {
    return this.#store;
  }

  get currentRun(): { range: RunRange; run: PipelineRun | undefined } | undefined {
    return this.#slot;
  }

  touch(): void {
    this.lastActivity = this.#options.now();
  }

  /** Resolves with the segment once it is complete on disk, starting or restarting a run if needed. */
  async segment(renditionId: string, number: number, signal: AbortSignal): Promise<StoredSegment> {
    this.#rendition(renditionId);
    if (!Number.isSafeInteger(number) || number < 1 || number > this.plan.model.segmentCount) {
      throw new SeekwellError('SEGMENT_NOT_FOUND', `segment ${number} is not in the plan (1..${this.plan.model.segmentCount})`);
    }
    this.#assertOpen();
    this.touch();
    const index = number - 1;
    const stored = this.#store.getSegment(renditionId, index);
    if (stored) return stored;
    const decision = decideRun(index, this.#runView(), { maxLeadSegments: this.#options.maxLeadSegments });
    if (decision.action === 'start') this.#startRun(decision.index, decision.reason);
    return this.#store.waitForSegment(renditionId, index, signal);
  }

  /** Resolves with the rendition's init segment, starting a run at the beginning if none is running. */
  async init(renditionId: string, signal: AbortSignal): Promise<Buffer> {
    this.#rendition(renditionId);
    this.#assertOpen();
    this.touch();
    const init = this.#store.getInit(renditionId);
    if (init) return init;
    if (!this.#slot) this.#startRun(0, 'no-run');
    return this.#store.waitForInit(renditionId, signal);
  }

  /** Stops the run, fails every wait and removes the session's files. Idempotent, never rejects. */
  close(reason: string): Promise<void> {
    this.#closing ??= (async () => {
      this.#controller.abort(new SeekwellError('SESSION_CLOSED', `session closed: ${reason}`));
      const slot = this.#slot;
      this.#slot = undefined;
      await stopSlot(slot, reason);
      await this.#store.destroy(new SeekwellError('SESSION_CLOSED', `session closed: ${reason}`));
      await rm(this.#dir, { recursive: true, force: true }).catch(() => {});
      this.#log.info('session closed', { reason });
    })().catch((error: unknown) => this.#log.error('session close failed', { error }));
    return this.#closing;
  }

  #rendition(renditionId: string): Rendition {
    const rendition = this.renditions.find((r) => r.id === renditionId);
    if (!rendition) throw new SeekwellError('RENDITION_NOT_FOUND', `no rendition "${renditionId.slice(0, 40)}" in this session`);
    return rendition;
  }

  #assertOpen(): void {
    if (this.#closing) throw new SeekwellError('SESSION_CLOSED', 'the session is closed');
  }

  #runView(): RunView | undefined {
    const slot = this.#slot;
    if (!slot) return undefined;
    const produced = this.renditions.map((r) => slot.run?.produced.get(r.id) ?? slot.range.startIndex - 1);
    return { ...slot.range, producedIndex: Math.min(...produced) };
  }

  // Replaces the current run. The old run is fully stopped before the new one spawns, so a
  // session never has two encoders at once; requests arriving meanwhile see the new slot.
  #startRun(index: number, reason: RestartReason): void {
    const previous = this.#slot;
    const range = { startIndex: index, endIndex: Math.min(this.plan.model.segmentCount, index + this.#options.maxRunSegments) };
    const seq = ++this.#runSeq;
    const slot: RunSlot = { seq, range, run: undefined, started: Promise.resolve(undefined) };
    if (previous) {
      this.restarts++;
      this.restartLog.push({ at: this.#options.now(), index, reason });
    }
    slot.started = (async () => {
      await stopSlot(previous, `restart at segment ${index + 1} (${reason})`);
      if (this.#slot !== slot || this.closed) return undefined;
      const run = PipelineRun.start({
        id: `${this.id.slice(0, 8)}-${seq}`,
        dir: path.join(this.#dir, 'runs', String(seq)),
        input: this.source.input,
        demuxer: this.source.demuxer,
        plan: this.plan,
        range,
        ffmpegPath: this.#options.ffmpegPath,
        packagerPath: this.#options.packagerPath,
        launcher: this.#options.launcher,
        log: this.#log,
      }, {
        init: (renditionId, bytes) => this.#store.setInit(renditionId, bytes),
        segment: (renditionId, i, file) => {
          this.#failedRuns = 0;
          return this.#store.putSegment(renditionId, i, file);
        },
      });
      slot.run = run;
      void run.ended.then((end) => this.#onRunEnded(slot, end));
      return run;
    })();
    this.#slot = slot;
  }

  #onRunEnded(slot: RunSlot, end: RunEnd): void {
    if (this.#slot !== slot) return;
    this.#slot = undefined;
    const waiting = this.#store.waitingIndexes();
    if (end.kind === 'failed') {
      this.#failedRuns++;
      this.#log.error('run failed', { error: end.error, stderr: end.error.details?.stderr });
      if (waiting.length > 0 && this.#failedRuns < MAX_FAILED_RUNS) this.#startRun(waiting[0]!, 'no-run');
      else this.#store.failWaits(end.error);
    } else if (end.kind === 'finished' && waiting.some((i) => i >= slot.range.startIndex && i < slot.range.endIndex)) {
      this.#store.failWaits(new SeekwellError('PIPELINE_FAILED', 'the encoder reached the end without producing the segment'));
    } else if (waiting.length > 0) {
      this.#startRun(waiting[0]!, 'no-run');
    }
  }
}

async function stopSlot(slot: RunSlot | undefined, reason: string): Promise<void> {
  if (!slot) return;
  const run = await slot.started;
  await run?.stop(reason);
}
