// The low-level client: one WebSocket to a Sigver server, either dialect,
// typed events, keep-alive, and reconnection that resumes a hosted key.

import { V1_SUBPROTOCOL, type Dialect } from '../protocol/dialect.js';
import { ERRORS, type ErrorCode } from '../protocol/errors.js';
import { normalizeKey } from '../protocol/key.js';
import { randomKey } from './base64url.js';
import { backoffDelayMs, DEFAULT_RECONNECT, type ReconnectOptions } from './backoff.js';
import { CLIENT_ERRORS, errorFromClose, SigverClientError, type ClientErrorCode } from './client-error.js';
import { looksSealed, PayloadCipher } from './payload-cipher.js';
import type { WebSocketConstructor, WebSocketLike } from './rtc-like.js';
import type { RelayKind } from '../protocol/client-message.js';
import { parseServerFrame, type ServerFrame } from '../protocol/server-frame.js';
import { TypedEmitter } from './typed-emitter.js';
import { anySignal, delay, settleOnce, type WaitOptions } from './waits.js';

/** Options of {@link SigverClient}. */
export interface SigverClientOptions {
  /** Server URL, e.g. `ws://localhost:8000/` (any path). */
  readonly url: string;
  /**
   * Dialect to ask for. Default `'v1'`. A server that does not select the
   * `sigver.v1` subprotocol is spoken to in v0: see {@link SigverClient.dialect}.
   */
  readonly dialect?: Dialect | undefined;
  /** WebSocket class. Default `globalThis.WebSocket`; in Node 20 pass `WebSocket` from `ws`. */
  readonly WebSocket?: WebSocketConstructor | undefined;
  /**
   * Shared password: relayed payloads are encrypted end to end (docs/CLIENT.md),
   * and payloads that are not encrypted with it are refused.
   */
  readonly password?: string | undefined;
  /** Default time limit of `connect`, `host` and `join`, in milliseconds. Default 10_000. */
  readonly timeoutMs?: number | undefined;
  /** v1 keep-alive: a `{"ping"}` every this many milliseconds; 0 disables. Default 20_000. */
  readonly pingIntervalMs?: number | undefined;
  /** A ping unanswered this long, in milliseconds, counts as a lost connection. Default 10_000. */
  readonly pongTimeoutMs?: number | undefined;
  /** Reconnection after a lost connection, or `false` for none. Default {@link DEFAULT_RECONNECT}. */
  readonly reconnect?: ReconnectOptions | false | undefined;
}

/** A relayed `offer`, `answer` or `candidate`; `id` is the joiner's, on a v1 host. */
export interface RelayEvent {
  readonly data: unknown;
  readonly id: number | undefined;
}

/** Events of {@link SigverClient}. */
export interface SigverClientEvents {
  /** v1: the key is registered; `resumed` when a reconnection took the key over with its token. */
  registered: { readonly key: string; readonly token: string | undefined; readonly resumed: boolean };
  /** v1 host: joiner `id` attached. */
  join: { readonly id: number };
  /** v1: joiner `id` left (on a host), or the host left (`id` 0, on a joiner). */
  leave: { readonly id: number };
  offer: RelayEvent;
  answer: RelayEvent;
  candidate: RelayEvent;
  /** A v1 refusal from the server, or a relayed payload that could not be decrypted. */
  error: SigverClientError;
  /** A connection ended; `reconnecting` tells whether the client tries again. */
  close: { readonly code: number; readonly reason: string; readonly reconnecting: boolean };
  /** A lost connection was restored; `resumed` when a hosted key kept its joiners. */
  reconnect: { readonly attempt: number; readonly resumed: boolean };
}

/** Where the client stands. */
export type ClientState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** The client's role on the server. */
export type ClientRole = 'none' | 'host' | 'joiner';

/** What a successful {@link SigverClient.host} gives. */
export interface Registration {
  /** The key, as a string (generated when asked with `null`). */
  readonly key: string;
  /** v1 resume token; `undefined` in v0. */
  readonly token: string | undefined;
}

