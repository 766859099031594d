// Manifests: rendered once per title, on first request, and shared by every viewer of it; only the
// base path (the viewer's URL prefix, in the MPD's BaseURL and the multivariant playlist's URIs)
// is spliced in per request. A long title's media playlists are ~0.5 MB each.
import { createHash } from 'node:crypto';
import { SeekwellError } from '../errors.js';
import { renderMpd } from '../manifest/dash.js';
import { renderMediaPlaylist, renderMultivariantPlaylist } from '../manifest/hls.js';
import type { Title } from '../session/title.js';
import type { Served } from './send.js';

export const MANIFEST_TYPES = { mpd: 'application/dash+xml', m3u8: 'application/vnd.apple.mpegurl' } as const;
const MANIFEST_CACHE = 'public, max-age=2';

export interface Manifest {
  served: Served;
  bytes: Buffer;
}

/** A title's manifest: split where the base path goes. */
interface TitleManifest {
  parts: Buffer[];
  contentType: string;
  hash: string;
}

// Stands for the base path in a manifest rendered for the title (never in a path or an id).
const BASE_MARK = '\u{E000}base\u{E000}';

const rendered = new WeakMap<Title, Map<string, TitleManifest>>();

/** `file` of `title` for a viewer whose URLs start with `basePath` (`/sessions/<id>/`). */
export function renderManifest(title: Title, file: string, basePath: string): Manifest {
  let cache = rendered.get(title);
  if (!cache) rendered.set(title, (cache = new Map()));
  let manifest = cache.get(file);
  if (manifest === undefined) {
    const text = renderManifestOnce(title, file);
    const hash = createHash('sha1').update(text).digest('base64url').slice(0, 16);
    const contentType = file.endsWith('.mpd') ? MANIFEST_TYPES.mpd : MANIFEST_TYPES.m3u8;
    cache.set(file, (manifest = { parts: text.split(BASE_MARK).map((part) => Buffer.from(part, 'utf8')), contentType, hash }));
  }
  const shared = manifest.parts.length === 1;
  const base = Buffer.from(basePath);
  const bytes = shared ? manifest.parts[0]! : Buffer.concat(manifest.parts.flatMap((part, i) => (i === 0 ? [part] : [base, part])));
  // Content-based: the same title and base give the same ETag on every node.
  const etag = shared ? `"m-${manifest.hash}"` : `"m-${manifest.hash}-${createHash('sha1').update(basePath).digest('base64url').slice(0, 16)}"`;
  return { served: { contentType: manifest.contentType, etag, size: bytes.length, cacheControl: MANIFEST_CACHE }, bytes };
}

function renderManifestOnce(title: Title, file: string): string {
  const model = title.plan;
  if (file === 'stream.mpd') return renderMpd(model, { baseUrl: BASE_MARK });
  if (file === 'stream.m3u8') return renderMultivariantPlaylist(model, { baseUrl: BASE_MARK });
  const playlist = file.endsWith('.m3u8') ? renderMediaPlaylist(model, stripSuffix(file, '.m3u8')) : undefined;
  if (playlist === undefined) throw new SeekwellError('ROUTE_NOT_FOUND', `no manifest "${file.slice(0, 60)}" in this title`);
  return playlist;
}

export function stripSuffix(name: string, suffix: string): string {
  return name.endsWith(suffix) ? name.slice(0, -suffix.length) : name;
}
