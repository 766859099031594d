// The one model both manifest renderers read. Built from the segment plan (media/plan.ts) before
// anything is encoded, so every manifest lists the whole title from the first response.

export interface VideoRendition {
  kind: 'video';
  /** e.g. `video-720p`; also the name used in URLs and on disk. */
  id: string;
  width: number;
  height: number;
  /** Exact frame rate as a rational, e.g. { num: 30000, den: 1001 }. */
  frameRate: { num: number; den: number };
  /** RFC 6381 codecs string, e.g. `avc1.64001f`. */
  codecs: string;
  /** Peak bits per second (the encoder's maxrate plus container overhead). */
  bandwidth: number;
}

export interface AudioRendition {
  kind: 'audio';
  id: string;
  codecs: string;
  bandwidth: number;
  sampleRate: number;
  channels: number;
  /** BCP 47 / ISO 639 language tag from the source, if it had one. */
  language?: string;
}

export type Rendition = VideoRendition | AudioRendition;

export interface ManifestOptions {
  /**
   * Absolute path every relative URL resolves against. Players reached through a redirect
   * (/media/<path>/stream.mpd -> /sessions/<id>/stream.mpd) may resolve against the first URL:
   * ffmpeg's DASH demuxer does, and 404s on every segment without this.
   */
  baseUrl?: string;
}


export interface ManifestModel {
  /** Source duration in seconds: the title's length as the player sees it. */
  durationSeconds: number;
  /** Nominal segment length D in seconds (an integer). */
  segmentSeconds: number;
  /** Number of segments; URL numbers run 1..segmentCount. Every rendition has all of them. */
  segmentCount: number;
  /** Timescale of the media segments' timestamps (90 kHz: the packager reads MPEG-TS). */
  timescale: number;
  /** Media time of content time 0, in seconds (X = D): media time = content time + X. */
  presentationTimeOffsetSeconds: number;
  /** Undefined for an audio-only title; at least one of video and audio is present. */
  video: VideoRendition | undefined;
  audio: AudioRendition | undefined;
}

/** Duration in seconds of segment `number` (1-based): D for all but the last. */
export function segmentDuration(model: Pick<ManifestModel, 'durationSeconds' | 'segmentSeconds' | 'segmentCount'>, number: number): number {
  if (number < model.segmentCount) return model.segmentSeconds;
  return model.durationSeconds - (model.segmentCount - 1) * model.segmentSeconds;
}

/** The model's renditions, video first. */
export function renditionsOf(model: Pick<ManifestModel, 'video' | 'audio'>): Rendition[] {
  return [model.video, model.audio].filter((r) => r !== undefined);
}