/** Close codes after which reconnecting can help (RFC 6455, section 7.4.1). */
const RECONNECT_CLOSE_CODES: ReadonlySet<number> = new Set([1001, 1006, 1011, 1012, 1013, 1014]);
/** Failures worth another attempt while reconnecting; any other refusal is final. */
const TRANSIENT_CODES: ReadonlySet<ClientErrorCode> = new Set([
  'TIMEOUT',
  'CLOSED',
  'CONNECT_FAILED',
  'HOST_AWAY',
  'UNAVAILABLE',
]);
/** Relayed frames kept while reconnecting. */
const MAX_PENDING_FRAMES = 1_000;
const WS_OPEN = 1;

interface WireEvents {
  open: undefined;
  frame: ServerFrame;
  close: { readonly code: number; readonly reason: string };
}

class Wire extends TypedEmitter<WireEvents> {
  send<K extends keyof WireEvents>(type: K, event: WireEvents[K]): void {
    this.emit(type, event);
  }
}

/**
 * A connection to a Sigver server. Host a key or join one, then relay
 * offers, answers and candidates; the server's answers arrive as events.
 *
 * @example
 * const client = new SigverClient({ url: 'ws://localhost:8000/', WebSocket });
 * await client.connect();
 * const { key } = await client.host(null);
 * client.on('offer', ({ data, id }) => { ... client.sendAnswer(answer, id); });
 */
export class SigverClient extends TypedEmitter<SigverClientEvents> {
  readonly #url: string;
  readonly #requestedDialect: Dialect;
  readonly #WebSocket: WebSocketConstructor | undefined;
  readonly #cipher: PayloadCipher | undefined;
  readonly #timeoutMs: number;
  readonly #pingIntervalMs: number;
  readonly #pongTimeoutMs: number;
  readonly #reconnect: Required<ReconnectOptions> | undefined;
  readonly #wire = new Wire();
  readonly #lifetime = new AbortController();

  #state: ClientState = 'idle';
  #dialect: Dialect;
  #socket: WebSocketLike | undefined;
  #role: ClientRole = 'none';
  #key: string | undefined;
  #token: string | undefined;
  #incoming: Promise<void> = Promise.resolve();
  #outgoing: Promise<void> = Promise.resolve();
  #pending: string[] = [];
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #pongTimer: ReturnType<typeof setTimeout> | undefined;
  #pingSeq = 0;
  #closed: Promise<void> | undefined;

  constructor(options: SigverClientOptions) {
    super();
    this.#url = options.url;
    this.#requestedDialect = options.dialect ?? 'v1';
    this.#dialect = this.#requestedDialect;
    this.#WebSocket = options.WebSocket ?? (globalThis.WebSocket as WebSocketConstructor | undefined);
    this.#cipher = options.password === undefined ? undefined : new PayloadCipher(options.password);
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#pingIntervalMs = options.pingIntervalMs ?? 20_000;
    this.#pongTimeoutMs = options.pongTimeoutMs ?? 10_000;
    this.#reconnect = options.reconnect === false ? undefined : { ...DEFAULT_RECONNECT, ...options.reconnect };
  }

  /** Where the client stands. */
  get state(): ClientState {
    return this.#state;
  }

  /** The dialect in use: v0 when v1 was asked for but the server did not select it. */
  get dialect(): Dialect {
    return this.#dialect;
  }

  /** The role taken, kept across reconnections. */
  get role(): ClientRole {
    return this.#role;
  }

  /** The key hosted or joined, as a string. */
  get key(): string | undefined {
    return this.#key;
  }

  /** v1 resume token of the hosted key. */
  get token(): string | undefined {
    return this.#token;
  }

  /** True when relayed payloads are encrypted with a password. */
  get encrypted(): boolean {
    return this.#cipher !== undefined;
  }

