// Node's own request and response under Hono, when there is one (the server), for the paths
// that answer with bytes: reading node's headers and watching its socket costs far less than
// node-server's web Request, which is built in full on first use of `.signal` or `.headers`.
// In-process requests (`app.request`, tests) have none and use the web objects.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import type { RequestLike } from './send.js';

export function nodeBindings(c: Context): { incoming: IncomingMessage; outgoing: ServerResponse } | undefined {
  const env = c.env as Partial<HttpBindings> | undefined;
  return env?.outgoing && env.incoming ? { incoming: env.incoming, outgoing: env.outgoing as ServerResponse } : undefined;
}

/** The request's method and headers: from node's `IncomingMessage` when `node` is given. */
export function requestOf(c: Context, node = nodeBindings(c)): RequestLike {
  if (node) {
    const { headers } = node.incoming;
    return { method: node.incoming.method ?? 'GET', header: (name) => single(headers[name]) };
  }
  const { raw } = c.req;
  return { method: raw.method, header: (name) => raw.headers.get(name) ?? undefined };
}

/**
 * Calls `onLeave` if the client goes away before the answer is sent; returns how to stop
 * watching. Node's response closes early then; in process, the request's signal aborts.
 */
export function onClientLeave(c: Context, onLeave: (reason: unknown) => void): () => void {
  const node = nodeBindings(c);
  if (node) {
    const { outgoing } = node;
    const onClose = (): void => {
      if (!outgoing.writableFinished) onLeave(new Error('the client closed the connection'));
    };
    if (outgoing.destroyed) {
      onClose();
      return () => {};
    }
    outgoing.once('close', onClose);
    return () => outgoing.off('close', onClose);
  }
  const { signal } = c.req.raw;
  if (signal.aborted) {
    onLeave(signal.reason);
    return () => {};
  }
  const onAbort = (): void => onLeave(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
