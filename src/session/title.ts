// One title: a source file with one set of encoding settings. Uses the segment store every
// rendition shares (opened by the registry; it outlives the title) and owns one production per
// rendition, made on that rendition's first request (a rendition nobody asks for costs nothing).
// A viewer watches one rendition of each kind: asking for another video (a quality switch) or
// audio (a language switch) rendition leaves the previous one (once it has not been asked for in
// a while), whose runs then stop unless another viewer or a waiting request still needs them.
import { SeekwellError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { findRendition, type EncodedRendition, type Rendition, type TitlePlan } from '../media/plan.js';
import type { MediaSource } from '../media/source.js';
import type { StoreBudget } from '../segment/budget.js';
import type { SegmentStore, StoredSegment } from '../segment/store.js';
import type { EncodeSlots } from './encode-slots.js';
import type { EncoderEstimator } from './estimator.js';
import { RenditionProduction, windowSegments, type RunHandle, type TitleOptions, type Viewer } from './production.js';
import { TextTracks } from './text-tracks.js';

export type { RunHandle, TitleOptions, Viewer } from './production.js';

export interface TitleDeps {
  /** The title's store, already open: one per title key in a process, kept when the title closes. */
  store: SegmentStore;
  runsDir: string;
  options: TitleOptions;
  /** Cold start and speed per rendition id, shared by every title on this machine. */
  estimatorFor: (renditionId: string) => EncoderEstimator;
  budget: StoreBudget;
  /** MAX_VIDEO_ENCODES, shared by every title. */
  slots: Pick<EncodeSlots, 'claim'>;
  /** The disk filled up: evicts stored segments, resolves with the bytes freed. */
  makeRoom: () => Promise<number>;
  /** True while encodes fall behind (session/load.ts). */
  strained: () => boolean;
  metrics: Metrics;
  log: Logger;
}

/** A rendition a viewer has not asked for this long, while asking for another of its kind, is left. */
export const SWITCH_GRACE_MS = 10_000;

export class Title {
  readonly key: string;
  readonly source: MediaSource;
  readonly plan: TitlePlan;
  readonly store: SegmentStore;
  /** The text renditions, converted on first request. */
  readonly text: TextTracks;
  readonly #deps: TitleDeps;
  readonly #productions = new Map<string, RenditionProduction>();
  /** When each viewer last asked for each rendition (ms). */
  readonly #asked = new WeakMap<Viewer, Map<string, number>>();
  #seq = 0;

  constructor(key: string, source: MediaSource, plan: TitlePlan, deps: TitleDeps) {
    this.key = key;
    this.source = source;
    this.plan = plan;
    this.#deps = deps;
    this.store = deps.store;
    this.text = new TextTracks({ plan, ffmpegPath: deps.options.ffmpegPath, launcher: deps.options.launcher, log: deps.log });
  }

  get windowSegments(): number {
    return windowSegments(this.plan, this.#deps.options.bufferAheadSeconds);
  }

  /** Productions started so far (renditions somebody asked for). */
  get productions(): RenditionProduction[] {
    return [...this.#productions.values()];
  }

  get runs(): RunHandle[] {
    return this.productions.flatMap((p) => p.runs);
  }

  /** The runs `viewer` is attached to, one per rendition it watches. */
  runsOf(viewer: Viewer): RunHandle[] {
    return this.productions.flatMap((p) => p.runOf(viewer) ?? []);
  }

  rendition(renditionId: string): Rendition | undefined {
    return findRendition(this.plan, renditionId);
  }

  /** Resolves with a segment once it is on disk, making it if needed. */
  async segment(viewer: Viewer, rendition: EncodedRendition, index: number, signal: AbortSignal): Promise<StoredSegment> {
    const production = this.#watch(viewer, rendition);
    const segment = await production.segment(viewer, index, signal);
    this.#deps.budget.touch(this.store, rendition.id, index);
    return segment;
  }

  /** Resolves with a rendition's init segment, starting a run at `startIndex` if none is alive. */
  init(viewer: Viewer, rendition: EncodedRendition, startIndex: number, signal: AbortSignal): Promise<Buffer> {
    return this.#watch(viewer, rendition).init(viewer, startIndex, signal);
  }

  /** A viewer leaves (idle or closed): runs nobody watches or waits on are stopped. */
  detach(viewer: Viewer): void {
    for (const production of this.#productions.values()) production.detach(viewer);
  }

  reconcile(): void {
    for (const production of this.#productions.values()) production.reconcile();
  }

  /** True for segments a viewer is about to need (its window) or is waiting for: not evictable. */
  isPinned(renditionId: string, index: number): boolean {
    return this.#productions.get(renditionId)?.isPinned(index) ?? this.store.isWaited(renditionId, index);
  }

  /** Resolves when every run started so far has ended. */
  async settled(): Promise<void> {
    await Promise.all(this.productions.map((p) => p.settled()));
  }

  /**
   * Stops every run and fails the requests still waiting. The segments stay on disk (and in the
   * budget): the next process, or the next session on this file, is served from them. Idempotent,
   * never rejects.
   */
  async close(reason: string): Promise<void> {
    this.text.close(reason);
    await Promise.all(this.productions.map((p) => p.close(reason)));
    this.store.failWaits(new SeekwellError('SESSION_CLOSED', `closed: ${reason}`));
  }

  // The viewer now watches this rendition. Another of the same kind it has not asked for in a
  // while is left: a player that switched quality or language no longer needs it. Not at once: a
  // client reading several renditions together (ffmpeg reads every one) alternates between them,
  // and ABR players finish a request on the old quality after asking for the new one.
  #watch(viewer: Viewer, rendition: EncodedRendition): RenditionProduction {
    const now = this.#deps.options.now();
    let asked = this.#asked.get(viewer);
    if (!asked) this.#asked.set(viewer, (asked = new Map()));
    asked.set(rendition.id, now);
    for (const other of this.#productions.values()) {
      const last = asked.get(other.rendition.id) ?? 0;
      if (other.rendition.kind === rendition.kind && other.rendition.id !== rendition.id && other.isWatchedBy(viewer)
        && now - last > SWITCH_GRACE_MS) other.detach(viewer);
    }
    let production = this.#productions.get(rendition.id);
    if (!production) {
      const { options, estimatorFor, metrics, log, runsDir, slots, makeRoom, strained } = this.#deps;
      production = new RenditionProduction(rendition, {
        store: this.store, source: this.source, plan: this.plan, runsDir, options,
        estimator: estimatorFor(rendition.id), metrics, log: log.child({ rendition: rendition.id }),
        reconcileTitle: () => this.reconcile(), slots, makeRoom, strained,
      }, () => `${this.key.slice(0, 8)}-${++this.#seq}`);
      this.#productions.set(rendition.id, production);
    }
    return production;
  }
}
