// Which containers Seekwell reads, and how. An allowlist: playlist-type demuxers (hls, dash,
// concat, image sequences, anything that opens other URLs) are never in it, so ffprobe and ffmpeg
// refuse them through -format_whitelist even if a file's extension lies.

/** ffprobe's format_name -> the demuxer we force with `-f`, and whether it needs a remux first. */
const CONTAINERS: Record<string, { demuxer: string; remux: boolean }> = {
  'mov,mp4,m4a,3gp,3g2,mj2': { demuxer: 'mov', remux: false },
  'matroska,webm': { demuxer: 'matroska', remux: false },
  avi: { demuxer: 'avi', remux: false },
  flv: { demuxer: 'flv', remux: false },
  ogg: { demuxer: 'ogg', remux: false },
  asf: { demuxer: 'asf', remux: false },
  mxf: { demuxer: 'mxf', remux: false },
  nut: { demuxer: 'nut', remux: false },
  // Audio-only files: FLAC and WAV seek exactly (seek tables, fixed frames).
  flac: { demuxer: 'flac', remux: false },
  wav: { demuxer: 'wav', remux: false },
  // ffmpeg's -ss is not key-frame accurate on these (PIPELINE.md): remuxed to MKV once at ingest.
  mpegts: { demuxer: 'mpegts', remux: true },
  mpeg: { demuxer: 'mpeg', remux: true },
  h264: { demuxer: 'h264', remux: true },
  hevc: { demuxer: 'hevc', remux: true },
  mpegvideo: { demuxer: 'mpegvideo', remux: true },
  // MP3 seeks by estimate (bitrate or a coarse TOC), raw ADTS AAC has no index at all.
  mp3: { demuxer: 'mp3', remux: true },
  aac: { demuxer: 'aac', remux: true },
};

/** The demuxer names passed to -format_whitelist. */
export const FORMAT_WHITELIST = [...new Set(Object.values(CONTAINERS).map((c) => c.demuxer))].join(',');

export function containerOf(formatName: string): { demuxer: string; remux: boolean } | undefined {
  return CONTAINERS[formatName];
}

const PLAYLIST_MAGIC = ['#EXTM3U', 'ffconcat', '<?xml', '<MPD', 'file '];

/** True when the first bytes of a file look like a playlist or concat list rather than media. */
export function looksLikePlaylist(head: Buffer): boolean {
  const text = head.toString('utf8').replace(/^\uFEFF/, '').trimStart();
  return PLAYLIST_MAGIC.some((magic) => text.startsWith(magic));
}
