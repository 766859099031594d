import { describe, it, expect } from 'vitest';
import { findBox, isCompleteInit, listBoxes, readSegmentIndex } from '../../../src/segment/mp4.js';

// Hand-made ISO-BMFF boxes: enough structure for the parser, no real media.

function box(type: string, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
}

// A box whose size is in the 64-bit largesize field (size = 1).
function largeBox(type: string, payload: Buffer): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(1, 0);
  header.write(type, 4, 'latin1');
  header.writeBigUInt64BE(BigInt(16 + payload.length), 8);
  return Buffer.concat([header, payload]);
}

function styp(): Buffer {
  return box('styp', Buffer.from('msdh\0\0\0\0msdhmsix', 'latin1'));
}

function ftyp(): Buffer {
  return box('ftyp', Buffer.from('isom\0\0\0\x01isomiso6', 'latin1'));
}

function moov(): Buffer {
  return box('moov', box('mvhd', Buffer.alloc(100)), box('trak', box('tkhd', Buffer.alloc(84))));
}

interface Reference {
  size: number;
  duration: number;
}

interface SidxOptions {
  version: 0 | 1;
  timescale: number;
  earliest: number;
  firstOffset: number;
  references: Reference[];
}

function sidx(options: SidxOptions): Buffer {
  const wide = options.version === 1;
  const head = Buffer.alloc(4 + 4 + 4 + (wide ? 16 : 8) + 4);
  let at = head.writeUInt32BE(options.version << 24, 0); // version + flags
  at = head.writeUInt32BE(1, at); // reference_ID
  at = head.writeUInt32BE(options.timescale, at);
  if (wide) {
    at = head.writeBigUInt64BE(BigInt(options.earliest), at);
    at = head.writeBigUInt64BE(BigInt(options.firstOffset), at);
  } else {
    at = head.writeUInt32BE(options.earliest, at);
    at = head.writeUInt32BE(options.firstOffset, at);
  }
  at = head.writeUInt16BE(0, at); // reserved
  head.writeUInt16BE(options.references.length, at);
  const refs = options.references.map((r) => {
    const entry = Buffer.alloc(12);
    entry.writeUInt32BE(r.size & 0x7fffffff, 0); // reference_type 0: media
    entry.writeUInt32BE(r.duration, 4);
    entry.writeUInt32BE(0x90000000, 8); // starts with SAP, type 1
    return entry;
  });
  return box('sidx', head, ...refs);
}

function moof(): Buffer {
  return box('moof', box('mfhd', Buffer.alloc(8)), box('traf', box('tfhd', Buffer.alloc(8)), box('tfdt', Buffer.alloc(12))));
}

function mdat(bytes: number): Buffer {
  return box('mdat', Buffer.alloc(bytes, 0xab));
}

const types = (buf: Buffer): string[] => listBoxes(buf).map((b) => b.type);

describe('listBoxes', () => {
  it('lists top-level boxes with their header and end offsets', () => {
    const buf = Buffer.concat([styp(), moof(), mdat(10)]);
    const boxes = listBoxes(buf);
    expect(boxes.map((b) => b.type)).toEqual(['styp', 'moof', 'mdat']);
    expect(boxes[0]).toEqual({ type: 'styp', start: 0, dataStart: 8, end: styp().length });
    expect(boxes[2]!.end).toBe(buf.length);
    expect(boxes[2]!.dataStart).toBe(boxes[2]!.start + 8);
  });

  it('reads a 64-bit largesize', () => {
    const buf = Buffer.concat([largeBox('mdat', Buffer.alloc(20)), ftyp()]);
    const boxes = listBoxes(buf);
    expect(boxes.map((b) => b.type)).toEqual(['mdat', 'ftyp']);
    expect(boxes[0]).toMatchObject({ start: 0, dataStart: 16, end: 36 });
  });

  it('treats size 0 as running to the end', () => {
    const last = box('mdat', Buffer.alloc(30));
    last.writeUInt32BE(0, 0);
    const buf = Buffer.concat([ftyp(), last]);
    expect(listBoxes(buf).at(-1)).toMatchObject({ type: 'mdat', end: buf.length });
  });

  it('includes a last box that runs past the buffer', () => {
    const whole = Buffer.concat([styp(), mdat(100)]);
    const cut = whole.subarray(0, whole.length - 50);
    const boxes = listBoxes(cut);
    expect(boxes.map((b) => b.type)).toEqual(['styp', 'mdat']);
    expect(boxes[1]!.end).toBe(whole.length);
  });

  it('stops at a header that is not all there', () => {
    const buf = Buffer.concat([styp(), mdat(4)]).subarray(0, styp().length + 5);
    expect(types(buf)).toEqual(['styp']);
  });

  it('stops at a largesize header cut before its 64-bit size', () => {
    const buf = Buffer.concat([ftyp(), largeBox('mdat', Buffer.alloc(4)).subarray(0, 12)]);
    expect(types(buf)).toEqual(['ftyp']);
  });

  it('stops at a size smaller than its own header', () => {
    const bad = Buffer.alloc(8);
    bad.writeUInt32BE(4, 0);
    bad.write('junk', 4, 'latin1');
    expect(types(Buffer.concat([ftyp(), bad, moov()]))).toEqual(['ftyp']);
  });

  it('returns nothing for an empty buffer', () => {
    expect(listBoxes(Buffer.alloc(0))).toEqual([]);
  });
});

