import { existsSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, it, expect } from 'vitest';
import { ConfigError, SETTINGS, defaultPackagerPath, loadConfig } from '../../src/config.js';

const scratch = mkdtempSync(join(tmpdir(), 'seekwell-config-'));
const aFile = join(scratch, 'file.txt');
writeFileSync(aFile, 'not a directory');

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// The problems a bad env produces, or a failed expectation when it loads.
function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

const LADDER_EXPECTED = 'VIDEO_LADDER: expected a comma-separated list of distinct heights from 240, 360, 480, 540, 576, 720, 1080, 1440, 2160';

describe('loadConfig', () => {
  it('uses the documented defaults when the environment is empty', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      mediaDir: undefined,
      workDir: join(tmpdir(), 'seekwell'),
      segmentSeconds: 2,
      videoLadder: [360, 480, 720, 1080],
      copy: 'auto',
      bufferAheadSeconds: 30,
      segmentWaitMs: 8000,
      sessionIdleMs: 300_000,
      ffmpegPath: 'ffmpeg',
      ffprobePath: 'ffprobe',
      logLevel: 'info',
    });
  });

  it('returns a frozen object', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('points packagerPath at the shaka-packager binary that exists on this machine', () => {
    const { packagerPath } = loadConfig({});
    expect(packagerPath).toMatch(/node_modules\/shaka-packager\/bin\/packager-linux-x64$/);
    expect(existsSync(packagerPath)).toBe(true);
  });

  it('falls back to "packager" on a platform the npm package has no binary for', () => {
    expect(defaultPackagerPath('freebsd', 'x64')).toBe('packager');
    expect(defaultPackagerPath('win32', 'arm64')).toBe('packager');
    expect(defaultPackagerPath('darwin', 'arm64')).toMatch(/packager-osx-arm64$/);
    expect(defaultPackagerPath('win32', 'x64')).toMatch(/packager-win-x64\.exe$/);
  });

  it('treats empty strings as unset', () => {
    const config = loadConfig({ PORT: '', HOST: '', MEDIA_DIR: '', LOG_LEVEL: '', SEGMENT_SECONDS: '' });
    expect(config).toMatchObject({ port: 8080, host: '127.0.0.1', mediaDir: undefined, logLevel: 'info', segmentSeconds: 2 });
  });

  it('parses every variable', () => {
    const config = loadConfig({
      PORT: '0',
      HOST: '0.0.0.0',
      MEDIA_DIR: scratch,
      WORK_DIR: 'relative/work',
      SEGMENT_SECONDS: '6',
      VIDEO_LADDER: '1080,360,720',
      COPY: 'never',
      BUFFER_AHEAD_SECONDS: '12.5',
      CACHE_MAX_BYTES: '1048576',
      MEMORY_CACHE_MAX_BYTES: '0',
      INGEST_MAX_BYTES: '1000',
      SEEK_POLICY: 'never-restart',
      SEGMENT_WAIT_MS: '100',
      SESSION_IDLE_MS: '86400000',
      MAX_SESSIONS: '50',
      MAX_VIDEO_ENCODES: '3',
      BODY_MAX_BYTES: '2048',
      LOAD_SHEDDING: 'off',
      FFMPEG_PATH: '/opt/ffmpeg',
      FFPROBE_PATH: '/opt/ffprobe',
      PACKAGER_PATH: '/opt/packager',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'json',
    });
    expect(config).toEqual({
      port: 0,
      host: '0.0.0.0',
      mediaDir: realpathSync(scratch),
      workDir: resolve('relative/work'),
      segmentSeconds: 6,
      videoLadder: [360, 720, 1080],
      copy: 'never',
      bufferAheadSeconds: 12.5,
      cacheMaxBytes: 1_048_576,
      memoryCacheMaxBytes: 0,
      ingestMaxBytes: 1000,
      seekPolicy: 'never-restart',
      segmentWaitMs: 100,
      sessionIdleMs: 86_400_000,
      maxSessions: 50,
      maxVideoEncodes: 3,
      bodyMaxBytes: 2048,
      loadShedding: false,
      ffmpegPath: '/opt/ffmpeg',
      ffprobePath: '/opt/ffprobe',
      packagerPath: '/opt/packager',
      logLevel: 'debug',
      logFormat: 'json',
    });
  });

  it('sorts VIDEO_LADDER ascending, allows spaces after commas, and freezes it', () => {
    expect(loadConfig({ VIDEO_LADDER: '1080,360,720' }).videoLadder).toEqual([360, 720, 1080]);
    expect(loadConfig({ VIDEO_LADDER: '2160, 1440' }).videoLadder).toEqual([1440, 2160]);
    expect(loadConfig({ VIDEO_LADDER: '576' }).videoLadder).toEqual([576]);
    expect(Object.isFrozen(loadConfig({ VIDEO_LADDER: '720,360' }).videoLadder)).toBe(true);
    expect(Object.isFrozen(loadConfig({}).videoLadder)).toBe(true);
  });

  it('reads sizes in bytes with binary units', () => {
    const sizes = (value: string): number => loadConfig({ CACHE_MAX_BYTES: value }).cacheMaxBytes;
    expect([sizes('65536'), sizes('64K'), sizes('512m'), sizes('2G'), sizes('2GiB'), sizes('1.5G'), sizes('1T')])
      .toEqual([65_536, 65_536, 512 * 1024 ** 2, 2 * 1024 ** 3, 2 * 1024 ** 3, 1.5 * 1024 ** 3, 1024 ** 4]);
  });

  it('stores MEDIA_DIR as its real path when it is reached through a symlink', () => {
    const link = join(scratch, 'media-link');
    symlinkSync(scratch, link);
    expect(loadConfig({ MEDIA_DIR: link }).mediaDir).toBe(realpathSync(scratch));
  });

  it.each([
    ['PORT', 'abc', 'PORT: expected an integer from 0 to 65535, got "abc"'],
    ['MEMORY_CACHE_MAX_BYTES', '-1', 'MEMORY_CACHE_MAX_BYTES: expected a size in bytes of at least 0 (e.g. 65536, 64K, 512M, 2G), got "-1"'],
    ['CACHE_MAX_BYTES', '2XB', 'CACHE_MAX_BYTES: expected a size in bytes of at least 1 (e.g. 65536, 64K, 512M, 2G), got "2XB"'],
    ['CACHE_MAX_BYTES', '1.3K', 'CACHE_MAX_BYTES: expected a size in bytes of at least 1 (e.g. 65536, 64K, 512M, 2G), got "1.3K"'],
    ['CACHE_MAX_BYTES', '2 G', 'CACHE_MAX_BYTES: expected a size in bytes of at least 1 (e.g. 65536, 64K, 512M, 2G), got "2 G"'],
    ['PORT', '65536', 'PORT: expected an integer from 0 to 65535, got "65536"'],
    ['PORT', '8080x', 'PORT: expected an integer from 0 to 65535, got "8080x"'],
    ['PORT', ' 8080', 'PORT: expected an integer from 0 to 65535, got " 8080"'],
    ['PORT', '-1', 'PORT: expected an integer from 0 to 65535, got "-1"'],
    ['SEGMENT_SECONDS', 'abc', 'SEGMENT_SECONDS: expected an integer from 1 to 30, got "abc"'],
    ['SEGMENT_SECONDS', '4.5', 'SEGMENT_SECONDS: expected an integer from 1 to 30, got "4.5"'],
    ['SEGMENT_SECONDS', '0', 'SEGMENT_SECONDS: expected an integer from 1 to 30, got "0"'],
    ['SEGMENT_SECONDS', '31', 'SEGMENT_SECONDS: expected an integer from 1 to 30, got "31"'],
    ['SEGMENT_WAIT_MS', '1e3', 'SEGMENT_WAIT_MS: expected an integer from 100 to 600000, got "1e3"'],
    ['SEGMENT_WAIT_MS', 'Infinity', 'SEGMENT_WAIT_MS: expected an integer from 100 to 600000, got "Infinity"'],
    ['SESSION_IDLE_MS', '999', 'SESSION_IDLE_MS: expected an integer from 1000 to 86400000, got "999"'],
    ['SESSION_IDLE_MS', '0x3e8', 'SESSION_IDLE_MS: expected an integer from 1000 to 86400000, got "0x3e8"'],
    ['BUFFER_AHEAD_SECONDS', '0', 'BUFFER_AHEAD_SECONDS: expected a number greater than 0 and at most 3600, got "0"'],
    ['BUFFER_AHEAD_SECONDS', '3600.5', 'BUFFER_AHEAD_SECONDS: expected a number greater than 0 and at most 3600, got "3600.5"'],
    ['BUFFER_AHEAD_SECONDS', 'NaN', 'BUFFER_AHEAD_SECONDS: expected a number greater than 0 and at most 3600, got "NaN"'],
    ['BUFFER_AHEAD_SECONDS', '-5', 'BUFFER_AHEAD_SECONDS: expected a number greater than 0 and at most 3600, got "-5"'],
    ['BUFFER_AHEAD_SECONDS', '1e3', 'BUFFER_AHEAD_SECONDS: expected a number greater than 0 and at most 3600, got "1e3"'],
    ['MAX_SESSIONS', '0', 'MAX_SESSIONS: expected an integer from 1 to 1000000, got "0"'],
    ['MAX_VIDEO_ENCODES', 'many', 'MAX_VIDEO_ENCODES: expected an integer from 1 to 10000, got "many"'],
    ['BODY_MAX_BYTES', '1023', 'BODY_MAX_BYTES: expected a size in bytes from 1K to 16M (e.g. 65536, 64K, 512M, 2G), got "1023"'],
    ['LOG_FORMAT', 'xml', 'LOG_FORMAT: expected one of auto, json, pretty, got "xml"'],
    ['LOAD_SHEDDING', 'yes', 'LOAD_SHEDDING: expected one of on, off, got "yes"'],
    ['COPY', 'always', 'COPY: expected one of auto, never, got "always"'],
    ['LOG_LEVEL', 'verbose', 'LOG_LEVEL: expected one of debug, info, warn, error, got "verbose"'],
    ['LOG_LEVEL', 'INFO', 'LOG_LEVEL: expected one of debug, info, warn, error, got "INFO"'],
    ['HOST', '   ', 'HOST: expected a host name or address without surrounding spaces, got "   "'],
    ['VIDEO_LADDER', '360,361', `${LADDER_EXPECTED}, got "360,361"`],
    ['VIDEO_LADDER', '720,720', `${LADDER_EXPECTED}, got "720,720"`],
    ['VIDEO_LADDER', 'abc', `${LADDER_EXPECTED}, got "abc"`],
    ['VIDEO_LADDER', '720,', `${LADDER_EXPECTED}, got "720,"`],
  ])('rejects %s=%j and names the variable, the expectation and the given value', (name, value, message) => {
    expect(problemsOf({ [name]: value })).toEqual([message]);
  });

  it('accepts the boundary values of each range', () => {
    const low = loadConfig({ PORT: '0', SEGMENT_SECONDS: '1', SEGMENT_WAIT_MS: '100', SESSION_IDLE_MS: '1000', BUFFER_AHEAD_SECONDS: '0.5' });
    const high = loadConfig({ PORT: '65535', SEGMENT_SECONDS: '30', SEGMENT_WAIT_MS: '600000', BUFFER_AHEAD_SECONDS: '3600' });
    expect([low.port, low.segmentSeconds, low.segmentWaitMs, low.sessionIdleMs, low.bufferAheadSeconds]).toEqual([0, 1, 100, 1000, 0.5]);
    expect([high.port, high.segmentSeconds, high.segmentWaitMs, high.bufferAheadSeconds]).toEqual([65535, 30, 600000, 3600]);
  });

  it('reports every problem together in one ConfigError whose message lists them one per line', () => {
    let caught: unknown;
    try {
      loadConfig({ PORT: 'x', SEGMENT_SECONDS: '99', LOG_LEVEL: 'loud', MEDIA_DIR: join(scratch, 'nope') });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const { problems, message } = caught as ConfigError;
    expect(problems).toHaveLength(4);
    expect(problems.map((problem) => problem.split(':')[0])).toEqual(['MEDIA_DIR', 'PORT', 'SEGMENT_SECONDS', 'LOG_LEVEL']);
    expect(message.split('\n').slice(1)).toEqual(problems);
  });

  it('rejects a MEDIA_DIR that does not exist', () => {
    const missing = join(scratch, 'missing');
    expect(problemsOf({ MEDIA_DIR: missing })).toEqual([
      `MEDIA_DIR: expected an existing directory, got ${JSON.stringify(missing)}, which does not exist`,
    ]);
  });

  it('rejects a WORK_DIR that is a file or lies under one, and takes one still to be made', () => {
    expect(problemsOf({ WORK_DIR: aFile })).toEqual([`WORK_DIR: expected a directory or a path where one can be made, got ${JSON.stringify(aFile)}, which is a file`]);
    expect(problemsOf({ WORK_DIR: join(aFile, 'work') })).toEqual([
      `WORK_DIR: expected a directory or a path where one can be made, got ${JSON.stringify(join(aFile, 'work'))}, under ${JSON.stringify(aFile)}, which is a file`,
    ]);
    expect(loadConfig({ WORK_DIR: join(scratch, 'new', 'deeper') }).workDir).toBe(join(scratch, 'new', 'deeper'));
  });

  it('rejects a MEDIA_DIR that is a file', () => {
    expect(problemsOf({ MEDIA_DIR: aFile })).toEqual([
      `MEDIA_DIR: expected an existing directory, got ${JSON.stringify(aFile)}, which is not a directory`,
    ]);
  });

  it('cuts a huge given value short in the message', () => {
    const [problem] = problemsOf({ PORT: '9'.repeat(10_000) });
    expect(problem).toMatch(/^PORT: expected an integer from 0 to 65535, got "9+…"$/);
    expect(problem!.length).toBeLessThan(200);
  });
});

describe('SETTINGS', () => {
  it('gives every setting its own variable and its own flag', () => {
    const all = Object.values(SETTINGS);
    expect(new Set(all.map((s) => s.env)).size).toBe(all.length);
    expect(new Set(all.map((s) => s.flag)).size).toBe(all.length);
    expect(all.filter((s) => !/^[a-z][a-z0-9-]+$/.test(s.flag) || !/^[A-Z][A-Z0-9_]+$/.test(s.env))).toEqual([]);
  });

  it('names the flag, not the variable, in a problem with a value given as a flag', () => {
    try {
      loadConfig({ PORT: 'abc', SEGMENT_SECONDS: '99' }, new Set(['PORT']));
      expect.unreachable('loadConfig accepted PORT=abc');
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        '--port: expected an integer from 0 to 65535, got "abc"',
        'SEGMENT_SECONDS: expected an integer from 1 to 30, got "99"',
      ]);
    }
  });
});
