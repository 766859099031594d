// Structured logs on pino, scoped to their owner with child(): JSON lines for log stacks, or
// pino-pretty's readable lines for a person at a terminal. Call sites keep the (msg, fields) order.
import { pino, type Logger as Pino } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { SeekwellError } from './errors.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  /** Whether records at `level` are written (to skip building what would be dropped). */
  enabled(level: LogLevel): boolean;
}

export interface LogOptions {
  /** Readable lines instead of JSON (pino-pretty), colored when `colorize`. */
  pretty?: boolean;
  colorize?: boolean;
}

/** Errors nested this deep in a record's fields are written as { name, message, code, cause }. */
const ERROR_DEPTH = 3;

/** A logger writing whole lines to `write` (stderr by default), synchronously. */
export function createLogger(
  level: LogLevel | 'silent',
  write: (line: string) => void = (line) => process.stderr.write(line),
  options: LogOptions = {},
): Logger {
  const prettify = options.pretty
    ? prettyFactory({ colorize: options.colorize ?? false, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true })
    : undefined;
  const root = pino({
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }, { write: (line: string) => write(prettify ? prettify(line) : line) });
  return wrap(root);
}

function wrap(p: Pino): Logger {
  return {
    debug: (msg, fields) => p.debug(plain(fields ?? {}) as object, msg),
    info: (msg, fields) => p.info(plain(fields ?? {}) as object, msg),
    warn: (msg, fields) => p.warn(plain(fields ?? {}) as object, msg),
    error: (msg, fields) => p.error(plain(fields ?? {}) as object, msg),
    child: (fields) => wrap(p.child(plain(fields) as object)),
    enabled: (level) => p.isLevelEnabled(level),
  };
}

// Errors anywhere in the fields (an Error's own properties are not enumerable, so JSON would
// write {}), copied only where one is found.
function plain(value: unknown, depth = 0): unknown {
  if (value instanceof Error) return errorRecord(value);
  if (depth >= ERROR_DEPTH || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  let copy: Record<string, unknown> | undefined;
  for (const [key, field] of Object.entries(value)) {
    const converted = plain(field, depth + 1);
    if (converted !== field) (copy ??= { ...value })[key] = converted;
  }
  return copy ?? value;
}

// Seekwell's own errors are expected outcomes with stable codes: no stack. Others are bugs or
// surprises from below: their stack is what a person needs.
function errorRecord(error: Error): Record<string, unknown> {
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    ...(code === undefined ? {} : { code }),
    ...(error.cause === undefined ? {} : { cause: plain(error.cause) }),
    ...(error instanceof SeekwellError ? {} : { stack: error.stack }),
  };
}
