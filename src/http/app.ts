// Every route of the HTTP API. Handlers parse, call the session layer and shape the response;
// errors all go through error-response.ts.
import { createHash } from 'node:crypto';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { SeekwellError } from '../errors.js';
import type { Logger } from '../log.js';
import { renderMpd } from '../manifest/dash.js';
import { renderMediaPlaylist, renderMultivariantPlaylist } from '../manifest/hls.js';
import type { LibraryEntry } from '../media/library.js';
import { parseSegmentFileName } from '../segment/naming.js';
import { parseCmcd } from '../session/cmcd.js';
import type { SessionRegistry } from '../session/registry.js';
import type { Session } from '../session/session.js';
import type { Title } from '../session/title.js';
import { cors } from './cors.js';
import { errorResponse } from './error-response.js';
import { nodeBindings, onClientLeave, requestOf } from './node.js';
import { discardBody, planReply, replyResponse, writeReply, type Body, type Served } from './send.js';
import { sessionStatus } from './status.js';

export interface AppDeps {
  registry: Pick<SessionRegistry, 'create' | 'get' | 'delete' | 'check'>;
  listMedia: () => Promise<LibraryEntry[]>;
  /** Prometheus text for GET /metrics. */
  metrics: () => string;
  segmentWaitMs: number;
  /** Largest request body read; past it, 413 PAYLOAD_TOO_LARGE without reading the rest. */
  bodyMaxBytes: number;
  log: Logger;
}

const MANIFEST_CACHE = 'public, max-age=2';
const MANIFEST_TYPES = { mpd: 'application/dash+xml', m3u8: 'application/vnd.apple.mpegurl' } as const;
const TEXT_TYPE = 'text/vtt; charset=utf-8';

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const { registry, log } = deps;
  app.use('*', cors());
  app.onError((error, c) => errorResponse(c, error, log));
  app.notFound((c) => errorResponse(c, new SeekwellError('ROUTE_NOT_FOUND', `no route for ${c.req.method} ${c.req.path.slice(0, 200)}`), log));

  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/metrics', (c) => c.body(deps.metrics(), 200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Cache-Control': 'no-store' }));
  app.get('/api/media', async (c) => c.json(await deps.listMedia()));

  const bodyLimited = bodyLimit({
    maxSize: deps.bodyMaxBytes,
    onError: () => {
      throw new SeekwellError('PAYLOAD_TOO_LARGE', `the body is larger than BODY_MAX_BYTES (${deps.bodyMaxBytes} bytes)`);
    },
  });
  app.post('/api/sessions', bodyLimited, async (c) => {
    const body = await c.req.json().catch(() => {
      throw new SeekwellError('BAD_REQUEST', 'the body must be JSON: {"media": "<path relative to MEDIA_DIR>"}');
    }) as unknown;
    if (typeof body !== 'object' || body === null || !('media' in body)) {
      throw new SeekwellError('BAD_REQUEST', 'missing "media": the path of a file relative to MEDIA_DIR');
    }
    const start = 'start' in body ? body.start : undefined;
    if (start !== undefined && (typeof start !== 'number' || !Number.isFinite(start) || start < 0)) {
      throw new SeekwellError('BAD_REQUEST', '"start" must be a number of seconds, 0 or more');
    }
    const session = await registry.create({ media: body.media, ...(start === undefined ? {} : { startSeconds: start }) });
    const urls = sessionUrls(session.id);
    c.header('Location', `/api/sessions/${session.id}`);
    return c.json({ id: session.id, ...urls }, 201);
  });
  app.get('/api/sessions/:id', (c) => c.json(sessionStatus(registry.get(c.req.param('id')))));
  app.delete('/api/sessions/:id', async (c) => {
    await registry.delete(c.req.param('id'));
    return c.body(null, 204);
  });

  // HEAD (a health check, a link checker) says whether the title plays, and opens no session.
  app.get('/media/*', async (c) => {
    const { media, format } = parseMediaUrl(new URL(c.req.url).pathname);
    c.header('Cache-Control', 'no-store');
    if (c.req.method === 'HEAD') {
      await registry.check(media);
      return c.body(null, 200, { 'Content-Type': MANIFEST_TYPES[format] });
    }
    const session = await registry.create({ media, shareUnused: true });
    return c.redirect(`/sessions/${session.id}/stream.${format}`, 302);
  });

  app.get('/sessions/:id/init/:name', async (c) => {
    const session = registry.get(c.req.param('id'));
    const renditionId = stripSuffix(c.req.param('name'), '.mp4');
    const bytes = await boundedWait(c, session, deps.segmentWaitMs, (signal) => session.init(renditionId, signal));
    return answer(c, { contentType: contentTypeOf(session, renditionId), etag: `"init-${session.id.slice(0, 8)}-${bytes.length.toString(36)}"`, size: bytes.length }, bytes);
  });

  app.get('/sessions/:id/segments/:name', async (c) => {
    const session = registry.get(c.req.param('id'));
    const parsed = parseSegmentFileName(c.req.param('name'));
    if (!parsed) throw new SeekwellError('SEGMENT_NOT_FOUND', 'segment names look like video-720p-00001.m4s or text-1-00001.vtt');
    if (parsed.extension === 'vtt') {
      const text = await boundedWait(c, session, deps.segmentWaitMs, (signal) => session.textSegment(parsed.renditionId, parsed.number, signal));
      return sendText(c, text);
    }
    const cmcd = parseCmcd(c.req.query('CMCD'));
    const segment = await boundedWait(c, session, deps.segmentWaitMs, (signal) => session.segment(parsed.renditionId, parsed.number, signal, cmcd));
    return answer(c, { contentType: contentTypeOf(session, parsed.renditionId), etag: segment.etag, size: segment.size }, segment.body);
  });

  app.get('/sessions/:id/text/:name', async (c) => {
    const session = registry.get(c.req.param('id'));
    const renditionId = stripSuffix(c.req.param('name'), '.vtt');
    return sendText(c, await boundedWait(c, session, deps.segmentWaitMs, (signal) => session.textWhole(renditionId, signal)));
  });

  app.get('/sessions/:id/:file', (c) => {
    const session = registry.get(c.req.param('id'));
    session.touch();
    const manifest = renderManifest(session, c.req.param('file'));
    return answer(c, manifest.served, manifest.bytes);
  });
  return app;
}

