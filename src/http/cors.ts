// CORS for players on other origins. Not hono/cors: it sets headers on `c.res` before the handler
// runs, which makes Hono copy every response (body and headers) afterwards; that copy was a
// large share of a warm segment's CPU. Here every answer carries the same two headers.
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { MiddlewareHandler } from 'hono';

export const CORS_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'Content-Length, Content-Range, ETag, Retry-After, Location',
});

const PREFLIGHT_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  ...CORS_HEADERS,
  'Access-Control-Allow-Methods': 'GET, HEAD, POST, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'Range, Content-Type, If-None-Match, If-Range',
  'Access-Control-Max-Age': '86400',
  Vary: 'Access-Control-Request-Headers',
});

/** Answers preflights; adds CORS_HEADERS to responses that do not carry them yet (bytes written
 * to node directly carry them already). */
export function cors(): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === 'OPTIONS') return new Response(null, { status: 204, headers: PREFLIGHT_HEADERS });
    await next();
    if (c.res === RESPONSE_ALREADY_SENT || c.res.headers.has('Access-Control-Allow-Origin')) return;
    for (const [name, value] of Object.entries(CORS_HEADERS)) c.res.headers.set(name, value);
  };
}
