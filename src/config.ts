// loadConfig(env) -> validated, frozen Config. Every bad variable is reported at once.
import { realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, availableParallelism, platform, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { LogLevel } from './log.js';
import { DEFAULT_LADDER, STANDARD_RUNGS } from './media/ladder.js';
import { SEEK_POLICIES, type SeekPolicy } from './session/policy.js';

export interface Config {
  readonly port: number;
  readonly host: string;
  /** Absolute real path of the media root; undefined means the built-in demo is served. */
  readonly mediaDir: string | undefined;
  /** Absolute; created by the server at startup, not here. */
  readonly workDir: string;
  readonly segmentSeconds: number;
  /** Short sides of the video ladder's rungs, ascending (VIDEO_LADDER, e.g. "360,480,720,1080"). */
  readonly videoLadder: readonly number[];
  /** `auto`: serve H.264 video and AAC-LC audio that browsers play by stream copy; `never`: encode all. */
  readonly copy: CopyMode;
  readonly bufferAheadSeconds: number;
  /** Byte budget for stored segments in WORK_DIR (plus one window per active session). */
  readonly cacheMaxBytes: number;
  /** Bytes of remuxed copies of TS/PS sources kept in WORK_DIR/ingest. */
  readonly ingestMaxBytes: number;
  /** Bytes of recently served segments kept in memory; 0 reads every segment from disk. */
  readonly memoryCacheMaxBytes: number;
  /** How seeks are decided: `cost` (default), or `always-restart`/`never-restart` for comparison. */
  readonly seekPolicy: SeekPolicy;
  readonly segmentWaitMs: number;
  readonly sessionIdleMs: number;
  /** Open sessions at most; a new one past it is refused with OVERLOADED. */
  readonly maxSessions: number;
  /**
   * Runs encoding video, alive (running or paused) at most, over every title. Audio and copied
   * video cost little and are not counted.
   */
  readonly maxVideoEncodes: number;
  /** Degrade service (and finally refuse new sessions) when encodes fall behind real time. */
  readonly loadShedding: boolean;
  /** Largest request body read (POST /api/sessions); a larger one is refused with 413. */
  readonly bodyMaxBytes: number;
  readonly ffmpegPath: string;
  readonly ffprobePath: string;
  readonly packagerPath: string;
  readonly logLevel: LogLevel;
}

export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    const noun = problems.length === 1 ? 'problem' : 'problems';
    super(`Invalid configuration (${problems.length} ${noun}):\n${problems.join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
export const COPY_MODES = ['auto', 'never'] as const;
export type CopyMode = (typeof COPY_MODES)[number];

const PACKAGER_BINARIES: Readonly<Record<string, string>> = {
  'linux-x64': 'packager-linux-x64',
  'linux-arm64': 'packager-linux-arm64',
  'darwin-x64': 'packager-osx-x64',
  'darwin-arm64': 'packager-osx-arm64',
  'win32-x64': 'packager-win-x64.exe',
};

const MAX_SHOWN = 100;

interface Reader {
  readonly env: Record<string, string | undefined>;
  readonly problems: string[];
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  const r: Reader = { env, problems: [] };
  const config: Config = {
    port: readInteger(r, 'PORT', 8080, 0, 65_535),
    host: readHost(r),
    mediaDir: readMediaDir(r),
    workDir: resolve(raw(r, 'WORK_DIR') ?? join(tmpdir(), 'seekwell')),
    segmentSeconds: readInteger(r, 'SEGMENT_SECONDS', 2, 1, 30),
    videoLadder: readLadder(r),
    copy: readChoice(r, 'COPY', COPY_MODES, 'auto'),
    bufferAheadSeconds: readPositiveNumber(r, 'BUFFER_AHEAD_SECONDS', 30, 3600),
    cacheMaxBytes: readInteger(r, 'CACHE_MAX_BYTES', 2 * 1024 ** 3, 1, Number.MAX_SAFE_INTEGER),
    ingestMaxBytes: readInteger(r, 'INGEST_MAX_BYTES', 16 * 1024 ** 3, 0, Number.MAX_SAFE_INTEGER),
    memoryCacheMaxBytes: readInteger(r, 'MEMORY_CACHE_MAX_BYTES', 256 * 1024 ** 2, 0, Number.MAX_SAFE_INTEGER),
    seekPolicy: readChoice(r, 'SEEK_POLICY', SEEK_POLICIES, 'cost'),
    segmentWaitMs: readInteger(r, 'SEGMENT_WAIT_MS', 8000, 100, 600_000),
    sessionIdleMs: readInteger(r, 'SESSION_IDLE_MS', 300_000, 1000, 86_400_000),
    maxSessions: readInteger(r, 'MAX_SESSIONS', 1000, 1, 1_000_000),
    maxVideoEncodes: readInteger(r, 'MAX_VIDEO_ENCODES', Math.max(8, 4 * availableParallelism()), 1, 10_000),
    loadShedding: readChoice(r, 'LOAD_SHEDDING', ['on', 'off'] as const, 'on') === 'on',
    bodyMaxBytes: readInteger(r, 'BODY_MAX_BYTES', 65_536, 1024, 16 * 1024 ** 2),
    ffmpegPath: raw(r, 'FFMPEG_PATH') ?? 'ffmpeg',
    ffprobePath: raw(r, 'FFPROBE_PATH') ?? 'ffprobe',
    packagerPath: raw(r, 'PACKAGER_PATH') ?? defaultPackagerPath(platform(), arch()),
    logLevel: readLogLevel(r),
  };
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return Object.freeze(config);
}

// The shaka-packager npm package's binary for this platform, or "packager" when it has none
// (the startup binary check then reports it as missing).
export function defaultPackagerPath(os: string, cpu: string): string {
  const binary = PACKAGER_BINARIES[`${os}-${cpu}`];
  if (binary === undefined) return 'packager';
  try {
    const manifest = createRequire(import.meta.url).resolve('shaka-packager/package.json');
    return join(dirname(manifest), 'bin', binary);
  } catch {
    return 'packager';
  }
}

// The raw value, with the empty string treated as unset.
function raw(r: Reader, name: string): string | undefined {
  const value = r.env[name];
  return value === undefined || value === '' ? undefined : value;
}

function fail<T>(r: Reader, name: string, expected: string, given: string, fallback: T, why = ''): T {
  r.problems.push(`${name}: expected ${expected}, got ${show(given)}${why}`);
  return fallback;
}

// Quotes a given value for a message, cut short so a huge value cannot flood the log.
function show(given: string): string {
  const cut = given.length > MAX_SHOWN ? `${given.slice(0, MAX_SHOWN)}…` : given;
  return JSON.stringify(cut);
}

// Plain decimal digits only: rejects "4.5", "1e3", "-1", " 8080", "8080x", "Infinity".
function readInteger(r: Reader, name: string, fallback: number, min: number, max: number): number {
  const given = raw(r, name);
  if (given === undefined) return fallback;
  const value = /^[0-9]+$/.test(given) ? Number(given) : Number.NaN;
  if (value >= min && value <= max) return value;
  return fail(r, name, `an integer from ${min} to ${max}`, given, fallback);
}

// Plain decimals only ("12", "12.5", ".5"): rejects exponents, signs, NaN and Infinity.
function readPositiveNumber(r: Reader, name: string, fallback: number, max: number): number {
  const given = raw(r, name);
  if (given === undefined) return fallback;
  const value = /^(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)$/.test(given) ? Number(given) : Number.NaN;
  if (value > 0 && value <= max) return value;
  return fail(r, name, `a number greater than 0 and at most ${max}`, given, fallback);
}

// Comma-separated standard short sides, each at most once: "360,720,1080".
function readLadder(r: Reader): readonly number[] {
  const given = raw(r, 'VIDEO_LADDER');
  if (given === undefined) return Object.freeze([...DEFAULT_LADDER]);
  const rungs = given.split(',').map((part) => part.trim());
  const standard: readonly number[] = STANDARD_RUNGS;
  const values = rungs.map((part) => (/^[0-9]+$/.test(part) ? Number(part) : Number.NaN));
  if (values.every((v) => standard.includes(v)) && new Set(values).size === values.length) return Object.freeze(values.sort((a, b) => a - b));
  return fail(r, 'VIDEO_LADDER', `a comma-separated list of distinct heights from ${STANDARD_RUNGS.join(', ')}`, given, [...DEFAULT_LADDER]);
}

function readHost(r: Reader): string {
  const given = raw(r, 'HOST');
  if (given === undefined) return '127.0.0.1';
  if (given.trim() === given) return given;
  return fail(r, 'HOST', 'a host name or address without surrounding spaces', given, '127.0.0.1');
}

function readLogLevel(r: Reader): LogLevel {
  return readChoice(r, 'LOG_LEVEL', LOG_LEVELS, 'info');
}

function readChoice<T extends string>(r: Reader, name: string, choices: readonly T[], fallback: T): T {
  const given = raw(r, name);
  if (given === undefined) return fallback;
  const choice = choices.find((candidate) => candidate === given);
  return choice ?? fail(r, name, `one of ${choices.join(', ')}`, given, fallback);
}

// An existing directory, stored as its absolute real path (symlinks resolved once, here).
function readMediaDir(r: Reader): string | undefined {
  const given = raw(r, 'MEDIA_DIR');
  if (given === undefined) return undefined;
  let real: string;
  try {
    real = realpathSync(given);
  } catch {
    return fail(r, 'MEDIA_DIR', 'an existing directory', given, undefined, ', which does not exist');
  }
  if (statSync(real).isDirectory()) return real;
  return fail(r, 'MEDIA_DIR', 'an existing directory', given, undefined, ', which is not a directory');
}
