// The signaling protocol of y-webrtc's own server (its bin/server.js), as
// the y-webrtc client speaks it: topics that a connection subscribes to, and
// publications that reach every subscriber of a topic. Pure parsing and
// frame building; y-webrtc's server ignores what it does not understand,
// and so does this: a frame that is not one of these messages parses as
// `undefined`.

import { normalizeKey } from './key.js';
import { MAX_JSON_DEPTH, nestsDeeperThan, relayText } from './raw-json.js';

/** A message from a y-webrtc client. `data` is the raw JSON text of the publication's payload. */
export type YWebrtcMessage =
  | { readonly type: 'subscribe'; readonly topics: readonly string[] }
  | { readonly type: 'unsubscribe'; readonly topics: readonly string[] }
  | { readonly type: 'publish'; readonly topic: string; readonly data: string | undefined }
  | { readonly type: 'ping' };

/** The answer to `{"type":"ping"}`; y-webrtc's client reconnects when it hears nothing for 30 s. */
export const YWEBRTC_PONG_FRAME = '{"type":"pong"}';

/** Message types of the dialect. */
const TYPES: ReadonlySet<string> = new Set(['subscribe', 'unsubscribe', 'publish', 'ping']);

/** Fields that make a frame v0 (the first of them decides a v0 message). */
const V0_FIELDS = ['key', 'joinkey', 'offer', 'answer'] as const;

/**
 * Whether the first frame of a connection opened without a subprotocol is
 * y-webrtc's rather than v0's: a JSON object whose `type` is one of the
 * dialect's messages and that has none of v0's fields. A v0 client's frames
 * carry `key`, `joinkey`, `offer` or `answer`, so no working v0 client is
 * taken for a y-webrtc one.
 */
export function isYWebrtcFrame(text: string): boolean {
  // Most v0 first frames are `{"key":...}` or `{"joinkey":...}`: no parse needed to tell.
  if (!text.includes('"type"')) return false;
  const value = parseObject(text);
  if (value === undefined || typeof value.type !== 'string' || !TYPES.has(value.type)) return false;
  return V0_FIELDS.every((field) => !Object.hasOwn(value, field));
}

/**
 * Parses one frame. Topic names follow the key rules (a string of 1 to 256
 * code points); other entries of `topics` are skipped. Anything else that
 * is not a well-formed message, or that nests deeper than
 * {@link MAX_JSON_DEPTH}, is `undefined`, to be ignored.
 */
export function parseYWebrtcFrame(text: string): YWebrtcMessage | undefined {
  const value = parseObject(text);
  if (value === undefined) return undefined;
  switch (value.type) {
    case 'subscribe':
    case 'unsubscribe': {
      const topics = Array.isArray(value.topics) ? value.topics.filter(isTopic) : [];
      return topics.length === 0 ? undefined : { type: value.type, topics };
    }
    case 'publish': {
      if (!isTopic(value.topic)) return undefined;
      const data = value.data === undefined ? undefined : relayText(text, 'data', value.data);
      return { type: 'publish', topic: value.topic, data };
    }
    case 'ping':
      return { type: 'ping' };
    default:
      return undefined;
  }
}

/**
 * What every subscriber receives: the publication with the server-added
 * `clients`, the number of subscribers of the topic (the publisher included).
 */
export function yWebrtcPublishFrame(topic: string, data: string | undefined, clients: number): string {
  const payload = data === undefined ? '' : `,"data":${data}`;
  return `{"type":"publish","topic":${JSON.stringify(topic)}${payload},"clients":${clients}}`;
}

/** Whether a value names a topic (the key rules, strings only). */
export function isTopic(value: unknown): value is string {
  return typeof value === 'string' && normalizeKey(value) === value;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return nestsDeeperThan(text, MAX_JSON_DEPTH) ? undefined : (value as Record<string, unknown>);
}

const NON_ASCII = /[^\x00-\x7f]/;

/** The UTF-8 length of `text`, bytes (one regular-expression scan when it is ASCII, as signaling text is). */
export function utf8Length(text: string): number {
  if (!NON_ASCII.test(text)) return text.length;
  let bytes = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      // A surrogate pair is one code point of four bytes.
      bytes += 4;
      i += 1;
    } else bytes += 3;
  }
  return bytes;
}
