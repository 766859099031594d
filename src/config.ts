// loadConfig(env) -> validated, frozen Config. Every bad variable is reported at once.
import { realpathSync, statSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, availableParallelism, platform, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { LOG_FORMATS, type LogFormat, type LogLevel } from './log.js';
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
  /** `auto`: readable lines on a terminal, JSON lines otherwise. */
  readonly logFormat: LogFormat;
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
const KIB = 1024;
const UNITS: Readonly<Record<string, number>> = { '': 1, K: KIB, M: KIB ** 2, G: KIB ** 3, T: KIB ** 4 };

interface Reader {
  readonly env: Record<string, string | undefined>;
  readonly problems: string[];
  /** What a problem calls the setting, when not its variable (`--port`: it was given as a flag). */
  readonly label?: string;
}

/** One setting: its variable, its flag, and how --help shows it. */
export interface Setting<T> {
  readonly env: string;
  /** The command-line flag without its dashes (`--port`). */
  readonly flag: string;
  /** The value's shape in --help: N, SECONDS, BYTES, DIR, or the choices. */
  readonly arg: string;
  /** The default, as --help shows it. */
  readonly shown: string;
  readonly help: string;
  /** Reads and checks the value; `name` is what a problem calls it (the flag when given as one). */
  read(r: Reader, name: string): T;
}

const DEFAULT_WORK_DIR = join(tmpdir(), 'seekwell');
const DEFAULT_VIDEO_ENCODES = Math.max(8, 4 * availableParallelism());

/** Every setting, in --help order. */
export const SETTINGS: { readonly [K in keyof Config]: Setting<Config[K]> } = {
  mediaDir: { env: 'MEDIA_DIR', flag: 'media-dir', arg: 'DIR', shown: 'the built-in demo clip', help: 'Folder of media files to serve, subfolders included (also the first argument).', read: readMediaDir },
  port: integer('PORT', 'port', 8080, 0, 65_535, 'TCP port to listen on; 0 picks a free one.'),
  host: { env: 'HOST', flag: 'host', arg: 'ADDRESS', shown: '127.0.0.1', help: 'Address to listen on: 0.0.0.0 or :: for every interface.', read: readHost },
  workDir: {
    env: 'WORK_DIR', flag: 'work-dir', arg: 'DIR', shown: DEFAULT_WORK_DIR, help: 'Where segments, remuxed copies and the demo clip are kept (they survive restarts).',
    read: readWorkDir,
  },
  segmentSeconds: integer('SEGMENT_SECONDS', 'segment-seconds', 2, 1, 30, 'Segment length in seconds (copied video is cut at its own key frames).'),
  videoLadder: { env: 'VIDEO_LADDER', flag: 'video-ladder', arg: 'HEIGHTS', shown: DEFAULT_LADDER.join(','), help: `Video qualities offered, by height (${STANDARD_RUNGS.join(', ')}); none above the source.`, read: readLadder },
  copy: choice('COPY', 'copy', COPY_MODES, 'auto', 'auto: serve H.264 and AAC that browsers play by stream copy; never: encode everything.'),
  bufferAheadSeconds: {
    env: 'BUFFER_AHEAD_SECONDS', flag: 'buffer-ahead', arg: 'SECONDS', shown: '30', help: 'How far past a viewer\'s furthest request the encoder runs before it pauses.',
    read: (r, name) => readPositiveNumber(r, name, 30, 3600),
  },
  cacheMaxBytes: bytes('CACHE_MAX_BYTES', 'cache-max', 2 * KIB ** 3, 1, 'Disk budget for stored segments (lowered to the free space at start).'),
  ingestMaxBytes: bytes('INGEST_MAX_BYTES', 'ingest-max', 16 * KIB ** 3, 0, 'Disk budget for remuxed copies of MPEG-TS/PS sources.'),
  memoryCacheMaxBytes: bytes('MEMORY_CACHE_MAX_BYTES', 'memory-cache-max', 256 * KIB ** 2, 0, 'Recently served segments kept in memory; 0 reads every one from disk.'),
  seekPolicy: choice('SEEK_POLICY', 'seek-policy', SEEK_POLICIES, 'cost', 'How a jump is served: cost weighs waiting against a restart; the others are for comparison.'),
  segmentWaitMs: integer('SEGMENT_WAIT_MS', 'segment-wait-ms', 8000, 100, 600_000, 'Longest a segment request waits before 503 + Retry-After (players give up at 10 s).'),
  sessionIdleMs: integer('SESSION_IDLE_MS', 'session-idle-ms', 300_000, 1000, 86_400_000, 'A session with no request for this long is closed and its encoders stopped.'),
  maxSessions: integer('MAX_SESSIONS', 'max-sessions', 1000, 1, 1_000_000, 'Open sessions at most; more are refused with 503 OVERLOADED.'),
  maxVideoEncodes: {
    ...integer('MAX_VIDEO_ENCODES', 'max-video-encodes', DEFAULT_VIDEO_ENCODES, 1, 10_000, 'Video encoders alive at most, over every title; more are refused with 503 OVERLOADED.'),
    shown: `4 per CPU core, at least 8 (${DEFAULT_VIDEO_ENCODES} here)`,
  },
  loadShedding: {
    env: 'LOAD_SHEDDING', flag: 'load-shedding', arg: 'on|off', shown: 'on', help: 'When encodes fall behind real time: pause prefetch, search less, then refuse new sessions.',
    read: (r, name) => readChoice(r, name, ['on', 'off'] as const, 'on') === 'on',
  },
  bodyMaxBytes: bytes('BODY_MAX_BYTES', 'body-max', 64 * KIB, 1024, 'Largest request body read; a larger one gets 413.', 16 * KIB ** 2),
  ffmpegPath: binaryPath('FFMPEG_PATH', 'ffmpeg', 'ffmpeg', 'ffmpeg binary (5 or newer, with libx264).'),
  ffprobePath: binaryPath('FFPROBE_PATH', 'ffprobe', 'ffprobe', 'ffprobe binary.'),
  packagerPath: {
    ...binaryPath('PACKAGER_PATH', 'packager', 'the shaka-packager npm package\'s binary', 'Shaka Packager 3.x binary.'),
    read: (r, name) => raw(r, name) ?? defaultPackagerPath(platform(), arch()),
  },
  logLevel: choice('LOG_LEVEL', 'log-level', LOG_LEVELS, 'info', 'debug adds a line per request, with its duration.'),
  logFormat: choice('LOG_FORMAT', 'log-format', LOG_FORMATS, 'auto', 'auto: readable lines on a terminal, JSON lines otherwise.'),
};

/**
 * Reads every setting from `env`; all problems are reported at once. A setting in `fromFlags` (by
 * variable name) was given as a command-line flag: its problem names the flag.
 */
export function loadConfig(env: Record<string, string | undefined>, fromFlags: ReadonlySet<string> = new Set()): Config {
  const problems: string[] = [];
  const config: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(SETTINGS) as [string, Setting<unknown>][]) {
    const label = fromFlags.has(setting.env) ? `--${setting.flag}` : undefined;
    config[key] = setting.read({ env, problems, ...(label ? { label } : {}) }, setting.env);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config as unknown as Config);
}

