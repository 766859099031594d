import { describe, it, expect } from 'vitest';
import { Metrics, type Gauges } from '../../src/metrics.js';

const gauges: Gauges = { sessions: 3, runs: 2, pausedRuns: 1, storeBytes: 123456789, memoryCacheBytes: 4096, loadLevel: 1, limits: { sessions: 1000, video_encodes: 4 } };

async function lines(metrics: Metrics): Promise<string[]> {
  const text = await metrics.render(gauges);
  return text.split('\n').filter(Boolean);
}

// Sample name with its label text -> value, e.g. 'seekwell_runs_started_total' -> 0.
async function samples(metrics: Metrics): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of await lines(metrics)) {
    if (line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

// Every metric family Seekwell exports, with its TYPE: the expectation, written out by hand. The
// names are the ones dashboards were built on before prom-client: they must not change.
const TYPES: Record<string, string> = {
  seekwell_sessions: 'gauge',
  seekwell_runs: 'gauge',
  seekwell_runs_paused: 'gauge',
  seekwell_store_bytes: 'gauge',
  seekwell_memory_cache_bytes: 'gauge',
  seekwell_restarts_total: 'counter',
  seekwell_runs_started_total: 'counter',
  seekwell_segments_served_total: 'counter',
  seekwell_segments_encoded_total: 'counter',
  seekwell_segments_restored_total: 'counter',
  seekwell_store_evictions_total: 'counter',
  seekwell_refused_total: 'counter',
  seekwell_runs_degraded_total: 'counter',
  seekwell_load_level: 'gauge',
  seekwell_limit: 'gauge',
  seekwell_segment_wait_seconds: 'histogram',
  seekwell_first_segment_seconds: 'histogram',
};

async function families(metrics: Metrics): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const line of await lines(metrics)) {
    const match = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (match) out[match[1]!] = match[2]!;
  }
  return out;
}

describe('Metrics', () => {
  it('declares exactly Seekwell\'s families with their types, and no process metrics unless asked', async () => {
    expect(await families(new Metrics())).toEqual(TYPES);
  });

  it('adds the process metrics (CPU, memory, event-loop lag, GC) when the process owner asks', async () => {
    const metrics = new Metrics();
    metrics.collectProcessMetrics();
    const types = await families(metrics);
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_gc_duration_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(types[name], name).toBeDefined();
    }
    expect(Object.entries(TYPES).filter(([name, type]) => types[name] !== type)).toEqual([]);
  });

  it('shows the gauges and limits with the values it was given', async () => {
    const s = await samples(new Metrics());
    expect(s.get('seekwell_sessions')).toBe(3);
    expect(s.get('seekwell_runs')).toBe(2);
    expect(s.get('seekwell_runs_paused')).toBe(1);
    expect(s.get('seekwell_store_bytes')).toBe(123456789);
    expect(s.get('seekwell_memory_cache_bytes')).toBe(4096);
    expect(s.get('seekwell_load_level')).toBe(1);
    expect(s.get('seekwell_limit{limit="video_encodes"}')).toBe(4);
  });

  it('renders an unlabelled counter as 0 before it counts, then its running total', async () => {
    const metrics = new Metrics();
    expect((await samples(metrics)).get('seekwell_runs_started_total')).toBe(0);
    metrics.runsStarted.inc();
    metrics.runsStarted.inc();
    metrics.segmentsEncoded.inc({}, 5);
    const s = await samples(metrics);
    expect(s.get('seekwell_runs_started_total')).toBe(2);
    expect(s.get('seekwell_segments_encoded_total')).toBe(5);
  });

  it('renders a labelled counter as one sample per label value, and reads one back', async () => {
    const metrics = new Metrics();
    metrics.segmentsServed.inc({ from: 'store' });
    metrics.segmentsServed.inc({ from: 'encoder' });
    metrics.segmentsServed.inc({ from: 'store' });
    const s = await samples(metrics);
    expect(s.get('seekwell_segments_served_total{from="store"}')).toBe(2);
    expect(s.get('seekwell_segments_served_total{from="encoder"}')).toBe(1);
    expect(await metrics.valueOf(metrics.segmentsServed, { from: 'store' })).toBe(2);
    expect(await metrics.valueOf(metrics.segmentsServed, { from: 'elsewhere' })).toBe(0);
  });

  it('keeps a segment-wait and a first-segment histogram per rendition, buckets cumulative', async () => {
    const metrics = new Metrics();
    for (const v of [0.01, 0.3, 3]) metrics.waitSeconds.observe({ rendition: '720p' }, v);
    metrics.waitSeconds.observe({ rendition: 'audio-en' }, 0.002);
    metrics.firstSegmentSeconds.observe({ rendition: '720p' }, 0.8);
    const s = await samples(metrics);
    const wait = (le: string, rendition = '720p'): number | undefined => s.get(`seekwell_segment_wait_seconds_bucket{le="${le}",rendition="${rendition}"}`);
    expect([wait('0.005'), wait('0.05'), wait('0.5'), wait('4'), wait('+Inf')]).toEqual([0, 1, 2, 3, 3]);
    expect(wait('0.005', 'audio-en')).toBe(1);
    expect(s.get('seekwell_segment_wait_seconds_sum{rendition="720p"}')).toBeCloseTo(3.31, 10);
    expect(s.get('seekwell_first_segment_seconds_bucket{le="0.75",rendition="720p"}')).toBe(0);
    expect(s.get('seekwell_first_segment_seconds_bucket{le="1",rendition="720p"}')).toBe(1);
    expect(s.get('seekwell_first_segment_seconds_count{rendition="720p"}')).toBe(1);
  });

  it('escapes quotes, backslashes and newlines in label values, so every sample stays on one line', async () => {
    const metrics = new Metrics();
    metrics.restarts.inc({ reason: 'bad "quote"\nnew line\\slash' });
    const all = await lines(metrics);
    expect(all).toContain('seekwell_restarts_total{reason="bad \\"quote\\"\\nnew line\\\\slash"} 1');
    expect(all.filter((l) => !l.startsWith('#') && !/^[a-z_]+(\{.*\})? \S+$/.test(l))).toEqual([]);
  });

  it('keeps each server\'s counts apart', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.runsStarted.inc();
    expect(await b.valueOf(b.runsStarted)).toBe(0);
    expect(await a.valueOf(a.runsStarted)).toBe(1);
  });
});
