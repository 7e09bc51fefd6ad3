// WebSocket transport: accepts upgrades on an HTTP server, picks the dialect
// from the subprotocol, and maps each `ws` socket onto the core's session.
// The only module that imports `ws`.

import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type ClientOptions, type RawData } from 'ws';
import { RateLimit } from '../core/rate-limiter.js';
import type { Signaling } from '../core/signaling.js';
import type { PeerSocket } from '../core/ports.js';
import type { Session, SessionGrant } from '../core/session.js';
import { CLOSES, dialectOf, selectSubprotocol, type CloseSpec, type Dialect } from '../protocol/index.js';
import { quietReceiverEnds, socketEnded, takeOverSocketEnd } from './quiet-close.js';
import { ReceiveGuard, type FrameScanner, type GuardedStream, type ReceiveLimits } from './receive-guard.js';

/** The transport's limits, in the units of the settings table. */
export interface GatewayLimits extends ReceiveLimits {
  readonly maxFrameBytes: number;
  readonly maxConnections: number;
  readonly slowConsumerBytes: number;
  readonly heartbeatMs: number;
}

/** An upgrade refused with an HTTP status and a one-line body. */
export interface UpgradeRefusal {
  readonly status: number;
  readonly message: string;
}

/**
 * Refuses an upgrade with an HTTP status, lets it through with `undefined`,
 * or lets it through with a grant that restricts the connection (the key an
 * access token allows, say).
 */
export type UpgradeCheck = (request: IncomingMessage) => UpgradeRefusal | { readonly grant: SessionGrant } | undefined;

/** What a PeerJS connection asks for, given the grant of the checks: see {@link Signaling.helloPeerJs}. */
export type PeerJsHello =
  { readonly realm: string; readonly id: string; readonly token: string } | { readonly error: string };

/** A PeerJS upgrade: its hello, once the checks have decided the grant. */
export type PeerJsUpgrade = (grant: SessionGrant | undefined) => PeerJsHello;

/** What the gateway tells its owner, for logs, metrics and per-address counts. */
export interface GatewayHooks {
  /** An upgrade was refused over HTTP. */
  upgradeRefused?(request: IncomingMessage, refusal: UpgradeRefusal): void;
  /**
   * A WebSocket connection was accepted as connection number `conn` of the
   * core. The function returned, if any, runs once when it has closed, before
   * the core hears of the close.
   */
  accepted?(request: IncomingMessage, conn: number, dialect: Dialect): (() => void) | undefined;
  /**
   * The client address to keep with a connection until {@link closed} (its
   * Origin header is kept with it); undefined keeps neither. Called at accept.
   */
  remember?(request: IncomingMessage): string | undefined;
  /** A connection has closed; the core hears of it next, so its session still has its role. */
  closed?(connection: ClosedConnection, code: number, reason: string): void;
  /** A recipient passed the slow-consumer threshold and is being closed. */
  slowConsumer?(conn: number): void;
  /** Handling a message of connection `conn` threw (a defect of the server): that connection is closed 1011. */
  failed?(conn: number, error: unknown): void;
}

/** What the gateway knows of a connection when it closes (for the one log line per connection). */
export interface ClosedConnection {
  readonly session: Session;
  /** From {@link GatewayHooks.remember}; undefined when it kept nothing. */
  readonly remote: string | undefined;
  readonly origin: string | undefined;
  /** When it was accepted, ms on the `performance.now()` scale, rounded. */
  readonly openedAt: number;
  /** WebSocket messages received. */
  readonly messagesReceived: number;
  /** Bytes read from its socket, WebSocket framing included. */
  readonly bytesReceived: number;
}

/** What the heartbeat knows of a connection at a sweep. */
const enum Liveness {
  /** It sent something since the last sweep (or opened since). */
  Heard,
  /** It sent nothing during the last interval. */
  Silent,
  /** It was pinged at the last sweep and has sent nothing since. */
  Pinged,
}

/** Extensions a connection has: none (permessage-deflate is off). */
const NO_EXTENSIONS: object = Object.freeze({});

/**
 * One accepted WebSocket, and the core's {@link PeerSocket} for it: `ws`
 * makes its sockets of this class, so a connection is one object, not a
 * `ws` socket plus an object of ours pointing at it.
 */
