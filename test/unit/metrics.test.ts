import { describe, it, expect } from 'vitest';
import { Metrics, type Gauges } from '../../src/metrics.js';

const gauges: Gauges = { sessions: 3, runs: 2, pausedRuns: 1, storeBytes: 123456789, memoryCacheBytes: 4096, loadLevel: 1, limits: { sessions: 1000, video_encodes: 4 } };

// A line of the text exposition format as Seekwell writes it: a comment or one sample.
const LINE = /^(# (HELP|TYPE) \S+ .+|[a-z_]+(\{[^}]*\})? [0-9.e+-]+)$/;

function lines(metrics: Metrics): string[] {
  const text = metrics.render(gauges);
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

// Sample name with its label text -> value, e.g. 'seekwell_runs_started_total' -> 0.
function samples(metrics: Metrics): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of lines(metrics)) {
    if (line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

// Every metric family Seekwell exports, with its TYPE: the expectation, written out by hand.
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
};

// Metric family name -> its TYPE.
function families(metrics: Metrics): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines(metrics)) {
    const match = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (match) out.set(match[1]!, match[2]!);
  }
  return out;
}

describe('Metrics', () => {
  it('gives every metric exactly one HELP line followed by one TYPE line', () => {
    const all = lines(new Metrics());
    const helps = all.filter((l) => l.startsWith('# HELP ')).map((l) => l.split(' ')[2]);
    const types = all.filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]);
    expect(helps).toEqual(types);
    expect([...helps].sort()).toEqual(Object.keys(TYPES).sort());
    all.forEach((line, i) => {
      if (!line.startsWith('# HELP ')) return;
      const name = line.split(' ')[2]!;
      expect(all[i + 1]).toBe(`# TYPE ${name} ${TYPES[name]}`);
    });
  });

  it('declares every sample\'s family before the sample', () => {
    const declared = new Set<string>();
    const sampled = new Set<string>();
    for (const line of lines(new Metrics())) {
      const type = /^# TYPE (\S+) /.exec(line);
      if (type) declared.add(type[1]!);
      if (line.startsWith('#')) continue;
      const name = /^[a-z_]+/.exec(line)![0];
      const family = name.replace(/_(bucket|sum|count)$/, '');
      expect(declared.has(name) || declared.has(family), line).toBe(true);
      sampled.add(declared.has(name) ? name : family);
    }
    // Every family renders samples, even before anything was counted.
    expect([...sampled].sort()).toEqual(Object.keys(TYPES).sort());
  });

  it('declares the gauges, counters and histogram with their types', () => {
    expect(Object.fromEntries(families(new Metrics()))).toEqual(TYPES);
  });

  it('shows the gauges with the values it was given', () => {
    const s = samples(new Metrics());
    expect(s.get('seekwell_sessions')).toBe(3);
    expect(s.get('seekwell_runs')).toBe(2);
    expect(s.get('seekwell_runs_paused')).toBe(1);
    expect(s.get('seekwell_store_bytes')).toBe(123456789);
    expect(s.get('seekwell_memory_cache_bytes')).toBe(4096);
  });

  it('renders an unlabelled counter that was never incremented as 0', () => {
    const all = lines(new Metrics());
    expect(all).toContain('seekwell_runs_started_total 0');
    expect(all).toContain('seekwell_store_evictions_total 0');
  });

  it('renders an unlabelled counter with its running total', () => {
    const metrics = new Metrics();
    metrics.runsStarted.inc();
    metrics.runsStarted.inc();
    metrics.segmentsEncoded.inc({}, 5);
    const all = lines(metrics);
    expect(all).toContain('seekwell_runs_started_total 2');
    expect(all).toContain('seekwell_segments_encoded_total 5');
    expect(all).not.toContain('seekwell_runs_started_total 0');
  });

  it('renders a labelled counter as one sample per label value', () => {
    const metrics = new Metrics();
    metrics.segmentsServed.inc({ from: 'store' });
    metrics.segmentsServed.inc({ from: 'encoder' });
    metrics.segmentsServed.inc({ from: 'store' });
    metrics.restarts.inc({ reason: 'no-run' });
    const all = lines(metrics);
    expect(all).toContain('seekwell_segments_served_total{from="store"} 2');
    expect(all).toContain('seekwell_segments_served_total{from="encoder"} 1');
    expect(all).toContain('seekwell_restarts_total{reason="no-run"} 1');
    expect(all).not.toContain('seekwell_segments_served_total 0');
    expect(metrics.segmentsServed.get({ from: 'store' })).toBe(2);
    expect(metrics.segmentsServed.get({ from: 'elsewhere' })).toBe(0);
  });

  it('renders histogram buckets cumulatively, with +Inf equal to the count', () => {
    const metrics = new Metrics();
    for (const v of [0.01, 0.3, 3]) metrics.waitSeconds.observe(v);
    const s = samples(metrics);
    const bucket = (le: string): number | undefined => s.get(`seekwell_segment_wait_seconds_bucket{le="${le}"}`);
    expect(bucket('0.005')).toBe(0);
    expect(bucket('0.05')).toBe(1);
    expect(bucket('0.1')).toBe(1);
    expect(bucket('0.25')).toBe(1);
    expect(bucket('0.5')).toBe(2);
    expect(bucket('1')).toBe(2);
    expect(bucket('2')).toBe(2);
    expect(bucket('4')).toBe(3);
    expect(bucket('8')).toBe(3);
    expect(bucket('16')).toBe(3);
    expect(bucket('+Inf')).toBe(3);
    expect(s.get('seekwell_segment_wait_seconds_count')).toBe(3);
    expect(s.get('seekwell_segment_wait_seconds_sum')).toBeCloseTo(3.31, 10);
  });

  it('lists histogram buckets in ascending order ending with +Inf', () => {
    const metrics = new Metrics();
    metrics.waitSeconds.observe(100);
    const les = lines(metrics)
      .map((l) => /^seekwell_segment_wait_seconds_bucket\{le="([^"]+)"\} (\d+)$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => m[1]!);
    expect(les.at(-1)).toBe('+Inf');
    const finite = les.slice(0, -1).map(Number);
    expect(finite).toEqual([...finite].sort((a, b) => a - b));
    // A value above every bucket is counted only in +Inf.
    const s = samples(metrics);
    expect(s.get('seekwell_segment_wait_seconds_bucket{le="16"}')).toBe(0);
    expect(s.get('seekwell_segment_wait_seconds_bucket{le="+Inf"}')).toBe(1);
  });

  it('counts a value equal to a bucket bound in that bucket', () => {
    const metrics = new Metrics();
    metrics.waitSeconds.observe(0.5);
    const s = samples(metrics);
    expect(s.get('seekwell_segment_wait_seconds_bucket{le="0.25"}')).toBe(0);
    expect(s.get('seekwell_segment_wait_seconds_bucket{le="0.5"}')).toBe(1);
  });

  it('renders an empty histogram with zero buckets, sum and count', () => {
    const s = samples(new Metrics());
    expect(s.get('seekwell_segment_wait_seconds_bucket{le="+Inf"}')).toBe(0);
    expect(s.get('seekwell_segment_wait_seconds_sum')).toBe(0);
    expect(s.get('seekwell_segment_wait_seconds_count')).toBe(0);
  });

  it('sanitises quotes, backslashes and newlines in label values', () => {
    const metrics = new Metrics();
    metrics.restarts.inc({ reason: 'bad "quote"\nnew line\\slash' });
    const all = lines(metrics);
    // A raw newline would split the sample in two: one labelled sample renders in as many lines as
    // the unlabelled 0 it replaces, and every line still parses.
    expect(all).toHaveLength(lines(new Metrics()).length);
    expect(all.filter((line) => !LINE.test(line))).toEqual([]);
    expect(all).toContain('seekwell_restarts_total{reason="bad _quote__new line_slash"} 1');
  });

  it('writes every line in the text exposition format', () => {
    const metrics = new Metrics();
    metrics.restarts.inc({ reason: 'behind-every-run' });
    metrics.restarts.inc({ reason: 'x"y\nz' });
    metrics.segmentsServed.inc({ from: 'store' });
    metrics.runsStarted.inc();
    metrics.evictions.inc({}, 12);
    for (const v of [0.01, 0.3, 3, 0.0001, 42]) metrics.waitSeconds.observe(v);
    for (const line of lines(metrics)) expect(line).toMatch(LINE);
    for (const line of lines(new Metrics())) expect(line).toMatch(LINE);
  });
});
