import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { type ErrorCode, SeekwellError } from '../../../src/errors.js';
import { resolveMediaPath, toFfmpegInput } from '../../../src/media/media-path.js';

let mediaDir = '';
let outsideDir = '';

// Media root layout: plain files, odd-but-legal names, a directory, and symlinks in and out.
beforeAll(async () => {
  mediaDir = await realpath(await mkdtemp(join(tmpdir(), 'seekwell-media-')));
  outsideDir = await realpath(await mkdtemp(join(tmpdir(), 'seekwell-outside-')));
  await writeFile(join(outsideDir, 'secret.mp4'), 'outside');
  await writeFile(join(outsideDir, 'file'), 'outside');
  await mkdir(join(mediaDir, 'sub'));
  await mkdir(join(mediaDir, 'dir'));
  for (const name of ['a.mp4', 'sub/b.mkv', '-rf.mp4', 'x:y.mp4']) await writeFile(join(mediaDir, name), name);
  await symlink(join(outsideDir, 'secret.mp4'), join(mediaDir, 'out.mp4'));
  await symlink(join(mediaDir, 'a.mp4'), join(mediaDir, 'in.mp4'));
  await symlink(outsideDir, join(mediaDir, 'outdir'));
  await symlink('loop', join(mediaDir, 'loop'));
});

afterAll(async () => {
  await rm(mediaDir, { recursive: true, force: true });
  await rm(outsideDir, { recursive: true, force: true });
});

// The SeekwellError a rejected input produces.
async function rejectionOf(input: unknown): Promise<SeekwellError> {
  const error: unknown = await resolveMediaPath(mediaDir, input).then(
    () => new Error('expected resolveMediaPath to reject'),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(SeekwellError);
  return error as SeekwellError;
}

const hostile: [string, unknown, ErrorCode][] = [
  ['a parent escape', '../etc/passwd', 'MEDIA_PATH_INVALID'],
  ['a nested parent escape', 'sub/../../x', 'MEDIA_PATH_INVALID'],
  ['a parent step that stays inside', 'sub/../a.mp4', 'MEDIA_PATH_INVALID'],
  ['an absolute path', '/etc/passwd', 'MEDIA_PATH_INVALID'],
  ['a lone parent', '..', 'MEDIA_PATH_INVALID'],
  ['a lone dot', '.', 'MEDIA_PATH_INVALID'],
  ['a leading dot segment', './a.mp4', 'MEDIA_PATH_INVALID'],
  ['a trailing slash', 'a.mp4/', 'MEDIA_PATH_INVALID'],
  ['an empty segment', 'sub//b.mkv', 'MEDIA_PATH_INVALID'],
  ['a NUL byte', 'a.mp4\0.txt', 'MEDIA_PATH_INVALID'],
  ['a newline', 'a\nb', 'MEDIA_PATH_INVALID'],
  ['a DEL character', 'a\u007f.mp4', 'MEDIA_PATH_INVALID'],
  ['backslash parents', '..\\..\\windows', 'MEDIA_PATH_INVALID'],
  ['a drive letter with a backslash', 'C:\\x', 'MEDIA_PATH_INVALID'],
  ['a drive letter with a slash', 'C:/x', 'MEDIA_PATH_INVALID'],
  ['a bare drive letter', 'C:', 'MEDIA_PATH_INVALID'],
  ['encoded dots', '%2e%2e/etc/passwd', 'MEDIA_PATH_INVALID'],
  ['upper-case encoded dots and slash', '%2E%2E%2Fetc', 'MEDIA_PATH_INVALID'],
  ['encoded slashes', 'sub%2f..%2f..', 'MEDIA_PATH_INVALID'],
  ['an encoded backslash', 'sub%5Ca.mp4', 'MEDIA_PATH_INVALID'],
  ['a symlink to a file outside', 'out.mp4', 'MEDIA_PATH_INVALID'],
  ['a path through a symlinked directory outside', 'outdir/file', 'MEDIA_PATH_INVALID'],
  ['a symlink loop', 'loop', 'MEDIA_PATH_INVALID'],
  ['a directory', 'dir', 'MEDIA_NOT_FOUND'],
  ['a missing file', 'missing.mp4', 'MEDIA_NOT_FOUND'],
  ['a file used as a directory', 'a.mp4/x', 'MEDIA_NOT_FOUND'],
  ['an empty string', '', 'MEDIA_PATH_INVALID'],
  ['a number', 123, 'MEDIA_PATH_INVALID'],
  ['null', null, 'MEDIA_PATH_INVALID'],
  ['undefined', undefined, 'MEDIA_PATH_INVALID'],
  ['an array', ['a.mp4'], 'MEDIA_PATH_INVALID'],
  ['a 5000-character string', 'a'.repeat(5000), 'MEDIA_PATH_INVALID'],
];

describe('resolveMediaPath', () => {
  it.each(hostile)('rejects %s with %s', async (_label, input, code) => {
    const error = await rejectionOf(input);
    expect(error.code).toBe(code);
  });

  it('never echoes more than about 200 characters of the input', async () => {
    const long = 'a/'.repeat(2000) + 'b';
    const error = await rejectionOf(long + '/');
    expect(error.message.length).toBeLessThan(250);
    expect((await rejectionOf('%2e'.repeat(1000))).message.length).toBeLessThan(250);
  });

  it('says a directory is not a file', async () => {
    expect((await rejectionOf('dir')).message).toMatch(/not a file/);
  });

  it.each([
    ['a.mp4', 'a.mp4'],
    ['sub/b.mkv', 'sub/b.mkv'],
    ['-rf.mp4', '-rf.mp4'],
    ['x:y.mp4', 'x:y.mp4'],
  ])('accepts %s', async (input, file) => {
    await expect(resolveMediaPath(mediaDir, input)).resolves.toEqual({ absolute: join(mediaDir, file), relative: input });
  });

  it('follows a symlink that stays inside the media directory to its real file', async () => {
    await expect(resolveMediaPath(mediaDir, 'in.mp4')).resolves.toEqual({ absolute: join(mediaDir, 'a.mp4'), relative: 'in.mp4' });
  });
});

describe('toFfmpegInput', () => {
  it('prefixes file: so a name starting with a dash is never read as an option', async () => {
    const { absolute } = await resolveMediaPath(mediaDir, '-rf.mp4');
    expect(toFfmpegInput(absolute)).toBe(`file:${mediaDir}/-rf.mp4`);
  });

  it('throws on a relative path', () => {
    expect(() => toFfmpegInput('a.mp4')).toThrow(SeekwellError);
  });
});
