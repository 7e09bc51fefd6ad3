// Relaying a payload without serializing it again: the text of one member of
// a JSON object that JSON.parse has already accepted, found by a shallow scan
// that jumps over strings with indexOf. On a 3 KB SDP this is a handful of
// jumps, where JSON.stringify would re-escape every character. Every walk
// here is a loop, never a recursion: a client picks the depth of its JSON.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/**
 * How deep a client's JSON may nest arrays and objects, the frame's own
 * object counting as one level. Signaling needs a handful; JSON.stringify
 * and any recursive walk overflow the stack some thousands of levels down.
 */
export const MAX_JSON_DEPTH = 64;

/** Index just past the string whose opening quote is at `open` (the end of `text` if it never closes). */
function skipString(text: string, open: number): number {
  let at = open;
  for (;;) {
    at = text.indexOf('"', at + 1);
    // Valid JSON always closes its strings; a scan of anything else ends here.
    if (at < 0) return text.length;
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return at + 1;
  }
}

function skipSpace(text: string, at: number): number {
  let code = text.charCodeAt(at);
  while (code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09) code = text.charCodeAt(++at);
  return at;
}

/** Index just past the value that starts at `start` (not whitespace). */
function skipValue(text: string, start: number): number {
  const first = text.charCodeAt(start);
  if (first === QUOTE) return skipString(text, start);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    // A number or a literal: it ends at the next delimiter.
    let at = start + 1;
    for (;;) {
      const code = text.charCodeAt(at);
      if (code === COMMA || code === CLOSE_BRACE || code === CLOSE_BRACKET || code <= 0x20 || Number.isNaN(code))
        return at;
      at += 1;
    }
  }
  let depth = 0;
  let at = start;
  // Valid JSON always closes its containers; a scan of anything else ends at the end.
  while (at < text.length) {
    const code = text.charCodeAt(at);
    if (code === QUOTE) {
      at = skipString(text, at);
      continue;
    }
    if (code === OPEN_BRACE || code === OPEN_BRACKET) depth += 1;
    else if ((code === CLOSE_BRACE || code === CLOSE_BRACKET) && --depth === 0) return at + 1;
    at += 1;
  }
  return text.length;
}

/**
 * Whether `text` nests arrays and objects more than `max` levels deep
 * (brackets inside strings do not count). One pass that jumps over strings
 * and stops at the first level past `max`; meant for text that `JSON.parse`
 * accepted, and it ends on any other text too.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  for (let at = 0; at < text.length; at += 1) {
    const code = text.charCodeAt(at);
    if (code === QUOTE) at = skipString(text, at) - 1;
    else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) depth -= 1;
  }
  return false;
}

/**
 * The raw text of the top-level member `name` of `text`, which must be a
 * JSON object that `JSON.parse` accepted. The last occurrence wins, as in
 * `JSON.parse`. Returns `undefined` when there is no such member.
 */
export function rawMember(text: string, name: string): string | undefined {
  let found: string | undefined;
  let at = skipSpace(text, 0);
  if (text.charCodeAt(at) !== OPEN_BRACE) return undefined;
  at = skipSpace(text, at + 1);
  while (text.charCodeAt(at) === QUOTE) {
    const keyEnd = skipString(text, at);
    const rawKey = text.slice(at + 1, keyEnd - 1);
    // A key written with escapes is compared by its value.
    const key = rawKey.includes('\\') ? (JSON.parse(text.slice(at, keyEnd)) as string) : rawKey;
    at = skipSpace(text, keyEnd);
    if (text.charCodeAt(at) !== COLON) return undefined;
    const valueStart = skipSpace(text, at + 1);
    const valueEnd = skipValue(text, valueStart);
    if (key === name) found = text.slice(valueStart, valueEnd);
    at = skipSpace(text, valueEnd);
    if (text.charCodeAt(at) !== COMMA) break;
    at = skipSpace(text, at + 1);
  }
  return found;
}

/**
 * True when the raw text of `value` reads back as the same value that a
 * JSON.stringify round trip gives. Only numbers can differ: `-0` (which
 * stringifies as `0`) and numbers too large for a double (`1e400` reads as
 * Infinity, which stringifies as `null`). The walk visits nodes, not
 * characters, so a long SDP string costs nothing.
 */
export function survivesRoundTrip(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return leafSurvives(value);
  const pending: object[] = [value];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    const children: unknown[] = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) pending.push(child);
      else if (!leafSurvives(child)) return false;
    }
  }
  return true;
}

function leafSurvives(value: unknown): boolean {
  return typeof value !== 'number' || (Number.isFinite(value) && !Object.is(value, -0));
}

/**
 * The JSON text to relay for member `name` of a parsed frame: its raw text
 * when that reads back as the round-tripped value, else `JSON.stringify`
 * (recursive: the frame must be no deeper than {@link MAX_JSON_DEPTH}, as
 * the parsers of this folder make sure).
 */
export function relayText(frame: string, name: string, value: unknown): string {
  if (survivesRoundTrip(value)) {
    const raw = rawMember(frame, name);
    if (raw !== undefined) return raw;
  }
  return JSON.stringify(value);
}
