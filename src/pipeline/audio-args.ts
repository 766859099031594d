// One audio rendition's filters and encoder settings. AAC frames are pinned to one 1024-sample
// grid anchored at content time 0 whatever the run's start, so runs splice exactly.
import { AAC_FRAME_SAMPLES, type AudioEncodeSpec } from '../media/plan.js';
import { seconds, type RunTimes } from './ffmpeg-args.js';

/** AAC frames encoded before the cut and dropped: they settle the encoder so the splice is clean. */
const AAC_PREROLL_FRAMES = 3;

/**
 * Does the run's output range hold any of the source's audio? If not, it encodes silence: a
 * source with no packets in range gives ffmpeg nothing to anchor the audio timeline on.
 */
export function audioOverlaps(audio: AudioEncodeSpec, times: RunTimes): boolean {
  return audio.span.startSeconds * 1_000_000 < times.endUs && audio.span.endSeconds * 1_000_000 > times.cutUs;
}

// Silence after the source's audio ends (apad), or instead of it where the run has none. More
// channels than the rendition's are downmixed by ffmpeg's rematrix (-ac): centre and surrounds
// mixed in at -3 dB, never dropped.
export function audioArgs(audio: AudioEncodeSpec, times: RunTimes, silence: boolean): string[] {
  const rate = audio.sampleRate;
  const startSamples = Math.round((times.startUs * rate) / 1_000_000);
  const cutSamples = Math.round((times.cutUs * rate) / 1_000_000);
  let firstPts = startSamples;
  let drop = 1; // the encoder's priming packet
  if (times.cut) {
    firstPts = startSamples + Math.floor(cutSamples / AAC_FRAME_SAMPLES) * AAC_FRAME_SAMPLES - AAC_PREROLL_FRAMES * AAC_FRAME_SAMPLES;
    // Off the grid, the frame straddling the cut belongs to the previous segment: drop it too.
    drop = 1 + AAC_PREROLL_FRAMES + (cutSamples % AAC_FRAME_SAMPLES === 0 ? 0 : 1);
  }
  // Every run ends its audio input at the same instant, so the encoder makes the same frames
  // (whole AAC frames: the last one ends on the grid at or after the title's end).
  const end = `atrim=end=${seconds(times.startUs + times.endUs)}`;
  const padded = Math.round(audio.span.endSeconds * 1_000_000) < times.endUs;
  // first_pts is in the filter's input rate, hence two stages (one stage trimmed 3.5 s at 44.1 kHz).
  const filter = silence
    ? `asetpts=PTS+${firstPts},${end}`
    : `aresample=${rate},aresample=async=1:first_pts=${firstPts}${padded ? ',apad' : ''},${end}`;
  return [
    '-c:a', 'aac', '-ar', String(rate), '-ac', String(audio.channels), '-b:a', String(audio.bitrateBps),
    '-af', filter,
    '-bsf:a', `noise=drop=lt(n\\,${drop})`,
  ];
}
