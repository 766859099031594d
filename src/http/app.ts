// Every route of the HTTP API. Handlers parse, call the session layer and shape the response;
// errors all go through error-response.ts.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { SeekwellError } from '../errors.js';
import type { Logger } from '../log.js';
import type { LibraryEntry } from '../media/library.js';
import type { SessionRegistry } from '../session/registry.js';
import { checkViewerId } from '../session/title-token.js';
import { cors } from './cors.js';
import { errorResponse } from './error-response.js';
import { MANIFEST_TYPES } from './manifests.js';
import { mountPlayback } from './playback.js';
import { sessionStatus } from './status.js';

export interface AppDeps {
  registry: Pick<SessionRegistry, 'create' | 'get' | 'delete' | 'check' | 'titleFor' | 'viewer' | 'admitViewer' | 'newViewerBase'>;
  listMedia: () => Promise<LibraryEntry[]>;
  /** Prometheus text for GET /metrics. */
  metrics: () => Promise<string>;
  segmentWaitMs: number;
  /** Largest request body read; past it, 413 PAYLOAD_TOO_LARGE without reading the rest. */
  bodyMaxBytes: number;
  log: Logger;
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const { registry, log } = deps;
  // At debug, a line per request with the time to its response headers (a segment's wait, a
  // manifest's render); a streamed body's own time is the client's.
  if (log.enabled('debug')) {
    app.use('*', async (c, next) => {
      const started = performance.now();
      await next();
      log.debug('request', { method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round((performance.now() - started) * 10) / 10 });
    });
  }
  app.use('*', cors());
  app.onError((error, c) => errorResponse(c, error, log));
  app.notFound((c) => errorResponse(c, new SeekwellError('ROUTE_NOT_FOUND', `no route for ${c.req.method} ${c.req.path.slice(0, 200)}`), log));

  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/metrics', async (c) => c.body(await deps.metrics(), 200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Cache-Control': 'no-store' }));
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

  // Stateless URLs (issue 13): `/media/<path>/stream.mpd` hands a new viewer its URL,
  // `/t/<path token>.<title key>/<viewer>/…`, which names everything a node needs: any node
  // mounting the same library answers the same, making the viewer's session on its first media
  // request. A manifest opens no session, so a crawler or a health check makes none; HEAD only
  // checks that the title plays.
  app.get('/media/*', async (c) => {
    const { media, format } = parseMediaUrl(new URL(c.req.url).pathname);
    c.header('Cache-Control', 'no-store');
    if (c.req.method === 'HEAD') {
      await registry.check(media);
      return c.body(null, 200, { 'Content-Type': MANIFEST_TYPES[format] });
    }
    return c.redirect(`${await registry.newViewerBase(media)}stream.${format}`, 302);
  });
  mountPlayback(app, '/t/:title/:viewer', {
    session: (c) => registry.viewer(c.req.param('title')!, c.req.param('viewer')!),
    manifest: async (c) => {
      const token = c.req.param('title')!;
      const viewer = checkViewerId(c.req.param('viewer')!);
      const title = await registry.titleFor(token);
      if (/^stream\.(mpd|m3u8)$/.test(c.req.param('file') ?? '')) registry.admitViewer();
      return { title, basePath: `/t/${token}/${viewer}/` };
    },
  }, deps.segmentWaitMs);

  mountPlayback(app, '/sessions/:id', {
    session: (c) => registry.get(c.req.param('id')!),
    manifest: async (c) => {
      const session = registry.get(c.req.param('id')!);
      session.touch();
      return { title: session.title, basePath: `/sessions/${session.id}/` };
    },
  }, deps.segmentWaitMs);
  return app;
}

export function sessionUrls(id: string): { dash: string; hls: string } {
  return { dash: `/sessions/${id}/stream.mpd`, hls: `/sessions/${id}/stream.m3u8` };
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