  /** Opens the connection. Rejects with `CONNECT_FAILED`, `TIMEOUT` or the signal's reason. */
  async connect(options: WaitOptions = {}): Promise<void> {
    if (this.#state !== 'idle')
      throw new SigverClientError('NOT_CONNECTED', `Cannot connect from state ${this.#state}`);
    this.#state = 'connecting';
    try {
      await this.#openSocket(options);
    } catch (error) {
      if (this.#state === 'connecting') this.#state = 'idle';
      throw error;
    }
    this.#state = 'open';
    this.#startKeepAlive();
  }

  /**
   * Registers `key` as its host; `null` asks for a generated key (v0
   * servers cannot generate one, so the client draws 128 random bits itself).
   * v1 resolves on the server's acknowledgement and rejects with its error
   * code (`KEY_TAKEN`, `INVALID_KEY`, ...). v0 has no acknowledgement: it
   * resolves once sent, and a refusal closes the connection (`close` event).
   */
  async host(key: string | number | null, options: WaitOptions = {}): Promise<Registration> {
    this.#requireOpen();
    if (this.#dialect === 'v0') {
      const normalized = normalizeKey(key ?? randomKey());
      if (normalized === undefined) throw new SigverClientError('INVALID_KEY');
      this.#write(JSON.stringify({ key: normalized }));
      this.#role = 'host';
      this.#key = normalized;
      return { key: normalized, token: undefined };
    }
    const registered = this.#awaitReply<Extract<ServerFrame, { type: 'registered' }>>(
      (frame) => (frame.type === 'registered' ? frame : undefined),
      options,
      'the registration',
    );
    this.#write(JSON.stringify({ key }));
    const frame = await registered;
    return { key: frame.key, token: frame.token };
  }

  /**
   * Joins the host of `key`. Resolves when the server says the host is
   * reachable; rejects with `KEY_UNKNOWN`, `KEY_FULL`, `HOST_AWAY`, ...
   * (v0 refusals are closes, mapped onto the same codes).
   */
  async join(key: string | number, options: WaitOptions = {}): Promise<void> {
    this.#requireOpen();
    const reachable = this.#awaitReply(
      (frame) => (frame.type === 'reachable' ? frame : undefined),
      options,
      'the join',
    );
    this.#write(JSON.stringify({ joinkey: key }));
    await reachable;
    this.#role = 'joiner';
    this.#key = normalizeKey(key);
  }

  /** Relays an offer: from a joiner to its host, or (v1) from a host to joiner `id`. */
  sendOffer(data: unknown, id?: number): Promise<void> {
    return this.#relay('offer', data, id);
  }

  /** Relays an answer: from a host (to joiner `id`, or the oldest unanswered offer), or from a joiner. */
  sendAnswer(data: unknown, id?: number): Promise<void> {
    return this.#relay('answer', data, id);
  }

  /** v1: relays an ICE candidate (`null` for the end of candidates). */
  sendCandidate(candidate: unknown, id?: number): Promise<void> {
    return this.#relay('candidate', candidate, id);
  }

