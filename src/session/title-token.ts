// A title in a URL, so that any node can answer for it: the file's path under MEDIA_DIR
// (base64url) and the title key the path must still lead to (the file unchanged, the same
// encoding settings), `<path>.<key>`. Viewer ids travel beside it: chosen at random per player.
import { SeekwellError } from '../errors.js';

const KEY = /^[0-9a-f]{32}$/;
const VIEWER = /^[A-Za-z0-9_-]{8,64}$/;
/** Paths longer than this cannot be in a URL we hand out (their token would be ~5.5 kB). */
const MAX_PATH_BYTES = 4096;

export function titleToken(relative: string, key: string): string {
  return `${Buffer.from(relative, 'utf8').toString('base64url')}.${key}`;
}

/** The path and key of a token, or TITLE_NOT_FOUND for anything that is not one. */
export function parseTitleToken(token: string): { relative: string; key: string } {
  const dot = token.lastIndexOf('.');
  const encoded = token.slice(0, dot);
  const key = token.slice(dot + 1);
  if (dot <= 0 || !KEY.test(key) || !/^[A-Za-z0-9_-]+$/.test(encoded) || encoded.length > (MAX_PATH_BYTES * 4) / 3 + 4) {
    throw new SeekwellError('TITLE_NOT_FOUND', 'not a title token: /t/<path, base64url>.<32 hex key>/<viewer>/…');
  }
  return { relative: Buffer.from(encoded, 'base64url').toString('utf8'), key };
}

/** A viewer id as players carry it, or TITLE_NOT_FOUND. */
export function checkViewerId(viewer: string): string {
  if (!VIEWER.test(viewer)) throw new SeekwellError('TITLE_NOT_FOUND', 'viewer ids are 8-64 characters of A-Z, a-z, 0-9, _ and -');
  return viewer;
}
