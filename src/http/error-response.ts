// THE mapping from error codes to HTTP statuses, and the one shape of every error body.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { SeekwellError, type ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';

const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  BAD_REQUEST: 400,
  ROUTE_NOT_FOUND: 404,
  MEDIA_PATH_INVALID: 400,
  MEDIA_NOT_FOUND: 404,
  MEDIA_EMPTY: 422,
  MEDIA_NOT_MEDIA: 422,
  MEDIA_NO_STREAMS: 422,
  MEDIA_FORMAT_REFUSED: 422,
  SESSION_NOT_FOUND: 404,
  SESSION_CLOSED: 410,
  RENDITION_NOT_FOUND: 404,
  SEGMENT_NOT_FOUND: 404,
  SEGMENT_TIMEOUT: 503,
  RANGE_NOT_SATISFIABLE: 416,
  PIPELINE_FAILED: 502,
  SHUTTING_DOWN: 503,
  INTERNAL: 500,
};

/** Seconds a client should wait before retrying a segment that timed out. */
const RETRY_AFTER_SECONDS = '2';

/** Normalises anything thrown into a SeekwellError (waits time out with SEGMENT_TIMEOUT themselves). */
export function toSeekwellError(error: unknown): SeekwellError {
  if (error instanceof SeekwellError) return error;
  return new SeekwellError('INTERNAL', 'internal error', { cause: error });
}

export function errorResponse(c: Context, thrown: unknown, log: Logger): Response {
  const error = toSeekwellError(thrown);
  const status = STATUS[error.code];
  if (status >= 500 && error.code !== 'SEGMENT_TIMEOUT' && error.code !== 'SHUTTING_DOWN') {
    log.error('request failed', { path: c.req.path, code: error.code, error: error.cause ?? error, details: error.details });
  } else {
    log.debug('request refused', { path: c.req.path, code: error.code });
  }
  c.header('Cache-Control', 'no-store');
  if (error.code === 'SEGMENT_TIMEOUT' || error.code === 'SHUTTING_DOWN') c.header('Retry-After', RETRY_AFTER_SECONDS);
  if (error.code === 'RANGE_NOT_SATISFIABLE' && typeof error.details?.size === 'number') {
    c.header('Content-Range', `bytes */${error.details.size}`);
  }
  return c.json({ code: error.code, message: error.message }, status);
}
