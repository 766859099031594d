import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { createProgress } from '../../src/progress.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 0;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

describe('createProgress', () => {
  it('rewrites one line in place on a terminal, once per whole percent, and ends it with the time taken', () => {
    const written: string[] = [];
    const time = clock();
    const progress = createProgress(createLogger('silent'), { write: (t) => written.push(t) }, time.now)('making the demo clip');
    for (const f of [0, 0.004, 0.25, 0.251, 0.5, 1.2]) progress.update(f);
    time.advance(12_300);
    progress.end();
    progress.update(0.9);
    expect(written).toEqual([
      'seekwell: making the demo clip…',
      '\rseekwell: making the demo clip… 0%',
      '\rseekwell: making the demo clip… 25%',
      '\rseekwell: making the demo clip… 50%',
      '\rseekwell: making the demo clip… 100%',
      '\rseekwell: making the demo clip… done in 12.3 s\x1b[K\n',
    ]);
  });

  it('logs the start, every tenth of the way and the end when no terminal watches', () => {
    const records: Record<string, unknown>[] = [];
    const log = createLogger('info', (line) => records.push(JSON.parse(line) as Record<string, unknown>));
    const progress = createProgress(log, undefined, clock().now)('remuxing a.ts for seeking', { file: '/m/a.ts' });
    for (let i = 0; i <= 20; i++) progress.update(i / 20);
    progress.end();
    expect(records.map((r) => r.msg)).toEqual([
      'remuxing a.ts for seeking: started',
      ...[0, 10, 20, 30, 40, 50, 60, 70, 80, 90].map((p) => `remuxing a.ts for seeking: ${p}%`),
      'remuxing a.ts for seeking: done',
    ]);
    expect(records.every((r) => r.file === '/m/a.ts')).toBe(true);
    expect(records.at(-1)).toMatchObject({ percent: 100, level: 'info' });
  });

  it('says the work failed, at warn, and writes nothing after', () => {
    const records: Record<string, unknown>[] = [];
    const progress = createProgress(createLogger('info', (line) => records.push(JSON.parse(line) as Record<string, unknown>)))('remuxing b.ts');
    progress.end(true);
    progress.end();
    expect(records.map((r) => [r.level, r.msg])).toEqual([['info', 'remuxing b.ts: started'], ['warn', 'remuxing b.ts: failed']]);
  });
});
