// Frames the server sends, built as text. Payloads arrive already serialized
// (JSON text) so a relay never parses or stringifies them twice.

import { ERRORS, type ErrorCode } from './errors.js';
import type { RelayKind } from './client-message.js';

/** Sent to a joiner whose `joinkey` was accepted; exact text of the original server. */
export const REACHABLE_FRAME = '{"reachable":"true"}';

/** Sent to a v1 joiner when its host is gone. */
export const HOST_LEFT_FRAME = '{"leave":0}';

/** `{"offer": D}` (v0 shape, and what joiners get) or `{"offer": D, "id": n}` (v1 host). */
export function relayFrame(kind: RelayKind, dataJson: string, id?: number): string {
  return id === undefined ? `{"${kind}":${dataJson}}` : `{"${kind}":${dataJson},"id":${id}}`;
}

/** The v1 registration acknowledgement. */
export function registeredFrame(key: string, token: string): string {
  return `{"registered":${JSON.stringify(key)},"token":${JSON.stringify(token)}}`;
}

/** Tells a v1 host that joiner `id` attached. */
export function joinFrame(id: number): string {
  return `{"join":${id}}`;
}

/** Tells a v1 host that joiner `id` left (or a v1 joiner, with 0, that the host left). */
export function leaveFrame(id: number): string {
  return `{"leave":${id}}`;
}

/** Answer to `{"ping": X}`. */
export function pongFrame(dataJson: string): string {
  return `{"pong":${dataJson}}`;
}

const errorFrames = new Map<ErrorCode, string>(
  (Object.keys(ERRORS) as ErrorCode[]).map((code) => [
    code,
    JSON.stringify({ error: { code, message: ERRORS[code].message } }),
  ]),
);

/** A v1 refusal: `{"error": {"code", "message"}}`. */
export function errorFrame(code: ErrorCode): string {
  return errorFrames.get(code)!;
}
