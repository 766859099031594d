// Subtitle tracks a title can offer: embedded streams (from ffprobe) and sidecar files next to the
// media (`film.en.srt`, `film.fr.forced.vtt`). Text subtitles are served as WebVTT; pictures
// (PGS, VobSub, DVB) cannot be without OCR and are listed as not offered, with the reason.
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, sep } from 'node:path';

export interface SubtitleStreamInfo {
  index: number;
  codec: string;
  language: string | undefined;
  title: string | undefined;
  isDefault: boolean;
  forced: boolean;
}

/** From one ffprobe -show_streams JSON stream object with codec_type 'subtitle'. */
export function subtitleStreamOf(s: { index: number; codec_name?: string; tags?: Record<string, string>; disposition?: Record<string, number> }): SubtitleStreamInfo {
  const language = tag(s.tags, 'language')?.toLowerCase();
  return {
    index: s.index,
    codec: s.codec_name ?? 'unknown',
    language: language === 'und' ? undefined : language,
    title: tag(s.tags, 'title'),
    isDefault: s.disposition?.default === 1,
    forced: s.disposition?.forced === 1,
  };
}

// Matroska writes `language`, some muxers `LANGUAGE`; blank means absent.
function tag(tags: Record<string, string> | undefined, name: string): string | undefined {
  if (tags === undefined) return undefined;
  const value = tags[name] ?? tags[name.toUpperCase()];
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

export type SubtitleSupport = { offered: true } | { offered: false; reason: string };

// Codecs ffmpeg decodes to text events, which its webvtt encoder writes out.
const TEXT_CODECS = new Set([
  'subrip', 'srt', 'ass', 'ssa', 'mov_text', 'webvtt', 'text', 'microdvd', 'subviewer', 'subviewer1',
  'sami', 'realtext', 'jacosub', 'mpl2', 'pjs', 'vplayer', 'stl',
]);

const BITMAP_CODECS: Readonly<Record<string, string>> = {
  hdmv_pgs_subtitle: 'PGS (Blu-ray)',
  dvd_subtitle: 'VobSub (DVD)',
  dvb_subtitle: 'DVB',
  xsub: 'XSUB (DivX)',
};

const OTHER_REASONS: Readonly<Record<string, string>> = {
  dvb_teletext: 'DVB teletext subtitles are not converted to WebVTT',
  eia_608: 'EIA-608 closed captions are not converted to WebVTT',
  arib_caption: 'ARIB captions are not converted to WebVTT',
  ttml: 'TTML subtitles cannot be read by ffmpeg',
};

/** Text codecs are offered as WebVTT; bitmap and unknown ones are not, with a readable reason. */
export function subtitleSupport(codec: string): SubtitleSupport {
  if (TEXT_CODECS.has(codec)) return { offered: true };
  const bitmap = BITMAP_CODECS[codec];
  if (bitmap !== undefined) {
    return { offered: false, reason: `${bitmap} subtitles are pictures, not text: they cannot be turned into WebVTT without OCR` };
  }
  const reason = OTHER_REASONS[codec] ?? `subtitle codec "${codec.slice(0, 40)}" is not a text format Seekwell can convert to WebVTT`;
  return { offered: false, reason };
}

export interface SidecarSubtitle {
  /** Absolute real path, inside the media directory. */
  path: string;
  format: 'srt' | 'vtt' | 'ass' | 'ssa';
  language: string | undefined;
  /** 'SDH' for a `.sdh` file, else undefined. */
  title: string | undefined;
  forced: boolean;
  isDefault: boolean;
}

const MAX_SIDECARS = 20;
const FORMATS = new Set<SidecarSubtitle['format']>(['srt', 'vtt', 'ass', 'ssa']);
// `en`, `eng`, `pt-BR`, `zh-Hant`: a 2-3 letter primary tag and optional subtags.
const LANGUAGE = /^([a-z]{2,3})((?:-[a-z0-9]{2,8})*)$/i;

/**
 * Sidecar subtitles of one media file: `<base>[.<lang>][.forced|.default|.sdh].<srt|vtt|ass|ssa>`
 * in its folder, where <base> is the media's name without its extension, matched exactly (case
 * matters: `Film.srt` may belong to another file `Film.mkv`); the language, flags and extension
 * match in any case. Only regular files whose real path lies inside mediaDir count (a symlink out
 * is ignored); at most 20, in name order. Never throws: an unreadable folder has none.
 */
export async function findSidecarSubtitles(mediaDir: string, absoluteMediaPath: string): Promise<SidecarSubtitle[]> {
  const folder = dirname(absoluteMediaPath);
  const base = basename(absoluteMediaPath, extname(absoluteMediaPath));
  const root = await realpath(mediaDir).catch(() => mediaDir);
  const names = await readdir(folder).catch(() => [] as string[]);
  const found: SidecarSubtitle[] = [];
  for (const name of names.sort()) {
    if (found.length >= MAX_SIDECARS) break;
    const parsed = parseSidecarName(name, base);
    if (parsed === undefined) continue;
    const real = await regularFileInside(root, join(folder, name));
    if (real !== undefined && real !== absoluteMediaPath) found.push({ path: real, ...parsed });
  }
  return found;
}

function parseSidecarName(name: string, base: string): Omit<SidecarSubtitle, 'path'> | undefined {
  if (!name.startsWith(`${base}.`)) return undefined;
  const parts = name.slice(base.length + 1).split('.');
  const format = parts.pop()!.toLowerCase() as SidecarSubtitle['format'];
  if (!FORMATS.has(format)) return undefined;
  const result: Omit<SidecarSubtitle, 'path'> = { format, language: undefined, title: undefined, forced: false, isDefault: false };
  for (const part of parts) {
    const flag = part.toLowerCase();
    if (flag === 'forced') result.forced = true;
    else if (flag === 'default') result.isDefault = true;
    else if (flag === 'sdh') result.title = 'SDH';
    else {
      const match = LANGUAGE.exec(part);
      if (match === null || result.language !== undefined) return undefined;
      result.language = match[1]!.toLowerCase() + match[2]!;
    }
  }
  return result;
}

async function regularFileInside(root: string, candidate: string): Promise<string | undefined> {
  try {
    const real = await realpath(candidate);
    const rel = relative(root, real);
    if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
    return (await stat(real)).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}
