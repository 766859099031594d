// Serving bytes: segments streamed from disk with large reads, init segments from memory; both
// with single byte ranges (ffmpeg always sends `Range: bytes=0-`), ETag and immutable caching.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { SeekwellError } from '../errors.js';

export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** 1 MiB reads: measured 0.8-0.96x nginx, against ~0.45x for Hono's serveStatic. */
const READ_CHUNK = 1 << 20;

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/** Parses a single `bytes=` range; undefined means "send it all" (absent, multi-range, or malformed). */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) throw unsatisfiable(size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? Number.MAX_SAFE_INTEGER : Number(match[2]);
    if (end < start) return undefined;
    if (start >= size) throw unsatisfiable(size);
    end = Math.min(end, size - 1);
  }
  if (start >= size) throw unsatisfiable(size);
  return { start, end };
}

function unsatisfiable(size: number): SeekwellError {
  return new SeekwellError('RANGE_NOT_SATISFIABLE', `range outside 0-${Math.max(0, size - 1)}`, { details: { size } });
}

export interface SendOptions {
  request: Request;
  contentType: string;
  etag: string;
  size: number;
  /** Bytes of [start, end] as a body. */
  body(range: ByteRange): BodyInit;
}

export function sendBytes(options: SendOptions): Response {
  const { request, size, etag } = options;
  const headers = new Headers({
    'Content-Type': options.contentType,
    'Cache-Control': IMMUTABLE,
    ETag: etag,
    'Accept-Ranges': 'bytes',
  });
  if (matchesEtag(request.headers.get('if-none-match'), etag)) return new Response(null, { status: 304, headers });
  const ifRange = request.headers.get('if-range');
  const range = ifRange && ifRange !== etag ? undefined : parseRange(request.headers.get('range') ?? undefined, size);
  const { start, end } = range ?? { start: 0, end: size - 1 };
  headers.set('Content-Length', String(end - start + 1));
  if (range) headers.set('Content-Range', `bytes ${start}-${end}/${size}`);
  const body = request.method === 'HEAD' || size === 0 ? null : options.body({ start, end });
  return new Response(body, { status: range ? 206 : 200, headers });
}

/** If-None-Match: a list of tags, weak or strong (weak comparison), or `*`. */
function matchesEtag(header: string | null, etag: string): boolean {
  if (!header) return false;
  const bare = (tag: string): string => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag));
}

export function fileBody(path: string): (range: ByteRange) => BodyInit {
  return ({ start, end }) =>
    Readable.toWeb(createReadStream(path, { start, end, highWaterMark: READ_CHUNK })) as unknown as BodyInit;
}

export function bufferBody(bytes: Buffer): (range: ByteRange) => BodyInit {
  return ({ start, end }) => new Uint8Array(bytes.subarray(start, end + 1)) as unknown as BodyInit;
}
