// The routes a player uses under a viewer's URL prefix: inits, segments, WebVTT and manifests.
// Mounted twice by app.ts: under `/sessions/<id>` (a session made by the API) and under
// `/t/<title token>/<viewer>` (stateless: any node can answer, making the viewer on first use).
import { createHash } from 'node:crypto';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context, Hono } from 'hono';
import { SeekwellError } from '../errors.js';
import { parseSegmentFileName } from '../segment/naming.js';
import { parseCmcd } from '../session/cmcd.js';
import type { Session } from '../session/session.js';
import type { Title } from '../session/title.js';
import { renderManifest, stripSuffix } from './manifests.js';
import { nodeBindings, onClientLeave, requestOf } from './node.js';
import { discardBody, planReply, replyResponse, writeReply, type Body, type Served } from './send.js';

const TEXT_TYPE = 'text/vtt; charset=utf-8';

export interface PlaybackScope {
  /** The viewer a media request belongs to (made on first use where URLs are stateless). */
  session: (c: Context) => Session | Promise<Session>;
  /** What a manifest request renders: the title, and the viewer's URL prefix. */
  manifest: (c: Context) => Promise<{ title: Title; basePath: string }>;
}

export function mountPlayback(app: Hono, prefix: string, scope: PlaybackScope, segmentWaitMs: number): void {
  app.get(`${prefix}/init/:name`, async (c) => {
    const session = await scope.session(c);
    const renditionId = stripSuffix(c.req.param('name'), '.mp4');
    const bytes = await boundedWait(c, session, segmentWaitMs, (signal) => session.init(renditionId, signal));
    return answer(c, { contentType: contentTypeOf(session, renditionId), etag: contentEtag('init', bytes), size: bytes.length }, bytes);
  });

  app.get(`${prefix}/segments/:name`, async (c) => {
    const session = await scope.session(c);
    const parsed = parseSegmentFileName(c.req.param('name'));
    if (!parsed) throw new SeekwellError('SEGMENT_NOT_FOUND', 'segment names look like video-720p-00001.m4s or text-1-00001.vtt');
    if (parsed.extension === 'vtt') {
      const text = await boundedWait(c, session, segmentWaitMs, (signal) => session.textSegment(parsed.renditionId, parsed.number, signal));
      return sendText(c, text);
    }
    const cmcd = parseCmcd(c.req.query('CMCD'));
    const segment = await boundedWait(c, session, segmentWaitMs, (signal) => session.segment(parsed.renditionId, parsed.number, signal, cmcd));
    return answer(c, { contentType: contentTypeOf(session, parsed.renditionId), etag: segment.etag, size: segment.size }, segment.body);
  });

  app.get(`${prefix}/text/:name`, async (c) => {
    const session = await scope.session(c);
    const renditionId = stripSuffix(c.req.param('name'), '.vtt');
    return sendText(c, await boundedWait(c, session, segmentWaitMs, (signal) => session.textWhole(renditionId, signal)));
  });

  app.get(`${prefix}/:file`, async (c) => {
    const { title, basePath } = await scope.manifest(c);
    const manifest = renderManifest(title, c.req.param('file'), basePath);
    return answer(c, manifest.served, manifest.bytes);
  });
}

// Inits and WebVTT are small and made in memory: their ETag is a hash of their bytes, the same on
// every node that made the same bytes. Hashed once per buffer.
const etags = new WeakMap<Buffer, string>();
function contentEtag(kind: string, bytes: Buffer): string {
  let etag = etags.get(bytes);
  if (etag === undefined) etags.set(bytes, (etag = `"${kind}-${createHash('sha1').update(bytes).digest('base64url').slice(0, 16)}"`));
  return etag;
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
  return answer(c, { contentType: TEXT_TYPE, etag: contentEtag('vtt', bytes), size: bytes.length }, bytes);
}

function contentTypeOf(session: Session, renditionId: string): string {
  const kind = session.rendition(renditionId).kind;
  return kind === 'audio' ? 'audio/mp4' : kind === 'text' ? TEXT_TYPE : 'video/mp4';
}
