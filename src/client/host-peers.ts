// A host that accepts many joiners, one RTCPeerConnection and data channel each.

import { SigverClientError } from './client-error.js';
import {
  abortion,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  deadline,
  peerConnectionClass,
  type PeerOptions,
  type RtcConfigurationLike,
} from './peer-options.js';
import { PeerLink, sdpHasCandidates, waitChannelOpen, waitRemoteChannel } from './peer-link.js';
import type { ChannelOf, PeerConnectionLike } from './rtc-like.js';
import { SigverClient, type RelayEvent } from './sigver-client.js';
import { settleOnce, type WaitOptions } from './waits.js';

/** A joiner connected to the host: its own peer connection and open data channel. */
export interface HostedPeer<PC extends PeerConnectionLike = PeerConnectionLike> {
  /** The joiner's id (v1), or the host's count of offers (v0, where the server gives no ids). */
  readonly id: number;
  readonly pc: PC;
  /** The open data channel the joiner created. */
  readonly channel: ChannelOf<PC>;
  /**
   * Offers again to this joiner (after `pc.addTrack`, say) and resolves once
   * its answer is applied. Needs the host open and a v1 server: v0 cannot
   * address an offer to one joiner (`NOT_CONNECTED`).
   */
  renegotiate(options?: WaitOptions): Promise<void>;
  /** Closes the channel and the peer connection. */
  close(): void;
}

/** Options of {@link hostPeers}. */
export interface HostPeersOptions<Config, PC extends PeerConnectionLike> extends PeerOptions<Config, PC> {
  /** Key to host; `null` or absent asks for a generated one (see {@link SigverHost.key}). */
  readonly key?: string | number | null | undefined;
  /**
   * Called with each connected joiner. Without it, joiners wait in a queue
   * for {@link SigverHost.nextPeer} or `for await`.
   */
  readonly onPeer?: ((peer: HostedPeer<PC>) => void) | undefined;
  /** Called when a joiner's handshake fails; `error.joinerId` says which. The host goes on. */
  readonly onPeerError?: ((error: SigverClientError) => void) | undefined;
}

/** {@link HostPeersOptions} without what only the peer connection factory needs. */
export type SigverHostOptions<PC extends PeerConnectionLike> = Omit<
  HostPeersOptions<never, PC>,
  'RTCPeerConnection' | 'rtcConfig' | 'key'
>;

interface Handshake {
  readonly id: number;
  readonly link: PeerLink;
  readonly pc: PeerConnectionLike;
  /** The answer went out: the joiner may connect without further signaling. */
  answered: boolean;
  /** Connected and delivered; from then on only renegotiation goes through here. */
  open: boolean;
  fail(error: unknown): void;
}

interface Waiter<PC extends PeerConnectionLike> {
  resolve(peer: HostedPeer<PC>): void;
  reject(error: unknown): void;
}

/**
 * Hosts a key and accepts joiners, each with its own RTCPeerConnection and
 * data channel. Resolves once the key is registered, so that
 * {@link SigverHost.key} can be shared (a generated key is only known then).
 *
 * @example
 * const host = await hostPeers({ url, key: null, RTCPeerConnection, WebSocket });
 * console.log('join with', host.key);
 * for await (const peer of host) {
 *   peer.channel.addEventListener('message', (event) => peer.channel.send(String(event.data)));
 * }
 */
export async function hostPeers<Config = RtcConfigurationLike, PC extends PeerConnectionLike = PeerConnectionLike>(
  options: HostPeersOptions<Config, PC>,
): Promise<SigverHost<PC>> {
  const PeerConnection = peerConnectionClass(options.RTCPeerConnection);
  const host = new SigverHost<PC>(options, () => new PeerConnection(options.rtcConfig));
  try {
    await host.start(options.key ?? null, { signal: options.signal, timeoutMs: options.timeoutMs });
  } catch (error) {
    await host.close();
    throw error;
  }
  return host;
}

/**
 * A hosted key and the joiners connected through it; made by {@link hostPeers}.
 * Async iterable: `for await (const peer of host)` ends when the host closes.
 */
export class SigverHost<PC extends PeerConnectionLike = PeerConnectionLike> implements AsyncIterable<HostedPeer<PC>> {
  /** The signaling connection (events, state, resume token). */
  readonly client: SigverClient;
  readonly #options: SigverHostOptions<PC>;
  readonly #createPeerConnection: () => PC;
  readonly #handshakes = new Map<number, Handshake>();
  readonly #ready: HostedPeer<PC>[] = [];
  readonly #waiters = new Set<Waiter<PC>>();
  #v0Answers: Promise<void> = Promise.resolve();
  #v0Count = 0;
  #closed = false;

