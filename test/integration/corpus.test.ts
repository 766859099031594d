// The corpus of awkward real-world sources (fixtures/corpus.ts), played through the real server:
// every class gets a session, every init and segment of every track is fetched, decoded and timed
// against the title, a run started mid-title must make the same segments, and the picture must be
// upright, SDR, progressive and at its display aspect. Set CORPUS_DIR to keep the generated files
// between runs (they are made only when missing).
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, makeCorpus, type FixtureClass } from '../../fixtures/corpus.js';
import { verifyFixture } from '../../fixtures/verify.js';
import {
  checkDecodes, checkPicture, checkTimeline, checkTrackSet, describeFailures, fetchOne, parseMpd, segmentTiming,
  type Fetched, type MpdInfo, type MpdTrack, type SegmentTiming,
} from '../support/corpus-checks.js';
import { sessionStatus, startTestServer, type TestServer } from '../support/server.js';

const SEGMENT_WAIT_MS = 45_000;
const FETCH_TIMEOUT_MS = SEGMENT_WAIT_MS + 15_000;

let media: string;
let output: string;
let srv: TestServer;

beforeAll(async () => {
  media = process.env.CORPUS_DIR ?? (await mkdtemp(path.join(tmpdir(), 'seekwell-corpus-')));
  output = await mkdtemp(path.join(tmpdir(), 'seekwell-corpus-out-'));
  const started = performance.now();
  await makeCorpus(media);
  console.log(`corpus: ${FIXTURES.length} fixtures ready in ${((performance.now() - started) / 1000).toFixed(1)} s in ${media}`);
  // A copy is another title: its mid-title run shares nothing with the first session's.
  for (const f of FIXTURES) await copyFile(path.join(media, f.file), path.join(media, `copy-${f.file}`));
  // One rung: every class is about the picture and the tracks, and each rung is checked the same
  // way (test/integration/renditions.test.ts checks that the rungs agree); a whole ladder per class
  // would multiply the test's encoding by four.
  srv = await startTestServer({ MEDIA_DIR: media, SEGMENT_WAIT_MS: String(SEGMENT_WAIT_MS), VIDEO_LADDER: '720', COPY: 'auto' });
}, 600_000);

afterAll(async () => {
  await srv?.close();
  await rm(output, { recursive: true, force: true });
  if (!process.env.CORPUS_DIR) await rm(media, { recursive: true, force: true });
});

interface Session {
  id: string;
  mpd: MpdInfo;
}

/** POST /api/sessions and GET its MPD; throws with the server's answer when either fails. */
async function openSession(media: string, start?: number): Promise<Session> {
  const response = await fetch(`${srv.base}/api/sessions`, { method: 'POST', body: JSON.stringify({ media, ...(start === undefined ? {} : { start }) }) });
  const body = await response.text();
  if (response.status !== 201) throw new Error(`POST /api/sessions {"media": "${media}"}: ${response.status} ${body}`);
  const { id, dash } = JSON.parse(body) as { id: string; dash: string };
  const mpdUrl = `${srv.base}${dash}`;
  const mpd = await fetch(mpdUrl);
  const text = await mpd.text();
  if (mpd.status !== 200) throw new Error(`GET ${dash}: ${mpd.status} ${text}`);
  return { id, mpd: parseMpd(text, mpdUrl) };
}

/** Init + every segment of every track, in segment order, the tracks' n-th segments fetched together. */
async function fetchTracks(tracks: readonly MpdTrack[], numbers?: readonly number[]): Promise<Map<string, Fetched[]>> {
  const out = new Map<string, Fetched[]>(tracks.map((t) => [t.id, []]));
  await Promise.all(tracks.map(async (t) => out.get(t.id)!.push(await fetchOne(t.initUrl, FETCH_TIMEOUT_MS))));
  const all = [...new Set(tracks.flatMap((t) => t.segments.map((s) => s.number)))].sort((a, b) => a - b);
  for (const n of numbers ?? all) {
    await Promise.all(tracks.map(async (t) => {
      const segment = t.segments.find((s) => s.number === n);
      const got = out.get(t.id)!;
      // After a track's first failure the rest would each wait SEGMENT_WAIT_MS: stop that track there.
      if (segment && got.every((f) => f.status === 200)) got.push(await fetchOne(segment.url, FETCH_TIMEOUT_MS));
    }));
  }
  return out;
}