class Connection extends WebSocket implements PeerSocket, ClosedConnection, GuardedStream {
  gateway!: WebSocketGateway;
  session!: Session;
  /** What the heartbeat knows of it. */
  liveness = Liveness.Heard;
  /** Marked slow: nothing more is sent to it. */
  slow = false;
  /** Runs when it has closed (from {@link GatewayHooks.accepted}). */
  onClosed: (() => void) | undefined = undefined;
  /** Its socket holds writes until the end of the current tick. */
  corked = false;
  // Its byte budget and frame scanner, for the gateway's {@link ReceiveGuard}.
  tokens = 0;
  refilledAt = 0;
  scanner: FrameScanner | undefined = undefined;
  /**
   * `ws`'s reader of the socket, which the gateway calls with each read its
   * guard lets through; none once `ws` stopped reading after an error of its own.
   */
  reader: SocketReader | undefined = undefined;
  /** The close its guard gave it: what it sends now is read and dropped, unparsed, until its socket is destroyed. */
  refusal: CloseSpec | undefined = undefined;
  /** Ends an unfinished message that takes too long or, once refused, the connection. */
  timer: NodeJS.Timeout | undefined = undefined;
  remote: string | undefined = undefined;
  origin: string | undefined = undefined;
  // Numbers that fit a small integer: kept in the object, no heap number each.
  openedAt = 0;
  messagesReceived = 0;
  bytesReceived = 0;

  // `ws` makes a server's sockets as `new WebSocket(null, undefined, options)`.
  constructor(address: null, protocols: undefined, options: ClientOptions) {
    super(address as unknown as string, protocols, options);
    // `ws` gives each socket an empty object of its own; they can share one.
    (this as unknown as { _extensions: object })._extensions = NO_EXTENSIONS;
  }

  /**
   * `ws` tells a socket's events by emitting them: a connection handles its
   * own instead of registering listeners, whose table would cost every
   * connection a few hundred bytes. Its 'message', 'pong', 'error' and
   * 'close' are the gateway's alone: listeners added for them are not called.
   */
  override emit(event: string | symbol, first?: unknown, second?: unknown): boolean {
    switch (event) {
      case 'message':
        this.gateway.message(this, first as RawData, second as boolean);
        return true;
      case 'pong':
        // Any read counts as a sign of life (see `received`).
        return true;
      case 'error':
        // `ws` reports protocol violations (oversized frame, bad UTF-8) and
        // closes the connection itself; the peer leaves at once, with no grace.
        // As `ws` does after its own errors: nothing more is read (it waits for no close frame).
        this.reader = undefined;
        this.gateway.core.close(this.session, { code: statusCodeOf(first as Error), reason: '' });
        return true;
      case 'close':
        this.gateway.ended(this, first as number, (second as Buffer).toString());
        return true;
      default:
        // Events no one listens to here ('open', 'ping'), for any listener of someone else's.
        return second !== undefined
          ? super.emit(event, first, second)
          : first !== undefined
            ? super.emit(event, first)
            : super.emit(event);
    }
  }

  /** The core's send: a text frame, batched with the tick's others; nothing once it is slow. */
  override send(text: string): void {
    if (this.slow || this.readyState !== WebSocket.OPEN) return;
    if (!this.corked) this.gateway.cork(this);
    // Encoded here: a string handed to the socket takes Node's slower
    // mixed string-and-buffer writev path, once per frame.
    super.send(Buffer.from(text), TEXT_FRAME);
  }
}

const TEXT_FRAME = { binary: false } as const;

type SocketReader = (this: Duplex, chunk: Buffer) => void;

/**
 * The TCP (or TLS) socket under a `ws` socket. `ws` exposes no way to batch
 * writes nor to see reads; its `_socket` field has been stable across its
 * major versions.
 */
function tcpOf(ws: WebSocket): Duplex {
  return (ws as unknown as { _socket: Duplex })._socket;
}

/**
 * The key under which `ws` keeps, on the TCP socket, the WebSocket it
 * carries: the gateway's socket listeners find their connection there
 * rather than under a key of their own, which would grow every socket.
 * Found on the first socket (`ws` does not export it).
 */
let wsKey: symbol | undefined;

function learnSocketKey(tcp: Duplex, connection: Connection): void {
  wsKey ??= Object.getOwnPropertySymbols(tcp).find(
    (key) => (tcp as unknown as Record<symbol, unknown>)[key] === connection,
  );
  if (wsKey === undefined) throw new Error('ws did not tag its socket with its WebSocket');
}

