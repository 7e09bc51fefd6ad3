// Options shared by connectPeer and hostPeers, and how they resolve.

import type { Dialect } from '../protocol/dialect.js';
import type { IceServer } from '../protocol/ice-servers.js';
import type { ReconnectOptions } from './backoff.js';
import { SigverClientError } from './client-error.js';
import type { PeerConnectionConstructor, PeerConnectionLike, WebSocketConstructor } from './rtc-like.js';

/** The part of a browser `RTCConfiguration` that the SDK's own default type names. */
export interface RtcConfigurationLike {
  iceServers?: IceServer[];
  iceTransportPolicy?: 'all' | 'relay';
}

/** Options of {@link connectPeer} and {@link hostPeers}. */
export interface PeerOptions<Config, PC extends PeerConnectionLike> {
  /** Server URL, e.g. `ws://localhost:8000/`. */
  readonly url: string;
  /** RTCPeerConnection class. Default `globalThis.RTCPeerConnection`; in Node pass werift's. */
  readonly RTCPeerConnection?: PeerConnectionConstructor<Config, PC> | undefined;
  /** Configuration for each RTCPeerConnection (ICE servers, ...). */
  readonly rtcConfig?: Config | undefined;
  /** WebSocket class. Default `globalThis.WebSocket`; in Node 20 pass `WebSocket` from `ws`. */
  readonly WebSocket?: WebSocketConstructor | undefined;
  /** Dialect to ask for. Default `'v1'` (trickle ICE); `'v0'` sends complete descriptions. */
  readonly dialect?: Dialect | undefined;
  /** Shared password: the server relays only ciphertext (docs/CLIENT.md). */
  readonly password?: string | undefined;
  /** Aborting stops the wait and closes what was opened. */
  readonly signal?: AbortSignal | undefined;
  /** Time limit in milliseconds: of the whole handshake (connectPeer) or of each joiner's (hostPeers). Default 30_000. */
  readonly timeoutMs?: number | undefined;
  /** Trickle ICE candidates when the server speaks v1. Default true. */
  readonly trickle?: boolean | undefined;
  /** Label of the data channel the joiner opens. Default `'sigver'`. */
  readonly channelLabel?: string | undefined;
  /**
   * Called with each new peer connection before any description is made:
   * add audio and video tracks here (`pc.addTrack(track, stream)`) so that
   * the first offer or answer carries them, and listen for the other side's
   * `track` events.
   */
  readonly onPeerConnection?: ((pc: PC) => void) | undefined;
  /** Reconnection of the signaling connection while it is kept. Default: the client's. */
  readonly reconnect?: ReconnectOptions | false | undefined;
}

/** Default time limit of a handshake, in milliseconds. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 30_000;
/** Default data channel label. */
export const DEFAULT_CHANNEL_LABEL = 'sigver';

/** The RTCPeerConnection class to use: the option, or the global one. */
export function peerConnectionClass<Config, PC extends PeerConnectionLike>(
  given: PeerConnectionConstructor<Config, PC> | undefined,
): PeerConnectionConstructor<Config, PC> {
  if (given !== undefined) return given;
  // Without the option, PC and Config are their defaults (PeerConnectionLike,
  // RtcConfigurationLike), which the browser's class satisfies; the type
  // system cannot see that link between an absent option and the defaults.
  const global = (globalThis as unknown as { RTCPeerConnection?: PeerConnectionConstructor<Config, PC> })
    .RTCPeerConnection;
  if (global === undefined) throw new SigverClientError('NO_PEER_CONNECTION');
  return global;
}

/** A signal that aborts on `signal` or after `timeoutMs` (with a `TIMEOUT` error). */
export function deadline(timeoutMs: number, signal: AbortSignal | undefined): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(signal?.reason);
  if (signal?.aborted === true) controller.abort(signal.reason);
  else signal?.addEventListener('abort', onAbort);
  const timer = Number.isFinite(timeoutMs)
    ? setTimeout(
        () => controller.abort(new SigverClientError('TIMEOUT', `The handshake took longer than ${timeoutMs} ms`)),
        timeoutMs,
      )
    : undefined;
  return {
    signal: controller.signal,
    clear() {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

/** Rejects with the signal's reason when it aborts; never resolves. */
export function abortion(signal: AbortSignal): { promise: Promise<never>; dispose(): void } {
  let onAbort = (): void => {};
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', onAbort);
  });
  promise.catch(() => {});
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}
