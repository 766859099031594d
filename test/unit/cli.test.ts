import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { helpText, listenProblem, packageVersion, parseCommandLine } from '../../src/cli.js';
import { ConfigError, SETTINGS } from '../../src/config.js';

const media = mkdtempSync(join(tmpdir(), 'seekwell-cli-'));
afterAll(() => rmSync(media, { recursive: true, force: true }));

function problemsOf(argv: string[], env: Record<string, string> = {}): string[] {
  try {
    parseCommandLine(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`expected ${JSON.stringify(argv)} to be refused`);
}

function configOf(argv: string[], env: Record<string, string> = {}) {
  const command = parseCommandLine(argv, env);
  if (command.kind !== 'serve') throw new Error(`expected serve, got ${command.kind}`);
  return command.config;
}

describe('parseCommandLine', () => {
  it('takes MEDIA_DIR as the first argument and each setting as a flag, with or without "="', () => {
    const config = configOf([media, '--port', '9000', '--segment-seconds=3', '--cache-max', '50G', '--buffer-ahead', '12.5', '--log-format', 'json']);
    expect(config).toMatchObject({ mediaDir: realpathSync(media), port: 9000, segmentSeconds: 3, cacheMaxBytes: 50 * 1024 ** 3, bufferAheadSeconds: 12.5, logFormat: 'json' });
  });

  it('lets a flag win over its environment variable, and reads the variables of the rest', () => {
    const config = configOf(['--port', '9000'], { PORT: '7000', SEGMENT_SECONDS: '5', MEDIA_DIR: media });
    expect(config).toMatchObject({ port: 9000, segmentSeconds: 5, mediaDir: realpathSync(media) });
    expect(configOf([], { PORT: '7000' }).port).toBe(7000);
  });

  it('uses the defaults with no arguments', () => {
    expect(configOf([])).toMatchObject({ port: 8080, host: '127.0.0.1', mediaDir: undefined, segmentSeconds: 2 });
  });

  it('answers --help and --version wherever they stand, even among bad flags', () => {
    expect(parseCommandLine(['--nope', '-h'], {})).toEqual({ kind: 'help' });
    expect(parseCommandLine([media, '--help'], {})).toEqual({ kind: 'help' });
    expect(parseCommandLine(['--version'], {})).toEqual({ kind: 'version' });
    expect(parseCommandLine(['-v'], {})).toEqual({ kind: 'version' });
  });

  it('reports every problem at once: unknown flags (with the closest one), missing and bad values', () => {
    expect(problemsOf(['--prot', '80', '--segment-seconds', '99', '--cache-max', '2X', '--host'])).toEqual([
      'unknown option --prot (did you mean --port?)',
      '--host: expected a value (ADDRESS)',
      '--segment-seconds: expected an integer from 1 to 30, got "99"',
      '--cache-max: expected a size in bytes of at least 1 (e.g. 65536, 64K, 512M, 2G), got "2X"',
    ]);
  });

  it('names the variable when the bad value came from the environment', () => {
    expect(problemsOf(['--port', '9000'], { SEGMENT_SECONDS: 'x' })).toEqual(['SEGMENT_SECONDS: expected an integer from 1 to 30, got "x"']);
  });

  it('refuses a flag followed by another flag instead of a value', () => {
    expect(problemsOf(['--port', '--host', '0.0.0.0'])).toEqual(['--port: expected a value (N)']);
  });

  it('refuses a second MEDIA_DIR, and MEDIA_DIR given both ways', () => {
    expect(problemsOf([media, media])[0]).toMatch(/^expected at most one MEDIA_DIR, got 2/);
    expect(problemsOf([media, '--media-dir', media])).toEqual(['MEDIA_DIR given twice: as an argument and as --media-dir']);
  });

  it('names a missing MEDIA_DIR given as the argument by its flag', () => {
    expect(problemsOf([join(media, 'missing')])).toEqual([`--media-dir: expected an existing directory, got ${JSON.stringify(join(media, 'missing'))}, which does not exist`]);
  });

  it('suggests nothing for an option far from every flag', () => {
    expect(problemsOf(['--frobnicate=1'])).toEqual(['unknown option --frobnicate (see seekwell --help)']);
  });

  it('takes what follows "--" as MEDIA_DIR, even when it starts with a dash', () => {
    expect(problemsOf(['--', '--port'])).toEqual(['--media-dir: expected an existing directory, got "--port", which does not exist']);
  });
});

describe('helpText', () => {
  it('lists every setting with its flag, variable and default, and the version', () => {
    const text = helpText('9.9.9');
    expect(text).toContain('seekwell 9.9.9');
    const missing = Object.values(SETTINGS).filter((s) => !text.includes(`--${s.flag} ${s.arg}`) || !text.includes(`env ${s.env}, default: ${s.shown}`));
    expect(missing.map((s) => s.env)).toEqual([]);
    expect(text).toContain('--help');
    expect(text).toContain('--version');
  });
});

describe('packageVersion', () => {
  it('is the version in package.json', async () => {
    const { default: pkg } = await import('../../package.json', { with: { type: 'json' } });
    expect(packageVersion()).toBe(pkg.version);
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('listenProblem', () => {
  const failure = (code: string): Error => Object.assign(new Error(`listen ${code}`), { code });

  it('says what to change for a taken port, a privileged port, an address not here and a name that does not resolve', () => {
    expect(listenProblem(failure('EADDRINUSE'), '127.0.0.1', 8080)).toMatch(/^cannot listen on 127\.0\.0\.1:8080: the port is in use .*--port/);
    expect(listenProblem(failure('EACCES'), '0.0.0.0', 80)).toMatch(/permission denied .*--port/);
    expect(listenProblem(failure('EADDRNOTAVAIL'), '::1', 9000)).toMatch(/^cannot listen on \[::1\]:9000: no such address .*--host/);
    expect(listenProblem(failure('ENOTFOUND'), 'nas.local', 9000)).toMatch(/does not resolve; check --host/);
    expect(listenProblem(new Error('boom'), 'h', 1)).toBe('cannot listen on h:1: boom');
  });
});
