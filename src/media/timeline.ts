// A title's timeline: the one place that knows where each segment starts and how long it is, and
// how a URL's segment number relates to a segment's index. Every rendition of a title cuts at
// these boundaries, so a player can switch rendition at any segment. Nothing else does this
// arithmetic. Boundaries are either uniform (every D seconds: encoders put key frames there) or
// the source's own key frames (a stream copy can only start a segment on one).

/** Timescale of the media segments' timestamps (90 kHz: the packager reads MPEG-TS). */
export const TIMESCALE = 90_000;

/** URL segment numbers start at 1; indexes (everything below the URL) at 0. */
export function numberOf(index: number): number {
  return index + 1;
}

export function indexOf(number: number): number {
  return number - 1;
}

const KEY_FRAME_CUT_LEAD_SECONDS = 0.0005;

export class Timeline {
  /** Boundaries in content seconds: segment i covers [bounds[i], bounds[i + 1]). */
  readonly #bounds: readonly number[];
  /** The nominal segment length D the boundaries were planned with (an integer number of seconds). */
  readonly segmentSeconds: number;
  readonly timescale = TIMESCALE;

  /**
   * How far before a boundary cuts are asked for. Key-frame boundaries are source frame times read
   * from the container: a cut asked exactly there could round past the frame (a microsecond list,
   * a 90 kHz timestamp) and land one frame late. Half a millisecond is far below any frame period.
   */
  readonly cutLeadSeconds: number;

  private constructor(bounds: number[], segmentSeconds: number, cutLeadSeconds = 0) {
    this.#bounds = Object.freeze(bounds);
    this.segmentSeconds = segmentSeconds;
    this.cutLeadSeconds = cutLeadSeconds;
  }

  /** Segment i covers [i·D, (i+1)·D); the last one ends at the title's end. */
  static uniform(durationSeconds: number, segmentSeconds: number, count: number): Timeline {
    const bounds = Array.from({ length: count }, (_, i) => i * segmentSeconds);
    bounds.push(durationSeconds);
    return new Timeline(bounds, segmentSeconds);
  }

  /**
   * Boundary n is the first key frame at or after n·D (so a segment lasts at least D, and as long
   * as the source's GOP where that is longer), on the 90 kHz grid; boundary 0 is the title's start. `keyFrames` are
   * content seconds, ascending. A boundary within one frame of the end would leave a segment with
   * no frame in it: there is none.
   */
  static fromKeyFrames(keyFrames: readonly number[], durationSeconds: number, segmentSeconds: number, frameSeconds: number): Timeline {
    const bounds = [0];
    let at = 0;
    for (let n = 1; ; n++) {
      const due = n * segmentSeconds - 1e-6;
      while (at < keyFrames.length && keyFrames[at]! < due) at++;
      const next = keyFrames[at];
      if (next === undefined || next >= durationSeconds - frameSeconds) break;
      // On the 90 kHz grid, as the segments' timestamps and the manifests say it: a start read
      // back from an MPD then names this segment, not the one before it.
      const bound = Math.round(next * TIMESCALE) / TIMESCALE;
      if (bound > bounds.at(-1)!) bounds.push(bound);
      n = Math.max(n, Math.floor(next / segmentSeconds + 1e-6));
    }
    bounds.push(durationSeconds);
    return new Timeline(bounds, segmentSeconds, KEY_FRAME_CUT_LEAD_SECONDS);
  }

  get count(): number {
    return this.#bounds.length - 1;
  }

  get durationSeconds(): number {
    return this.#bounds.at(-1)!;
  }

  /**
   * Media time of content time 0 in every segment's timestamps: one segment length, so the
   * encoder's pre-roll before a cut never needs a negative timestamp. DASH's presentationTimeOffset
   * and HLS's X-TIMESTAMP-MAP both say it.
   */
  get mediaOffsetSeconds(): number {
    return this.segmentSeconds;
  }

  /** True when every segment but the last lasts exactly D (manifests can then say D once). */
  get isUniform(): boolean {
    return this.#bounds.every((b, i) => i === this.count || b === i * this.segmentSeconds);
  }

  /** The longest segment, in seconds. */
  get longestSeconds(): number {
    let longest = 0;
    for (let i = 0; i < this.count; i++) longest = Math.max(longest, this.durationOf(i));
    return longest;
  }

  has(index: number): boolean {
    return Number.isSafeInteger(index) && index >= 0 && index < this.count;
  }

  startOf(index: number): number {
    return this.#bounds[index]!;
  }

  /** End of segment `index`; for index = count, the title's end. */
  endOf(index: number): number {
    return this.#bounds[Math.min(index + 1, this.count)]!;
  }

  durationOf(index: number): number {
    return this.endOf(index) - this.startOf(index);
  }

  /** Content time the cut before segment `index` is asked at (see cutLeadSeconds). */
  cutOf(index: number): number {
    return index === 0 ? 0 : this.startOf(index) - this.cutLeadSeconds;
  }

  /** The segment holding content time `seconds` (clamped to the title). */
  indexAt(seconds: number): number {
    let low = 0;
    let high = this.count - 1;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (this.#bounds[mid]! <= seconds + 1e-9) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  /** The segment whose start is nearest content time `seconds`, and how far from it that is. */
  nearestStart(seconds: number): { index: number; offsetSeconds: number } {
    const at = this.indexAt(seconds);
    const next = Math.min(at + 1, this.count - 1);
    const index = Math.abs(this.startOf(next) - seconds) < Math.abs(this.startOf(at) - seconds) ? next : at;
    return { index, offsetSeconds: seconds - this.startOf(index) };
  }

  /** Content seconds of a segment timestamp (a tfdt in `timescale` ticks of media time). */
  contentSecondsOf(mediaTime: number, timescale: number): number {
    return mediaTime / timescale - this.mediaOffsetSeconds;
  }

  /** Segment `index`'s start as media time in `timescale` ticks (its tfdt). */
  mediaTimeOf(index: number, timescale = this.timescale): number {
    return Math.round((this.startOf(index) + this.mediaOffsetSeconds) * timescale);
  }
}
