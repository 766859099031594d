// The built-in demo: a 2-minute 1920x1080 30 fps clip with a moving picture and stereo audio,
// made once from ffmpeg's lavfi sources, so a fresh checkout plays something with no configuration.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { launched } from '../pipeline/binaries.js';
import { silentProgress, type ProgressReporter } from '../progress.js';
import { PROGRESS_ARGS, followProgress } from './ffmpeg-progress.js';

export const DEMO_FILE = 'demo.mp4';

const DEMO_SECONDS = 120;
const DEMO_TIMEOUT_MS = 10 * 60_000;

export function demoArgs(output: string, seconds = DEMO_SECONDS): string[] {
  return [
    '-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...PROGRESS_ARGS,
    '-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=30:duration=${seconds}`,
    '-f', 'lavfi', '-i', `aevalsrc=0.2*sin(2*PI*440*t)|0.2*sin(2*PI*660*t):s=48000:d=${seconds}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '26', '-g', '60', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '128k', '-movflags', '+faststart', '-f', 'mp4', output,
  ];
}

export interface DemoOptions {
  /** Command prefix tying ffmpeg's life to the server's (pipeline/binaries.ts). */
  launcher?: string[];
  progress?: ProgressReporter;
}

/** Makes `<dir>/demo.mp4` unless it is already there; returns the directory. */
export async function ensureDemo(ffmpegPath: string, dir: string, options: DemoOptions = {}): Promise<string> {
  const target = path.join(dir, DEMO_FILE);
  if (await stat(target).then((s) => s.size > 0, () => false)) return dir;
  await mkdir(dir, { recursive: true });
  await removeAbandoned(dir);
  const partial = path.join(dir, `.demo-${randomUUID()}.partial.mp4`);
  const progress = (options.progress ?? silentProgress)('making the demo clip (first start only)', { file: target });
  try {
    const ffmpeg = execa(...launched(options.launcher ?? [], ffmpegPath, demoArgs(`file:${partial}`)), { stdin: 'ignore', timeout: DEMO_TIMEOUT_MS });
    followProgress(ffmpeg.stdout, DEMO_SECONDS, progress);
    await ffmpeg;
    await rename(partial, target);
    progress.end();
  } catch (error) {
    progress.end(true);
    throw error;
  } finally {
    await rm(partial, { force: true });
  }
  return dir;
}

// A server stopped mid-generation leaves its partial file; one older than the longest a
// generation may take is nobody's (a younger one may be another server's, still writing).
export async function removeAbandoned(dir: string): Promise<void> {
  const names = (await readdir(dir)).filter((n) => n.startsWith('.demo-') && n.endsWith('.partial.mp4'));
  for (const name of names) {
    const file = path.join(dir, name);
    const info = await stat(file).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > DEMO_TIMEOUT_MS) await rm(file, { force: true });
  }
}
