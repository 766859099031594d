// Kept by hand: range-parser 2 (the RFC 9110-exact one) needs Node 22 and 1.x answers a reversed
// range with 416 instead of ignoring it; one regex covers the single range we serve.
// Serving bytes: segments, inits, manifests and WebVTT, with single byte ranges (ffmpeg always
// sends `Range: bytes=0-`), ETag and caching. What to answer is decided once (`planReply`); the
// answer is then written straight to node's response (the server) or made a web Response
// (in-process `app.request`). Writing to node directly, with headers as a plain object and the
// bytes from memory, is what brings warm serving near nginx: the web-stream path through Hono
// and node-server cost ~2x the CPU per request (bench warm-serving).
import type { ServerResponse } from 'node:http';
import type { FileHandle } from 'node:fs/promises';
import { addAbortSignal, pipeline, Readable } from 'node:stream';
import { SeekwellError } from '../errors.js';
import { CORS_HEADERS } from './cors.js';

export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** 1 MiB reads for segments streamed from disk (too big for the memory cache). */
const READ_CHUNK = 1 << 20;

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/** Bytes to send: in memory, or an open file (closed once sent or not sent). */
export type Body = Buffer | FileHandle;

export interface Served {
  contentType: string;
  etag: string;
  size: number;
  cacheControl?: string;
}

/** The request, as far as answering with bytes needs it. */
export interface RequestLike {
  method: string;
  header(name: string): string | undefined;
}

export interface Reply {
  status: 200 | 206 | 304;
  headers: Record<string, string>;
  /** The bytes to send; undefined for no body (HEAD, 304, empty). */
  range: ByteRange | undefined;
}

/**
 * Parses a single `bytes=` range (the unit is case-insensitive, RFC 9110 14.1); undefined means
 * "send it all" (absent, multi-range, malformed, or a suffix range of an empty body).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/i.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) throw unsatisfiable(size);
    // A non-zero suffix of an empty body is satisfiable but has no bytes to name: answer 200.
    if (size === 0) return undefined;
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

/** Status, headers and range for a request of `served`; throws RANGE_NOT_SATISFIABLE. */
export function planReply(request: RequestLike, served: Served): Reply {
  const { size, etag } = served;
  const headers: Record<string, string> = {
    ...CORS_HEADERS,
    'Content-Type': served.contentType,
    'Cache-Control': served.cacheControl ?? IMMUTABLE,
    ETag: etag,
    'Accept-Ranges': 'bytes',
  };
  if (matchesEtag(request.header('if-none-match'), etag)) return { status: 304, headers, range: undefined };
  const ifRange = request.header('if-range');
  const range = ifRange && ifRange !== etag ? undefined : parseRange(request.header('range'), size);
  const { start, end } = range ?? { start: 0, end: size - 1 };
  headers['Content-Length'] = String(end - start + 1);
  if (range) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  const sendsBody = request.method !== 'HEAD' && size > 0;
  return { status: range ? 206 : 200, headers, range: sendsBody ? { start, end } : undefined };
}

/** If-None-Match: a list of tags, weak or strong (weak comparison), or `*`. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = (tag: string): string => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag));
}

/**
 * Writes the reply to node's response. An open file is streamed and closed when the stream ends,
 * fails or the client leaves; a file not sent is closed at once.
 */
export function writeReply(res: ServerResponse, reply: Reply, body: Body): void {
  res.writeHead(reply.status, reply.headers);
  const { range } = reply;
  if (!range) {
    discardBody(body);
    res.end();
  } else if (Buffer.isBuffer(body)) {
    res.end(range.start === 0 && range.end === body.length - 1 ? body : body.subarray(range.start, range.end + 1));
  } else {
    pipeline(body.createReadStream({ start: range.start, end: range.end, highWaterMark: READ_CHUNK }), res, () => {});
  }
}

/** The reply as a web Response (in-process requests); `signal` is the client leaving. */
export function replyResponse(reply: Reply, body: Body, signal?: AbortSignal): Response {
  const { range } = reply;
  if (!range) {
    discardBody(body);
    return new Response(null, { status: reply.status, headers: reply.headers });
  }
  if (Buffer.isBuffer(body)) {
    return new Response(new Uint8Array(body.subarray(range.start, range.end + 1)), { status: reply.status, headers: reply.headers });
  }
  if (signal?.aborted) {
    discardBody(body);
    return new Response(null, { status: reply.status, headers: reply.headers });
  }
  const stream = body.createReadStream({ start: range.start, end: range.end, highWaterMark: READ_CHUNK });
  if (signal) addAbortSignal(signal, stream);
  return new Response(Readable.toWeb(stream) as unknown as BodyInit, { status: reply.status, headers: reply.headers });
}

/** Frees a body that will not be sent (an open file is closed). */
export function discardBody(body: Body): void {
  if (!Buffer.isBuffer(body)) void body.close().catch(() => {});
}
