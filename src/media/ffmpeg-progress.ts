// ffmpeg's machine-readable progress (`-progress pipe:1`: key=value lines on stdout) as a fraction
// of a known duration, for the progress line of work a person waits for.
import type { Readable } from 'node:stream';
import type { Progress } from '../progress.js';

/** Arguments that make ffmpeg write its progress to stdout (and no stats line to stderr). */
export const PROGRESS_ARGS = ['-progress', 'pipe:1', '-nostats'];

/** Feeds `progress` from ffmpeg's progress lines on `stdout`, over a title of `durationSeconds`. */
export function followProgress(stdout: Readable | null, durationSeconds: number, progress: Progress): void {
  if (!stdout || !(durationSeconds > 0)) return;
  let rest = '';
  stdout.setEncoding('utf8');
  stdout.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      const microseconds = progressMicroseconds(line);
      if (microseconds !== undefined) progress.update(microseconds / 1e6 / durationSeconds);
    }
  });
}

/** The output position in a progress line (`out_time_us=12000000`), or undefined for other lines. */
export function progressMicroseconds(line: string): number | undefined {
  const match = /^out_time_us=(\d+)\s*$/.exec(line);
  return match ? Number(match[1]) : undefined;
}