function connectionOfSocket(tcp: Duplex): Connection {
  return (tcp as unknown as Record<symbol, Connection>)[wsKey!]!;
}

/**
 * How long a connection closed by its guard keeps its socket, ms: time for
 * its close frame to arrive. What it sends meanwhile is read and dropped
 * (its answering close frame too), and what `ws` holds of it is released
 * when the socket is destroyed, whether or not the client answers.
 */
const REFUSED_LINGER_MS = 1_000;

// Listeners of the TCP socket shared by every connection (`this` is the
// socket), so a connection costs no closures.
// The socket's only 'data' listener: `ws` reads what it passes on.
function onSocketData(this: Duplex, chunk: Buffer): void {
  const connection = connectionOfSocket(this);
  connection.gateway.received(connection, this, chunk);
}

// Replaces `ws`'s own 'end' listener (see quiet-close.ts).
function onSocketEnd(this: Duplex): void {
  socketEnded(this, connectionOfSocket(this));
}

function onMessageTimeout(connection: Connection): void {
  connection.timer = undefined;
  connection.gateway.messageTimedOut(connection);
}

function onRefusedLinger(connection: Connection): void {
  connection.timer = undefined;
  connection.terminate();
}

/** Close code `ws` reports when the connection ended without a close frame. */
const ABNORMAL_CLOSURE = 1006;

/** Accepts WebSocket connections and feeds them to the signaling core. */
export class WebSocketGateway {
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<Connection>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly guard: ReceiveGuard;
  private closing = false;
  /** Resolves the shutdown's wait once the last connection has closed. */
  private allClosed: (() => void) | undefined;

