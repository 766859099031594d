// The key-frame index against ffmpeg itself: for each container, the times read from the moov or
// the Cues must be the key-frame pts an ffprobe scan of every packet reports (within 1 µs), and
// files whose index is missing or cannot be reproduced must fall back to that scan.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyFrameIndexer, type KeyFrameIndex } from '../../src/media/keyframes.js';
import { createProber, type MediaInfo } from '../../src/media/probe.js';

const SECONDS = 20;
// Irregular GOPs: forced key frames at odd times, B-frames (x264 writes ctts and an edit list),
// and x264's own scene cuts.
const INPUTS = (fps: string): string[] => ['-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=${fps}:duration=${SECONDS}`,
  '-f', 'lavfi', '-i', `sine=frequency=440:beep_factor=4:sample_rate=48000:duration=${SECONDS}`];
const H264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-bf', '3', '-g', '130', '-keyint_min', '25',
  '-force_key_frames', '0,1.3,5.7,6.1,9.05,13.37,17.8', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-ac', '2'];

/** Each file: how it is made from the one before it (or from lavfi), and which index should serve it. */
const FILES: { name: string; source: 'mp4' | 'matroska' | 'scan'; make: string[][] }[] = [
  { name: 'bframes.mp4', source: 'mp4', make: [[...INPUTS('30'), ...H264, 'bframes.mp4']] },
  { name: 'faststart.mp4', source: 'mp4', make: [[...INPUTS('30'), ...H264, '-movflags', '+faststart', 'faststart.mp4']] },
  { name: 'negative-cts.mp4', source: 'mp4', make: [[...INPUTS('30'), ...H264, '-movflags', '+negative_cts_offsets', 'negative-cts.mp4']] },
  { name: 'ntsc.mov', source: 'mp4', make: [[...INPUTS('30000/1001'), ...H264, 'ntsc.mov']] },
  { name: 'video-late.mp4', source: 'mp4',
    make: [['-itsoffset', '2.5', '-i', 'bframes.mp4', '-i', 'bframes.mp4', '-map', '0:v', '-map', '1:a', '-c', 'copy', 'video-late.mp4']] },
  // x264's open GOP: I-frames with a recovery point, flagged key by the container, not IDR.
  { name: 'open-gop.mp4', source: 'mp4', make: [[...INPUTS('30'), '-c:v', 'libx264', '-preset', 'veryfast', '-bf', '3',
    '-x264-params', 'open-gop=1:keyint=60:min-keyint=60:scenecut=0', 'open-gop.mp4']] },
  { name: 'bframes.mkv', source: 'matroska', make: [[...INPUTS('30'), ...H264, 'bframes.mkv']] },
  { name: 'remuxed.mkv', source: 'matroska', make: [
    [...INPUTS('30'), ...H264, '-output_ts_offset', '1.4', '-muxdelay', '0', '-muxpreload', '0', '-f', 'mpegts', 'source.ts'],
    ['-i', 'source.ts', '-c', 'copy', 'remuxed.mkv']] },
  // As the server remuxes TS at ingest: timestamps kept.
  { name: 'remuxed-copyts.mkv', source: 'matroska', make: [['-i', 'source.ts', '-map', '0:v', '-map', '0:a', '-c', 'copy', '-copyts', '-f', 'matroska', 'remuxed-copyts.mkv']] },
  { name: 'clip.avi', source: 'scan', make: [['-i', 'bframes.mkv', '-c', 'copy', '-bsf:v', 'h264_mp4toannexb', 'clip.avi']] },
  { name: 'clip.flv', source: 'scan', make: [['-i', 'bframes.mp4', '-c', 'copy', 'clip.flv']] },
  // A trimmed phone clip: the edit list starts inside a GOP, so the first shown frame is no key frame.
  { name: 'trimmed.mp4', source: 'scan', make: [['-ss', '1.5', '-i', 'bframes.mp4', '-c', 'copy', 'trimmed.mp4']] },
];

let dir: string;
let probe: (file: string) => Promise<MediaInfo>;

async function ffmpeg(args: string[]): Promise<void> {
  await execa('ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args], { cwd: dir });
}

/** The reference: every packet of the video stream, read with ffprobe's own flags. */
async function scannedKeyFrames(file: string): Promise<number[]> {
  const { stdout } = await execa('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries',
    'stream=time_base:packet=pts,dts,flags', '-of', 'json', file], { maxBuffer: 64 << 20 });
  const out = JSON.parse(stdout) as { streams: { time_base: string }[]; packets: { pts?: number; dts?: number; flags: string }[] };
  const [num, den] = out.streams[0]!.time_base.split('/').map(Number);
  return out.packets.filter((p) => p.flags.includes('K') && !p.flags.includes('D'))
    .map((p) => ((p.pts ?? p.dts)! * num!) / den!).sort((a, b) => a - b);
}

