// Shaka Packager's arguments for one run, reading MPEG-TS from a named pipe. Paths are relative to the run directory (the process's
// cwd) so a WORK_DIR holding ',' or '=' cannot break the stream descriptors.

export interface PackagerStream {
  /** `video` or `audio`: the packager's stream selector. */
  stream: 'video' | 'audio';
  /** Sub-directory of the run directory the rendition's files go to. */
  dir: string;
}

export function packagerArgs(input: string, streams: PackagerStream[], segmentSeconds: number): string[] {
  return [
    // $Time$ (the tfdt) names files the same in every run; $Number$ is a per-run counter.
    ...streams.map((s) => `in=${input},stream=${s.stream},init_segment=${s.dir}/init.mp4,segment_template=${s.dir}/$Time$.m4s`),
    '--segment_duration', String(segmentSeconds),
    '--io_cache_size', '4194304',
    // Zeroed creation times: the first-written init is byte-identical across runs.
    '--use_fake_clock_for_muxer',
    '--quiet',
  ];
}
