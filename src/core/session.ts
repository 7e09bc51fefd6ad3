// The connection side of signaling: one session per client connection,
// with its dialect, its role and its rate limit.

import type { Dialect } from '../protocol/index.js';
import type { PeerAddress, PeerSocket, RoomAddress } from './ports.js';
import type { Bucket } from './rate-limiter.js';

/** What a connection is to the protocol. A connection takes at most one role. */
export type Role =
  | { readonly kind: 'none' }
  /**
   * A key, joinkey or resume request is under way (only across processes); frames wait.
   * `room` is the room a join or resume was sent to, once known, so that the
   * request can be answered if that room's process dies.
   */
  | {
      readonly kind: 'waiting';
      readonly request: 'register' | 'join' | 'resume';
      readonly key: string;
      readonly room: RoomAddress | null;
    }
  | { readonly kind: 'host'; readonly room: RoomAddress }
  | { readonly kind: 'joiner'; readonly room: RoomAddress; readonly id: number }
  /** A v0 joiner whose host left after answering it: it stays connected, but can no longer offer. */
  | { readonly kind: 'orphan' };

/** The role of a connection with no role. */
export const NO_ROLE: Role = Object.freeze({ kind: 'none' });

/**
 * What a connection may do, decided when it opened (by an access token, say).
 * The core enforces it: other keys are refused with `KEY_FORBIDDEN`.
 */
export interface SessionGrant {
  /** The only key this connection may host or join; null: any key. */
  readonly allowedKey: string | null;
}

/** The grant of a connection with no restriction. */
export const ANY_KEY: SessionGrant = Object.freeze({ allowedKey: null });

/** One client connection as the core sees it; it carries its rate-limit bucket inline. */
export interface Session extends Bucket {
  readonly address: PeerAddress;
  /** Set at the upgrade; a v0 connection becomes `ywebrtc` when its first frame is y-webrtc's. */
  dialect: Dialect;
  /** Opened as v0 and has sent no frame yet: its first frame may show that it speaks y-webrtc. */
  undecided: boolean;
  readonly grant: SessionGrant;
  readonly socket: PeerSocket;
  role: Role;
  /** Frames that arrived while a request was waiting on another process. */
  backlog: string[] | null;
  /** Its backlog is being handled, frame by frame. */
  draining: boolean;
  /** Has received an answer (as a joiner): decides the v0 host-leaving rule. */
  answered: boolean;
  /** Its state is released: nothing more is sent to it or read from it. */
  released: boolean;
}

/** The role name used in logs and metrics. */
export function roleName(role: Role): 'none' | 'host' | 'joiner' {
  if (role.kind === 'host') return 'host';
  if (role.kind === 'joiner' || role.kind === 'orphan') return 'joiner';
  return 'none';
}
