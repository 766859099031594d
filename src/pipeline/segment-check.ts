// What a run does with each complete file the packager writes: find its place on the title's
// timeline (by its start time), refuse it unless it starts on a boundary and lasts what the
// timeline says, and renumber its fragment so the same segment is the same bytes from any run.
import { open } from 'node:fs/promises';
import { frameSecondsOf, type EncodedRendition } from '../media/plan.js';
import { numberOf, type Timeline } from '../media/timeline.js';
import type { SegmentIndex } from '../segment/mp4.js';
import type { RunRange } from './ffmpeg-args.js';

/** A copied video may end this much before the title (media/copy.ts): its last segment is that much short. */
const COPY_END_SLACK_SECONDS = 0.5;

/**
 * The content index of a file starting at media time `time` (in the file's timescale), and why it
 * is refused, if it is: off the timeline's boundaries by more than a frame, outside the run's
 * range, or not as long as the timeline says (durationSlack).
 */
export function placeSegment(timeline: Timeline, rendition: EncodedRendition, range: RunRange, time: number, index: Pick<SegmentIndex, 'timescale' | 'duration'>): { index: number; problem: string | undefined } {
  const { index: at, offsetSeconds } = timeline.nearestStart(timeline.contentSecondsOf(time, index.timescale));
  const frame = frameSecondsOf(rendition);
  const duration = index.duration / index.timescale;
  const expected = timeline.durationOf(at);
  const slack = durationSlack(rendition, at === timeline.count - 1, frame);
  const problem =
    Math.abs(offsetSeconds) > frame + 0.001 ? 'off the segment grid'
    : at < range.startIndex || at >= range.endIndex ? 'outside the run'
    : duration - expected > slack.over + 0.001 || expected - duration > slack.under + 0.001 ? `${duration.toFixed(3)} s long, expected ${expected.toFixed(3)} s`
    : undefined;
  return { index: at, problem };
}

/**
 * How far a segment may run past (over) or fall short of (under) the timeline's length. One frame
 * either way, and: the AAC encoder flushes one more frame after its input ends (the title's last
 * audio segment may run two frames past the plan); copied audio is cut at its own frames on both
 * sides of a segment, and its first segment holds the encoder-delay frame from before time 0; a
 * copied video may end a little before the title.
 */
function durationSlack(rendition: EncodedRendition, last: boolean, frame: number): { over: number; under: number } {
  if (rendition.kind === 'audio') {
    const wide = last || rendition.mode === 'copy';
    return { over: wide ? 2 * frame : frame, under: rendition.mode === 'copy' ? 2 * frame : frame };
  }
  return { over: frame, under: last && rendition.mode === 'copy' ? COPY_END_SLACK_SECONDS + frame : frame };
}

/**
 * The packager numbers its fragments from 1 in every run: renumbered by the segment's place in the
 * title, a segment is the same bytes whichever run made it (for a copy, byte-identical).
 */
export async function numberSegment(file: string, sequenceNumberOffset: number | undefined, index: number): Promise<void> {
  if (sequenceNumberOffset === undefined) return;
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(numberOf(index));
  const handle = await open(file, 'r+');
  try {
    await handle.write(bytes, 0, 4, sequenceNumberOffset);
  } finally {
    await handle.close();
  }
}
