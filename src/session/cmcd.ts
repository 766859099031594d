// Kept by hand: @svta/cml-cmcd 2.7 is a ~100 KB bundle plus two peer packages for a full CMCD v2
// codec, and its strict decoder throws the whole value away for one bad key; we read three keys.
// Common Media Client Data (CTA-5004) sent by players in query mode (`?CMCD=bl%3D21300%2C...`).
// Seekwell reads three keys: `bl` buffer length (ms), `nor` next object request, `su` startup.
import { indexOf } from '../media/timeline.js';
import { parseSegmentFileName } from '../segment/naming.js';

export interface Cmcd {
  bufferSeconds: number | undefined;
  /** Content index of the segment the player will ask for next, when `nor` names one. */
  nextIndex: number | undefined;
  startup: boolean;
}

/** Parses the value of the CMCD query parameter; undefined when absent or unusable. */
export function parseCmcd(value: string | undefined): Cmcd | undefined {
  if (!value || value.length > 2000) return undefined;
  const pairs = new Map<string, string | true>();
  for (const part of value.match(/(?:[^,"]|"[^"]*")+/g) ?? []) {
    const eq = part.indexOf('=');
    if (eq < 0) pairs.set(part.trim(), true);
    else pairs.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const bl = pairs.get('bl');
  const nor = pairs.get('nor');
  const bufferMs = typeof bl === 'string' && /^\d+$/.test(bl) ? Number(bl) : undefined;
  return {
    bufferSeconds: bufferMs === undefined ? undefined : bufferMs / 1000,
    nextIndex: typeof nor === 'string' ? nextIndexOf(nor) : undefined,
    startup: pairs.get('su') === true,
  };
}

function nextIndexOf(nor: string): number | undefined {
  let url: string;
  try {
    url = decodeURIComponent(nor.replace(/^"|"$/g, ''));
  } catch {
    return undefined;
  }
  const name = url.split('?')[0]!.split('/').at(-1) ?? '';
  const parsed = parseSegmentFileName(name);
  return parsed ? indexOf(parsed.number) : undefined;
}