  constructor(
    readonly core: Signaling,
    readonly limits: GatewayLimits,
    private readonly checks: readonly UpgradeCheck[] = [],
    private readonly hooks: GatewayHooks = {},
  ) {
    quietReceiverEnds();
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: limits.maxFrameBytes,
      perMessageDeflate: false,
      clientTracking: false,
      WebSocket: Connection as unknown as typeof WebSocket,
      handleProtocols: (protocols) => selectSubprotocol(protocols) ?? false,
    });
    this.guard = new ReceiveGuard(new RateLimit(limits.byteRate, limits.byteBurst));
    this.heartbeat = setInterval(() => this.sweep(), limits.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Open WebSocket connections. */
  get size(): number {
    return this.connections.size;
  }

  /**
   * Takes over an HTTP upgrade request; `peerjs` when it is a PeerJS socket.
   * A PeerJS socket refused for its access token (401) is accepted, to get
   * `peer`'s answer: an ERROR message the PeerJS client reports, then the close.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, peerjs?: PeerJsUpgrade): void {
    if (this.closing) return this.refuse(request, socket, { status: 503, message: 'Server shutting down' });
    if (this.connections.size >= this.limits.maxConnections) {
      return this.refuse(request, socket, { status: 503, message: 'Too many connections' });
    }
    let grant: SessionGrant | undefined;
    for (const check of this.checks) {
      const verdict = check(request);
      if (verdict === undefined) continue;
      if ('grant' in verdict) grant = verdict.grant;
      else if (peerjs !== undefined && verdict.status === 401) {
        this.hooks.upgradeRefused?.(request, verdict);
        const error = { error: verdict.message };
        return this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, request, grant, () => error));
      } else return this.refuse(request, socket, verdict);
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, request, grant, peerjs));
  }

  private refuse(request: IncomingMessage, socket: Duplex, refusal: UpgradeRefusal): void {
    this.hooks.upgradeRefused?.(request, refusal);
    refuseUpgrade(socket, refusal.status, refusal.message);
  }

  /**
   * Closes every connection with 1001 and resolves once all are closed;
   * those still open after `graceMs` are terminated.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    const allClosed =
      this.connections.size === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            this.allClosed = resolve;
          });
    this.core.closeAll(CLOSES.SHUTDOWN);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([allClosed, timedOut]);
    clearTimeout(timer);
    for (const connection of this.connections) connection.terminate();
    await allClosed;
    this.wss.close();
  }

  private accept(
    ws: WebSocket,
    request: IncomingMessage,
    grant: SessionGrant | undefined,
    peerjs: PeerJsUpgrade | undefined,
  ): void {
    const connection = ws as Connection;
    connection.gateway = this;
    connection.tokens = this.limits.byteBurst;
    const dialect = peerjs === undefined ? dialectOf(ws.protocol) : 'peerjs';
    connection.session = this.core.open(connection, dialect, grant);
    connection.openedAt = Math.round(performance.now());
    const remote = this.hooks.remember?.(request);
    if (remote !== undefined) {
      connection.remote = remote;
      connection.origin = request.headers.origin;
    }
    forgetPeerAddress(request.socket);
    // The guard must see a read before `ws` parses it, and keep `ws` from
    // parsing one it refuses (a single read can hold thousands of frames):
    // the gateway stands between the socket and `ws`'s own listener.
    const tcp = tcpOf(ws);
    learnSocketKey(tcp, connection);
    const readers = tcp.listeners('data') as SocketReader[];
    connection.reader = readers.length === 1 ? readers[0] : readAll(readers);
    // Added before `ws`'s reader is removed: removing the last 'data'
    // listener deletes the key from the socket's listener table, and adding
    // it back then grows that table by about 700 bytes per connection.
    tcp.on('data', onSocketData);
    for (const reader of readers) tcp.removeListener('data', reader);
    if (takeOverSocketEnd(tcp)) tcp.on('end', onSocketEnd);
    this.connections.add(connection);
    connection.onClosed = this.hooks.accepted?.(request, connection.session.address.conn, dialect);
    if (peerjs !== undefined) this.core.helloPeerJs(connection.session, peerjs(grant));
  }

  /** @internal A connection's socket closed. */
  ended(connection: Connection, code: number, reason: string): void {
    clearTimeout(connection.timer);
    connection.timer = undefined;
    this.connections.delete(connection);
    if (this.connections.size === 0) this.allClosed?.();
    connection.onClosed?.();
    // A connection its guard closed is dropped without waiting for its answer: the close is the guard's.
    const { refusal } = connection;
    if (refusal !== undefined) {
      this.hooks.closed?.(connection, refusal.code, refusal.reason);
      return this.core.ended(connection.session, 'clean', refusal.code, refusal.reason);
    }
    this.hooks.closed?.(connection, code, reason);
    this.core.ended(connection.session, code === ABNORMAL_CLOSURE ? 'abrupt' : 'clean', code, reason);
  }

  /** @internal A message arrived whole. */
  message(connection: Connection, data: RawData, isBinary: boolean): void {
    connection.messagesReceived++;
    if (isBinary) return this.core.close(connection.session, CLOSES.NOT_JSON);
    try {
      this.core.receive(connection.session, data.toString());
    } catch (error) {
      this.failed(connection, error);
    }
  }

  /** @internal A connection's socket read `chunk`: `ws` reads it if the guard lets it through. */
  received(connection: Connection, tcp: Duplex, chunk: Buffer): void {
    connection.bytesReceived += chunk.length;
    connection.liveness = Liveness.Heard;
    // Read, so that the close frame and the FIN after it are not lost to a reset; never parsed.
    if (connection.refusal !== undefined) return;
    const verdict = this.guard.read(connection, chunk, performance.now());
    if (verdict !== undefined) return this.refuseTraffic(connection, verdict);
    if (connection.scanner === undefined) {
      clearTimeout(connection.timer);
      connection.timer = undefined;
    } else if (connection.timer === undefined) {
      connection.timer = setTimeout(onMessageTimeout, this.limits.messageTimeoutMs, connection).unref();
    }
    connection.reader?.call(tcp, chunk);
  }

  /**
   * @internal Handling a message threw: a defect, not the client's fault, but
   * it ends that connection alone; every other session carries on.
   */
  failed(connection: Connection, error: unknown): void {
    this.hooks.failed?.(connection.session.address.conn, error);
    try {
      this.core.close(connection.session, CLOSES.INTERNAL_ERROR);
    } catch {
      connection.terminate();
    }
  }

  /** @internal The timer of an unfinished message fired: it may be a later message than the one it was set for. */
  messageTimedOut(connection: Connection): void {
    const { scanner } = connection;
    if (connection.refusal !== undefined || scanner === undefined) return;
    const remaining = scanner.openedAt + this.limits.messageTimeoutMs - performance.now();
    // Timers run on a millisecond clock: one may fire a fraction early.
    if (remaining > 1) connection.timer = setTimeout(onMessageTimeout, remaining, connection).unref();
    else this.refuseTraffic(connection, CLOSES.MESSAGE_TIMEOUT);
  }

  /** Closes a connection whose traffic broke a rule of its guard, and drops it soon after. */
  private refuseTraffic(connection: Connection, spec: CloseSpec): void {
    connection.refusal = spec;
    connection.reader = undefined;
    clearTimeout(connection.timer);
    connection.timer = setTimeout(onRefusedLinger, REFUSED_LINGER_MS, connection).unref();
    this.core.close(connection.session, spec);
  }

  /**
   * @internal Holds a connection's writes until the end of the current tick.
   * A client sends bursts (an offer and its candidates in one TCP segment);
   * relayed one write per frame, they would cost one system call each.
   */
  cork(connection: Connection): void {
    connection.corked = true;
    tcpOf(connection).cork();
    this.corked.push(connection);
    if (this.corked.length === 1) process.nextTick(this.uncorkAll);
  }

  private readonly corked: Connection[] = [];

  // What is still unsent once a burst went down to the kernel is what the
  // peer has not read: the slow-consumer check belongs here, not inside the
  // tick, where a large fan-in burst is merely waiting to be written.
  private readonly uncorkAll = (): void => {
    const { slowConsumerBytes } = this.limits;
    for (const connection of this.corked) {
      connection.corked = false;
      tcpOf(connection).uncork();
      if (!connection.slow && connection.bufferedAmount > slowConsumerBytes) this.slowConsumer(connection);
    }
    this.corked.length = 0;
  };

  /** @internal A recipient's unsent data passed the limit: close it, but not from inside the send. */
  slowConsumer(connection: Connection): void {
    connection.slow = true;
    this.hooks.slowConsumer?.(connection.session.address.conn);
    // The core may be in the middle of a relay when it sends.
    queueMicrotask(() => this.core.close(connection.session, CLOSES.SLOW_CONSUMER));
  }

  /**
   * Anything a connection sends shows that it is alive: only one that sent
   * nothing for a whole interval is pinged, and one that sends nothing, not
   * even the pong, for an interval after that is dropped. Clients that send
   * heartbeats of their own (PeerJS, y-webrtc) are never pinged.
   */
  private sweep(): void {
    for (const connection of this.connections) {
      switch (connection.liveness) {
        case Liveness.Heard:
          connection.liveness = Liveness.Silent;
          break;
        case Liveness.Silent:
          connection.liveness = Liveness.Pinged;
          connection.ping();
          break;
        case Liveness.Pinged:
          connection.terminate();
          break;
      }
    }
  }
}