  /**
   * Closes the connection on purpose (a hosted key is released at once) and
   * stops reconnecting. Resolves when the socket has closed.
   */
  close(): Promise<void> {
    if (this.#closed !== undefined) return this.#closed;
    this.#lifetime.abort(new SigverClientError('CLOSED', 'The client was closed'));
    this.#stopKeepAlive();
    this.#pending = [];
    const socket = this.#socket;
    if (socket === undefined || this.#state === 'closed') {
      this.#finish(1000, '');
      this.#closed = Promise.resolve();
      return this.#closed;
    }
    this.#closed = settleOnce<void>((resolve) => this.#wire.on('close', () => resolve()), {}, 'the close');
    socket.close(1000);
    return this.#closed;
  }

  #requireOpen(): void {
    if (this.#state !== 'open') throw new SigverClientError('NOT_CONNECTED', `The client is ${this.#state}`);
  }

  /** Waits for the frame `pick` accepts; an error frame or a close rejects. */
  #awaitReply<T>(pick: (frame: ServerFrame) => T | undefined, options: WaitOptions, what: string): Promise<T> {
    const signal = anySignal([options.signal, this.#lifetime.signal]);
    return settleOnce<T>(
      (resolve, reject) => {
        const offFrame = this.#wire.on('frame', (frame) => {
          if (frame.type === 'error') {
            reject(errorFromFrame(frame));
            return;
          }
          const picked = pick(frame);
          if (picked !== undefined) resolve(picked);
        });
        const offClose = this.#wire.on('close', ({ code, reason }) => reject(errorFromClose(code, reason)));
        return () => {
          offFrame();
          offClose();
        };
      },
      { signal, timeoutMs: options.timeoutMs ?? this.#timeoutMs },
      what,
    );
  }

  #openSocket(options: WaitOptions): Promise<void> {
    const WebSocketClass = this.#WebSocket;
    if (WebSocketClass === undefined) return Promise.reject(new SigverClientError('NO_WEBSOCKET'));
    const signal = anySignal([options.signal, this.#lifetime.signal]);
    if (signal.aborted) return Promise.reject(signal.reason);
    let socket: WebSocketLike;
    try {
      socket =
        this.#requestedDialect === 'v1'
          ? new WebSocketClass(this.#url, [V1_SUBPROTOCOL])
          : new WebSocketClass(this.#url);
    } catch (cause) {
      return Promise.reject(new SigverClientError('CONNECT_FAILED', undefined, { cause }));
    }
    this.#socket = socket;
    this.#attach(socket);
    const opened = settleOnce<void>(
      (resolve, reject) => {
        const offOpen = this.#wire.on('open', () => resolve());
        const offClose = this.#wire.on('close', ({ code, reason }) =>
          reject(
            new SigverClientError(
              'CONNECT_FAILED',
              `${CLIENT_ERRORS.CONNECT_FAILED} (${code}${reason === '' ? '' : ` ${reason}`})`,
              {
                closeCode: code,
                closeReason: reason,
              },
            ),
          ),
        );
        return () => {
          offOpen();
          offClose();
        };
      },
      { signal, timeoutMs: options.timeoutMs ?? this.#timeoutMs },
      'the connection to open',
    );
    return opened.catch((error: unknown) => {
      // Timed out or aborted: this socket must not live on.
      if (this.#socket === socket) this.#detach();
      throw error;
    });
  }

  #attach(socket: WebSocketLike): void {
    // Events of a socket that was replaced or detached are ignored.
    socket.addEventListener('open', () => {
      if (socket !== this.#socket) return;
      this.#dialect = socket.protocol === V1_SUBPROTOCOL ? 'v1' : 'v0';
      this.#dispatch(() => this.#wire.send('open', undefined));
    });
    socket.addEventListener('message', (event) => {
      if (socket !== this.#socket || typeof event.data !== 'string') return;
      const frame = parseServerFrame(event.data);
      if (frame !== undefined) this.#dispatch(() => this.#onFrame(frame));
    });
    socket.addEventListener('close', (event) => {
      if (socket !== this.#socket) return;
      this.#socket = undefined;
      this.#stopKeepAlive();
      this.#dispatch(() => this.#onClose(event.code, event.reason));
    });
    // Node's `ws` throws on an 'error' nobody listens to; a 'close' always follows.
    socket.addEventListener('error', () => {});
  }

  /**
   * Forgets the current socket at once and reports it closed with 1006, as
   * a network failure would. Used when keep-alive finds the connection dead
   * and when an attempt is abandoned: a dead TCP connection can take minutes
   * to report its close, and the client must not wait for it.
   */
  #detach(reason = 'Connection abandoned'): void {
    const socket = this.#socket;
    if (socket === undefined) return;
    this.#socket = undefined;
    this.#stopKeepAlive();
    dropSocket(socket);
    this.#dispatch(() => this.#onClose(1006, reason));
  }

  /**
   * Runs handlers of incoming events in arrival order. Decrypting a payload
   * is asynchronous, so with a password every event waits for the ones
   * before it: a `leave` must not overtake the `offer` that preceded it.
   */
  #dispatch(task: () => void | Promise<void>): void {
    if (this.#cipher === undefined) {
      void task();
      return;
    }
    this.#incoming = this.#incoming.then(task).catch((error: unknown) => {
      queueMicrotask(() => {
        throw error;
      });
    });
  }

  #onFrame(frame: ServerFrame): void | Promise<void> {
    switch (frame.type) {
      case 'registered': {
        const resumed = this.#token !== undefined && frame.token === this.#token && frame.key === this.#key;
        this.#role = 'host';
        this.#key = frame.key;
        this.#token = frame.token;
        this.#wire.send('frame', frame);
        this.emit('registered', { key: frame.key, token: frame.token, resumed });
        return;
      }
      case 'reachable':
      case 'pong':
        if (frame.type === 'pong' && frame.data === this.#pingSeq) this.#clearPongTimer();
        this.#wire.send('frame', frame);
        return;
      case 'join':
        this.#wire.send('frame', frame);
        this.emit('join', { id: frame.id });
        return;
      case 'leave':
        // A joiner told that its host is gone has no role any more.
        if (this.#role === 'joiner' && frame.id === 0) this.#role = 'none';
        this.#wire.send('frame', frame);
        this.emit('leave', { id: frame.id });
        return;
      case 'error': {
        this.#wire.send('frame', frame);
        this.emit('error', errorFromFrame(frame));
        return;
      }
      case 'offer':
      case 'answer':
      case 'candidate':
        return this.#onRelay(frame);
    }
  }

  /** Delivers a relayed payload; decrypting (with a password) makes it asynchronous. */
  #onRelay(frame: Extract<ServerFrame, { type: RelayKind }>): void | Promise<void> {
    const deliver = (data: unknown): void => {
      this.#wire.send('frame', frame);
      this.emit(frame.type, { data, id: frame.id });
    };
    const cipher = this.#cipher;
    if (cipher === undefined) {
      if (looksSealed(frame.data)) {
        const error = new SigverClientError('DECRYPT_FAILED', 'The payload is encrypted: pass the password option');
        this.emit('error', aboutRelay(error, frame.type, frame.id));
        return;
      }
      deliver(frame.data);
      return;
    }
    return cipher.open(frame.type, this.#key ?? '', frame.data).then(deliver, (error: unknown) => {
      this.emit('error', aboutRelay(error, frame.type, frame.id));
    });
  }

  #onClose(code: number, reason: string): void {
    const state = this.#state;
    this.#wire.send('close', { code, reason });
    if (this.#lifetime.signal.aborted) {
      this.#finish(code, reason);
      return;
    }
    // A failed first connect, or an attempt of a reconnection: their own waits handle it.
    if (state === 'connecting' || state === 'reconnecting' || state === 'idle') return;
    if (state === 'open' && this.#reconnect !== undefined && RECONNECT_CLOSE_CODES.has(code)) {
      this.#state = 'reconnecting';
      this.emit('close', { code, reason, reconnecting: true });
      void this.#reconnectLoop(this.#reconnect);
      return;
    }
    this.#finish(code, reason);
  }

  #finish(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#role = 'none';
    this.#pending = [];
    this.#stopKeepAlive();
    this.emit('close', { code, reason, reconnecting: false });
  }