function integer(env: string, flag: string, fallback: number, min: number, max: number, help: string): Setting<number> {
  return { env, flag, arg: 'N', shown: String(fallback), help, read: (r, name) => readInteger(r, name, fallback, min, max) };
}

function bytes(env: string, flag: string, fallback: number, min: number, help: string, max = Number.MAX_SAFE_INTEGER): Setting<number> {
  return { env, flag, arg: 'BYTES', shown: showBytes(fallback), help, read: (r, name) => readBytes(r, name, fallback, min, max) };
}

function choice<T extends string>(env: string, flag: string, choices: readonly T[], fallback: T, help: string): Setting<T> {
  return { env, flag, arg: choices.join('|'), shown: fallback, help, read: (r, name) => readChoice(r, name, choices, fallback) };
}

function binaryPath(env: string, flag: string, shown: string, help: string): Setting<string> {
  return { env, flag, arg: 'PATH', shown, help, read: (r, name) => raw(r, name) ?? shown };
}

/** 2147483648 -> "2G"; sizes that are not a whole unit stay in bytes. */
export function showBytes(value: number): string {
  const unit = ['T', 'G', 'M', 'K'].find((u) => value >= UNITS[u]! && value % UNITS[u]! === 0);
  return unit ? `${value / UNITS[unit]!}${unit}` : String(value);
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
  r.problems.push(`${r.label ?? name}: expected ${expected}, got ${show(given)}${why}`);
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

// A size in bytes, plain or with a binary unit: "65536", "64K", "512M", "2G", "1.5G", "2GiB".
function readBytes(r: Reader, name: string, fallback: number, min: number, max: number): number {
  const given = raw(r, name);
  if (given === undefined) return fallback;
  const match = /^([0-9]+(?:\.[0-9]+)?)([KMGT]?)(?:i?B)?$/i.exec(given);
  const value = match ? Number(match[1]) * UNITS[match[2]!.toUpperCase()]! : Number.NaN;
  if (Number.isInteger(value) && value >= min && value <= max) return value;
  const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${showBytes(min)}` : `from ${showBytes(min)} to ${showBytes(max)}`;
  return fail(r, name, `a size in bytes ${range} (e.g. 65536, 64K, 512M, 2G)`, given, fallback);
}

// Comma-separated standard short sides, each at most once: "360,720,1080".
function readLadder(r: Reader, name: string): readonly number[] {
  const given = raw(r, name);
  if (given === undefined) return Object.freeze([...DEFAULT_LADDER]);
  const rungs = given.split(',').map((part) => part.trim());
  const standard: readonly number[] = STANDARD_RUNGS;
  const values = rungs.map((part) => (/^[0-9]+$/.test(part) ? Number(part) : Number.NaN));
  if (values.every((v) => standard.includes(v)) && new Set(values).size === values.length) return Object.freeze(values.sort((a, b) => a - b));
  return fail(r, name, `a comma-separated list of distinct heights from ${STANDARD_RUNGS.join(', ')}`, given, [...DEFAULT_LADDER]);
}

function readHost(r: Reader, name: string): string {
  const given = raw(r, name);
  if (given === undefined) return '127.0.0.1';
  if (given.trim() === given) return given;
  return fail(r, name, 'a host name or address without surrounding spaces', given, '127.0.0.1');
}

function readChoice<T extends string>(r: Reader, name: string, choices: readonly T[], fallback: T): T {
  const given = raw(r, name);
  if (given === undefined) return fallback;
  const choice = choices.find((candidate) => candidate === given);
  return choice ?? fail(r, name, `one of ${choices.join(', ')}`, given, fallback);
}

// Absolute; a directory, or a path that can become one: its nearest existing ancestor must be a
// directory (a file there would fail at start with ENOTDIR, after the checks).
function readWorkDir(r: Reader, name: string): string {
  const given = raw(r, name);
  const dir = resolve(given ?? DEFAULT_WORK_DIR);
  for (let at = dir; ; at = dirname(at)) {
    const info = statOf(at);
    if (info) {
      if (info.isDirectory()) return dir;
      const why = at === dir ? ', which is a file' : `, under ${JSON.stringify(at)}, which is a file`;
      return fail(r, name, 'a directory or a path where one can be made', given ?? dir, dir, why);
    }
    if (dirname(at) === at) return dir;
  }
}

// What is at `file`; undefined when nothing is, or nothing can be looked at (ENOTDIR under a file).
function statOf(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

// An existing directory, stored as its absolute real path (symlinks resolved once, here).
function readMediaDir(r: Reader, name: string): string | undefined {
  const given = raw(r, name);
  if (given === undefined) return undefined;
  let real: string;
  try {
    real = realpathSync(given);
  } catch {
    return fail(r, name, 'an existing directory', given, undefined, ', which does not exist');
  }
  if (statSync(real).isDirectory()) return real;
  return fail(r, name, 'an existing directory', given, undefined, ', which is not a directory');
}
