// The small interfaces the signaling core needs from the outside world:
// a socket per peer, a clock, randomness, a backplane for keys and for the
// other processes of a cluster, and an observer for logs and metrics.

import type { CloseSpec, Dialect, ErrorCode, PeerJsRelayType, RelayKind } from '../protocol/index.js';

/** The core's view of one client connection. */
export interface PeerSocket {
  /** Queues a text frame. */
  send(text: string): void;
  /** Starts the closing handshake with this code and reason. */
  close(code: number, reason: string): void;
}

/** A pending timer that can be cancelled. */
export interface Timer {
  cancel(): void;
}

/** Time, injected so grace periods and rate limits are testable in milliseconds. */
export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds. */
  setTimer(ms: number, fn: () => void): Timer;
}

/** A source of unguessable URL-safe strings (generated keys, resume tokens). */
export type SecretSource = () => string;

/** Where a connection lives: the process that holds its socket, and its number there. */
export interface PeerAddress {
  readonly process: string;
  readonly conn: number;
}

/** Where a key's room lives: its owner process and the room's instance number there. */
export interface RoomAddress {
  readonly key: string;
  readonly process: string;
  readonly room: number;
}

/** What a session asks of a room. Payloads travel as JSON text. */
export type RoomCommand =
  | { readonly type: 'join'; readonly from: PeerAddress; readonly dialect: Dialect }
  | { readonly type: 'resume'; readonly from: PeerAddress; readonly token: string }
  | {
      readonly type: 'from-joiner';
      readonly from: PeerAddress;
      readonly id: number;
      readonly kind: RelayKind;
      readonly data: string;
    }
  | {
      readonly type: 'from-host';
      readonly from: PeerAddress;
      readonly kind: RelayKind;
      readonly data: string;
      readonly id: unknown;
    }
  | { readonly type: 'joiner-gone'; readonly from: PeerAddress; readonly id: number }
  | { readonly type: 'host-gone'; readonly from: PeerAddress; readonly abrupt: boolean };

/** What a room tells a session. */
export type PeerEffect =
  | { readonly type: 'send'; readonly text: string }
  /** An answer for a joiner: sent like `send`, and remembered for the v0 host-leaving rule. */
  | { readonly type: 'answer'; readonly text: string }
  | { readonly type: 'refuse'; readonly code: ErrorCode }
  | { readonly type: 'hosting'; readonly room: RoomAddress; readonly token: string | null }
  | { readonly type: 'joined'; readonly room: RoomAddress; readonly id: number }
  /** The room let go of this peer: it has no role again (v1 joiner, or host replaced). */
  | { readonly type: 'released'; readonly text: string | null; readonly close: CloseSpec | null }
  /** A v0 joiner whose host left after answering it: it stays, but can no longer offer. */
  | { readonly type: 'orphaned' };

/**
 * A publication to a topic, for the subscribers on other processes. `members`
 * is the number of the topic's subscribers on the publishing process; `data`
 * the payload's JSON text (absent when the publication had none).
 */
export interface TopicPublication {
  readonly to: 'topic';
  readonly topic: string;
  readonly process: string;
  readonly members: number;
  readonly data?: string;
}

/**
 * Where a PeerJS peer id is registered. `name` is the id within its realm
 * (`realm/id`); `conn` the connection holding it on `process`.
 */
export interface PeerIdAddress {
  readonly name: string;
  readonly process: string;
  readonly conn: number;
}

/** A PeerJS message for peer id `dst` of `realm`, on its way to the process that holds `dst`. */
export interface PeerIdMessage {
  readonly to: 'peer-id';
  readonly realm: string;
  readonly src: string;
  readonly dst: string;
  readonly kind: PeerJsRelayType;
  /** The frame `dst` receives. */
  readonly text: string;
  /** Times it was forwarded after a miss: a message is forwarded once at most, then queued or dropped. */
  readonly hops: number;
}

/** A message between processes of a cluster. */
export type Envelope =
  | { readonly to: 'room'; readonly room: RoomAddress; readonly command: RoomCommand }
  | { readonly to: 'peer'; readonly peer: PeerAddress; readonly effect: PeerEffect }
  | TopicPublication
  | PeerIdMessage;

/** Why a backplane could not deliver an envelope that this process posted. */
export type DeliveryFailure =
  /** Nobody listens at the addressed process: it is taken as gone, with its rooms and connections. */
  | 'process-gone'
  /** The backplane cannot reach any process now (Redis is unreachable): the addressee may well live. */
  | 'backplane-down';

