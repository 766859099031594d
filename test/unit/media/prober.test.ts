// createProber against a stand-in ffprobe that records each call: a file version is probed once,
// whether it is media or not (issue 12, defect 8), and a probe that could not finish is tried again.
import { appendFile, chmod, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProber } from '../../../src/media/probe.js';

let dir: string;
let calls: string;
let ffprobe: string;

// Answers like ffprobe: "Invalid data" for *.txt, a killed process for *.hang, one audio stream otherwise.
const SCRIPT = `#!/bin/sh
echo call >> "$CALLS"
for last; do :; done
case "$last" in
  *.txt) echo "$last: Invalid data found when processing input" >&2; exit 1 ;;
  *.hang) kill -9 $$ ;;
esac
echo '{"format":{"format_name":"wav","duration":"1.0","start_time":"0"},"streams":[{"index":0,"codec_type":"audio","codec_name":"pcm_s16le","channels":2,"sample_rate":"48000","time_base":"1/48000","start_time":"0"}]}'
`;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'seekwell-prober-'));
  calls = path.join(dir, 'calls');
  ffprobe = path.join(dir, 'ffprobe');
  await writeFile(ffprobe, SCRIPT);
  await chmod(ffprobe, 0o755);
  process.env.CALLS = calls;
});

afterAll(async () => {
  delete process.env.CALLS;
  await rm(dir, { recursive: true, force: true });
});

async function callCount(): Promise<number> {
  return (await readFile(calls, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
}

async function resetCalls(): Promise<void> {
  await writeFile(calls, '');
}

describe('createProber', () => {
  it('probes a non-media file once per version, and again once it changes', async () => {
    await resetCalls();
    const notes = path.join(dir, 'notes.txt');
    await writeFile(notes, 'not a video');
    const probe = createProber(ffprobe);
    for (let i = 0; i < 3; i++) await expect(probe(notes)).rejects.toMatchObject({ code: 'MEDIA_NOT_MEDIA' });
    expect(await callCount()).toBe(1);
    await appendFile(notes, ', still not');
    await utimes(notes, new Date(), new Date(Date.now() + 5000));
    await expect(probe(notes)).rejects.toMatchObject({ code: 'MEDIA_NOT_MEDIA' });
    expect(await callCount()).toBe(2);
  });

  it('probes a media file once per version', async () => {
    await resetCalls();
    const song = path.join(dir, 'song.wav');
    await writeFile(song, 'RIFF');
    const probe = createProber(ffprobe);
    for (let i = 0; i < 3; i++) expect((await probe(song)).audio).toHaveLength(1);
    expect(await callCount()).toBe(1);
  });

  it('tries again after a probe that was killed, and says it did not finish instead of "not media"', async () => {
    await resetCalls();
    const file = path.join(dir, 'slow.hang');
    await writeFile(file, 'x');
    const probe = createProber(ffprobe);
    await expect(probe(file)).rejects.toMatchObject({ code: 'PIPELINE_FAILED' });
    await expect(probe(file)).rejects.toMatchObject({ code: 'PIPELINE_FAILED' });
    expect(await callCount()).toBe(2);
  });
});
