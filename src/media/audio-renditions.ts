// Every source audio track becomes an AAC stereo rendition (5.1 and 7.1 downmixed with every
// channel in it, not the front pair alone) and, when it has 6 or more channels, a 5.1 rendition
// too. Each keeps the source's language and title; the source's default track is the default.
// An AAC-LC track that fills the title is copied instead of encoded in its own layout (mono or
// stereo as the stereo rendition, 5.1 as the 5.1 one).
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

/** What a copy of a source track needs: which stream, where it has frames, its frame grid. */
export interface AudioCopySpec {
  sourceIndex: number;
  span: TrackSpan;
  sampleRate: number;
  channels: number;
}

interface AudioRenditionBase {
  kind: 'audio';
  /** `audio-<n>` (stereo) or `audio-<n>-6ch` (5.1), n counting the source's audio tracks from 1. */
  id: string;
  codecs: string;
  bandwidth: number;
  sampleRate: number;
  /** 2 or 6 when encoded; a copy keeps the source's 1, 2 or 6. */
  channels: number;
  /** ISO 639 language from the source's tags, if any. */
  language: string | undefined;
  /** What a player's menu shows: the track's title, or its language's name, or "Audio n". */
  label: string;
  /** The rendition a player starts with: the source's default track (or its first), in stereo. */
  isDefault: boolean;
  /** 1-based position of the source track among the file's audio tracks. */
  track: number;
}

export interface EncodedAudioRendition extends AudioRenditionBase {
  mode: 'encode';
  spec: AudioEncodeSpec;
}

export interface CopiedAudioRendition extends AudioRenditionBase {
  mode: 'copy';
  spec: AudioCopySpec;
}

export type AudioRendition = EncodedAudioRendition | CopiedAudioRendition;

/** `copies(source)` says whether that track is copied (media/copy.ts decides). */
export function planAudioRenditions(sources: AudioStreamInfo[], spanOf: (index: number) => TrackSpan, copies: (source: AudioStreamInfo) => boolean = () => false): AudioRendition[] {
  const defaultAt = Math.max(0, sources.findIndex((s) => s.isDefault));
  return sources.flatMap((source, at) => {
    const layouts: (2 | 6)[] = source.channels >= 6 ? [2, 6] : [2];
    const copied = copies(source) ? (source.channels === 6 ? 6 : 2) : undefined;
    return layouts.map((channels): AudioRendition => {
      const track = at + 1;
      const label = source.title ?? languageName(source.language) ?? `Audio ${track}`;
      const span = spanOf(source.index);
      const bitrateBps = channels === 6 ? SURROUND_BITRATE : STEREO_BITRATE;
      const described = {
        kind: 'audio' as const,
        id: channels === 6 ? `audio-${track}-6ch` : `audio-${track}`,
        codecs: 'mp4a.40.2',
        // A copy's own rate is not probed: the encode's stands in for it.
        bandwidth: Math.round(bitrateBps * 1.1),
        language: source.language,
        // Both renditions of a multichannel track say which they are.
        label: layouts.length === 1 ? label : channels === 2 ? `${label} (stereo)` : label.includes('5.1') ? label : `${label} (5.1)`,
        isDefault: at === defaultAt && channels === 2,
        track,
      };
      if (channels === copied) {
        const { sampleRate, channels: sourceChannels } = source;
        return { ...described, mode: 'copy', spec: { sourceIndex: source.index, span, sampleRate, channels: sourceChannels }, sampleRate, channels: sourceChannels };
      }
      const spec: AudioEncodeSpec = { sourceIndex: source.index, span, bitrateBps, sampleRate: AUDIO_SAMPLE_RATE, channels };
      return { ...described, mode: 'encode', spec, sampleRate: AUDIO_SAMPLE_RATE, channels };
    });
  });
}