/** Tolerance of "within one frame": the source's longest frame or the output's mean, whichever is longer. */
function frameTolerance(track: MpdTrack, timings: readonly SegmentTiming[], fixture: FixtureClass): number {
  const samples = timings.reduce((n, t) => n + t.sampleCount, 0);
  const seconds = timings.reduce((s, t) => s + t.duration / t.timescale, 0);
  const mean = samples > 0 ? seconds / samples : 0;
  const frame = track.kind === 'video' ? fixture.expect.videoFrameSeconds ?? 1 / 24 : 1024 / (track.sampleRate ?? 48_000);
  // Plus one 90 kHz tick: segment times are rounded to it (a copied 44.1 kHz track's encoder-delay
  // frame before 0 is 2089.8 ticks, served as 2090).
  return Math.max(frame, mean) + 1 / 90_000 + 1e-6;
}

describe.each(FIXTURES.map((f) => ({ ...f, label: `${f.name}: ${f.description}` })))('$label', (fixture) => {
  const { expect: want } = fixture;
  let first: Session | undefined;
  let fetched: Map<string, Fetched[]> | undefined;
  const timings = new Map<string, SegmentTiming[]>();
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is missing: see the first failing check of this class`);
    return value;
  };

  afterAll(async () => {
    if (first) await fetch(`${srv.base}/api/sessions/${first.id}`, { method: 'DELETE' });
  });

  it('is the file its recipe claims', async () => {
    expect(await verifyFixture(fixture, path.join(media, fixture.file))).toEqual([]);
  });

  if (want.refused !== undefined) {
    it(`is refused with ${want.refused}`, async () => {
      const response = await fetch(`${srv.base}/api/sessions`, { method: 'POST', body: JSON.stringify({ media: fixture.file }) });
      expect(((await response.json()) as { code: string }).code).toBe(want.refused);
    });
    return;
  }

  it('opens a session whose manifest has the title\'s duration and tracks', async () => {
    first = await openSession(fixture.file);
    const tolerance = want.video ? want.videoFrameSeconds ?? 1 / 24 : 1024 / 48_000;
    expect([...checkTrackSet(first.mpd, want), ...(Math.abs(first.mpd.durationSeconds - want.durationSeconds) <= tolerance + 1e-6 ? []
      : [`the MPD says ${first.mpd.durationSeconds} s, the title is ${want.durationSeconds.toFixed(4)} s`])]).toEqual([]);
  });

  it('serves every init and every segment of every track', async () => {
    const session = need(first, 'the session');
    fetched = await fetchTracks(session.mpd.tracks);
    const failures = [...fetched.values()].flatMap((f) => describeFailures(f));
    const missing = session.mpd.tracks.map((t) => t.segments.length + 1 - fetched!.get(t.id)!.length).reduce((a, b) => a + b, 0);
    expect({ failures, notFetchedAfterAFailure: missing }).toEqual({ failures: [], notFetchedAfterAFailure: 0 });
  });

  it('decodes each track cleanly, on time, as long as the title', async () => {
    const session = need(first, 'the session');
    const problems: string[] = [];
    for (const track of session.mpd.tracks) {
      const [init, ...segments] = need(fetched?.get(track.id), `${track.id}'s segments`).filter((f) => f.status === 200);
      if (!init) continue;
      const list = segments.map((s, i) => segmentTiming(init.bytes, s.bytes, track.segments[i]!.number, track.presentationTimeOffsetSeconds));
      timings.set(track.id, list);
      problems.push(...checkTimeline(track, list, want.durationSeconds, frameTolerance(track, list, fixture)));
      const file = path.join(output, `${fixture.name}-${track.id}.mp4`);
      problems.push(...(await checkDecodes(track.id, file, Buffer.concat([init.bytes, ...segments.map((s) => s.bytes)]))));
    }
    expect(problems).toEqual([]);
  });

  it('makes the same segments in a run started mid-title on a copy', async () => {
    const session = need(first, 'the session');
    const reference = session.mpd.tracks[0]!;
    const middle = reference.segments[Math.floor(reference.segments.length / 2)]!;
    const copy = await openSession(`copy-${fixture.file}`, middle.startSeconds);
    try {
      const numbers = [middle.number, middle.number + 1].filter((n) => reference.segments.some((s) => s.number === n));
      const got = await fetchTracks(copy.mpd.tracks, numbers);
      const problems = [...got.values()].flatMap((f) => describeFailures(f));
      // What was made, not what still runs: a stream copy's run may have finished the title already.
      const made = ((await sessionStatus(srv.base, copy.id)).segments[reference.id] ?? []) as number[];
      if (Math.min(...made) !== middle.number) problems.push(`the copy's first ${reference.id} segment made is ${Math.min(...made)}, asked for ${middle.number} first`);
      for (const track of copy.mpd.tracks) {
        const [init, ...segments] = got.get(track.id)!;
        const whole = timings.get(track.id);
        if (!whole) problems.push(`${track.id}: not in the first session, or its segments were not all fetched`);
        if (!init || init.status !== 200 || !whole) continue;
        segments.filter((s) => s.status === 200).forEach((s, i) => {
          const n = numbers[i]!;
          const a = segmentTiming(init.bytes, s.bytes, n, track.presentationTimeOffsetSeconds);
          const b = whole.find((t) => t.number === n);
          const same = (t: SegmentTiming | undefined) => t && { tfdt: t.tfdt, samples: t.sampleCount, duration: t.duration };
          if (JSON.stringify(same(a)) !== JSON.stringify(same(b))) {
            problems.push(`${track.id} segment ${n}: mid-title run ${JSON.stringify(same(a))}, run from 0 ${b ? JSON.stringify(same(b)) : 'did not serve it'}`);
          }
        });
      }
      expect(problems).toEqual([]);
    } finally {
      await fetch(`${srv.base}/api/sessions/${copy.id}`, { method: 'DELETE' });
    }
  });

  // Audio-only classes have no picture: their manifest test requires that there is no video track.
  if (want.video) it('shows the picture upright, SDR, progressive and at its display aspect', async () => {
    const session = need(first, 'the session');
    const videos = session.mpd.tracks.filter((t) => t.kind === 'video');
    expect(videos.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const track of videos) {
      const parts = need(fetched?.get(track.id), `${track.id}'s segments`);
      if (parts.some((p) => p.status !== 200)) problems.push(`${track.id}: not every segment was served (see above); checking what was`);
      const ok = parts.filter((p) => p.status === 200);
      if (ok.length < 2) continue;
      const file = path.join(output, `${fixture.name}-${track.id}-picture.mp4`);
      await writeFile(file, Buffer.concat(ok.map((p) => p.bytes)));
      problems.push(...(await checkPicture(track.id, file, track.codecs, want)));
    }
    expect(problems).toEqual([]);
  });
});

