import { describe, expect, it } from 'vitest';
import { parseHexDump, sliceType } from '../../../src/media/idr.js';

const nal = (type: number, size = 3): Buffer => Buffer.concat([Buffer.from([(3 << 5) | type]), Buffer.alloc(size - 1, 0xab)]);
const lengthPrefixed = (...units: Buffer[]): Buffer => Buffer.concat(units.flatMap((u) => {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(u.length);
  return [length, u];
}));
const annexB = (...units: Buffer[]): Buffer => Buffer.concat(units.flatMap((u) => [Buffer.from([0, 0, 0, 1]), u]));

describe('sliceType', () => {
  it('finds an IDR slice after SEI/SPS/PPS in a length-prefixed (MP4, Matroska) access unit', () => {
    expect(sliceType(lengthPrefixed(nal(6), nal(7), nal(8), nal(5, 40)))).toBe(5);
  });

  it('finds a non-IDR slice: an open GOP\'s recovery-point I-frame', () => {
    expect(sliceType(lengthPrefixed(nal(6), nal(1, 40)))).toBe(1);
  });

  it('reads Annex B start codes too, and says nothing without a slice', () => {
    expect(sliceType(annexB(nal(9), nal(5, 20)))).toBe(5);
    expect(sliceType(lengthPrefixed(nal(6), nal(7)))).toBeUndefined();
    expect(sliceType(undefined)).toBeUndefined();
  });
});

describe('parseHexDump', () => {
  it('turns ffprobe\'s -show_data dump back into bytes, ignoring the ascii column', () => {
    const dump = '\n00000000: 0000 0005 0606 01c4 8000 0014 fc41 88cc  .............A..\n00000010: 85ff                                     ..\n';
    expect(parseHexDump(dump).toString('hex')).toBe('000000050606' + '01c480000014fc4188cc' + '85ff');
  });
});
