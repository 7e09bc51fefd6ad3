// An in-memory WebSocket pair for unit tests of the client: the test plays
// the server side (accept, push frames, drop) and reads what the client sent.

import { once, EventEmitter } from 'node:events';
import type { WebSocketConstructor, WebSocketLike } from '../../src/client/rtc-like.js';

type Listener = (event: never) => void;

/** One client socket, driven from the server side by the test. */
export class FakeSocket implements WebSocketLike {
  readyState = 0;
  protocol = '';
  readonly url: string;
  readonly protocols: readonly string[];
  readonly sent: unknown[] = [];
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #events = new EventEmitter();
  #sentIndex = 0;
  terminated = false;
  closedWith: { code: number | undefined; reason: string | undefined } | undefined;

  constructor(url: string, protocols: readonly string[]) {
    this.url = url;
    this.protocols = protocols;
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(JSON.parse(data));
    this.#events.emit('sent');
  }

  close(code?: number, reason?: string): void {
    if (this.readyState >= 2) return;
    this.closedWith = { code, reason };
    this.readyState = 2;
    queueMicrotask(() => this.#fireClose(code ?? 1005, reason ?? ''));
  }

  /** Like `ws`'s terminate: the TCP connection is gone, no close frame. */
  terminate(): void {
    this.terminated = true;
    if (this.readyState >= 3) return;
    queueMicrotask(() => this.#fireClose(1006, ''));
  }

  addEventListener(type: string, listener: Listener): void {
    let set = this.#listeners.get(type);
    if (set === undefined) this.#listeners.set(type, (set = new Set()));
    set.add(listener);
  }

  removeEventListener(type: string, listener: Listener): void {
    this.#listeners.get(type)?.delete(listener);
  }

  // Server side.

  /** Completes the upgrade; selects `sigver.v1` if offered, unless `selectV1` is false. */
  accept(selectV1 = true): void {
    this.readyState = 1;
    this.protocol = selectV1 && this.protocols.includes('sigver.v1') ? 'sigver.v1' : '';
    this.#fire('open', {});
  }

  /** Refuses the upgrade, as a browser reports it: error, then close 1006. */
  refuse(): void {
    this.readyState = 3;
    this.#fire('error', {});
    this.#fire('close', { code: 1006, reason: '' });
  }

  /** Sends a frame to the client. */
  push(frame: unknown): void {
    this.#fire('message', { data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }

  /** The server closes with a close frame. */
  closeFromServer(code: number, reason: string): void {
    this.#fireClose(code, reason);
  }

  /** The connection drops without a close frame. */
  drop(): void {
    this.#fireClose(1006, '');
  }

  /** Resolves with the next frame the client sends (in order, each once). */
  async nextSent(): Promise<unknown> {
    while (this.#sentIndex >= this.sent.length) await once(this.#events, 'sent');
    const frame = this.sent[this.#sentIndex];
    this.#sentIndex += 1;
    return frame;
  }

  #fireClose(code: number, reason: string): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.#fire('close', { code, reason });
  }

  #fire(type: string, event: object): void {
    for (const listener of [...(this.#listeners.get(type) ?? [])]) (listener as (event: object) => void)(event);
  }
}

/** Hands out FakeSockets as a WebSocket constructor would create them. */
export class FakeServer {
  readonly sockets: FakeSocket[] = [];
  readonly #events = new EventEmitter();
  #taken = 0;

  readonly WebSocket: WebSocketConstructor;

  constructor() {
    const server = this;
    this.WebSocket = class extends FakeSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : protocols);
        server.sockets.push(this);
        server.#events.emit('socket');
      }
    };
  }

  /** Resolves with the next socket a client opens (in order, each once). */
  async nextSocket(): Promise<FakeSocket> {
    while (this.#taken >= this.sockets.length) await once(this.#events, 'socket');
    const socket = this.sockets[this.#taken]!;
    this.#taken += 1;
    return socket;
  }
}