// Each check above must be able to fail: fed what a broken server would produce, it says so.
describe('the corpus checks catch what they look for', () => {
  const fixture = (name: string): FixtureClass => FIXTURES.find((f) => f.name === name)!;
  const source = (name: string): string => path.join(media, fixture(name).file);

  it('reports a 404 for a segment past the end, and a segment left out as a tfdt jump and a short track', async () => {
    const session = await openSession(fixture('shorter-than-segment').file);
    try {
      const track = session.mpd.tracks[0]!;
      const past = await fetchOne(track.urlFor(track.segments.at(-1)!.number + 1), 10_000);
      expect(describeFailures([past])).toEqual([expect.stringContaining(': 404 ')]);
    } finally {
      await fetch(`${srv.base}/api/sessions/${session.id}`, { method: 'DELETE' });
    }
    const segment = (number: number, tfdt: number): SegmentTiming => ({ number, tfdt, sampleCount: 120, duration: 360_000, timescale: 90_000, firstPresentation: (number - 1) * 4 });
    const track = { id: 'video-360p', segments: [1, 2, 3].map((n) => ({ number: n, url: '', startSeconds: (n - 1) * 4, durationSeconds: 4 })) };
    expect(checkTimeline(track, [segment(1, 360_000), segment(2, 720_000), segment(3, 1_080_000)], 12, 1 / 30)).toEqual([]);
    const problems = checkTimeline(track, [segment(1, 360_000), segment(3, 1_080_000)], 12, 1 / 30);
    expect(problems).toEqual([
      'video-360p: 2 segments, the MPD lists 3',
      expect.stringContaining('tfdt jumps between segments 1 and 3'),
      expect.stringContaining('video-360p lasts 8.0000 s, the title 12.0000 s'),
    ]);
  });

  it('reports bytes that do not decode', async () => {
    const file = path.join(output, 'broken.mp4');
    const good = await readFile(source('shorter-than-segment'));
    const broken = Buffer.concat([good.subarray(0, 4096), Buffer.alloc(20_000, 0x5a), good.subarray(24_096)]);
    expect(await checkDecodes('broken', file, broken)).toEqual([expect.stringContaining('does not decode cleanly')]);
  });

  it('reports a sideways picture, a wrong aspect, an HDR transfer and combing', async () => {
    const portrait = fixture('portrait-phone');
    expect(await checkPicture('portrait source', source(portrait.name), 'avc1.640028', portrait.expect)).toEqual([
      expect.stringContaining('display matrix rotation of -90'),
      expect.stringContaining('is landscape (1920x1080'),
      expect.stringContaining('displays at 1.7778:1'),
    ]);
    const hdr = fixture('hdr10-pq-hevc');
    expect(await checkPicture('hdr source', source(hdr.name), 'avc1.64001e', hdr.expect)).toEqual([
      'hdr source has transfer smpte2084, expected SDR (bt709 or unset)',
      expect.stringContaining('is tagged BT.2020'),
      expect.stringContaining('is yuv420p10le, but its codecs avc1.64001e promise 8-bit 4:2:0'),
    ]);
    const interlaced = fixture('interlaced-flagged-progressive');
    expect(await checkPicture('combed source', source(interlaced.name), 'avc1.64001e', { ...interlaced.expect, displayAspect: 4 / 3 })).toEqual([
      expect.stringContaining('displays at 1.7778:1'),
      expect.stringContaining('is still interlaced'),
    ]);
  });

  it('reports a missing audio language and an unexpected video track', () => {
    const mpd: MpdInfo = { durationSeconds: 10, tracks: [{ id: 'video-360p', kind: 'video' } as MpdTrack], audioSets: [{ lang: 'eng' }] };
    expect(checkTrackSet(mpd, { ...fixture('two-audio-languages').expect, audioLanguages: ['eng', 'fra'] })).toEqual([
      '1 audio adaptation sets (eng), expected 2 (eng, fra)',
    ]);
    expect(checkTrackSet(mpd, fixture('audio-only-m4a').expect)).toEqual([
      '1 video representations, expected none',
      'audio set 1 has lang eng, expected und',
    ]);
    // A multichannel track must come in stereo and 5.1: a missing 5.1 set is reported.
    const stereoOnly: MpdInfo = { ...mpd, audioSets: [{ lang: undefined, channels: 2 }] };
    expect(checkTrackSet(stereoOnly, fixture('aac-5-1-mp4').expect)).toEqual(['5.1 audio sets (), expected (und)']);
    expect(checkTrackSet({ ...stereoOnly, audioSets: [...stereoOnly.audioSets, { lang: undefined, channels: 6 }] }, fixture('aac-5-1-mp4').expect)).toEqual([]);
  });
});

