// Typed errors with stable codes. No HTTP here: http/error-response.ts maps codes to statuses.

export const ERROR_CODES = [
  'BAD_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'ROUTE_NOT_FOUND',
  'MEDIA_PATH_INVALID',
  'MEDIA_NOT_FOUND',
  'MEDIA_EMPTY',
  'MEDIA_NOT_MEDIA',
  'MEDIA_NO_STREAMS',
  'MEDIA_FORMAT_REFUSED',
  'SESSION_NOT_FOUND',
  'SESSION_CLOSED',
  'TITLE_NOT_FOUND',
  'TITLE_CHANGED',
  'RENDITION_NOT_FOUND',
  'SEGMENT_NOT_FOUND',
  'SEGMENT_TIMEOUT',
  'RANGE_NOT_SATISFIABLE',
  'PIPELINE_FAILED',
  'SHUTTING_DOWN',
  'OVERLOADED',
  'INSUFFICIENT_STORAGE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class SeekwellError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SeekwellError';
    this.code = code;
    this.details = options?.details;
  }
}
