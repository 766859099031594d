// Minimal ISO-BMFF files for unit tests: boxes of the right types and sizes around filler bytes,
// enough for code that only reads top-level box headers.

export function box(type: string, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + payload.length);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, payload]);
}

/** A box with a 64-bit size field (size field 1, then the real size). */
export function largeBox(type: string, payload: Buffer): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(1);
  header.write(type, 4, 'latin1');
  header.writeBigUInt64BE(BigInt(16 + payload.length), 8);
  return Buffer.concat([header, payload]);
}

/** A whole media segment as the packager writes one: styp, sidx, moof, mdat (`fill` marks its bytes). */
export function mediaSegment(mdatBytes = 1000, fill = 0x5a): Buffer {
  return Buffer.concat([box('styp', Buffer.from('msdh\0\0\0\0msdhmsix')), box('sidx', Buffer.alloc(32)), box('moof', box('mfhd', Buffer.alloc(8))), box('mdat', Buffer.alloc(mdatBytes, fill))]);
}

export function initSegment(fill = 0x11): Buffer {
  return Buffer.concat([box('ftyp', Buffer.from('isom\0\0\0\0isomiso6')), box('moov', box('mvhd', Buffer.alloc(100, fill)))]);
}
