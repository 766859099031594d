// Storm clients (issue 12): each opens sessions, walks through a title with random jumps, aborts
// some requests, deletes its session and starts over; every answer is timed and judged, and every
// 200 is checked for whole, correctly timed bytes. Used by test/integration/storm.test.ts and
// bench/storm.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import { listBoxes } from '../../src/segment/mp4.js';
import { inspectSegment } from './verify.js';

export interface StormShape {
  /** Segment length and count of every title, and its video frame rate. */
  segmentSeconds: number;
  count: number;
  fps: number;
  /** Longest a request may take (SEGMENT_WAIT_MS + 1 s). */
  maxAnswerMs: number;
  /** The renditions played: a video one and an audio one (`video-360p`, `audio-1`). */
  renditions: { video: string; audio: string };
}

const AAC_FRAME = 1024 / 48_000;

export interface Tally {
  statuses: Map<string, number>;
  problems: string[];
  slowestMs: number;
  checked: number;
  /** Milliseconds each segment request took to answer (200 or not; client aborts left out). */
  segmentMs: number[];
  /** The 502 bodies answered while processes were being killed, counted. */
  failures: Map<string, number>;
}

export function newTally(): Tally {
  return { statuses: new Map(), problems: [], slowestMs: 0, checked: 0, segmentMs: [], failures: new Map() };
}

function count(tally: Tally, key: string): void {
  tally.statuses.set(key, (tally.statuses.get(key) ?? 0) + 1);
}

export const random = (n: number): number => Math.floor(Math.random() * n);

/** Why a segment's bytes are wrong for segment `n` of `rendition`, or undefined. */
function segmentProblem(shape: StormShape, rendition: string, n: number, init: Buffer, bytes: Buffer): string | undefined {
  const D = shape.segmentSeconds;
  const boxes = listBoxes(bytes);
  const sum = boxes.reduce((total, box) => total + (box.end - box.start), 0);
  if (sum !== bytes.length || !boxes.some((b) => b.type === 'moof') || !boxes.some((b) => b.type === 'mdat')) return `boxes do not add up (${sum} of ${bytes.length})`;
  const check = inspectSegment(init, bytes, D);
  const seconds = check.duration / check.timescale;
  const start = (n - 1) * D;
  if (rendition === shape.renditions.audio) {
    if (Math.abs(check.firstPresentation - start) > AAC_FRAME) return `audio starts at ${check.firstPresentation}, planned ${start}`;
    if (Math.abs(seconds - D) > 2 * AAC_FRAME) return `audio lasts ${seconds} s`;
  } else {
    if (Math.abs(check.firstPresentation - start) > 1e-6) return `video starts at ${check.firstPresentation}, planned ${start}`;
    if (check.sampleCount !== D * shape.fps) return `video has ${check.sampleCount} frames`;
  }
  return undefined;
}

export class StormClient {
  readonly #base: string;
  readonly #shape: StormShape;
  readonly #tally: Tally;
  readonly #inits = new Map<string, Buffer>();

  constructor(base: string, shape: StormShape, tally: Tally) {
    this.#base = base;
    this.#shape = shape;
    this.#tally = tally;
  }

  /** Plays until `until` (ms); `faults`: processes are being killed, so a 502 is no fault of the server. */
  async run(until: number, faults: boolean, title: () => string): Promise<void> {
    while (Date.now() < until) {
      const created = await this.#request('POST /api/sessions', `${this.#base}/api/sessions`, faults, { method: 'POST', body: JSON.stringify({ media: title() }) });
      if (!created || created.status !== 201) {
        await sleep(500);
        continue;
      }
      const { id } = JSON.parse(created.body.toString()) as { id: string };
      await this.#play(id, until, faults);
      await this.#request('DELETE', `${this.#base}/api/sessions/${id}`, faults, { method: 'DELETE' });
    }
  }

  async #play(id: string, until: number, faults: boolean): Promise<void> {
    const { count } = this.#shape;
    let n = 1 + random(count);
    const steps = 5 + random(25);
    for (let step = 0; step < steps && Date.now() < until; step++) {
      const abortAfter = Math.random() < 0.15 ? 50 + random(1500) : undefined;
      const { video, audio } = this.#shape.renditions;
      await Promise.all([video, audio].map((r) => this.#segment(id, r, n, faults, abortAfter)));
      const roll = Math.random();
      n = roll < 0.65 ? Math.min(count, n + 1) : 1 + random(count);
    }
  }

  async #segment(id: string, rendition: string, n: number, faults: boolean, abortAfter: number | undefined): Promise<void> {
    const init = await this.#init(id, rendition, faults);
    if (!init) return;
    const url = `${this.#base}/sessions/${id}/segments/${rendition}-${String(n).padStart(5, '0')}.m4s`;
    const answer = await this.#request(`segment ${rendition}`, url, faults, {}, abortAfter, this.#tally.segmentMs);
    if (answer?.status !== 200) return;
    const problem = segmentProblem(this.#shape, rendition, n, init, answer.body);
    this.#tally.checked++;
    if (problem) this.#tally.problems.push(`${url}: ${problem}`);
  }

  // Inits are the title's: the same bytes for every session of it, kept per session here anyway.
  async #init(id: string, rendition: string, faults: boolean): Promise<Buffer | undefined> {
    const key = `${id}/${rendition}`;
    const known = this.#inits.get(key);
    if (known) return known;
    const answer = await this.#request(`init ${rendition}`, `${this.#base}/sessions/${id}/init/${rendition}.mp4`, faults);
    if (answer?.status !== 200) return undefined;
    this.#inits.set(key, answer.body);
    return answer.body;
  }

  // One request, timed and judged; undefined when the client itself aborted it.
  async #request(what: string, url: string, faults: boolean, init: RequestInit = {}, abortAfter?: number, times?: number[]): Promise<{ status: number; body: Buffer } | undefined> {
    const controller = new AbortController();
    const timer = abortAfter === undefined ? undefined : setTimeout(() => controller.abort(), abortAfter);
    const started = Date.now();
    try {
      const response = await fetch(url, { ...init, signal: controller.signal });
      const body = Buffer.from(await response.arrayBuffer());
      const ms = Date.now() - started;
      this.#tally.slowestMs = Math.max(this.#tally.slowestMs, ms);
      times?.push(ms);
      const code = response.status === 200 || response.status === 201 || response.status === 204 ? '' : (JSON.parse(body.toString()) as { code: string }).code;
      count(this.#tally, `${response.status}${code ? ` ${code}` : ''}`);
      if (ms > this.#shape.maxAnswerMs) this.#tally.problems.push(`${what}: answered after ${ms} ms`);
      const retryable = response.status === 503 && response.headers.get('retry-after') !== null;
      const killed = faults && response.status === 502 && code === 'PIPELINE_FAILED';
      if (killed) this.#tally.failures.set(body.toString(), (this.#tally.failures.get(body.toString()) ?? 0) + 1);
      if (response.status >= 300 && !retryable && !killed) this.#tally.problems.push(`${what} ${url}: ${response.status} ${body.toString().slice(0, 200)}`);
      return { status: response.status, body };
    } catch (error) {
      if (controller.signal.aborted) {
        count(this.#tally, 'aborted by client');
        return undefined;
      }
      this.#tally.problems.push(`${what} ${url}: ${String(error)}`);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}
