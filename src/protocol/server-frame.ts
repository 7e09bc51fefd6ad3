// Parsing of frames from the server (untrusted input) into typed messages:
// the client SDK's reading of what server-message.ts builds.

import type { RelayKind } from './client-message.js';
import type { ErrorCode } from './errors.js';

/** A frame from the server, decided by its main field. */
export type ServerFrame =
  | { readonly type: 'registered'; readonly key: string; readonly token: string | undefined }
  | { readonly type: 'reachable' }
  | { readonly type: 'join'; readonly id: number }
  | { readonly type: 'leave'; readonly id: number }
  | { readonly type: RelayKind; readonly data: unknown; readonly id: number | undefined }
  | { readonly type: 'pong'; readonly data: unknown }
  | { readonly type: 'error'; readonly code: ErrorCode | string; readonly message: string };

const hasOwn = Object.hasOwn;

/**
 * Parses one text frame from the server; `undefined` for anything the SDK
 * does not know (ignored, so newer servers may add messages).
 */
export function parseServerFrame(text: string): ServerFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const obj = value as Record<string, unknown>;
  for (const kind of ['offer', 'answer', 'candidate'] as const) {
    if (hasOwn(obj, kind)) {
      const id = obj.id;
      return { type: kind, data: obj[kind], id: isId(id) ? id : undefined };
    }
  }
  if (hasOwn(obj, 'registered') && typeof obj.registered === 'string') {
    return { type: 'registered', key: obj.registered, token: typeof obj.token === 'string' ? obj.token : undefined };
  }
  // The original server sends the string "true"; accept a boolean as well.
  if (obj.reachable === 'true' || obj.reachable === true) return { type: 'reachable' };
  if (isId(obj.join)) return { type: 'join', id: obj.join };
  if (isId(obj.leave)) return { type: 'leave', id: obj.leave };
  if (hasOwn(obj, 'pong')) return { type: 'pong', data: obj.pong };
  if (typeof obj.error === 'object' && obj.error !== null) {
    const error = obj.error as Record<string, unknown>;
    if (typeof error.code === 'string') {
      return {
        type: 'error',
        code: error.code,
        message: typeof error.message === 'string' ? error.message : error.code,
      };
    }
  }
  return undefined;
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
