// One run of one rendition: ffmpeg -> Shaka Packager from content index k to the end (or a limit),
// writing into its own directory. Reports its init and each complete, validated segment to a sink,
// and ends with both processes gone and its directory removed.
import { constants } from 'node:fs';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import { setPriority } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { SeekwellError } from '../errors.js';
import { DISK_LOW_BYTES, freeBytes, megabytes, mentionsDiskFull } from '../segment/disk.js';
import type { Logger } from '../log.js';
import type { EncodedRendition, TitlePlan } from '../media/plan.js';
import { startChild, type ChildExit, type SupervisedChild } from './child.js';
import { ffmpegArgs, type RunRange } from './ffmpeg-args.js';
import { cuesFlagFile, packagerArgs, packagerCues } from './packager-args.js';
import { numberSegment, placeSegment } from './segment-check.js';
import { SegmentWatcher, type WatchedSegment } from './segment-watcher.js';

/** Nice value of audio encoders (0 is normal, 19 the lowest priority). */
const AUDIO_NICE = 10;

export interface RunSpec {
  id: string;
  dir: string;
  input: string;
  demuxer: string;
  plan: TitlePlan;
  rendition: EncodedRendition;
  range: RunRange;
  ffmpegPath: string;
  packagerPath: string;
  /** Command prefix tying each child's life to the server's (see binaries.ts). */
  launcher: string[];
  log: Logger;
  /** Milliseconds clock (injectable for tests). */
  now: () => number;
}

/** Where a run hands its output. `segment` takes ownership of the file (moves it) before resolving. */
export interface RunSink {
  init(bytes: Buffer): void;
  segment(index: number, file: string): Promise<void>;
  /** `run.producedIndex` is now stored: time to decide on pausing. */
  advanced(run: PipelineRun): void;
}

export type RunEnd =
  | { kind: 'finished' }
  | { kind: 'stopped'; reason: string }
  | { kind: 'failed'; error: SeekwellError };

const STOP_GRACE_MS = 2000;
/** Speed is measured over the progress reports (every 0.5 s) of the last few seconds. */
const SPEED_WINDOW_MS = 3000;
const SPEED_MIN_SPAN_MS = 900;
const FIFO_NAME = 'input.ts';
const CUES_FILE = 'cues.flags';
/** The packager writes the rendition's init and segments here, inside the run's directory. */
const OUTPUT_DIR = 'out';

export class PipelineRun {
  readonly id: string;
  readonly range: RunRange;
  readonly ended: Promise<RunEnd>;
  readonly renditionId: string;
  /** Output position of the encoder in content seconds, from ffmpeg's progress reports. */
  positionSeconds: number;
  readonly #spec: RunSpec;
  readonly #sink: RunSink;
  #watcher: SegmentWatcher | undefined;
  readonly #pending = new Set<Promise<void>>();
  /** Highest content index produced so far; startIndex - 1 before the first. */
  #produced: number;
  readonly startedAt: number;
  /** Seconds from start to the first segment: this machine's cold start for this rendition. */
  firstSegmentSeconds: number | undefined;
  #pausedAt: number | undefined;
  /** Recent (time, position) progress reports of the running encoder, for its speed. */
  #progress: { at: number; position: number }[] = [];
  #stopReason: string | undefined;
  #ffmpeg!: SupervisedChild;
  #packager!: SupervisedChild;

  private constructor(spec: RunSpec, sink: RunSink) {
    this.id = spec.id;
    this.range = spec.range;
    this.renditionId = spec.rendition.id;
    this.positionSeconds = spec.plan.timeline.startOf(spec.range.startIndex);
    this.#produced = spec.range.startIndex - 1;
    this.#spec = spec;
    this.#sink = sink;
    this.startedAt = spec.now();
    this.ended = this.#launch();
  }

  static start(spec: RunSpec, sink: RunSink): PipelineRun {
    return new PipelineRun(spec, sink);
  }

