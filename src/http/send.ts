// Serving bytes: segments streamed from a file already open, with large reads; init segments from
// memory; both with single byte ranges (ffmpeg always sends `Range: bytes=0-`), ETag and
// immutable caching.
import type { FileHandle } from 'node:fs/promises';
import { addAbortSignal, Readable } from 'node:stream';
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
  /** Frees what `body` would have used, when no body is sent (HEAD, 304, empty, refused range). */
  discard?(): void;
}

// Calls exactly one of `body` or `discard`, whatever the answer (a refused range included).
export function sendBytes(options: SendOptions): Response {
  let used = false;
  const body = (range: ByteRange): BodyInit => {
    const made = options.body(range);
    used = true;
    return made;
  };
  try {
    return respond(options, body);
  } finally {
    if (!used) options.discard?.();
  }
}

function respond(options: SendOptions, body: (range: ByteRange) => BodyInit): Response {
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
  return new Response(request.method === 'HEAD' || size === 0 ? null : body({ start, end }), { status: range ? 206 : 200, headers });
}

/** If-None-Match: a list of tags, weak or strong (weak comparison), or `*`. */
function matchesEtag(header: string | null, etag: string): boolean {
  if (!header) return false;
  const bare = (tag: string): string => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag));
}

/**
 * Streams a range of an open file, which is closed when the stream ends, fails, is cancelled by
 * the server, or when `signal` (the client leaving) aborts. A client already gone is sent nothing.
 */
export function fileBody(handle: FileHandle, signal?: AbortSignal): (range: ByteRange) => BodyInit {
  return ({ start, end }) => {
    if (signal?.aborted) {
      void handle.close().catch(() => {});
      return new Uint8Array(0) as unknown as BodyInit;
    }
    const stream = handle.createReadStream({ start, end, highWaterMark: READ_CHUNK });
    if (signal) addAbortSignal(signal, stream);
    return Readable.toWeb(stream) as unknown as BodyInit;
  };
}

export function bufferBody(bytes: Buffer): (range: ByteRange) => BodyInit {
  return ({ start, end }) => new Uint8Array(bytes.subarray(start, end + 1)) as unknown as BodyInit;
}
