// Scenarios 2 and 3: manifest latency (cold, probe included; warm), and a viewer's waits on a
// 1080p30 -> 720p source: first segment, far jump (a restart), jump back (on disk). Medians of 10.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { BENCH_DIR, cell, makeBenchClip, createSession, fetchPair, get, startServerProcess, summary, timed, type Scenario } from './support.js';

const REPEATS = 10;
const VIDEO = 'video-720p';

/** A 2-minute 1080p30 clip with audio, made once (the size of the built-in demo). */
export async function twoMinuteClip(): Promise<{ dir: string; file: string }> {
  const dir = path.join(BENCH_DIR, 'media-2min');
  await makeBenchClip(dir, 'two-min-1080p.mp4', 120);
  return { dir, file: 'two-min-1080p.mp4' };
}

async function checkedGet(url: string, type: string): Promise<void> {
  const response = await fetch(url);
  const body = await response.arrayBuffer();
  if (response.status !== 200 || body.byteLength === 0 || !response.headers.get('content-type')?.startsWith(type)) {
    throw new Error(`GET ${url}: ${response.status}, ${body.byteLength} bytes, ${response.headers.get('content-type')}`);
  }
}

export const manifests: Scenario = async () => {
  const clip = await twoMinuteClip();
  const dir = path.join(BENCH_DIR, 'media-manifests');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  // Fresh names: each cold request probes a file version the server has never seen.
  for (let i = 0; i < REPEATS; i++) await copyFile(path.join(clip.dir, clip.file), path.join(dir, `m${i}.mp4`));
  const server = await startServerProcess('manifests', { MEDIA_DIR: dir });
  try {
    const cold: number[] = [];
    const warm: number[] = [];
    let last = '';
    for (let i = 0; i < REPEATS; i++) {
      cold.push(await timed(async () => {
        const id = await createSession(server.base, `m${i}.mp4`);
        last = `${server.base}/sessions/${id}`;
        await checkedGet(`${last}/stream.mpd`, 'application/dash+xml');
      }));
    }
    for (let i = 0; i < 200; i++) {
      const file = i % 2 ? 'stream.mpd' : 'video-720p.m3u8';
      warm.push(await timed(() => checkedGet(`${last}/${file}`, i % 2 ? 'application/dash+xml' : 'application/vnd.apple.mpegurl')));
    }
    return {
      question: 'How long until a player has the manifest: first request for a file (probe included), and again?',
      headers: ['request', 'ms median (min-max)', 'samples'],
      rows: [['cold: POST session + MPD, new file', cell(cold), REPEATS], ['warm: MPD / media playlist', cell(warm), warm.length]],
      data: { coldMs: summary(cold), warmMs: summary(warm) },
    };
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
};

/** One fresh server per repeat: its store starts empty, so every first segment is really cold. */
export async function viewerWaits(repeats = REPEATS): Promise<{ first: number[]; jump: number[]; back: number[] }> {
  const clip = await twoMinuteClip();
  const first: number[] = [];
  const jump: number[] = [];
  const back: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const server = await startServerProcess(`waits-${i}`, { MEDIA_DIR: clip.dir });
    try {
      let prefix = '';
      first.push(await timed(async () => {
        const id = await createSession(server.base, clip.file);
        prefix = `${server.base}/sessions/${id}`;
        await Promise.all([get(`${prefix}/init/${VIDEO}.mp4`), get(`${prefix}/init/audio-1.mp4`)]);
        await fetchPair(server.base, id, VIDEO, 1);
      }));
      const id = prefix.split('/').at(-1)!;
      jump.push(await timed(() => fetchPair(server.base, id, VIDEO, 25)));
      back.push(await timed(() => fetchPair(server.base, id, VIDEO, 1)));
    } finally {
      await server.stop();
    }
  }
  return { first, jump, back };
}

export const coldStartAndSeeks: Scenario = async () => {
  const { first, jump, back } = await viewerWaits();
  return {
    question: 'On a 1080p30 source -> 720p: session creation to the first segment\'s last byte, a far jump, a jump back',
    headers: ['what', 'ms median (min-max)', 'repeats'],
    rows: [
      ['first segment (session + inits + segment 1, video and audio)', cell(first), REPEATS],
      ['far jump to segment 25 (96 s, restart)', cell(jump), REPEATS],
      ['jump back to segment 1 (on disk)', cell(back), REPEATS],
    ],
    data: { firstSegmentMs: summary(first), farJumpMs: summary(jump), jumpBackMs: summary(back) },
  };
};
