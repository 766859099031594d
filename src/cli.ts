// The `seekwell` command line: `seekwell [MEDIA_DIR] [--flag value]...`. Every setting is a flag
// and an environment variable (config.ts SETTINGS); a flag wins. Pure: main.ts does the I/O.
import { readFileSync } from 'node:fs';
import { ConfigError, SETTINGS, loadConfig, type Config, type Setting } from './config.js';

export type Command =
  | { kind: 'serve'; config: Config }
  | { kind: 'help' }
  | { kind: 'version' };

const ALL: readonly Setting<unknown>[] = Object.values(SETTINGS);
const BY_FLAG = new Map(ALL.map((s) => [s.flag, s]));
const HELP_WIDTH = 30;

/**
 * What the command line asks for. Unknown flags, missing values and bad values are reported
 * together in one ConfigError (main.ts exits with 2).
 */
export function parseCommandLine(argv: readonly string[], env: Record<string, string | undefined>): Command {
  if (argv.some((a) => a === '-h' || a === '--help')) return { kind: 'help' };
  if (argv.some((a) => a === '-v' || a === '--version')) return { kind: 'version' };
  const problems: string[] = [];
  const given = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const [name, inline] = splitFlag(arg);
    const setting = BY_FLAG.get(name);
    if (!setting) {
      problems.push(`unknown option ${arg.split('=')[0]}${suggestion(name)}`);
      // Its value, most likely: not to be taken for MEDIA_DIR.
      if (inline === undefined && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-')) i++;
      continue;
    }
    const value = inline ?? argv[i + 1];
    if (value === undefined || (inline === undefined && value.startsWith('--') && BY_FLAG.has(splitFlag(value)[0]))) {
      problems.push(`--${name}: expected a value (${setting.arg})`);
      continue;
    }
    if (inline === undefined) i++;
    given.set(setting.env, value);
  }
  if (positional.length > 1) problems.push(`expected at most one MEDIA_DIR, got ${positional.length}: ${positional.map((p) => JSON.stringify(p)).join(' ')}`);
  if (positional.length > 0 && given.has(SETTINGS.mediaDir.env)) problems.push('MEDIA_DIR given twice: as an argument and as --media-dir');
  if (positional[0] !== undefined && !given.has(SETTINGS.mediaDir.env)) given.set(SETTINGS.mediaDir.env, positional[0]);
  try {
    // Every value in `given` came from the command line (MEDIA_DIR too, as the argument).
    const config = loadConfig({ ...env, ...Object.fromEntries(given) }, new Set(given.keys()));
    if (problems.length > 0) throw new ConfigError(problems);
    return { kind: 'serve', config };
  } catch (error) {
    if (!(error instanceof ConfigError) || error.problems === problems) throw error;
    throw new ConfigError([...problems, ...error.problems]);
  }
}

/** `--port=80` -> ['port', '80']; `--port` -> ['port', undefined]. */
function splitFlag(arg: string): [string, string | undefined] {
  const bare = arg.replace(/^--?/, '');
  const eq = bare.indexOf('=');
  return eq < 0 ? [bare, undefined] : [bare.slice(0, eq), bare.slice(eq + 1)];
}

// The closest flag by edit distance, when it is close enough to be a typo.
function suggestion(name: string): string {
  let best: { flag: string; distance: number } | undefined;
  for (const flag of BY_FLAG.keys()) {
    const distance = editDistance(name, flag);
    if (!best || distance < best.distance) best = { flag, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(name.length / 4)) ? ` (did you mean --${best.flag}?)` : ' (see seekwell --help)';
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}

/** The text of `seekwell --help`: every setting with its flag, variable, default and meaning. */
export function helpText(version: string): string {
  const options = ALL.map((s) => {
    const left = `  --${s.flag} ${s.arg}`;
    const indent = ' '.repeat(HELP_WIDTH + 1);
    const first = left.length < HELP_WIDTH ? `${left.padEnd(HELP_WIDTH)} ${s.help}` : `${left}\n${indent}${s.help}`;
    return `${first}\n${indent}env ${s.env}, default: ${s.shown}`;
  });
  return [
    `seekwell ${version}: DASH and HLS from your media files, segments made as players ask for them`,
    '',
    'Usage: seekwell [MEDIA_DIR] [options]',
    '',
    'Serves every media file under MEDIA_DIR (or a built-in demo clip) at http://HOST:PORT/.',
    'Each option can also be set by its environment variable; an option given here wins.',
    'Sizes take binary units (64K, 512M, 2G).',
    '',
    'Options:',
    ...options,
    `${'  -h, --help'.padEnd(HELP_WIDTH)} Show this text.`,
    `${'  -v, --version'.padEnd(HELP_WIDTH)} Show the version.`,
    '',
    'Examples:',
    '  seekwell ./movies',
    '  seekwell ./movies --host 0.0.0.0 --port 9000 --cache-max 50G',
    '  PORT=9000 seekwell ./movies --log-format json',
    '',
  ].join('\n');
}

/** The version in package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** A host as it stands in a URL: an IPv6 address in brackets. */
export function bracketed(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Why a server could not listen on `host:port`, for a person: what to change. */
export function listenProblem(error: unknown, host: string, port: number): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  const where = `${bracketed(host)}:${port}`;
  switch (code) {
    case 'EADDRINUSE': return `cannot listen on ${where}: the port is in use (another Seekwell?); pick another with --port, or --port 0 for any free one`;
    case 'EACCES': return `cannot listen on ${where}: permission denied (ports below 1024 need privileges); pick one from 1024 with --port`;
    case 'EADDRNOTAVAIL': return `cannot listen on ${where}: no such address on this machine; check --host`;
    case 'ENOTFOUND': case 'EAI_AGAIN': return `cannot listen on ${where}: the host name does not resolve; check --host`;
    default: return `cannot listen on ${where}: ${error instanceof Error ? error.message : String(error)}`;
  }
}
