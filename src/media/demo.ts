// The built-in demo: a 2-minute 1920x1080 30 fps clip with a moving picture and stereo audio,
// made once from ffmpeg's lavfi sources, so a fresh checkout plays something with no configuration.
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';

export const DEMO_FILE = 'demo.mp4';

export function demoArgs(output: string, seconds = 120): string[] {
  return [
    '-nostdin', '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=30:duration=${seconds}`,
    '-f', 'lavfi', '-i', `aevalsrc=0.2*sin(2*PI*440*t)|0.2*sin(2*PI*660*t):s=48000:d=${seconds}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '26', '-g', '60', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '128k', '-movflags', '+faststart', '-f', 'mp4', output,
  ];
}

/** Makes `<dir>/demo.mp4` unless it is already there; returns the directory. */
export async function ensureDemo(ffmpegPath: string, dir: string): Promise<string> {
  const target = path.join(dir, DEMO_FILE);
  if (await stat(target).then((s) => s.size > 0, () => false)) return dir;
  await mkdir(dir, { recursive: true });
  const partial = path.join(dir, `.demo-${randomUUID()}.partial.mp4`);
  try {
    await execa(ffmpegPath, demoArgs(`file:${partial}`), { stdin: 'ignore', timeout: 10 * 60_000 });
    await rename(partial, target);
  } finally {
    await rm(partial, { force: true });
  }
  return dir;
}
