// A title's text renditions: each subtitle track is converted to WebVTT once, on its first
// request (a few seconds of ffmpeg reading the file at most), kept in memory as cues on the
// title's content timeline, and served whole (DASH) or cut at the timeline's boundaries (HLS).
import { SeekwellError } from '../errors.js';
import type { Logger } from '../log.js';
import type { TextRendition, TitlePlan } from '../media/plan.js';
import { extractEmbeddedWebVtt, extractSidecarWebVtt, type ExtractOptions } from '../pipeline/subtitle-extract.js';
import { abortable } from '../segment/store.js';
import { parseWebVtt, renderWebVtt, renderWebVttSegment, shiftCues, type WebVttCue } from '../segment/webvtt.js';

/** Longest a conversion may take: a 2-hour MKV is read end to end in well under this. */
const CONVERT_TIMEOUT_MS = 120_000;

export interface TextTrackDeps {
  plan: TitlePlan;
  ffmpegPath: string;
  launcher: string[];
  log: Logger;
}

export class TextTracks {
  readonly #deps: TextTrackDeps;
  readonly #cues = new Map<string, Promise<WebVttCue[]>>();
  readonly #controller = new AbortController();

  constructor(deps: TextTrackDeps) {
    this.#deps = deps;
  }

  /** The whole track as one WebVTT file, cue times in content seconds. */
  async whole(rendition: TextRendition, signal: AbortSignal): Promise<string> {
    return renderWebVtt(await this.#cuesOf(rendition, signal));
  }

  /** The cues overlapping segment `index`, with the X-TIMESTAMP-MAP of the media timeline. */
  async segment(rendition: TextRendition, index: number, signal: AbortSignal): Promise<string> {
    const cues = await this.#cuesOf(rendition, signal);
    const { timeline } = this.#deps.plan;
    // Cue time 0 is content time 0, whose media time (every segment's tfdt scale) is the offset.
    const range = { startSeconds: timeline.startOf(index), endSeconds: timeline.endOf(index) };
    return renderWebVttSegment(cues, range, timeline.mediaTimeOf(0, 90_000));
  }

  /** Stops conversions in flight. Idempotent. */
  close(reason: string): void {
    this.#controller.abort(new SeekwellError('SESSION_CLOSED', `closed: ${reason}`));
  }

  // One conversion per track, shared by every request; a failed one is tried again next time.
  #cuesOf(rendition: TextRendition, signal: AbortSignal): Promise<WebVttCue[]> {
    let pending = this.#cues.get(rendition.id);
    if (!pending) {
      pending = this.#convert(rendition);
      this.#cues.set(rendition.id, pending);
      pending.catch((error: unknown) => {
        this.#cues.delete(rendition.id);
        this.#deps.log.error('subtitle conversion failed', { rendition: rendition.id, error });
      });
    }
    return abortable(pending, signal);
  }

  async #convert(rendition: TextRendition): Promise<WebVttCue[]> {
    const { plan, ffmpegPath, launcher } = this.#deps;
    const options: ExtractOptions = { ffmpegPath, launcher, timeoutMs: CONVERT_TIMEOUT_MS, signal: this.#controller.signal };
    const source = rendition.spec.source;
    if (source.kind === 'sidecar') return parseWebVtt(await extractSidecarWebVtt(source.path, source.format, options));
    // Embedded cues carry the file's absolute timestamps; the title's time 0 is its earliest track.
    const text = await extractEmbeddedWebVtt(source.input, source.demuxer, source.streamIndex, options);
    return shiftCues(parseWebVtt(text), -plan.sourceStartSeconds);
  }
}
