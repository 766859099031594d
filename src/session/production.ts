// The production of one rendition of a title, on its own demand: its runs, the viewers attached to
// them, its window and pause. A viewer attaches to at most one of its runs; a run pauses once it
// is a full window ahead of every viewer attached to it, and stops when none is.
import path from 'node:path';
import { SeekwellError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { findRendition, type EncodedRendition, type TitlePlan } from '../media/plan.js';
import { numberOf } from '../media/timeline.js';
import type { MediaSource } from '../media/source.js';
import type { RunRange } from '../pipeline/ffmpeg-args.js';
import { PipelineRun, type RunEnd } from '../pipeline/run.js';
import type { SegmentStore, StoredSegment } from '../segment/store.js';
import type { EncodeSlots, SlotHolder } from './encode-slots.js';
import type { EncoderEstimator } from './estimator.js';
import type { LoadView } from './load.js';
import { decideRun, type RestartReason, type RunView, type SeekPolicy } from './policy.js';

export interface TitleOptions {
  ffmpegPath: string;
  packagerPath: string;
  launcher: string[];
  /** Longest run, in segments: bounds ffmpeg's key-frame list; a later request starts a new run. */
  maxRunSegments: number;
  bufferAheadSeconds: number;
  seekPolicy: SeekPolicy;
  now: () => number;
}

export interface ProductionDeps {
  /** The title's: every rendition's segments go to the same store, keyed by rendition. */
  store: SegmentStore;
  source: MediaSource;
  plan: TitlePlan;
  runsDir: string;
  options: TitleOptions;
  /** This rendition's cold start and speed on this machine. */
  estimator: EncoderEstimator;
  metrics: Metrics;
  log: Logger;
  /** Reconciles every rendition of the title: a run that advanced may end another's wait. */
  reconcileTitle: () => void;
  /** Every title's video encodes share MAX_VIDEO_ENCODES. */
  slots: Pick<EncodeSlots, 'claim'>;
  /** The disk filled up: evicts stored segments; resolves with the bytes freed (0: none could go). */
  makeRoom: () => Promise<number>;
  /** True while encodes fall behind (session/load.ts): buffered viewers' runs pause, new runs go faster. */
  strained: () => boolean;
}

/** What a title needs to know of a session. */
export interface Viewer {
  readonly id: string;
  /** Furthest content index this viewer asked for since its last jump; undefined before any. */
  readonly frontier: number | undefined;
  recordRestart(index: number, reason: RestartReason, renditionId: string): void;
}

export interface RunHandle {
  readonly id: string;
  readonly renditionId: string;
  readonly range: RunRange;
  run: PipelineRun | undefined;
  started: Promise<PipelineRun | undefined>;
}

/** Runs that failed one after another without producing anything before waits are failed. */
const MAX_FAILED_RUNS = 2;
/** The same for runs killed by a signal not ours (the OOM killer, an operator): tried a little longer. */
const MAX_KILLED_RUNS = 4;
/** While strained, a video run nobody waits on pauses this many segments ahead of its viewers. */
const STRAINED_LEAD_SEGMENTS = 2;
/**
 * After that, requests are refused with the same error for a while instead of each spawning an
 * encoder that fails again (a full disk made 56 in 130 s): 5 s, doubling up to a minute.
 */
const REFUSAL_FIRST_MS = 5000;
const REFUSAL_MAX_MS = 60_000;

export class RenditionProduction {
  readonly rendition: EncodedRendition;
  readonly #deps: ProductionDeps;
  readonly #store: SegmentStore;
  readonly #runs = new Set<RunHandle>();
  readonly #attached = new Map<Viewer, RunHandle>();
  /** Every run not yet ended (stopping ones included), so callers can wait for no process left. */
  readonly #alive = new Set<Promise<unknown>>();
  readonly #nextRunId: () => string;
  #failedRuns = 0;
  /** Set once runs kept failing: until `until`, requests get `error` without a new run. */
  #refusal: { error: SeekwellError; until: number; count: number } | undefined;

  constructor(rendition: EncodedRendition, deps: ProductionDeps, nextRunId: () => string) {
    this.rendition = rendition;
    this.#deps = deps;
    this.#store = deps.store;
    this.#nextRunId = nextRunId;
  }

  get windowSegments(): number {
    return windowSegments(this.#deps.plan, this.#deps.options.bufferAheadSeconds);
  }

  get runs(): RunHandle[] {
    return [...this.#runs];
  }

  runOf(viewer: Viewer): RunHandle | undefined {
    return this.#attached.get(viewer);
  }

  /** Resolves with a segment once it is on disk, choosing between waiting and (re)starting a run. */
  async segment(viewer: Viewer, index: number, signal: AbortSignal): Promise<StoredSegment> {
    const id = this.rendition.id;
    for (;;) {
      const stored = this.#store.getSegment(id, index);
      if (stored) {
        this.reconcile();
        return stored;
      }
      this.#assertNotRefusing();
      const decision = decideRun({
        index,
        timeline: this.#deps.plan.timeline,
        runs: this.#views(),
        coldStartSeconds: this.#deps.estimator.coldStartSeconds,
        typicalSpeed: this.#deps.estimator.typicalSpeed,
        policy: this.#deps.options.seekPolicy,
      });
      if (decision.action === 'wait') {
        this.#attach(viewer, [...this.#runs].find((h) => h.id === decision.runId)!);
      } else if (this.#blockers(viewer, index).length > 0) {
        // Restarting would kill a run other requests still wait on, and the new run would not
        // serve them: let them finish first, then decide again.
        await this.#store.nextChange(signal);
        continue;
      } else {
        this.#startRun(viewer, index, decision.reason);
      }
      // The wait first: every rendition of the title then sees it (a run nobody waits on yields).
      const waited = this.#store.waitForSegment(id, index, signal);
      this.#deps.reconcileTitle();
      return waited;
    }
  }

  /** Resolves with the rendition's init segment; starts a run at `startIndex` if none is alive. */
  async init(viewer: Viewer, startIndex: number, signal: AbortSignal): Promise<Buffer> {
    const init = this.#store.getInit(this.rendition.id);
    if (init) return init;
    this.#assertNotRefusing();
    if (this.#runs.size === 0) this.#startRun(viewer, startIndex, 'no-run');
    else if (!this.#attached.has(viewer)) this.#attach(viewer, [...this.#runs][0]!);
    return this.#store.waitForInit(this.rendition.id, signal);
  }

  /** True while `viewer` is attached to one of this rendition's runs. */
  isWatchedBy(viewer: Viewer): boolean {
    return this.#attached.has(viewer);
  }

  /** Resolves when every run started so far has ended. */
  async settled(): Promise<void> {
    while (this.#alive.size > 0) await Promise.allSettled([...this.#alive]);
  }

  /** A viewer leaves (idle or closed): runs nobody watches or waits on are stopped. */
  detach(viewer: Viewer): void {
    this.#attached.delete(viewer);
    this.reconcile();
  }

  /** True for segments a viewer is about to need (its window) or is waiting for: not evictable. */
  isPinned(index: number): boolean {
    if (this.#store.isWaited(this.rendition.id, index)) return true;
    for (const viewer of this.#attached.keys()) {
      const f = viewer.frontier;
      if (f !== undefined && index >= f && index <= f + this.windowSegments) return true;
    }
    return false;
  }

  /**
   * Brings every run in line with its viewers: paused once a full window ahead of the furthest
   * frontier attached to it, running otherwise, stopped when nobody watches or waits on it.
   * A run nobody waits on also pauses, once a segment ahead of its viewers, while a request waits
   * on another video rendition of the title: on 2 cores, an audio run racing to fill its window
   * took half the CPU from the video run making the segment a player was waiting for (bench
   * startup). Waits on audio pause nothing: they end in milliseconds, and a video run stopped and
   * continued around each of them lost up to 10 % of its speed (bench encode-overhead).
   */
  reconcile(): void {
    const waiting = this.#store.waitingIndexes(this.rendition.id);
    const othersWait = this.#store.isOtherWaited(this.rendition.id, (id) => findRendition(this.#deps.plan, id)?.kind === 'video');
    const lead = this.#encodesVideo && this.#deps.strained() ? STRAINED_LEAD_SEGMENTS : this.windowSegments;
    for (const handle of this.#runs) {
      const run = handle.run;
      if (!run) continue;
      const viewers = this.#viewersOf(handle);
      const waited = this.#isWaited(handle, waiting);
      if (viewers.length === 0 && !waited) {
        void this.#stop(handle, 'no viewer');
        continue;
      }
      const frontier = Math.max(handle.range.startIndex, ...viewers.map((v) => v.frontier ?? handle.range.startIndex));
      const ahead = run.producedIndex - frontier;
      if (!waited && (ahead >= lead || (othersWait && ahead >= 1))) run.pause();
      else run.resume();
    }
  }

  get #encodesVideo(): boolean {
    return this.rendition.kind === 'video' && this.rendition.mode === 'encode';
  }

  /** This rendition's runs as the load sees them: none unless it encodes video. */
  loadViews(): LoadView[] {
    if (!this.#encodesVideo) return [];
    const waiting = this.#store.waitingIndexes(this.rendition.id);
    const { timeline } = this.#deps.plan;
    return [...this.#runs].flatMap((handle) => {
      const run = handle.run;
      if (!run) return [];
      const frontiers = this.#viewersOf(handle).map((v) => v.frontier ?? handle.range.startIndex);
      const leadSeconds = frontiers.length === 0 ? undefined : timeline.endOf(run.producedIndex) - timeline.endOf(Math.max(...frontiers));
      return [{ speed: run.speed, paused: run.paused, waited: this.#isWaited(handle, waiting), leadSeconds }];
    });
  }

  /** This rendition's runs as MAX_VIDEO_ENCODES counts them: none unless it encodes video. */
  slotHolders(): SlotHolder[] {
    if (!this.#encodesVideo) return [];
    const waiting = this.#store.waitingIndexes(this.rendition.id);
    return [...this.#runs].map((handle) => ({
      id: handle.id,
      waited: !handle.run || this.#isWaited(handle, waiting),
      paused: handle.run?.paused ?? false,
      stop: (reason: string) => void this.#stop(handle, reason),
    }));
  }

  // A run that a request waits on (a segment in its range, or the init any run makes). A run
  // still starting counts as waited: it was started for a request.
  #isWaited(handle: RunHandle, waiting: number[]): boolean {
    return waiting.some((i) => i >= handle.range.startIndex && i < handle.range.endIndex)
      || (this.#store.isInitWaited(this.rendition.id) && this.#store.getInit(this.rendition.id) === undefined);
  }

  /** Stops every run. Idempotent, never rejects. */
  async close(reason: string): Promise<void> {
    this.#attached.clear();
    await Promise.all([...this.#runs].map((h) => this.#stop(h, reason)));
    // Runs stopped earlier (a viewer left just before) may still be exiting: wait for them too.
    await this.settled();
  }

  #views(): RunView[] {
    const now = this.#deps.options.now();
    const { timeline } = this.#deps.plan;
    return [...this.#runs].map((h) => ({
      id: h.id,
      startIndex: h.range.startIndex,
      endIndex: h.range.endIndex,
      producedIndex: h.run?.producedIndex ?? h.range.startIndex - 1,
      // Progress reports lag; a produced segment proves the encoder got at least past its end.
      positionSeconds: Math.max(h.run?.positionSeconds ?? 0, timeline.endOf(h.run?.producedIndex ?? h.range.startIndex - 1)),
      speed: h.run?.speed,
      ageSeconds: h.run ? (now - h.run.startedAt) / 1000 : 0,
    }));
  }

  // Waits the viewer's current run serves that a run starting at `index` would not.
  #blockers(viewer: Viewer, index: number): number[] {
    const current = this.#attached.get(viewer);
    if (!current || this.#sharedWithOthers(current, viewer)) return [];
    return this.#store.waitingIndexes(this.rendition.id).filter((i) => i >= current.range.startIndex && i < index);
  }

  #sharedWithOthers(handle: RunHandle, viewer: Viewer): boolean {
    return this.#viewersOf(handle).some((v) => v !== viewer);
  }

  /** The viewers attached to a run, in the order they attached. */
  #viewersOf(handle: RunHandle): Viewer[] {
    return [...this.#attached].filter(([, h]) => h === handle).map(([v]) => v);
  }

  #attach(viewer: Viewer, handle: RunHandle): void {
    const previous = this.#attached.get(viewer);
    this.#attached.set(viewer, handle);
    if (previous && previous !== handle) this.reconcile();
  }

  // A session never has two encoders: its previous run, unless another viewer uses it, is fully
  // stopped before the new one spawns.
  #startRun(viewer: Viewer, index: number, reason: RestartReason): RunHandle {
    const previous = this.#attached.get(viewer);
    const replaced = previous && !this.#sharedWithOthers(previous, viewer) ? previous : undefined;
    if (this.#encodesVideo) this.#deps.slots.claim(replaced?.id);
    const { options, metrics } = this.#deps;
    const { plan, source, store } = this.#deps;
    const rendition = this.#runRendition();
    const range = { startIndex: index, endIndex: Math.min(plan.timeline.count, index + options.maxRunSegments) };
    const id = this.#nextRunId();
    const renditionId = this.rendition.id;
    const handle: RunHandle = { id, renditionId, range, run: undefined, started: Promise.resolve(undefined) };
    if (previous) viewer.recordRestart(index, reason, renditionId);
    metrics.restarts.inc({ reason });
    metrics.runsStarted.inc();
    this.#runs.add(handle);
    this.#attached.set(viewer, handle);
    const alive = (handle.started = (async () => {
      if (replaced) await this.#stop(replaced, `restart at segment ${numberOf(index)} (${reason})`);
      if (!this.#runs.has(handle)) return undefined;
      const run = PipelineRun.start({
        id, range,
        dir: path.join(this.#deps.runsDir, id),
        input: source.input,
        demuxer: source.demuxer,
        plan,
        rendition,
        ffmpegPath: options.ffmpegPath,
        packagerPath: options.packagerPath,
        launcher: options.launcher,
        log: this.#deps.log,
        now: options.now,
      }, {
        init: (bytes) => store.setInit(renditionId, bytes),
        segment: (i, file) => store.putSegment(renditionId, i, file),
        advanced: (r) => this.#onAdvanced(handle, r),
      });
      handle.run = run;
      void run.ended.then((end) => this.#onRunEnded(handle, end));
      return run;
    })()).then((run) => run?.ended);
    this.#alive.add(alive);
    void alive.finally(() => this.#alive.delete(alive));
    return handle;
  }

  // The rendition as this run encodes it: with less x264 search while the server is strained.
  #runRendition(): EncodedRendition {
    const r = this.rendition;
    if (r.kind !== 'video' || r.mode !== 'encode' || !this.#deps.strained()) return r;
    this.#deps.metrics.runsDegraded.inc();
    return { ...r, spec: { ...r.spec, strained: true } };
  }

  #onAdvanced(handle: RunHandle, run: PipelineRun): void {
    this.#failedRuns = 0;
    this.#refusal = undefined;
    if (run.producedIndex === handle.range.startIndex && run.firstSegmentSeconds !== undefined) {
      this.#deps.estimator.recordColdStart(run.firstSegmentSeconds);
      this.#deps.metrics.firstSegmentSeconds.observe({ rendition: this.rendition.id }, run.firstSegmentSeconds);
    }
    if (run.speed !== undefined) this.#deps.estimator.recordSpeed(run.speed);
    // Another run already made (or is making) what comes next: this one is redundant.
    const next = run.producedIndex + 1;
    const other = [...this.#runs].find((h) => h !== handle && h.run && h.range.startIndex <= next && h.run.producedIndex >= next);
    if (other) {
      for (const [viewer, h] of this.#attached) if (h === handle) this.#attached.set(viewer, other);
      void this.#stop(handle, `merged into run ${other.id}`);
    }
    this.#deps.reconcileTitle();
  }

  async #stop(handle: RunHandle, reason: string): Promise<void> {
    this.#runs.delete(handle);
    const run = await handle.started;
    await run?.stop(reason);
  }

  #onRunEnded(handle: RunHandle, end: RunEnd): void {
    this.#runs.delete(handle);
    const inRange = (i: number): boolean => i >= handle.range.startIndex && i < handle.range.endIndex;
    const orphans = this.#store.waitingIndexes(this.rendition.id).filter((i) => ![...this.#runs].some((h) => h.range.startIndex <= i && i < h.range.endIndex));
    const viewers = this.#viewersOf(handle);
    const viewer = viewers[0];
    for (const v of viewers) this.#attached.delete(v);
    if (end.kind === 'failed') {
      this.#failedRuns++;
      this.#deps.log.error('run failed', { run: handle.id, rendition: handle.renditionId, error: end.error, stderr: end.error.details?.stderr });
      const limit = end.error.details?.killed ? MAX_KILLED_RUNS : MAX_FAILED_RUNS;
      if (end.error.code === 'INSUFFICIENT_STORAGE') void this.#onDiskFull(viewer, end.error, inRange);
      else if (this.#failedRuns >= limit) this.#refuse(end.error, inRange);
      else if (orphans.length > 0 && viewer) this.#restart(viewer, orphans, 'no-run');
      else this.#store.failWaits(end.error, this.rendition.id, inRange);
    } else if (end.kind === 'finished' && orphans.some(inRange)) {
      // A file that probed fine must play every listed segment: this is a bug in the plan or the
      // recipe, logged with what it takes to reproduce it.
      const { source, plan } = this.#deps;
      this.#deps.log.error('run ended without a promised segment', {
        run: handle.id, rendition: this.rendition, range: handle.range, missing: orphans.filter(inRange).map(numberOf),
        probe: source.info, tracks: source.tracks, timeline: { count: plan.timeline.count, durationSeconds: plan.timeline.durationSeconds },
      });
      this.#store.failWaits(new SeekwellError('PIPELINE_FAILED', 'the encoder reached the end without producing the segment'), this.rendition.id, inRange);
    } else if (orphans.length > 0 && viewer && end.kind === 'finished') {
      this.#restart(viewer, orphans, 'past-run-end');
    }
  }

  // The disk filled up under a run: stored segments make room and the run is tried again; with
  // nothing left to evict, the waits end with INSUFFICIENT_STORAGE (507) and the free space.
  async #onDiskFull(viewer: Viewer | undefined, error: SeekwellError, inRange: (i: number) => boolean): Promise<void> {
    const freed = await this.#deps.makeRoom();
    const orphans = this.#store.waitingIndexes(this.rendition.id).filter((i) => ![...this.#runs].some((h) => h.range.startIndex <= i && i < h.range.endIndex));
    if (freed > 0 && viewer && orphans.length > 0 && this.#failedRuns < MAX_FAILED_RUNS) {
      this.#deps.log.warn('disk full: stored segments evicted, trying again', { rendition: this.rendition.id, freedBytes: freed });
      this.#restart(viewer, orphans, 'no-run');
    } else {
      this.#refuse(error, (i) => inRange(i) || orphans.includes(i));
    }
  }

  // Runs keep failing: the waits end with the error, and so do new requests for a while.
  #refuse(error: SeekwellError, which: (i: number) => boolean): void {
    const count = (this.#refusal?.count ?? 0) + 1;
    const ms = Math.min(REFUSAL_MAX_MS, REFUSAL_FIRST_MS * 2 ** (count - 1));
    this.#refusal = { error, until: this.#deps.options.now() + ms, count };
    this.#deps.log.warn('refusing new runs for a while', { rendition: this.rendition.id, code: error.code, ms });
    this.#store.failWaits(error, this.rendition.id, which);
  }

  #assertNotRefusing(): void {
    const refusal = this.#refusal;
    if (refusal && this.#deps.options.now() < refusal.until) throw refusal.error;
  }

  // A run started for requests left waiting by one that ended; if none may start, they are told why.
  #restart(viewer: Viewer, orphans: number[], reason: RestartReason): void {
    try {
      this.#startRun(viewer, orphans[0]!, reason);
    } catch (error) {
      this.#store.failWaits(error instanceof Error ? error : new Error(String(error)), this.rendition.id, (i) => orphans.includes(i));
    }
  }
}

/** Segments a viewer's window holds: BUFFER_AHEAD_SECONDS in whole segments of nominal length. */
export function windowSegments(plan: Pick<TitlePlan, 'timeline'>, bufferAheadSeconds: number): number {
  return Math.max(1, Math.ceil(bufferAheadSeconds / plan.timeline.segmentSeconds));
}
