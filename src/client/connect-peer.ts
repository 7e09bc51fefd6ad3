// The whole WebRTC handshake between two peers through a Sigver server.

import { errorFromClose, SigverClientError } from './client-error.js';
import { hostPeers, type SigverHost } from './host-peers.js';
import { PeerLink, waitChannelOpen } from './peer-link.js';
import {
  abortion,
  DEFAULT_CHANNEL_LABEL,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  deadline,
  peerConnectionClass,
  type PeerOptions,
  type RtcConfigurationLike,
} from './peer-options.js';
import type { ChannelOf, PeerConnectionLike } from './rtc-like.js';
import { SigverClient } from './sigver-client.js';
import { anySignal, type WaitOptions } from './waits.js';

/** Options of {@link connectPeer} for the joiner. */
export interface JoinerOptions {
  readonly role: 'joiner';
  /** The key to join. */
  readonly key: string | number;
  /**
   * Keep the signaling connection once the channel is open (for
   * {@link PeerSession.renegotiate}, or to stay attached to the host).
   * Default false: it is closed, since the channel no longer needs it.
   */
  readonly keepSignaling?: boolean | undefined;
}

/** Options of {@link connectPeer} for the host. */
export interface HostOptions {
  readonly role: 'host';
  /** The key to host; `null` asks for a generated one, given to `onKey`. */
  readonly key: string | number | null;
  /** Called with the registered key, before waiting for the joiner. */
  readonly onKey?: ((key: string) => void) | undefined;
  /**
   * Keep the key and the signaling connection once the channel is open, for
   * {@link PeerSession.renegotiate} (v1). Other joiners of the key are then
   * closed as soon as they connect. Default false: the key is released.
   */
  readonly keepSignaling?: boolean | undefined;
}

/** Options of {@link connectPeer}. */
export type ConnectPeerOptions<Config, PC extends PeerConnectionLike> = PeerOptions<Config, PC> &
  (JoinerOptions | HostOptions);

/** An open data channel to one peer, and what carries it. */
export interface PeerSession<PC extends PeerConnectionLike = PeerConnectionLike> {
  readonly role: 'host' | 'joiner';
  /** The key, as a string. */
  readonly key: string;
  readonly pc: PC;
  /** The open data channel. */
  readonly channel: ChannelOf<PC>;
  /** The signaling connection, when kept (`keepSignaling`). */
  readonly client: SigverClient | undefined;
  /**
   * Offers again (after `pc.addTrack(track, stream)`, say: the other side
   * gets a `track` event) and resolves once the answer is applied. Needs
   * `keepSignaling: true` on both sides and a v1 server; otherwise rejects
   * with `NOT_CONNECTED`. Calls wait for the one in progress; the two sides
   * should not both renegotiate at the same moment.
   *
   * @example
   * session.pc.addTrack(screenTrack, screenStream);
   * await session.renegotiate();
   */
  renegotiate(options?: WaitOptions): Promise<void>;
  /** Closes the channel, the peer connection and any signaling connection. */
  close(): Promise<void>;
}

/**
 * Connects to one peer through a Sigver server and resolves with an open
 * data channel. The joiner creates the channel and the offer; the host
 * answers. With a v1 server, candidates trickle; with v0 (asked for, or an
 * old server that does not select `sigver.v1`), each side waits for ICE
 * gathering to complete and sends one complete description.
 *
 * The host side is one-to-one: once its first joiner is connected it
 * releases the key. Use {@link hostPeers} to accept many joiners.
 *
 * @example
 * const { channel } = await connectPeer({ url: 'ws://localhost:8000/', key: 'room-42', role: 'joiner' });
 * channel.send('hello');
 */
export async function connectPeer<Config = RtcConfigurationLike, PC extends PeerConnectionLike = PeerConnectionLike>(
  options: ConnectPeerOptions<Config, PC>,
): Promise<PeerSession<PC>> {
  return options.role === 'host' ? connectAsHost(options) : connectAsJoiner(options);
}

async function connectAsHost<Config, PC extends PeerConnectionLike>(
  options: PeerOptions<Config, PC> & HostOptions,
): Promise<PeerSession<PC>> {
  const limit = deadline(options.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS, options.signal);
  try {
    const host = await hostPeers({ ...options, key: options.key, signal: limit.signal });
    try {
      options.onKey?.(host.key);
      const peer = await host.nextPeer({ signal: limit.signal });
      const keep = options.keepSignaling === true;
      if (keep) void closeLaterJoiners(host);
      // Released in the background, for the reason given in connectAsJoiner.
      else void host.close();
      return {
        role: 'host',
        key: host.key,
        pc: peer.pc,
        channel: peer.channel,
        client: keep ? host.client : undefined,
        renegotiate: (waitOptions) => (keep ? peer.renegotiate(waitOptions) : Promise.reject(notKept())),
        close: async () => {
          peer.close();
          await host.close();
        },
      };
    } catch (error) {
      await host.close();
      throw error;
    }
  } finally {
    limit.clear();
  }
}