  async #reconnectLoop(options: Required<ReconnectOptions>): Promise<void> {
    const signal = this.#lifetime.signal;
    let lastError: unknown;
    for (let attempt = 1; attempt <= options.maxAttempts; attempt += 1) {
      try {
        await delay(backoffDelayMs(attempt, options), signal);
        await this.#openSocket({ signal });
        const resumed = await this.#restoreRole(signal);
        this.#state = 'open';
        this.#startKeepAlive();
        const pending = this.#pending;
        this.#pending = [];
        // Frames meant for joiner ids are only meaningful if the key kept its joiners.
        if (resumed) for (const frame of pending) this.#write(frame);
        this.emit('reconnect', { attempt, resumed });
        return;
      } catch (error) {
        if (signal.aborted) return;
        lastError = error;
        this.#detach();
        if (error instanceof SigverClientError && !TRANSIENT_CODES.has(error.code)) break;
      }
    }
    const error =
      lastError instanceof SigverClientError && !TRANSIENT_CODES.has(lastError.code)
        ? lastError
        : new SigverClientError('CLOSED', `Gave up reconnecting after ${options.maxAttempts} attempts`, {
            cause: lastError,
          });
    this.emit('error', error);
    this.#finish(1006, error.message);
  }

  /** Takes the role back on a new connection; true when a hosted key kept its joiners. */
  async #restoreRole(signal: AbortSignal): Promise<boolean> {
    const key = this.#key;
    if (this.#role === 'host' && key !== undefined) {
      if (this.#dialect === 'v0') {
        this.#write(JSON.stringify({ key }));
        return false;
      }
      const token = this.#token;
      const registered = this.#awaitReply(
        (frame) => (frame.type === 'registered' ? frame : undefined),
        { signal },
        'the resumed registration',
      );
      this.#write(JSON.stringify(token === undefined ? { key } : { key, token }));
      const frame = await registered;
      return token !== undefined && frame.token === token;
    }
    if (this.#role === 'joiner' && key !== undefined) {
      const reachable = this.#awaitReply(
        (frame) => (frame.type === 'reachable' ? frame : undefined),
        { signal },
        'the join',
      );
      this.#write(JSON.stringify({ joinkey: key }));
      await reachable;
    }
    return false;
  }

  #relay(kind: RelayKind, data: unknown, id: number | undefined): Promise<void> {
    if (this.#state === 'idle' || this.#state === 'closed' || this.#state === 'connecting') {
      return Promise.reject(new SigverClientError('NOT_CONNECTED', `The client is ${this.#state}`));
    }
    // Sealing is asynchronous; the chain keeps relayed frames in call order.
    const sent = this.#outgoing.then(async () => {
      const payload = this.#cipher === undefined ? data : await this.#cipher.seal(kind, this.#key ?? '', data);
      const frame = JSON.stringify(id === undefined ? { [kind]: payload } : { [kind]: payload, id });
      // A socket that just dropped may not have reported its close yet: keep
      // the frame if a reconnection may follow.
      const socketOpen = this.#socket?.readyState === WS_OPEN;
      if (this.#state === 'reconnecting' || (!socketOpen && this.#state === 'open' && this.#reconnect !== undefined)) {
        if (this.#pending.length >= MAX_PENDING_FRAMES) this.#pending.shift();
        this.#pending.push(frame);
        return;
      }
      this.#write(frame);
    });
    this.#outgoing = sent.catch(() => {});
    return sent;
  }

  #write(frame: string): void {
    const socket = this.#socket;
    if (socket === undefined || socket.readyState !== WS_OPEN) throw new SigverClientError('NOT_CONNECTED');
    socket.send(frame);
  }

  #startKeepAlive(): void {
    this.#stopKeepAlive();
    if (this.#dialect !== 'v1' || this.#pingIntervalMs <= 0) return;
    this.#pingTimer = setInterval(() => this.#ping(), this.#pingIntervalMs);
  }

  #ping(): void {
    if (this.#pongTimer !== undefined || this.#socket === undefined) return;
    this.#pingSeq += 1;
    try {
      this.#write(JSON.stringify({ ping: this.#pingSeq }));
    } catch {
      return;
    }
    this.#pongTimer = setTimeout(() => {
      this.#pongTimer = undefined;
      this.#detach('Keep-alive timeout');
    }, this.#pongTimeoutMs);
  }

  #clearPongTimer(): void {
    if (this.#pongTimer !== undefined) clearTimeout(this.#pongTimer);
    this.#pongTimer = undefined;
  }

  #stopKeepAlive(): void {
    if (this.#pingTimer !== undefined) clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
    this.#clearPongTimer();
  }
}

