// THE mapping from error codes to HTTP statuses, and the one shape of every error body.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { SeekwellError, type ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';

const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  BAD_REQUEST: 400,
  PAYLOAD_TOO_LARGE: 413,
  ROUTE_NOT_FOUND: 404,
  MEDIA_PATH_INVALID: 400,
  MEDIA_NOT_FOUND: 404,
  MEDIA_EMPTY: 422,
  MEDIA_NOT_MEDIA: 422,
  MEDIA_NO_STREAMS: 422,
  MEDIA_FORMAT_REFUSED: 422,
  SESSION_NOT_FOUND: 404,
  SESSION_CLOSED: 410,
  TITLE_NOT_FOUND: 404,
  TITLE_CHANGED: 410,
  RENDITION_NOT_FOUND: 404,
  SEGMENT_NOT_FOUND: 404,
  SEGMENT_TIMEOUT: 503,
  RANGE_NOT_SATISFIABLE: 416,
  PIPELINE_FAILED: 502,
  SHUTTING_DOWN: 503,
  OVERLOADED: 503,
  INSUFFICIENT_STORAGE: 507,
  INTERNAL: 500,
};

/**
 * Seconds a client should wait before retrying, for the refusals that pass: a segment that timed
 * out, a server that is shutting down, overloaded or out of disk space.
 */
const RETRY_AFTER_SECONDS: Partial<Record<ErrorCode, string>> = {
  SEGMENT_TIMEOUT: '2',
  SHUTTING_DOWN: '2',
  OVERLOADED: '5',
  INSUFFICIENT_STORAGE: '30',
};

/** 5xx answers that are a state of the server, not a fault: logged once where they arise, not per request. */
const EXPECTED_5XX: readonly ErrorCode[] = ['SEGMENT_TIMEOUT', 'SHUTTING_DOWN', 'OVERLOADED', 'INSUFFICIENT_STORAGE'];

/** Normalises anything thrown into a SeekwellError (waits time out with SEGMENT_TIMEOUT themselves). */
export function toSeekwellError(error: unknown): SeekwellError {
  if (error instanceof SeekwellError) return error;
  return new SeekwellError('INTERNAL', 'internal error', { cause: error });
}

export function errorResponse(c: Context, thrown: unknown, log: Logger): Response {
  const error = toSeekwellError(thrown);
  const status = STATUS[error.code];
  if (status >= 500 && !EXPECTED_5XX.includes(error.code)) {
    log.error('request failed', { path: c.req.path, code: error.code, error: error.cause ?? error, details: error.details });
  } else {
    log.debug('request refused', { path: c.req.path, code: error.code });
  }
  c.header('Cache-Control', 'no-store');
  const retryAfter = RETRY_AFTER_SECONDS[error.code];
  if (retryAfter) c.header('Retry-After', retryAfter);
  // The rest of a body too large is not read: the connection cannot be reused.
  if (error.code === 'PAYLOAD_TOO_LARGE') c.header('Connection', 'close');
  if (error.code === 'RANGE_NOT_SATISFIABLE' && typeof error.details?.size === 'number') {
    c.header('Content-Range', `bytes */${error.details.size}`);
  }
  return c.json({ code: error.code, message: error.message }, status);
}
