// Turns an untrusted relative media path into a real file strictly inside the media root.
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative as relativeTo, sep } from 'node:path';
import { SeekwellError } from '../errors.js';

export interface MediaPath {
  /** Real path (symlinks resolved) of a regular file inside the media root. */
  readonly absolute: string;
  /** The requested path, already normalized, with `/` separators. */
  readonly relative: string;
}

const MAX_LENGTH = 4096;
const MAX_SHOWN = 120;
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const DRIVE_LETTER = /^[A-Za-z]:(?:[/\\]|$)/;
const ENCODED_DOT_OR_SLASH = /%(?:2e|2f|5c)/i;

// Resolves only to a regular file whose real path lies strictly inside mediaDir (an absolute
// real path). The caller has already percent-decoded the input exactly once.
export async function resolveMediaPath(mediaDir: string, relative: unknown): Promise<MediaPath> {
  const clean = checkSyntax(relative);
  const real = await realpathOrThrow(join(mediaDir, ...clean.split('/')), clean);
  if (!isStrictlyInside(mediaDir, real)) {
    throw invalid(`Media path ${show(clean)} leads outside the media directory`);
  }
  const info = await stat(real).catch((error: unknown) => {
    throw fromFsError(error, clean);
  });
  if (!info.isFile()) throw new SeekwellError('MEDIA_NOT_FOUND', `Media path ${show(clean)} is not a file`);
  return { absolute: real, relative: clean };
}

// ffmpeg reads `file:` inputs literally, so names like "-rf.mp4" or "x:y.mp4" stay file names.
export function toFfmpegInput(absolute: string): string {
  if (!isAbsolute(absolute)) {
    throw new SeekwellError('INTERNAL', `toFfmpegInput needs an absolute path, got ${show(absolute)}`);
  }
  return `file:${absolute}`;
}

// Rejects every form that could name something other than a plain path below the root.
function checkSyntax(input: unknown): string {
  if (typeof input !== 'string') throw invalid(`Media path must be a string, got ${typeof input}`);
  if (input === '') throw invalid('Media path is empty');
  if (input.length > MAX_LENGTH) throw invalid(`Media path is longer than ${MAX_LENGTH} characters`);
  if (CONTROL_CHARS.test(input)) throw invalid(`Media path ${show(input)} contains a control character`);
  if (input.includes('\\')) throw invalid(`Media path ${show(input)} contains a backslash`);
  if (input.startsWith('/')) throw invalid(`Media path ${show(input)} is absolute`);
  if (DRIVE_LETTER.test(input)) throw invalid(`Media path ${show(input)} starts with a drive letter`);
  if (ENCODED_DOT_OR_SLASH.test(input)) {
    throw invalid(`Media path ${show(input)} contains an encoded dot or slash (double encoding)`);
  }
  if (input.endsWith('/')) throw invalid(`Media path ${show(input)} ends with a slash`);
  for (const segment of input.split('/')) checkSegment(segment, input);
  return input;
}

function checkSegment(segment: string, input: string): void {
  if (segment === '') throw invalid(`Media path ${show(input)} has an empty segment`);
  if (segment === '.' || segment === '..') {
    throw invalid(`Media path ${show(input)} has a "${segment}" segment`);
  }
}

async function realpathOrThrow(joined: string, clean: string): Promise<string> {
  try {
    return await realpath(joined);
  } catch (error) {
    throw fromFsError(error, clean);
  }
}

// Missing and unreadable look the same to a client; loops and overlong names are its fault.
function fromFsError(error: unknown, clean: string): SeekwellError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'EPERM') {
    return new SeekwellError('MEDIA_NOT_FOUND', `Media file ${show(clean)} was not found`, { cause: error });
  }
  if (code === 'ELOOP' || code === 'ENAMETOOLONG') {
    return invalid(`Media path ${show(clean)} cannot be resolved (${code})`, error);
  }
  return new SeekwellError('INTERNAL', `Could not resolve media path ${show(clean)}`, { cause: error });
}

function isStrictlyInside(root: string, candidate: string): boolean {
  const rel = relativeTo(root, candidate);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

function invalid(message: string, cause?: unknown): SeekwellError {
  return new SeekwellError('MEDIA_PATH_INVALID', message, cause === undefined ? undefined : { cause });
}

// JSON-quotes the input (escaping control characters) and cuts it short for messages and logs.
function show(input: string): string {
  const cut = input.length > MAX_SHOWN ? `${input.slice(0, MAX_SHOWN)}…` : input;
  return JSON.stringify(cut);
}
