// Startup check that ffmpeg, ffprobe and Shaka Packager run, with install hints when one does not.
import { execa } from 'execa';

export interface BinaryVersions {
  ffmpeg: string;
  ffprobe: string;
  packager: string;
  /**
   * Prefix that makes a child die with the server even if the server is SIGKILLed
   * (util-linux `setpriv --pdeathsig KILL`); empty where setpriv is missing (not Linux).
   */
  launcher: string[];
}

export class MissingBinaryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingBinaryError';
  }
}

const FFMPEG_HINT = 'install it with `sudo apt-get install -y ffmpeg` (Debian/Ubuntu) or point FFMPEG_PATH/FFPROBE_PATH at version 5 or newer';
const PACKAGER_HINT = 'run `npm ci` (the shaka-packager npm package ships the binary) or point PACKAGER_PATH at a Shaka Packager 3.x binary';

/** Runs each binary once; reports every missing or unusable one together. */
export async function checkBinaries(paths: { ffmpegPath: string; ffprobePath: string; packagerPath: string }): Promise<BinaryVersions> {
  const [ffmpeg, ffprobe, packager, encoders, setpriv] = await Promise.all([
    version(paths.ffmpegPath, ['-hide_banner', '-version'], /^ffmpeg version (\S+)/m),
    version(paths.ffprobePath, ['-hide_banner', '-version'], /^ffprobe version (\S+)/m),
    version(paths.packagerPath, ['--version'], /version (\S+)/),
    execa(paths.ffmpegPath, ['-hide_banner', '-encoders'], { reject: false, stdin: 'ignore', timeout: 10_000 }).then((r) => r.stdout, () => ''),
    version('setpriv', ['--pdeathsig', 'KILL', '--', 'true'], /^/),
  ]);
  const problems: string[] = [];
  if (!ffmpeg) problems.push(`ffmpeg not found or not runnable at "${paths.ffmpegPath}": ${FFMPEG_HINT}`);
  else if (majorVersion(ffmpeg) < 5) problems.push(`ffmpeg ${ffmpeg} is too old (need 5 or newer): ${FFMPEG_HINT}`);
  else if (!/\blibx264\b/.test(encoders)) problems.push(`ffmpeg at "${paths.ffmpegPath}" has no libx264 encoder: ${FFMPEG_HINT}`);
  if (!ffprobe) problems.push(`ffprobe not found or not runnable at "${paths.ffprobePath}": ${FFMPEG_HINT}`);
  if (!packager) problems.push(`Shaka Packager not found or not runnable at "${paths.packagerPath}": ${PACKAGER_HINT}`);
  if (problems.length > 0) throw new MissingBinaryError(problems.join('\n'));
  const launcher = setpriv === undefined ? [] : ['setpriv', '--pdeathsig', 'KILL', '--'];
  return { ffmpeg: ffmpeg!, ffprobe: ffprobe!, packager: packager!, launcher };
}

/** The command and arguments that run `file args` under the launcher prefix (none: as it is). */
export function launched(launcher: readonly string[], file: string, args: readonly string[]): [string, string[]] {
  const [command, ...prefix] = [...launcher, file];
  return [command!, [...prefix, ...args]];
}

async function version(file: string, args: string[], pattern: RegExp): Promise<string | undefined> {
  const result = await execa(file, args, { reject: false, stdin: 'ignore', timeout: 10_000, all: true }).catch(() => undefined);
  if (!result || result.exitCode !== 0) return undefined;
  return pattern.exec(result.all ?? '')?.[1] ?? 'unknown';
}

/** 5 for "5.1.9-0+deb12u1"; distro builds like "n6.1" or "N-1234-g..." count as new. */
function majorVersion(text: string): number {
  const match = /^n?(\d+)\./.exec(text);
  return match ? Number(match[1]) : Number.POSITIVE_INFINITY;
}