describe('findBox', () => {
  it('finds a box by a nested path', () => {
    const buf = Buffer.concat([styp(), moof(), mdat(4)]);
    const tfdt = findBox(buf, ['moof', 'traf', 'tfdt']);
    expect(tfdt?.type).toBe('tfdt');
    expect(buf.toString('latin1', tfdt!.start + 4, tfdt!.start + 8)).toBe('tfdt');
    expect(tfdt!.end - tfdt!.start).toBe(20);
  });

  it('returns undefined when any step of the path is missing', () => {
    const buf = Buffer.concat([styp(), moof()]);
    expect(findBox(buf, ['moof', 'trun'])).toBeUndefined();
    expect(findBox(buf, ['moov', 'trak'])).toBeUndefined();
  });

  it('does not look for children outside their parent', () => {
    const outer = box('moov', box('mvhd', Buffer.alloc(4)));
    const buf = Buffer.concat([outer, box('trak', Buffer.alloc(4))]);
    expect(findBox(buf, ['moov', 'trak'])).toBeUndefined();
    expect(findBox(buf, ['trak'])).toEqual({ type: 'trak', start: outer.length, dataStart: outer.length + 8, end: buf.length });
  });
});

describe('readSegmentIndex', () => {
  const references = [{ size: 1000, duration: 180_000 }, { size: 2500, duration: 180_000 }, { size: 300, duration: 3000 }];

  it('predicts the final size and reads the timing of a version 0 sidx', () => {
    const header = Buffer.concat([styp(), sidx({ version: 0, timescale: 90_000, earliest: 360_000, firstOffset: 0, references })]);
    expect(readSegmentIndex(header)).toEqual({
      expectedSize: header.length + 3800, timescale: 90_000, earliestPresentationTime: 360_000, duration: 363_000,
    });
  });

  it('reads 64-bit times of a version 1 sidx', () => {
    const earliest = 2 ** 33 + 5;
    const header = Buffer.concat([styp(), sidx({ version: 1, timescale: 48_000, earliest, firstOffset: 0, references: references.slice(0, 1) })]);
    expect(readSegmentIndex(header)).toEqual({
      expectedSize: header.length + 1000, timescale: 48_000, earliestPresentationTime: earliest, duration: 180_000,
    });
  });

  it('adds first_offset between the sidx and the first referenced byte', () => {
    const header = Buffer.concat([styp(), sidx({ version: 0, timescale: 90_000, earliest: 0, firstOffset: 64, references })]);
    expect(readSegmentIndex(header)?.expectedSize).toBe(header.length + 64 + 3800);
  });

  it('ignores bytes after the sidx, so a longer read gives the same answer', () => {
    const head = Buffer.concat([styp(), sidx({ version: 0, timescale: 90_000, earliest: 0, firstOffset: 0, references: [{ size: moof().length + 108, duration: 360_000 }] })]);
    const file = Buffer.concat([head, moof(), mdat(100)]);
    expect({ ...readSegmentIndex(file), sequenceNumberOffset: undefined }).toEqual(readSegmentIndex(head));
    expect(readSegmentIndex(file)?.expectedSize).toBe(file.length);
  });

  it('finds the first fragment\'s sequence number (mfhd) after the sidx, once the header holds it', () => {
    const head = Buffer.concat([styp(), sidx({ version: 0, timescale: 90_000, earliest: 0, firstOffset: 0, references: [{ size: moof().length + 108, duration: 360_000 }] })]);
    const file = Buffer.concat([head, moof(), mdat(100)]);
    // moof header (8), mfhd header (8), version and flags (4): then the number.
    expect(readSegmentIndex(file)?.sequenceNumberOffset).toBe(head.length + 20);
    expect(readSegmentIndex(head)?.sequenceNumberOffset).toBeUndefined();
    expect(readSegmentIndex(file.subarray(0, head.length + 22))?.sequenceNumberOffset).toBeUndefined();
  });

  it('masks the reference type bit out of the referenced size', () => {
    const header = Buffer.concat([styp(), sidx({ version: 0, timescale: 90_000, earliest: 0, firstOffset: 0, references: [{ size: 10, duration: 1 }] })]);
    const at = header.length - 12;
    header.writeUInt32BE((0x80000000 | 10) >>> 0, at);
    expect(readSegmentIndex(header)?.expectedSize).toBe(header.length + 10);
  });

  it('returns undefined while the sidx is cut off', () => {
    const header = Buffer.concat([styp(), sidx({ version: 0, timescale: 90_000, earliest: 0, firstOffset: 0, references })]);
    expect(readSegmentIndex(header.subarray(0, header.length - 1))).toBeUndefined();
    expect(readSegmentIndex(header.subarray(0, styp().length + 4))).toBeUndefined();
    expect(readSegmentIndex(header.subarray(0, 3))).toBeUndefined();
  });

  it('returns undefined without a sidx', () => {
    expect(readSegmentIndex(Buffer.concat([styp(), moof(), mdat(4)]))).toBeUndefined();
  });
});

describe('isCompleteInit', () => {
  const init = Buffer.concat([ftyp(), moov()]);

  it('accepts exactly ftyp + moov', () => {
    expect(isCompleteInit(init)).toBe(true);
  });

  it('refuses an init one byte short', () => {
    expect(isCompleteInit(init.subarray(0, init.length - 1))).toBe(false);
  });

  it('refuses an init cut inside the moov header', () => {
    expect(isCompleteInit(init.subarray(0, ftyp().length + 4))).toBe(false);
  });

  it('refuses whole boxes without a moov', () => {
    expect(isCompleteInit(ftyp())).toBe(false);
  });

  it('refuses an empty buffer', () => {
    expect(isCompleteInit(Buffer.alloc(0))).toBe(false);
  });
});
