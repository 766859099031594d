// One ffmpeg run that turns a text subtitle track (embedded or a sidecar file) into WebVTT text.
// Bounded in time and output; on timeout or abort the process group is killed before it returns.
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { finished } from 'node:stream/promises';
import { SeekwellError } from '../errors.js';
import type { SidecarSubtitle } from '../media/subtitles.js';
import { startChild } from './child.js';

export interface ExtractOptions {
  ffmpegPath: string;
  /** Prefix like ['setpriv', '--pdeathsig', 'KILL', '--']; may be []. */
  launcher: string[];
  timeoutMs: number;
  signal?: AbortSignal;
}

const MAX_OUTPUT_BYTES = 32 * 1024 * 1024;
const COMMON_INPUT = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-protocol_whitelist', 'file', '-copyts'];
const WEBVTT_OUTPUT = ['-c:s', 'webvtt', '-f', 'webvtt', 'pipe:1'];
const DEMUXER: Readonly<Record<SidecarSubtitle['format'], string>> = { srt: 'srt', vtt: 'webvtt', ass: 'ass', ssa: 'ass' };

/**
 * ffmpeg arguments for an embedded stream. -copyts keeps the stream's absolute timestamps (the
 * scale of ffprobe's start_time): without it ffmpeg subtracts the file's start time, and a cue at
 * 11 s in a file starting at 10 s would come out at 1 s.
 */
export function embeddedWebVttArgs(input: string, demuxer: string, streamIndex: number): string[] {
  return [...COMMON_INPUT, '-f', demuxer, '-i', input, '-map', `0:${streamIndex}`, ...WEBVTT_OUTPUT];
}

/** ffmpeg arguments for a sidecar file; `charset` is a -sub_charenc value when not UTF-8/16. */
export function sidecarWebVttArgs(absolutePath: string, format: SidecarSubtitle['format'], charset?: string): string[] {
  const charsetArgs = charset === undefined ? [] : ['-sub_charenc', charset];
  return [...COMMON_INPUT, ...charsetArgs, '-f', DEMUXER[format], '-i', `file:${absolutePath}`, '-map', '0:0', ...WEBVTT_OUTPUT];
}

/** An embedded text subtitle stream as WebVTT text, cue times on the stream's absolute timeline. */
export async function extractEmbeddedWebVtt(input: string, demuxer: string, streamIndex: number, options: ExtractOptions): Promise<string> {
  const what = `subtitle stream ${streamIndex} of "${basename(input)}"`;
  return runToText(what, embeddedWebVttArgs(input, demuxer, streamIndex), options);
}

/** A sidecar file (srt/vtt/ass/ssa) as WebVTT text, cue times as written in the file. */
export async function extractSidecarWebVtt(absolutePath: string, format: SidecarSubtitle['format'], options: ExtractOptions): Promise<string> {
  const what = `subtitle file "${basename(absolutePath)}"`;
  const charset = await sidecarCharset(absolutePath, what, options.signal);
  return runToText(what, sidecarWebVttArgs(absolutePath, format, charset), options);
}

// ffmpeg reads UTF-8 (with or without BOM) and UTF-16 with a BOM by itself. Anything else is
// taken as Windows-1252 (a superset of Latin-1's printable range): measured with ffmpeg 5.1, a
// Latin-1 SRT or WebVTT without -sub_charenc fails ("Invalid UTF-8 in decoded subtitles text",
// exit 69) and a Latin-1 ASS file exits 0 with every event holding a non-UTF-8 byte dropped.
async function sidecarCharset(path: string, what: string, signal: AbortSignal | undefined): Promise<string | undefined> {
  const bytes = await readSmallFile(path, what, signal);
  const bom16 = bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
  if (bom16) return undefined;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return undefined;
  } catch {
    return 'CP1252';
  }
}

async function readSmallFile(path: string, what: string, signal: AbortSignal | undefined): Promise<Uint8Array> {
  try {
    const { size } = await stat(path);
    if (size > MAX_OUTPUT_BYTES) throw failed(`${what} is larger than ${MAX_OUTPUT_BYTES / 1024 / 1024} MB`);
    return await readFile(path, signal === undefined ? {} : { signal });
  } catch (error) {
    if (error instanceof SeekwellError) throw error;
    if (signal?.aborted) throw stopped(what, signal.reason);
    throw failed(`could not read ${what}`, error);
  }
}

// Resolves with ffmpeg's stdout once the process has exited 0; otherwise rejects, and only after
// the process group is gone. The deadline is a timer owned here (an AbortSignal.timeout inside
// AbortSignal.any can be garbage-collected on Node 20 and never fire).
async function runToText(what: string, args: string[], options: ExtractOptions): Promise<string> {
  if (options.signal?.aborted) throw stopped(what, options.signal.reason);
  const child = startChild('ffmpeg (subtitles)', options.launcher, options.ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stopReason: unknown;
  const stop = (reason: unknown): void => {
    if (stopReason !== undefined) return;
    stopReason = reason;
    child.signal('SIGKILL');
  };
  const timer = setTimeout(() => stop(new Error(`it took longer than ${options.timeoutMs} ms`)), options.timeoutMs);
  const onAbort = (): void => stop(options.signal?.reason ?? new Error('aborted'));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const chunks: Buffer[] = [];
  let size = 0;
  const stdout = child.process.stdout!;
  stdout.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_OUTPUT_BYTES) stop(new Error(`it wrote more than ${MAX_OUTPUT_BYTES / 1024 / 1024} MB of WebVTT`));
    else chunks.push(chunk);
  });
  try {
    const exit = await child.exited;
    await finished(stdout).catch(() => {});
    if (stopReason !== undefined) throw stopped(what, stopReason);
    if (exit.code === 0) return Buffer.concat(chunks).toString('utf8');
    const how = exit.spawnError ? exit.spawnError.message : exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
    throw failed(`ffmpeg could not convert ${what} to WebVTT (${how})`, exit.spawnError, child.stderrTail());
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

// A caller's own SeekwellError (session closed, shutting down) is passed on as it is.
function stopped(what: string, reason: unknown): SeekwellError {
  if (reason instanceof SeekwellError) return reason;
  const why = reason instanceof Error ? reason.message : String(reason);
  return failed(`converting ${what} to WebVTT was stopped: ${why}`, reason);
}

function failed(message: string, cause?: unknown, stderr?: string): SeekwellError {
  return new SeekwellError('PIPELINE_FAILED', message, {
    ...(cause === undefined ? {} : { cause }),
    ...(stderr === undefined ? {} : { details: { stderr: stderr.slice(-2000) } }),
  });
}
