// A scriptable RTCPeerConnection stand-in for unit tests of the handshake logic.

import type {
  DataChannelLike,
  IceCandidateInit,
  PeerConnectionLike,
  SessionDescriptionInit,
  SessionDescriptionLike,
} from '../../src/client/rtc-like.js';

type Listener = (event: never) => void;

class Listeners {
  readonly #map = new Map<string, Set<Listener>>();
  add(type: string, listener: Listener): void {
    let set = this.#map.get(type);
    if (set === undefined) this.#map.set(type, (set = new Set()));
    set.add(listener);
  }
  remove(type: string, listener: Listener): void {
    this.#map.get(type)?.delete(listener);
  }
  fire(type: string, event: object = {}): void {
    for (const listener of [...(this.#map.get(type) ?? [])]) (listener as (event: object) => void)(event);
  }
}

export class FakeChannel implements DataChannelLike {
  readyState = 'connecting';
  readonly label: string;
  readonly sent: string[] = [];
  readonly #listeners = new Listeners();
  constructor(label: string) {
    this.label = label;
  }
  send(data: string): void {
    this.sent.push(data);
  }
  close(): void {
    this.readyState = 'closed';
    this.#listeners.fire('close');
  }
  open(): void {
    this.readyState = 'open';
    this.#listeners.fire('open');
  }
  addEventListener(type: string, listener: Listener): void {
    this.#listeners.add(type, listener);
  }
  removeEventListener(type: string, listener: Listener): void {
    this.#listeners.remove(type, listener);
  }
}

export class FakePeerConnection implements PeerConnectionLike {
  static readonly instances: FakePeerConnection[] = [];
  localDescription: SessionDescriptionLike | null = null;
  /** Already complete unless a test says otherwise: gathering is instant here. */
  iceGatheringState = 'complete';
  connectionState = 'new';
  remoteDescription: SessionDescriptionInit | undefined;
  readonly added: (IceCandidateInit | null)[] = [];
  readonly channels: FakeChannel[] = [];
  closed = false;
  /** createAnswer waits for this before resolving. */
  answerGate: Promise<void> = Promise.resolve();
  /** Called inside setLocalDescription, before it resolves. */
  onSetLocal: (() => void) | undefined;
  readonly #listeners = new Listeners();
  readonly config: unknown;

  constructor(config?: unknown) {
    this.config = config;
    FakePeerConnection.instances.push(this);
  }

  async createOffer(): Promise<SessionDescriptionLike> {
    return { type: 'offer', sdp: `offer-${FakePeerConnection.instances.indexOf(this)}\r\n` };
  }
  async createAnswer(): Promise<SessionDescriptionLike> {
    await this.answerGate;
    return { type: 'answer', sdp: `answer-to-${this.remoteDescription?.sdp}` };
  }
  async setLocalDescription(description: SessionDescriptionInit): Promise<void> {
    this.localDescription = description;
    this.onSetLocal?.();
  }
  async setRemoteDescription(description: SessionDescriptionInit): Promise<void> {
    this.remoteDescription = description;
  }
  async addIceCandidate(candidate: IceCandidateInit | null): Promise<void> {
    this.added.push(candidate);
  }
  createDataChannel(label: string): FakeChannel {
    const channel = new FakeChannel(label);
    this.channels.push(channel);
    return channel;
  }
  close(): void {
    this.closed = true;
    this.connectionState = 'closed';
  }
  addEventListener(type: string, listener: Listener): void {
    this.#listeners.add(type, listener);
  }
  removeEventListener(type: string, listener: Listener): void {
    this.#listeners.remove(type, listener);
  }

  /** Emits a local candidate (`null`: end of candidates). */
  gather(candidate: string | null): void {
    this.#listeners.fire('icecandidate', {
      candidate: candidate === null ? null : { candidate, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'u' },
    });
  }
  /** Ends gathering, appending `lines` to the local SDP as a browser does. */
  completeGathering(lines = ''): void {
    if (this.localDescription !== null) {
      this.localDescription = { type: this.localDescription.type, sdp: `${this.localDescription.sdp}${lines}` };
    }
    this.iceGatheringState = 'complete';
    this.#listeners.fire('icegatheringstatechange');
  }
  /** The remote peer opens a data channel, already open on arrival. */
  remoteChannel(label = 'sigver'): FakeChannel {
    const channel = new FakeChannel(label);
    channel.readyState = 'open';
    this.#listeners.fire('datachannel', { channel });
    return channel;
  }
}