async function connectAsJoiner<Config, PC extends PeerConnectionLike>(
  options: PeerOptions<Config, PC> & JoinerOptions,
): Promise<PeerSession<PC>> {
  const PeerConnection = peerConnectionClass(options.RTCPeerConnection);
  const timeoutMs = options.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const failure = new AbortController();
  const limit = deadline(timeoutMs, anySignal([options.signal, failure.signal]));
  const aborted = abortion(limit.signal);
  const fail = (error: unknown): void => failure.abort(error);
  const keep = options.keepSignaling === true;
  const client = new SigverClient({
    url: options.url,
    dialect: options.dialect,
    WebSocket: options.WebSocket,
    password: options.password,
    timeoutMs,
    reconnect: keep ? options.reconnect : false,
  });
  const handshakeListeners: (() => void)[] = [];
  let pc: PC | undefined;
  let link: PeerLink | undefined;
  try {
    await client.connect({ signal: limit.signal });
    await client.join(options.key, { signal: limit.signal });
    pc = new PeerConnection(options.rtcConfig);
    options.onPeerConnection?.(pc);
    const channel = pc.createDataChannel(options.channelLabel ?? DEFAULT_CHANNEL_LABEL) as ChannelOf<PC>;
    const peerLink = new PeerLink(pc, {
      trickle: client.dialect === 'v1' && options.trickle !== false,
      sendDescription: (description) =>
        description.type === 'offer' ? client.sendOffer(description) : client.sendAnswer(description),
      sendCandidate: (candidate) => client.sendCandidate(candidate),
      onSendError: () => {},
      gatherTimeoutMs: Math.min(timeoutMs, 10_000),
    });
    link = peerLink;
    let answered = false;
    client.on('answer', ({ data }) => {
      answered = true;
      peerLink.acceptAnswer(data).catch(fail);
    });
    client.on('candidate', ({ data }) => {
      peerLink.addRemoteCandidate(data).catch(fail);
    });
    // v1 hosts may renegotiate with an offer of their own.
    client.on('offer', ({ data }) => {
      peerLink.answerOffer(data).catch(() => {});
    });
    handshakeListeners.push(
      client.on('error', fail),
      // Once answered, ICE and DTLS can finish without the host's signaling.
      client.on('leave', ({ id }) => {
        if (id === 0 && !answered) fail(new SigverClientError('PEER_GONE', 'The host left before answering'));
      }),
      client.on('close', ({ code, reason, reconnecting }) => {
        if (!reconnecting && !answered) fail(errorFromClose(code, reason));
      }),
    );
    await Promise.race([peerLink.offer(limit.signal), aborted.promise]);
    await waitChannelOpen(pc, channel, { signal: limit.signal });
    for (const off of handshakeListeners) off();
    if (!keep) {
      peerLink.dispose();
      // Not awaited: the caller must get the channel at once, in the same
      // task as its open event, or the peer's first messages could arrive
      // before anyone listens. The close finishes in the background.
      void client.close();
    }
    const openPc = pc;
    return {
      role: 'joiner',
      key: client.key ?? String(options.key),
      pc: openPc,
      channel,
      client: keep ? client : undefined,
      renegotiate: (waitOptions) => {
        if (!keep || client.state === 'closed') return Promise.reject(notKept());
        if (client.dialect !== 'v1') return Promise.reject(new SigverClientError('NOT_CONNECTED', V0_RENEGOTIATION));
        return peerLink.renegotiate({ timeoutMs, ...waitOptions });
      },
      close: async () => {
        channel.close();
        openPc.close();
        peerLink.dispose();
        await client.close();
      },
    };
  } catch (error) {
    for (const off of handshakeListeners) off();
    link?.dispose();
    try {
      pc?.close();
    } catch {
      // Already closed.
    }
    await client.close();
    throw error;
  } finally {
    limit.clear();
    aborted.dispose();
  }
}

const V0_RENEGOTIATION = 'v0 cannot renegotiate: a v0 host takes every offer for a new joiner';

function notKept(): SigverClientError {
  return new SigverClientError('NOT_CONNECTED', 'Renegotiation needs the signaling connection: keepSignaling: true');
}

/** Closes each joiner that connects to a kept host after its first. */
async function closeLaterJoiners<PC extends PeerConnectionLike>(host: SigverHost<PC>): Promise<void> {
  for await (const extra of host) extra.close();
}
