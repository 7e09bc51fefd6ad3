// The protocol of PeerJS's server (`peer` 1.0.2) as the PeerJS client
// (`peerjs` 1.5) speaks it: a WebSocket at `{path}peerjs?key=&id=&token=`,
// JSON messages `{type, src, dst, payload}` relayed from one peer id to
// another, and the server's own OPEN, ID-TAKEN, ERROR and EXPIRE. Pure
// parsing and frame building.

import { normalizeKey } from './key.js';
import { nestsDeeperThan, rawMember } from './raw-json.js';

/** The last segment of the socket's path, after the mount path (`/` by default: `/peerjs`). */
export const PEERJS_SOCKET_SEGMENT = 'peerjs';

/** The realm of peers whose access token names no key (and the PeerJS client's default `key`). */
export const DEFAULT_PEERJS_REALM = 'peerjs';

/** Longest peer id, characters. Server-assigned ids are UUIDs (36). */
export const MAX_PEER_ID_LENGTH = 128;

/** Longest `key` query value, characters (it may carry an access token). */
export const MAX_PEERJS_KEY_LENGTH = 4_096;

/** Deepest JSON nesting a frame may have (a PeerJS offer is 3 deep). */
export const MAX_PEERJS_DEPTH = 16;

/** The PeerJS client's own rule for ids (its `util.validateId`): letters and digits, single spaces, `_` or `-` between. */
const PEER_ID = /^[A-Za-z0-9]+(?:[ _-][A-Za-z0-9]+)*$/;

/** Whether a `key` can name a realm: the rules of Sigver keys, as a string. */
export function isPeerJsRealm(key: string): boolean {
  return normalizeKey(key) === key;
}

/** Whether `value` is a peer id Sigver accepts: the PeerJS client's rule, at most 128 characters. */
export function isPeerId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_PEER_ID_LENGTH && PEER_ID.test(value);
}

/** The messages a client relays to another peer id, by type. */
export type PeerJsRelayType = 'OFFER' | 'ANSWER' | 'CANDIDATE' | 'LEAVE' | 'EXPIRE';

const RELAY_TYPES: ReadonlySet<string> = new Set<PeerJsRelayType>(['OFFER', 'ANSWER', 'CANDIDATE', 'LEAVE', 'EXPIRE']);

/**
 * A frame of a PeerJS client, parsed:
 * - `relay`: a message for peer `dst`; `payload` is its raw JSON text;
 * - `leave-server`: LEAVE with no `dst`, which `peer` reads as "forget my id";
 * - `heartbeat`: HEARTBEAT (Sigver keeps connections alive with WebSocket pings, so it only counts);
 * - `ignored`: a well-formed message of a type `peer` has no handler for.
 */
export type PeerJsMessage =
  | {
      readonly type: 'relay';
      readonly kind: PeerJsRelayType;
      readonly dst: string;
      readonly payload: string | undefined;
    }
  | { readonly type: 'leave-server' }
  | { readonly type: 'heartbeat' }
  | { readonly type: 'ignored' };

/**
 * Parses one frame; `invalid` when it is not a JSON object with a string
 * `type`, nests deeper than {@link MAX_PEERJS_DEPTH}, or names a `dst` that
 * is not a peer id.
 */
export function parsePeerJsFrame(text: string): PeerJsMessage | 'invalid' {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'invalid';
  }
  if (nestsDeeperThan(text, MAX_PEERJS_DEPTH)) return 'invalid';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'invalid';
  const { type, dst, payload } = value as Record<string, unknown>;
  if (typeof type !== 'string') return 'invalid';
  if (type === 'HEARTBEAT') return { type: 'heartbeat' };
  if (!RELAY_TYPES.has(type)) return { type: 'ignored' };
  if (dst === undefined && type === 'LEAVE') return { type: 'leave-server' };
  if (!isPeerId(dst)) return 'invalid';
  return {
    type: 'relay',
    kind: type as PeerJsRelayType,
    dst,
    payload: payload === undefined ? undefined : rawMember(text, 'payload'),
  };
}

/** What `peer` sends for a relayed message: `{type, src, dst, payload}` in that order. */
export function peerJsRelayFrame(kind: PeerJsRelayType, src: string, dst: string, payload: string | undefined): string {
  const tail = payload === undefined ? '' : `,"payload":${payload}`;
  return `{"type":"${kind}","src":${JSON.stringify(src)},"dst":${JSON.stringify(dst)}${tail}}`;
}

/** Sent once the id is registered. */
export const PEERJS_OPEN_FRAME = '{"type":"OPEN"}';

/** Sent when another connection holds the id (the PeerJS client reports `unavailable-id`). */
export const PEERJS_ID_TAKEN_FRAME = '{"type":"ID-TAKEN","payload":{"msg":"ID is taken"}}';

/** An error the PeerJS client reports as `server-error` with this text; `peer` closes the socket after it. */
export function peerJsErrorFrame(msg: string): string {
  return `{"type":"ERROR","payload":{"msg":${JSON.stringify(msg)}}}`;
}

/** `peer`'s texts for a socket it will not serve. */
export const PEERJS_ERRORS = {
  INVALID_WS_PARAMETERS: 'No id, token, or key supplied to websocket server',
  INVALID_KEY: 'Invalid key provided',
} as const;

/** What the socket's query asks for: the client's `key`, chosen or assigned `id`, and its session `token`. */
export interface PeerJsQuery {
  readonly key: string;
  readonly id: string;
  readonly token: string;
}

/**
 * Reads the query of a PeerJS socket URL (`?key=&id=&token=&version=`):
 * the three values, or the message `peer` sends when one is missing.
 * The id must be a peer id; the key is bounded here and checked where its
 * meaning is known (a realm's name, or an access token).
 */
export function parsePeerJsQuery(search: string): PeerJsQuery | { readonly error: string } {
  const params = new URLSearchParams(search);
  const key = params.get('key') ?? '';
  const id = params.get('id') ?? '';
  const token = params.get('token') ?? '';
  if (key === '' || id === '' || token === '') return { error: PEERJS_ERRORS.INVALID_WS_PARAMETERS };
  if (key.length > MAX_PEERJS_KEY_LENGTH || token.length > MAX_PEER_ID_LENGTH)
    return { error: PEERJS_ERRORS.INVALID_WS_PARAMETERS };
  if (!isPeerId(id)) return { error: `ID "${params.get('id')!.slice(0, MAX_PEER_ID_LENGTH)}" is invalid` };
  return {
    key: key === DEFAULT_PEERJS_REALM ? DEFAULT_PEERJS_REALM : ownCopy(key),
    id: ownCopy(id),
    token: ownCopy(token),
  };
}

/**
 * A string of its own. V8 keeps a substring of 13 characters or more as a
 * view of the string it was cut from: an id or token kept for a
 * connection's life would keep the whole request URL alive with it.
 */
function ownCopy(text: string): string {
  return text.length < 13 ? text : [...text].join('');
}