/**
 * Node keeps a socket's peer address, once asked for (by the log, the
 * per-address limit), as an object on the socket for the socket's life;
 * what those need of it is a string they keep, so the object can go (it is
 * read again if anyone asks).
 */
function forgetPeerAddress(socket: Duplex): void {
  const cached = socket as unknown as { _peername?: object | undefined };
  if (cached._peername !== undefined) cached._peername = undefined;
}

/** One reader that calls several, in order (`ws` registers one; this is for a version that would not). */
function readAll(readers: readonly SocketReader[]): SocketReader {
  return function (this: Duplex, chunk: Buffer) {
    for (const read of readers) read.call(this, chunk);
  };
}

function statusCodeOf(error: object): number {
  for (const symbol of Object.getOwnPropertySymbols(error)) {
    const value = (error as Record<symbol, unknown>)[symbol];
    if (symbol.description === 'status-code' && typeof value === 'number') return value;
  }
  return CLOSES.TOO_BIG.code;
}

/**
 * Answers an upgrade with an HTTP error and closes the connection. Node's
 * HTTP server stops watching a socket it hands to its upgrade listeners: a
 * reset from the client would be an unhandled error that ends the process,
 * so the socket gets a handler first. Once the answer is written the socket
 * is destroyed, so that a client keeping its half open holds nothing.
 */
export function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  socket.on('error', ignoreError);
  socket.once('finish', () => socket.destroy());
  const body = message === '' ? '' : `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${statusText(status)}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** A refused connection's errors (a reset, mostly) need no action: it is being destroyed anyway. */
function ignoreError(): void {}

function statusText(status: number): string {
  switch (status) {
    case 404:
      return 'Not Found';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 429:
      return 'Too Many Requests';
    case 503:
      return 'Service Unavailable';
    default:
      return 'Bad Request';
  }
}
