// WebVTT cues in and out: parse what ffmpeg (or a person) wrote, shift it onto the title's
// timeline, and write it back whole (DASH) or cut into HLS segments. Pure: no I/O.
// Times are handled as integer milliseconds, the unit WebVTT writes, so no float noise leaks out.

export interface WebVttCue {
  startSeconds: number;
  endSeconds: number;
  /** Cue settings after the end time (`align:start line:0`), '' when none. */
  settings: string;
  /** Payload lines joined by \n; never a blank line, never `-->`. */
  text: string;
}

const TIMING = /^\s*([\d:.,]+)\s*-->\s*([\d:.,]+)(?:\s+(.*?))?\s*$/;
const TIMESTAMP = /^(?:(\d+):)?(\d{2}):(\d{2})[.,](\d{3})$/;
const SKIPPED_BLOCK = /^(?:NOTE|STYLE|REGION)(?:[ \t]|$)/;

/** Parses WebVTT text; cues sorted by start (stable), malformed and empty cues skipped. */
export function parseWebVtt(text: string): WebVttCue[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const cues: WebVttCue[] = [];
  let block: string[] = [];
  let first = true;
  for (const line of [...lines, '']) {
    if (line.trim() !== '') {
      block.push(line);
      continue;
    }
    if (block.length === 0) continue;
    const isHeader = first && /^WEBVTT(?:[ \t]|$)/.test(block[0]!);
    if (!isHeader) cues.push(...cuesOfBlock(block));
    first = false;
    block = [];
  }
  return cues.sort((a, b) => a.startSeconds - b.startSeconds);
}

// One block between blank lines: an optional id, a timing line, the payload. A later line with
// `-->` starts another cue (as browsers read it), so no cue text ever contains one.
function cuesOfBlock(block: string[]): WebVttCue[] {
  if (SKIPPED_BLOCK.test(block[0]!)) return [];
  const cues: WebVttCue[] = [];
  let index = block[0]!.includes('-->') ? 0 : 1;
  while (index < block.length) {
    const timing = parseTiming(block[index]!);
    const payload: string[] = [];
    index += 1;
    while (index < block.length && !block[index]!.includes('-->')) payload.push(block[index++]!);
    if (timing && payload.length > 0) cues.push({ ...timing, text: payload.join('\n') });
  }
  return cues;
}

function parseTiming(line: string): Omit<WebVttCue, 'text'> | undefined {
  const match = TIMING.exec(line);
  if (!match) return undefined;
  const startMs = parseTimestampMs(match[1]!);
  const endMs = parseTimestampMs(match[2]!);
  if (startMs === undefined || endMs === undefined || endMs <= startMs) return undefined;
  return { startSeconds: startMs / 1000, endSeconds: endMs / 1000, settings: match[3] ?? '' };
}

function parseTimestampMs(text: string): number | undefined {
  const match = TIMESTAMP.exec(text);
  if (!match) return undefined;
  const [hours, minutes, seconds, millis] = [match[1] ?? '0', match[2]!, match[3]!, match[4]!].map(Number) as [number, number, number, number];
  if (minutes > 59 || seconds > 59) return undefined;
  return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis;
}

/** Shifts every cue by deltaSeconds; drops cues ending at or before 0, clips one straddling 0. */
export function shiftCues(cues: WebVttCue[], deltaSeconds: number): WebVttCue[] {
  const deltaMs = toMs(deltaSeconds);
  const shifted: WebVttCue[] = [];
  for (const cue of cues) {
    const endMs = toMs(cue.endSeconds) + deltaMs;
    if (endMs <= 0) continue;
    const startMs = Math.max(0, toMs(cue.startSeconds) + deltaMs);
    shifted.push({ ...cue, startSeconds: startMs / 1000, endSeconds: endMs / 1000 });
  }
  return shifted;
}

/** One whole WebVTT file (for DASH). */
export function renderWebVtt(cues: WebVttCue[]): string {
  return render(['WEBVTT'], cues);
}

/**
 * One HLS WebVTT segment: every cue overlapping [start, end) with its own, unclipped times (a cue
 * across a boundary is in both segments; players drop the repeat). The X-TIMESTAMP-MAP says that
 * cue time 0 is MPEG-TS time `mpegTs` (90 kHz), so the cue times stay on the title's timeline.
 */
export function renderWebVttSegment(cues: WebVttCue[], range: { startSeconds: number; endSeconds: number }, mpegTs: number): string {
  const startMs = toMs(range.startSeconds);
  const endMs = toMs(range.endSeconds);
  const inRange = cues.filter((cue) => toMs(cue.startSeconds) < endMs && toMs(cue.endSeconds) > startMs);
  const header = ['WEBVTT', `X-TIMESTAMP-MAP=MPEGTS:${Math.max(0, Math.round(mpegTs))},LOCAL:00:00:00.000`];
  return render(header, inRange);
}

// A cue whose text is empty once cleaned shows nothing: it is left out.
function render(header: string[], cues: WebVttCue[]): string {
  const blocks = [header.join('\n')];
  for (const cue of cues) {
    const text = cleanText(cue.text);
    if (text !== '') blocks.push(`${timingLine(cue)}\n${text}`);
  }
  return `${blocks.join('\n\n')}\n`;
}

function timingLine(cue: WebVttCue): string {
  const settings = cue.settings.replace(/-->|\s+/g, ' ').trim();
  const timing = `${formatTimestamp(cue.startSeconds)} --> ${formatTimestamp(cue.endSeconds)}`;
  return settings === '' ? timing : `${timing} ${settings}`;
}

// A blank line would end the cue and `-->` would start a new one: collapse the one, escape the
// other (`&gt;` is a character reference WebVTT cue text understands).
function cleanText(text: string): string {
  const lines = text.split(/\r\n|\r|\n/).filter((line) => line.trim() !== '');
  return lines.join('\n').replaceAll('-->', '--&gt;');
}

/** `hh:mm:ss.mmm` from whole milliseconds; negative times are written as 0. */
function formatTimestamp(seconds: number): string {
  const totalMs = Math.max(0, toMs(seconds));
  const ms = totalMs % 1000;
  const totalSeconds = (totalMs - ms) / 1000;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor(totalSeconds / 60) % 60;
  const secs = totalSeconds % 60;
  return `${pad(hours, 2)}:${pad(minutes, 2)}:${pad(secs, 2)}.${pad(ms, 3)}`;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

function toMs(seconds: number): number {
  return Math.round(seconds * 1000);
}
