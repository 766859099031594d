// Every source audio track becomes an AAC stereo rendition (5.1 and 7.1 downmixed with every
// channel in it, not the front pair alone) and, when it has 6 or more channels, a 5.1 rendition
// too. Each keeps the source's language and title; the source's default track is the default.
import { languageName } from './language.js';
import type { TrackSpan } from './plan.js';
import type { AudioStreamInfo } from './probe.js';

/** AAC-LC: every audio rendition is made of 1024-sample frames at this rate. */
export const AUDIO_SAMPLE_RATE = 48_000;
export const AAC_FRAME_SAMPLES = 1024;
const STEREO_BITRATE = 128_000;
const SURROUND_BITRATE = 384_000;

export interface AudioEncodeSpec {
  sourceIndex: number;
  span: TrackSpan;
  bitrateBps: number;
  sampleRate: number;
  /** 2 (stereo, downmixed if the source has more) or 6 (5.1). */
  channels: 2 | 6;
}

export interface AudioRendition {
  kind: 'audio';
  /** `audio-<n>` (stereo) or `audio-<n>-6ch` (5.1), n counting the source's audio tracks from 1. */
  id: string;
  mode: 'encode';
  spec: AudioEncodeSpec;
  codecs: string;
  bandwidth: number;
  sampleRate: number;
  channels: 2 | 6;
  /** ISO 639 language from the source's tags, if any. */
  language: string | undefined;
  /** What a player's menu shows: the track's title, or its language's name, or "Audio n". */
  label: string;
  /** The rendition a player starts with: the source's default track (or its first), in stereo. */
  isDefault: boolean;
  /** 1-based position of the source track among the file's audio tracks. */
  track: number;
}

export function planAudioRenditions(sources: AudioStreamInfo[], spanOf: (index: number) => TrackSpan): AudioRendition[] {
  const defaultAt = Math.max(0, sources.findIndex((s) => s.isDefault));
  return sources.flatMap((source, at) => {
    const layouts: (2 | 6)[] = source.channels >= 6 ? [2, 6] : [2];
    return layouts.map((channels): AudioRendition => {
      const track = at + 1;
      const bitrateBps = channels === 6 ? SURROUND_BITRATE : STEREO_BITRATE;
      const label = source.title ?? languageName(source.language) ?? `Audio ${track}`;
      return {
        kind: 'audio',
        id: channels === 6 ? `audio-${track}-6ch` : `audio-${track}`,
        mode: 'encode',
        spec: { sourceIndex: source.index, span: spanOf(source.index), bitrateBps, sampleRate: AUDIO_SAMPLE_RATE, channels },
        codecs: 'mp4a.40.2',
        bandwidth: Math.round(bitrateBps * 1.1),
        sampleRate: AUDIO_SAMPLE_RATE,
        channels,
        language: source.language,
        // Both renditions of a multichannel track say which they are.
        label: layouts.length === 1 ? label : channels === 2 ? `${label} (stereo)` : label.includes('5.1') ? label : `${label} (5.1)`,
        isDefault: at === defaultAt && channels === 2,
        track,
      };
    });
  });
}
