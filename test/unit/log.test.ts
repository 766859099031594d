import { describe, expect, it } from 'vitest';
import { SeekwellError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';

function capture(level: Parameters<typeof createLogger>[0] = 'debug', pretty = false): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, log: createLogger(level, (line) => lines.push(line), { pretty }) };
}

describe('createLogger', () => {
  it('writes one JSON object per line: ISO time, level by name, the message, the fields', () => {
    const { lines, log } = capture();
    log.info('run started', { run: 'r1', pids: { ffmpeg: 12 } });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(record).toMatchObject({ level: 'info', msg: 'run started', run: 'r1', pids: { ffmpeg: 12 } });
    expect(new Date(record.time as string).toISOString()).toBe(record.time);
  });

  it('scopes a child\'s records with its fields, and a grandchild\'s with both', () => {
    const { lines, log } = capture();
    log.child({ session: 's1' }).child({ rendition: '720p' }).warn('slow');
    expect(JSON.parse(lines[0]!)).toMatchObject({ session: 's1', rendition: '720p', level: 'warn', msg: 'slow' });
  });

  it('drops records below its level, and says which levels it writes', () => {
    const { lines, log } = capture('warn');
    log.debug('a');
    log.info('b');
    log.error('c');
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['c']);
    expect([log.enabled('debug'), log.enabled('info'), log.enabled('warn'), log.enabled('error')]).toEqual([false, false, true, true]);
    const silent = capture('silent');
    silent.log.error('nothing');
    expect(silent.lines).toEqual([]);
  });

  it('writes errors, also nested ones, with name, message, code and cause, and a stack only for unexpected ones', () => {
    const { lines, log } = capture();
    const cause = new TypeError('inner');
    log.error('run failed', { error: new SeekwellError('PIPELINE_FAILED', 'ffmpeg failed', { cause }), end: { kind: 'failed', error: new Error('deep') } });
    const record = JSON.parse(lines[0]!) as { error: Record<string, any>; end: { error: Record<string, unknown> } };
    expect(record.error).toMatchObject({ name: 'SeekwellError', message: 'ffmpeg failed', code: 'PIPELINE_FAILED', cause: { name: 'TypeError', message: 'inner' } });
    expect(record.error.stack).toBeUndefined();
    expect(record.error.cause.stack).toContain('TypeError: inner');
    expect(record.end.error).toMatchObject({ name: 'Error', message: 'deep' });
  });

  it('writes readable single lines, not JSON, in pretty mode', () => {
    const { lines, log } = capture('info', true);
    log.child({ session: 's1' }).info('listening', { url: 'http://127.0.0.1:8080' });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.trimEnd().split('\n')).toHaveLength(1);
    expect(() => JSON.parse(lines[0]!)).toThrow();
    expect(lines[0]).toMatch(/INFO.*listening/);
    expect(lines[0]).toContain('http://127.0.0.1:8080');
    expect(lines[0]).toContain('s1');
  });
});