  get pids(): { ffmpeg: number | undefined; packager: number | undefined } {
    return { ffmpeg: this.#ffmpeg?.pid, packager: this.#packager?.pid };
  }

  /** Highest index produced; startIndex - 1 before the first. */
  get producedIndex(): number {
    return this.#produced;
  }

  get paused(): boolean {
    return this.#pausedAt !== undefined;
  }

  /**
   * Content seconds encoded per wall second over the last few progress reports while running
   * (not since the start: that would count the cold start). Until that span is long enough, the
   * first segment gives a lower bound: one segment of content in at most the cold start.
   * Undefined before the first segment.
   */
  get speed(): number | undefined {
    const first = this.#progress[0];
    const last = this.#progress.at(-1);
    if (first && last && last.at - first.at >= SPEED_MIN_SPAN_MS) {
      return (last.position - first.position) / ((last.at - first.at) / 1000);
    }
    if (this.firstSegmentSeconds === undefined) return undefined;
    return this.#spec.plan.timeline.durationOf(this.range.startIndex) / Math.max(this.firstSegmentSeconds, 0.05);
  }

  /**
   * Stops the encoder's process group (SIGSTOP): no CPU at all while paused. The packager just
   * blocks on the empty pipe and survives pauses of any length (PIPELINE.md: 90 s measured).
   */
  pause(): void {
    if (this.#pausedAt !== undefined || !this.#ffmpeg || this.#ffmpeg.hasExited || this.#stopReason) return;
    this.#ffmpeg.signal('SIGSTOP');
    this.#pausedAt = this.#spec.now();
    this.#spec.log.debug('run paused', { run: this.id, produced: this.producedIndex });
  }

  resume(): void {
    if (this.#pausedAt === undefined) return;
    this.#ffmpeg.signal('SIGCONT');
    this.#pausedAt = undefined;
    this.#progress = [];
    this.#spec.log.debug('run resumed', { run: this.id, produced: this.producedIndex });
  }

  /** Stops the run; its files are discarded. Idempotent, never rejects. */
  async stop(reason: string): Promise<RunEnd> {
    this.#stopReason ??= reason;
    // Packager first: killed ffmpeg means EOF, and EOF makes the packager flush a truncated segment.
    this.#packager?.signal('SIGKILL');
    void this.#ffmpeg?.terminate(STOP_GRACE_MS);
    return this.ended;
  }

  // Never rejects: whatever goes wrong ends as a 'failed' run with both processes gone.
  async #launch(): Promise<RunEnd> {
    const { dir, rendition, log } = this.#spec;
    let end: RunEnd;
    try {
      await mkdir(path.join(dir, OUTPUT_DIR), { recursive: true });
      this.#watcher = new SegmentWatcher(path.join(dir, OUTPUT_DIR), {
        onInit: (bytes) => this.#sink.init(bytes),
        onSegment: (segment) => this.#onSegment(segment),
      });
      this.#watcher.start();
      end = await this.#runProcesses({ stream: rendition.kind, dir: OUTPUT_DIR });
    } catch (error) {
      this.#packager?.signal('SIGKILL');
      this.#ffmpeg?.signal('SIGKILL');
      await Promise.all([this.#packager?.exited, this.#ffmpeg?.exited]);
      const message = error instanceof Error ? error.message : String(error);
      const full = mentionsDiskFull(message);
      const free = full ? await freeBytes(path.dirname(dir)).catch(() => 0) : 0;
      end = { kind: 'failed', error: full
        ? new SeekwellError('INSUFFICIENT_STORAGE', `WORK_DIR is full (${megabytes(free)} free): could not start the pipeline`, { cause: error, details: { freeBytes: free } })
        : new SeekwellError('PIPELINE_FAILED', `could not run the pipeline: ${message}`, { cause: error }) };
    }
    await this.#watcher?.sweep();
    this.#watcher?.close();
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    log.info('run ended', { run: this.id, rendition: rendition.id, end: end.kind, ...('reason' in end ? { reason: end.reason } : {}) });
    return end;
  }

  async #runProcesses(stream: { stream: 'video' | 'audio'; dir: string }): Promise<RunEnd> {
    const spec = this.#spec;
    // A named pipe, not Node's stdio 'pipe' (a socketpair: the packager cannot open /dev/stdin on
    // it). The server opens it read-write first and keeps that descriptor: neither process can
    // block in open(), and when ffmpeg dies the packager sees no EOF (EOF would make it flush a
    // truncated segment under a valid name). EOF is given only after ffmpeg exits cleanly.
    const fifo = path.join(spec.dir, FIFO_NAME);
    await execa('mkfifo', ['-m', '600', fifo]);
    const hold = await open(fifo, constants.O_RDWR);
    try {
      if (this.#stopReason) return { kind: 'stopped', reason: this.#stopReason };
      const cues = packagerCues(spec.plan, spec.rendition, spec.range);
      if (cues.length > 0) await writeFile(path.join(spec.dir, CUES_FILE), cuesFlagFile(cues));
      const args = packagerArgs(FIFO_NAME, [stream], spec.plan.timeline.segmentSeconds, cues.length > 0 ? CUES_FILE : undefined);
      this.#packager = startChild('packager', spec.launcher, spec.packagerPath, args, {
        cwd: spec.dir,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      this.#ffmpeg = startChild(
        'ffmpeg',
        spec.launcher,
        spec.ffmpegPath,
        ffmpegArgs(spec.input, spec.demuxer, spec.plan, spec.rendition, spec.range),
        { stdio: ['ignore', hold.fd, 'pipe'] },
        (line) => this.#onProgress(line),
      );
      if (spec.rendition.kind === 'audio') yieldCpu(this.#ffmpeg.pid);
      spec.log.info('run started', { run: this.id, rendition: spec.rendition.id, range: spec.range, ffmpeg: this.#ffmpeg.pid, packager: this.#packager.pid });
      // A packager that dies leaves ffmpeg blocked on a full pipe: end it too. Whichever ended
      // first on its own is the one that failed (the other was ended by us).
      let first: SupervisedChild | undefined;
      void this.#packager.exited.then(() => {
        first ??= this.#packager;
        this.#ffmpeg.signal('SIGKILL');
      });
      const ffmpegExit = await this.#ffmpeg.exited;
      first ??= this.#ffmpeg;
      const clean = ffmpegExit.code === 0 && !this.#stopReason;
      if (!clean) this.#packager.signal('SIGKILL');
      await hold.close();
      const packagerExit = await this.#packager.exited;
      if (this.#stopReason) return { kind: 'stopped', reason: this.#stopReason };
      if (clean && packagerExit.code === 0) return { kind: 'finished' };
      return { kind: 'failed', error: await this.#failure(first, ffmpegExit, packagerExit) };
    } finally {
      await hold.close().catch(() => {});
    }
  }

  // The process that failed first, and why; a write that failed on a nearly full disk is
  // INSUFFICIENT_STORAGE (the title then makes room or stops retrying), not an encoder fault.
  async #failure(first: SupervisedChild, ffmpegExit: ChildExit, packagerExit: ChildExit): Promise<SeekwellError> {
    const culprit = ffmpegExit.code === 0 ? this.#packager : first;
    const exit = culprit === this.#ffmpeg ? ffmpegExit : packagerExit;
    const how = exit.spawnError ? exit.spawnError.message : exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
    const stderr = culprit.stderrTail().slice(-2000);
    if (mentionsDiskFull(stderr)) {
      const free = await freeBytes(this.#spec.dir).catch(() => 0);
      if (free < DISK_LOW_BYTES) {
        return new SeekwellError('INSUFFICIENT_STORAGE', `WORK_DIR is full (${megabytes(free)} free): ${culprit.name} could not write`, { details: { stderr, freeBytes: free } });
      }
    }
    // A signal we did not send (the OOM killer, an operator): the recipe is not at fault.
    return new SeekwellError('PIPELINE_FAILED', `${culprit.name} failed (${how})`, { details: { stderr, killed: exit.signal !== null && !exit.spawnError } });
  }

  #onProgress(line: string): boolean {
    const match = /^out_time_us=(\d+)$/.exec(line);
    if (match) {
      // With -copyts, ffmpeg reports out_time from the run's first output timestamp (the cut).
      const position = this.#spec.plan.timeline.startOf(this.range.startIndex) + Number(match[1]) / 1e6;
      this.positionSeconds = Math.max(this.positionSeconds, position);
      const at = this.#spec.now();
      this.#progress.push({ at, position: this.positionSeconds });
      while (this.#progress.length > 2 && at - this.#progress[0]!.at > SPEED_WINDOW_MS) this.#progress.shift();
    }
    return /^[a-z_0-9]+=/.test(line);
  }

  // Files from outside this run's range (a limited run's EOF flush, a copy's partial segment
  // before its cut) and files off the timeline are dropped (segment-check.ts).
  #onSegment(segment: WatchedSegment): void {
    const { plan, rendition } = this.#spec;
    const { index, problem } = placeSegment(plan.timeline, rendition, this.range, segment.time, segment.index);
    if (problem) {
      this.#spec.log.debug('segment dropped', { run: this.id, rendition: rendition.id, time: segment.time, problem });
      return;
    }
    // Copies are renumbered (their bytes are then the same from any run). Encoded segments differ by
    // run anyway and are handed over at once, as before: storing them even one microtask later
    // turned waits into restarts in the encode tests (demand, renditions), a race to look into.
    const stored = rendition.mode === 'copy'
      ? numberSegment(segment.path, segment.index.sequenceNumberOffset, index).then(() => this.#sink.segment(index, segment.path))
      : this.#sink.segment(index, segment.path);
    const accepted = stored.then(() => {
      if (index <= this.#produced) return;
      this.#produced = index;
      this.firstSegmentSeconds ??= (this.#spec.now() - this.startedAt) / 1000;
      this.#sink.advanced(this);
    }, (error: unknown) => {
      this.#spec.log.error('segment not stored', { run: this.id, rendition: rendition.id, index, error });
    });
    this.#pending.add(accepted);
    void accepted.finally(() => this.#pending.delete(accepted));
  }
}

/**
 * Audio encoders run at a lower CPU priority: they race a full window ahead at 20-30x real time
 * the moment they start, and on 2 cores that burst took half the CPU from the video encoder making
 * the same viewer's first segment (measured: video segment 1 at 1.42 s after the run started with
 * audio beside it, 0.66-0.9 s without). Niced, they still run far faster than real time. Called
 * right after spawn, before ffmpeg starts its threads (which inherit it).
 */
function yieldCpu(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    setPriority(pid, AUDIO_NICE);
  } catch {
    // Already gone: its exit is handled where it is awaited.
  }
}