function expectSameTimes(actual: number[], expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  const worst = Math.max(0, ...actual.map((t, i) => Math.abs(t - expected[i]!)));
  expect(worst).toBeLessThan(1e-6);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'seekwell-keyframes-'));
  for (const f of FILES) for (const args of f.make) await ffmpeg(args);
  probe = createProber('ffprobe');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// A scan of these small files takes ~0.1 s; under CI load it may take longer than the 1 s a
// first manifest waits: these tests wait for the index whatever it takes.
const indexOf = async (info: Awaited<ReturnType<typeof probe>>): Promise<KeyFrameIndex> => {
  const result = await createKeyFrameIndexer('ffprobe', { scanWaitMs: 120_000 })(info);
  if (!result || 'missing' in result) throw new Error(`no index: ${JSON.stringify(result)}`);
  return result;
};

describe('createKeyFrameIndexer', () => {
  it.each(FILES)('reads $name from $source with the key frames an ffprobe scan sees', async ({ name, source }) => {
    const file = path.join(dir, name);
    const index = await indexOf(await probe(file));
    const expected = await scannedKeyFrames(file);
    // Irregular GOPs: more than the forced ones, not evenly spaced.
    expect(expected.length).toBeGreaterThanOrEqual(6);
    expect(index.source).toBe(source);
    expectSameTimes(index.times, expected);
  });

  it('scans a Matroska file written without Cues', async () => {
    // A muxer writing to a pipe cannot seek back to add Cues or fill in the SeekHead.
    const file = path.join(dir, 'no-cues.mkv');
    await execa('ffmpeg', ['-nostdin', '-v', 'error', '-i', path.join(dir, 'bframes.mkv'), '-c', 'copy', '-f', 'matroska', 'pipe:1'],
      { stdout: { file }, stdin: 'ignore' });
    const index = await indexOf(await probe(file));
    expect(index.source).toBe('scan');
    expectSameTimes(index.times, await scannedKeyFrames(file));
  });

  it('scans an MP4 whose edit list it cannot reproduce', async () => {
    // An edit at rate 2: ffmpeg ignores the rate, the index refuses the edit rather than guess.
    const bytes = await readFile(path.join(dir, 'bframes.mp4'));
    const elst = bytes.indexOf('elst', 0, 'latin1');
    bytes.writeInt32BE(0x20000, elst + 4 + 4 + 4 + 8);
    const file = path.join(dir, 'rate-2.mp4');
    await writeFile(file, bytes);
    const index = await indexOf(await probe(file));
    expect(index.source).toBe('scan');
    expectSameTimes(index.times, await scannedKeyFrames(file));
  });

  it('reads each file version once and has no index for a file without video', async () => {
    const indexKeyFrames = createKeyFrameIndexer('ffprobe');
    const info = await probe(path.join(dir, 'bframes.mp4'));
    const first = await indexKeyFrames(info);
    expect(first && 'times' in first).toBe(true);
    expect(await indexKeyFrames(info)).toBe(first);
    await ffmpeg(['-f', 'lavfi', '-i', 'sine=sample_rate=48000:duration=2', '-c:a', 'aac', 'audio.m4a']);
    expect(await indexKeyFrames(await probe(path.join(dir, 'audio.m4a')))).toBeUndefined();
  });

  it('answers `missing` when a scan outlasts its wait, keeps scanning, and gives a later call the index', async () => {
    const info = await probe(path.join(dir, 'no-cues.mkv'));
    const indexKeyFrames = createKeyFrameIndexer('ffprobe', { scanWaitMs: 1 });
    expect(await indexKeyFrames(info)).toEqual({ missing: 'the key-frame scan takes over 1 ms (a later session gets the copy)' });
    const deadline = Date.now() + 60_000;
    let later = await indexKeyFrames(info);
    while (later && 'missing' in later && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      later = await indexKeyFrames(info);
    }
    expect(later && 'times' in later ? later.source : later).toBe('scan');
  });

  it('never waits on a container index, however short the scan wait', async () => {
    const index = await createKeyFrameIndexer('ffprobe', { scanWaitMs: 0 })(await probe(path.join(dir, 'bframes.mp4')));
    expect(index && 'times' in index ? index.source : index).toBe('mp4');
  });

  it('says whether the key frames are IDR pictures: yes for closed GOPs, no for an open GOP', async () => {
    const idr = async (name: string): Promise<boolean | undefined> => (await indexOf(await probe(path.join(dir, name)))).idr;
    expect({ bframes: await idr('bframes.mp4'), mkv: await idr('bframes.mkv'), ts: await idr('remuxed.mkv'), openGop: await idr('open-gop.mp4') })
      .toEqual({ bframes: true, mkv: true, ts: true, openGop: false });
  });
});