function errorFromFrame(frame: Extract<ServerFrame, { type: 'error' }>): SigverClientError {
  const known = Object.hasOwn(ERRORS, frame.code);
  return known
    ? new SigverClientError(frame.code as ErrorCode, frame.message)
    : new SigverClientError('SERVER_ERROR', `${frame.code}: ${frame.message}`);
}

/** The error of a relayed payload, marked with its kind and (on a v1 host) its joiner. */
function aboutRelay(error: unknown, kind: RelayKind, joinerId: number | undefined): SigverClientError {
  const base =
    error instanceof SigverClientError ? error : new SigverClientError('DECRYPT_FAILED', undefined, { cause: error });
  const details = joinerId === undefined ? { kind } : { kind, joinerId };
  return new SigverClientError(
    base.code,
    base.message,
    base.cause === undefined ? details : { ...details, cause: base.cause },
  );
}

/**
 * Ends a socket without waiting. `ws` can drop the TCP connection with
 * `terminate()`; a browser socket can only be closed, with a code the
 * server treats like any other close.
 */
function dropSocket(socket: WebSocketLike): void {
  const terminate = (socket as { terminate?: unknown }).terminate;
  try {
    if (typeof terminate === 'function') terminate.call(socket);
    else socket.close(4000, 'Connection abandoned');
  } catch {
    // Already closing: nothing more to do.
  }
}
