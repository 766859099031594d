// A copied rendition's output arguments: the source's own packets, not decoded. Segments of a copy
// start on source key frames (the timeline's boundaries are key frames), so runs starting at any
// segment write the same packets with the same timestamps: byte-identical segments.
import type { AudioCopySpec, VideoCopySpec } from '../media/plan.js';

export function videoCopyArgs(video: VideoCopySpec): string[] {
  return ['-map', `0:${video.sourceIndex}`, '-c:v', 'copy'];
}

/** Copied audio keeps its own timestamps: media/copy.ts only copies tracks whose clock is exact. */
export function audioCopyArgs(audio: AudioCopySpec): string[] {
  return ['-map', `0:${audio.sourceIndex}`, '-c:a', 'copy'];
}