export function sessionUrls(id: string): { dash: string; hls: string } {
  return { dash: `/sessions/${id}/stream.mpd`, hls: `/sessions/${id}/stream.m3u8` };
}

/**
 * Answers with bytes: written straight to node's response when there is one (then Hono is told
 * it was sent), else as a web Response. `body` is used or discarded whatever happens.
 */
function answer(c: Context, served: Served, body: Body): Response {
  const node = nodeBindings(c);
  let reply;
  try {
    reply = planReply(requestOf(c, node), served);
  } catch (error) {
    discardBody(body);
    throw error;
  }
  if (!node) return replyResponse(reply, body, c.req.raw.signal);
  writeReply(node.outgoing, reply, body);
  return RESPONSE_ALREADY_SENT;
}

interface Manifest {
  served: Served;
  bytes: Buffer;
}

/** A title's manifest, rendered once for every session: split where the session's id goes. */
interface TitleManifest {
  parts: Buffer[];
  contentType: string;
  hash: string;
}

// Stands for the session id in a manifest rendered for the title (ids are UUIDs: never this).
const SESSION_MARK = '\u{E000}session\u{E000}';

// Manifests never change for a title: each is rendered once per title, on first request, and
// shared by its sessions (a long title's media playlists are ~0.5 MB each).
const rendered = new WeakMap<Title, Map<string, TitleManifest>>();