/** What the core does with envelopes and process failures that a backplane reports. */
export interface BackplaneHandler {
  deliver(envelope: Envelope): void;
  /**
   * An envelope this process posted reached nobody. The core answers what
   * waits for an answer (src/core/undelivered.ts holds the one table of
   * those answers); the backplane only says why.
   */
  undelivered(envelope: Envelope, why: DeliveryFailure): void;
  /** A process stopped answering: its rooms and sessions are gone. */
  processLost(processId: string): void;
  /**
   * This process no longer holds `key`: its claim lapsed and another process
   * took the key. The room of that key here must end, or two rooms would share it.
   */
  keyLost(key: string): void;
  /** Like `keyLost`, for a PeerJS peer id (by its name): the connection holding it here must let go. */
  peerIdLost(name: string): void;
}

/** A value now (single process) or later (a network round trip). */
export type MaybePromise<T> = T | Promise<T>;

/**
 * Key ownership and inter-process delivery. The in-memory implementation
 * answers synchronously; a cluster implementation answers over the network.
 */
export interface Backplane {
  /** This process's id, unique in the cluster. */
  readonly processId: string;
  /** Starts delivering envelopes addressed to this process to `handler`. */
  attach(handler: BackplaneHandler): void;
  /**
   * Atomically claims `room.key` for that room of this process, and records
   * where the room lives (so that `locate` finds it from the moment the
   * claim holds); false when anybody holds the key.
   */
  claim(room: RoomAddress): MaybePromise<boolean>;
  /** Gives up a key this process claimed. */
  release(key: string): void;
  /** Finds the room that holds `key`, wherever it lives. */
  locate(key: string): MaybePromise<RoomAddress | undefined>;
  /** Sends an envelope to another process. */
  post(processId: string, envelope: Envelope): void;
  /**
   * This process has subscribers to `topic` now: publications of other
   * processes to it start arriving (as `topic` envelopes) once the returned
   * value settles. The core does not wait: a publication of another process
   * in that moment is lost, as one to a y-webrtc server that a client has
   * not reached yet.
   */
  joinTopic(topic: string): MaybePromise<void>;
  /** This process has no subscriber to `topic` any more. */
  leaveTopic(topic: string): void;
  /** Sends a publication to every other process that joined its topic: one message, whatever their number. */
  publish(publication: TopicPublication): void;
  /**
   * Atomically claims a PeerJS peer id for a connection of this process; false
   * when anybody holds it. Peer ids live apart from keys: no key can take one.
   */
  claimPeerId(peer: PeerIdAddress): MaybePromise<boolean>;
  /** Gives up a peer id this process claimed. */
  releasePeerId(name: string): void;
  /** Finds the connection that holds a peer id, wherever it lives. */
  locatePeerId(name: string): MaybePromise<PeerIdAddress | undefined>;
  /** Up to `limit` peer ids registered in `realm`, all processes together (PeerJS discovery). */
  peerIds(realm: string, limit: number): MaybePromise<string[]>;
}

/** Why a connection ended, as the core sees it. */
export type EndKind =
  /** The peer sent a close frame: it left on purpose. */
  | 'clean'
  /** The connection dropped with no close frame (network failure, missed heartbeat). */
  | 'abrupt';

/** Things worth counting or logging. Every method is optional. */
export interface SignalingObserver {
  opened?(conn: number, dialect: Dialect): void;
  /** A connection opened as `from` (no subprotocol: v0) showed with its first frame that it speaks `to`. */
  recognised?(conn: number, from: Dialect, to: Dialect): void;
  ended?(conn: number, dialect: Dialect, role: 'none' | 'host' | 'joiner', code: number, reason: string): void;
  refused?(conn: number, dialect: Dialect, code: ErrorCode): void;
  relayed?(kind: RelayKind): void;
  /** A topic publication went out to `recipients` connections of this process. */
  published?(recipients: number): void;
  keyRegistered?(key: string): void;
  keyReleased?(key: string): void;
  /** A joiner got its first answer, `ms` after its joinkey was accepted. */
  handshake?(ms: number): void;
  rateLimited?(conn: number): void;
  /** A PeerJS message found its id's mailbox (or the process's) full: its sender got EXPIRE at once. */
  mailboxFull?(): void;
  slowConsumer?(conn: number): void;
}