  /** Use {@link hostPeers}. */
  constructor(options: SigverHostOptions<PC>, createPeerConnection: () => PC) {
    this.#options = options;
    this.#createPeerConnection = createPeerConnection;
    this.client = new SigverClient({
      url: options.url,
      dialect: options.dialect,
      WebSocket: options.WebSocket,
      password: options.password,
      timeoutMs: options.timeoutMs,
      reconnect: options.reconnect,
    });
    this.client.on('offer', (event) => this.#onOffer(event));
    this.client.on('answer', ({ data, id }) => {
      // Only a renegotiation started by the host has an answer to come.
      const handshake = id === undefined ? undefined : this.#handshakes.get(id);
      if (handshake?.open === true) handshake.link.acceptAnswer(data).catch(() => {});
    });
    this.client.on('candidate', ({ data, id }) => {
      const handshake = id === undefined ? undefined : this.#handshakes.get(id);
      handshake?.link.addRemoteCandidate(data).catch((error: unknown) => handshake.fail(error));
    });
    this.client.on('leave', ({ id }) => this.#onLeave(id));
    this.client.on('error', (error) => this.#onError(error));
    this.client.on('reconnect', ({ resumed }) => {
      // A new registration restarts the ids: handshakes in progress cannot finish.
      if (!resumed)
        this.#failAll(new SigverClientError('PEER_GONE', 'The key was registered anew after a reconnection'));
    });
    this.client.on('close', ({ reconnecting }) => {
      if (!reconnecting) this.#shutDown();
    });
  }

  /** The hosted key (a string, also when generated). */
  get key(): string {
    return this.client.key ?? '';
  }

  /** True once closed (by {@link SigverHost.close} or a connection that could not be restored). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Connects and registers the key. Called by {@link hostPeers}. */
  async start(key: string | number | null, options: WaitOptions): Promise<void> {
    await this.client.connect(options);
    await this.client.host(key, options);
  }

  /** The next connected joiner. Rejects with `CLOSED` once the host is closed. */
  nextPeer(options: WaitOptions = {}): Promise<HostedPeer<PC>> {
    const ready = this.#ready.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.#closed) return Promise.reject(new SigverClientError('CLOSED', 'The host is closed'));
    return settleOnce<HostedPeer<PC>>(
      (resolve, reject) => {
        const waiter = { resolve, reject };
        this.#waiters.add(waiter);
        return () => this.#waiters.delete(waiter);
      },
      options,
      'a joiner',
    );
  }

  async *[Symbol.asyncIterator](): AsyncIterator<HostedPeer<PC>> {
    for (;;) {
      try {
        yield await this.nextPeer();
      } catch (error) {
        if (this.#closed) return;
        throw error;
      }
    }
  }

  /**
   * Releases the key and stops accepting joiners. Handshakes in progress and
   * joiners never taken from the queue are closed; peers already handed out
   * stay connected (close them with {@link HostedPeer.close}).
   */
  async close(): Promise<void> {
    this.#shutDown();
    await this.client.close();
  }

  #shutDown(): void {
    if (this.#closed) return;
    this.#closed = true;
    const error = new SigverClientError('CLOSED', 'The host is closed');
    this.#failAll(error);
    for (const peer of this.#ready.splice(0)) peer.close();
    for (const waiter of [...this.#waiters]) waiter.reject(error);
    this.#waiters.clear();
  }

  #failAll(error: SigverClientError): void {
    for (const handshake of [...this.#handshakes.values()]) {
      if (handshake.open) handshake.link.dispose();
      else handshake.fail(error);
    }
    this.#handshakes.clear();
  }

  #onOffer({ data, id }: RelayEvent): void {
    if (this.#closed) return;
    if (this.client.dialect === 'v0') {
      // A candidate sent as an offer frame (as 2016 clients trickle) comes from
      // a joiner already queued by its first offer: the server queues nothing
      // for it, so it must get no answer; v0 gives no id to tell whose it is.
      if (isTrickledCandidate(data)) return;
      this.#v0Count += 1;
      void this.#handshake(this.#v0Count, undefined, data);
      return;
    }
    if (id === undefined) return;
    const existing = this.#handshakes.get(id);
    if (existing === undefined) {
      void this.#handshake(id, id, data);
      return;
    }
    // A joiner that offers again renegotiates its connection.
    existing.link.answerOffer(data).catch((error: unknown) => existing.fail(error));
  }

  #onLeave(id: number): void {
    const handshake = this.#handshakes.get(id);
    if (handshake === undefined) return;
    this.#handshakes.delete(id);
    // A joiner may leave the server once it has its answer: ICE and DTLS
    // need no more signaling, so only an unanswered joiner is lost.
    if (handshake.open) handshake.link.dispose();
    else if (!handshake.answered) {
      handshake.fail(new SigverClientError('PEER_GONE', 'The joiner left before it was answered', { joinerId: id }));
    }
  }

  #onError(error: SigverClientError): void {
    if (error.joinerId !== undefined) {
      const handshake = this.#handshakes.get(error.joinerId);
      if (handshake !== undefined && !handshake.open) handshake.fail(error);
      else if (handshake === undefined) this.#options.onPeerError?.(error);
      return;
    }
    // v0: an offer that could not be decrypted still holds its place in the
    // server's queue of unanswered offers; answer it so later answers reach
    // the right joiners.
    if (error.kind === 'offer' && this.client.dialect === 'v0') {
      this.#v0Count += 1;
      this.#options.onPeerError?.(error);
      this.#v0Answers = this.#v0Answers.then(() => this.client.sendAnswer(null)).catch(() => {});
    }
  }

  /** One joiner's handshake; `wireId` is the id to address it with (none in v0). */
  async #handshake(id: number, wireId: number | undefined, offer: unknown): Promise<void> {
    const options = this.#options;
    let pc: PC | undefined;
    try {
      pc = this.#createPeerConnection();
      options.onPeerConnection?.(pc);
    } catch (cause) {
      closeQuietly(pc);
      const message = pc === undefined ? 'Could not create an RTCPeerConnection' : 'onPeerConnection threw';
      options.onPeerError?.(new SigverClientError('PEER_FAILED', message, { cause, joinerId: id }));
      if (wireId === undefined)
        this.#v0Answers = this.#v0Answers.then(() => this.client.sendAnswer(null)).catch(() => {});
      return;
    }
    const abort = new AbortController();
    const timeoutMs = options.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    const limit = deadline(timeoutMs, abort.signal);
    const aborted = abortion(limit.signal);
    let failed = false;
    const trickle = this.client.dialect === 'v1' && options.trickle !== false && !sdpHasCandidates(offer);
    const link = new PeerLink(pc, {
      trickle,
      sendDescription: async (description) => {
        if (failed) return;
        handshake.answered = true;
        await (description.type === 'offer'
          ? this.client.sendOffer(description, wireId)
          : this.client.sendAnswer(description, wireId));
      },
      sendCandidate: async (candidate) => {
        if (!failed) await this.client.sendCandidate(candidate, wireId);
      },
      onSendError: () => {},
      gatherTimeoutMs: Math.min(timeoutMs, 10_000),
    });
    const handshake: Handshake = {
      id,
      link,
      pc,
      answered: false,
      open: false,
      fail: (error) => abort.abort(error),
    };
    this.#handshakes.set(id, handshake);
    const remoteChannel = waitRemoteChannel(pc, { signal: limit.signal });
    remoteChannel.catch(() => {});
    try {
      if (wireId === undefined) {
        // v0 routes each answer to the oldest unanswered offer: answer in arrival order.
        const turn = this.#v0Answers.then(() => Promise.race([link.answerOffer(offer, limit.signal), aborted.promise]));
        this.#v0Answers = turn.then(
          () => {},
          () => (handshake.answered ? undefined : this.client.sendAnswer(null).catch(() => {})),
        );
        await turn;
      } else {
        await Promise.race([link.answerOffer(offer, limit.signal), aborted.promise]);
      }
      const channel = await remoteChannel;
      await waitChannelOpen(pc, channel, { signal: limit.signal });
      handshake.open = true;
      this.#deliver({
        id,
        pc,
        channel: channel as ChannelOf<PC>,
        renegotiate: (waitOptions) => this.#renegotiate(handshake, wireId, waitOptions),
        close() {
          channel.close();
          pc.close();
        },
      });
    } catch (error) {
      failed = true;
      link.dispose();
      if (this.#handshakes.get(id) === handshake) this.#handshakes.delete(id);
      try {
        pc.close();
      } catch {
        // Already closed.
      }
      if (!this.#closed) options.onPeerError?.(asPeerError(error, id));
    } finally {
      limit.clear();
      aborted.dispose();
    }
  }

  #renegotiate(handshake: Handshake, wireId: number | undefined, options: WaitOptions = {}): Promise<void> {
    if (wireId === undefined) {
      return Promise.reject(new SigverClientError('NOT_CONNECTED', 'v0 cannot renegotiate: it has no joiner ids'));
    }
    if (this.#closed || this.#handshakes.get(handshake.id) !== handshake) {
      return Promise.reject(
        new SigverClientError('NOT_CONNECTED', 'The joiner is no longer reachable through the host'),
      );
    }
    return handshake.link.renegotiate(options);
  }

  #deliver(peer: HostedPeer<PC>): void {
    if (this.#closed) {
      peer.close();
      return;
    }
    if (this.#options.onPeer !== undefined) {
      this.#options.onPeer(peer);
      return;
    }
    const waiter = this.#waiters.values().next().value;
    if (waiter !== undefined) {
      this.#waiters.delete(waiter);
      waiter.resolve(peer);
      return;
    }
    this.#ready.push(peer);
  }
}

function closeQuietly(pc: PeerConnectionLike | undefined): void {
  try {
    pc?.close();
  } catch {
    // Already closed.
  }
}

function asPeerError(error: unknown, joinerId: number): SigverClientError {
  if (error instanceof SigverClientError) {
    if (error.joinerId === joinerId) return error;
    return new SigverClientError(error.code, error.message, { joinerId, cause: error.cause ?? error });
  }
  return new SigverClientError('PEER_FAILED', undefined, { joinerId, cause: error });
}

function isTrickledCandidate(data: unknown): boolean {
  return typeof data === 'object' && data !== null && 'candidate' in data && !('sdp' in data);
}
