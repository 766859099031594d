// The playable files under MEDIA_DIR, for GET /api/media.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { resolveMediaPath } from './media-path.js';
import type { MediaInfo, ProbeMedia } from './probe.js';
import { findSidecarSubtitles, subtitleSupport, type SidecarSubtitle } from './subtitles.js';

export interface LibraryEntry {
  path: string;
  durationSeconds: number;
  /** Null for an audio-only file. Width and height are the stored picture's, before rotation. */
  video: { codec: string; width: number; height: number; frameRate: string; rotation: number } | null;
  audio: { codec: string; channels: number; sampleRate: number; language: string | undefined; title: string | undefined; default: boolean }[];
  /** Embedded subtitle streams and sidecar files; `offered: false` says why one cannot be shown. */
  subtitles: { source: 'embedded' | 'sidecar'; codec: string; language: string | undefined; title: string | undefined; offered: boolean; reason?: string }[];
}

const MAX_FILES = 2000;
const MAX_DEPTH = 8;

/** Walks MEDIA_DIR (bounded), probes every file (cached) and keeps the playable ones, sorted by path. */
export async function listMedia(mediaDir: string, probe: ProbeMedia): Promise<LibraryEntry[]> {
  const files = await walk(mediaDir, '', 0, []);
  const entries: LibraryEntry[] = [];
  for (const relative of files) {
    try {
      const resolved = await resolveMediaPath(mediaDir, relative);
      const sidecars = await findSidecarSubtitles(mediaDir, resolved.absolute);
      entries.push(toEntry(relative, await probe(resolved.absolute), sidecars));
    } catch {
      // Not media, unreadable or outside the root: simply not listed.
    }
  }
  return entries;
}

async function walk(root: string, prefix: string, depth: number, out: string[]): Promise<string[]> {
  if (depth > MAX_DEPTH || out.length >= MAX_FILES) return out;
  const dirents = await readdir(path.join(root, prefix), { withFileTypes: true }).catch(() => []);
  for (const dirent of dirents.sort((a, b) => a.name.localeCompare(b.name))) {
    if (dirent.name.startsWith('.') || out.length >= MAX_FILES) continue;
    const relative = prefix ? `${prefix}/${dirent.name}` : dirent.name;
    if (dirent.isDirectory()) await walk(root, relative, depth + 1, out);
    else if (dirent.isFile() || dirent.isSymbolicLink()) out.push(relative);
  }
  return out;
}

function toEntry(relative: string, info: MediaInfo, sidecars: SidecarSubtitle[]): LibraryEntry {
  const v = info.video;
  return {
    path: relative,
    durationSeconds: info.durationSeconds,
    video: v ? {
      codec: v.codec, width: v.width, height: v.height, rotation: v.rotation,
      frameRate: v.frameRate.den === 1 ? String(v.frameRate.num) : `${v.frameRate.num}/${v.frameRate.den}`,
    } : null,
    audio: info.audio.map(({ codec, channels, sampleRate, language, title, isDefault }) => ({ codec, channels, sampleRate, language, title, default: isDefault })),
    subtitles: [
      ...info.subtitles.map(({ codec, language, title }) => {
        const support = subtitleSupport(codec);
        return { source: 'embedded' as const, codec, language, title, offered: support.offered, ...(support.offered ? {} : { reason: support.reason }) };
      }),
      ...sidecars.map(({ format, language, title }) => ({ source: 'sidecar' as const, codec: format, language, title, offered: true })),
    ],
  };
}
