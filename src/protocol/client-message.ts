// Parsing of untrusted frames from clients into typed messages.

import type { Dialect } from './dialect.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './raw-json.js';

/** The kinds of payload the server relays between host and joiners. */
export type RelayKind = 'offer' | 'answer' | 'candidate';

/** A message from a client, as decided by its first known field. */
export type ClientMessage =
  | { readonly type: 'key'; readonly key: unknown; readonly token: unknown }
  | { readonly type: 'joinkey'; readonly key: unknown }
  | { readonly type: RelayKind; readonly data: unknown; readonly id: unknown }
  | { readonly type: 'ping'; readonly data: unknown };

/** Why a frame could not become a {@link ClientMessage}. */
export type ParseFailure = 'not-json' | 'unsupported';

const hasOwn = Object.hasOwn;

/**
 * Parses one text frame. The first field in the order key, joinkey, offer,
 * answer (v1: then candidate, ping) decides; other fields are ignored.
 * Absent `token`/`id` are `undefined`. A frame nested deeper than
 * {@link MAX_JSON_DEPTH} is unsupported, whatever its fields.
 */
export function parseClientMessage(text: string, dialect: Dialect): ClientMessage | ParseFailure {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not-json';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'unsupported';
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) return 'unsupported';
  const obj = value as Record<string, unknown>;
  if (hasOwn(obj, 'key')) return { type: 'key', key: obj.key, token: obj.token };
  if (hasOwn(obj, 'joinkey')) return { type: 'joinkey', key: obj.joinkey };
  if (hasOwn(obj, 'offer')) return { type: 'offer', data: obj.offer, id: obj.id };
  if (hasOwn(obj, 'answer')) return { type: 'answer', data: obj.answer, id: obj.id };
  if (dialect === 'v0') return 'unsupported';
  if (hasOwn(obj, 'candidate')) return { type: 'candidate', data: obj.candidate, id: obj.id };
  if (hasOwn(obj, 'ping')) return { type: 'ping', data: obj.ping };
  return 'unsupported';
}

/**
 * Reads a joiner id from a v1 message: `undefined` when absent (or null),
 * `NaN` when present but not a positive safe integer.
 */
export function readJoinerId(id: unknown): number | undefined {
  if (id === undefined || id === null) return undefined;
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : Number.NaN;
}