function renderManifest(session: Session, file: string): Manifest {
  const { title } = session;
  let cache = rendered.get(title);
  if (!cache) rendered.set(title, (cache = new Map()));
  let manifest = cache.get(file);
  if (manifest === undefined) {
    const text = renderManifestOnce(title, file);
    const hash = createHash('sha1').update(text).digest('base64url').slice(0, 16);
    const contentType = file.endsWith('.mpd') ? MANIFEST_TYPES.mpd : MANIFEST_TYPES.m3u8;
    cache.set(file, (manifest = { parts: text.split(SESSION_MARK).map((part) => Buffer.from(part, 'utf8')), contentType, hash }));
  }
  const shared = manifest.parts.length === 1;
  const bytes = shared ? manifest.parts[0]! : Buffer.concat(manifest.parts.flatMap((part, i) => (i === 0 ? [part] : [Buffer.from(session.id), part])));
  const etag = shared ? `"m-${manifest.hash}"` : `"m-${manifest.hash}-${session.id}"`;
  return { served: { contentType: manifest.contentType, etag, size: bytes.length, cacheControl: MANIFEST_CACHE }, bytes };
}

function renderManifestOnce(title: Title, file: string): string {
  const model = title.plan;
  const baseUrl = `/sessions/${SESSION_MARK}/`;
  if (file === 'stream.mpd') return renderMpd(model, { baseUrl });
  if (file === 'stream.m3u8') return renderMultivariantPlaylist(model, { baseUrl });
  const playlist = file.endsWith('.m3u8') ? renderMediaPlaylist(model, stripSuffix(file, '.m3u8')) : undefined;
  if (playlist === undefined) throw new SeekwellError('ROUTE_NOT_FOUND', `no manifest "${file.slice(0, 60)}" in this session`);
  return playlist;
}

// A request's wait ends when the client leaves, the session closes, or SEGMENT_WAIT_MS passes
// (SEGMENT_TIMEOUT). Leaving does not cancel the encode: the run goes on, and a retry joins the
// same wait. The deadline is a timer this call owns: an AbortSignal.timeout() inside
// AbortSignal.any() can be garbage-collected on Node 20 and then never fires. The timer and every
// listener are gone once the wait settles.
async function boundedWait<T>(c: Context, session: Session, waitMs: number, wait: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new SeekwellError('SEGMENT_TIMEOUT',
    `not ready within SEGMENT_WAIT_MS (${waitMs} ms); the encode goes on, retry shortly`)), waitMs);
  const unfollow = [follow(session.signal, controller), onClientLeave(c, (reason) => controller.abort(reason))];
  try {
    return await wait(controller.signal);
  } finally {
    clearTimeout(timer);
    for (const stop of unfollow) stop();
  }
}

/** Aborts `target` when `source` aborts, with its reason; returns how to stop listening. */
function follow(source: AbortSignal, target: AbortController): () => void {
  if (source.aborted) {
    target.abort(source.reason);
    return () => {};
  }
  const onAbort = (): void => target.abort(source.reason);
  source.addEventListener('abort', onAbort, { once: true });
  return () => source.removeEventListener('abort', onAbort);
}

// WebVTT is made in memory and never changes for a title: served like any immutable segment.
function sendText(c: Context, text: string): Response {
  const bytes = Buffer.from(text, 'utf8');
  return answer(c, { contentType: TEXT_TYPE, etag: `"vtt-${createHash('sha1').update(bytes).digest('base64url').slice(0, 16)}"`, size: bytes.length }, bytes);
}

function contentTypeOf(session: Session, renditionId: string): string {
  const kind = session.rendition(renditionId).kind;
  return kind === 'audio' ? 'audio/mp4' : kind === 'text' ? TEXT_TYPE : 'video/mp4';
}

function stripSuffix(name: string, suffix: string): string {
  return name.endsWith(suffix) ? name.slice(0, -suffix.length) : name;
}

/** `/media/<percent-encoded path>/stream.(mpd|m3u8)` -> decoded media path (checked later) and format. */
export function parseMediaUrl(pathname: string): { media: string; format: 'mpd' | 'm3u8' } {
  const match = /^\/media\/(.+)\/stream\.(mpd|m3u8)$/.exec(pathname);
  if (!match) throw new SeekwellError('ROUTE_NOT_FOUND', 'use /media/<path>/stream.mpd or /media/<path>/stream.m3u8');
  try {
    return { media: decodeURIComponent(match[1]!), format: match[2] as 'mpd' | 'm3u8' };
  } catch {
    throw new SeekwellError('MEDIA_PATH_INVALID', 'the media path is not valid percent-encoding');
  }
}
