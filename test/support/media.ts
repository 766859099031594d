// Test media, generated with ffmpeg's lavfi sources at test time (never committed).
import { execa } from 'execa';

export interface ClipOptions {
  seconds: number;
  width?: number;
  height?: number;
  /** ffmpeg rate syntax: '30', '30000/1001'. */
  fps?: string;
  /** Omit for a clip without audio. */
  audioRate?: number;
  /** mp4 (default), matroska or mpegts. */
  format?: 'mp4' | 'matroska' | 'mpegts';
  /** Shift every timestamp so the file starts here (seconds); for TS/MKV sources that start late. */
  startSeconds?: number;
}

/** Writes a clip with a moving test picture (and a tone) to `file`. */
export async function makeClip(file: string, options: ClipOptions): Promise<void> {
  const { seconds, width = 1920, height = 1080, fps = '30', audioRate, format = 'mp4' } = options;
  const args = ['-nostdin', '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}:duration=${seconds}`];
  if (audioRate) args.push('-f', 'lavfi', '-i', `sine=frequency=440:beep_factor=4:sample_rate=${audioRate}:duration=${seconds}`);
  args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(Math.round(rate(fps) * 2.5)), '-pix_fmt', 'yuv420p');
  if (audioRate) args.push('-c:a', 'aac', '-ac', '2', '-ar', String(audioRate));
  if (options.startSeconds) args.push('-output_ts_offset', String(options.startSeconds));
  if (format === 'mpegts') args.push('-muxdelay', '0', '-muxpreload', '0');
  args.push('-f', format, file);
  await execa('ffmpeg', args);
}

function rate(fps: string): number {
  const [num, den = '1'] = fps.split('/');
  return Number(num) / Number(den);
}
