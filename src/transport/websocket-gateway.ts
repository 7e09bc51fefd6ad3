// WebSocket transport: accepts upgrades on an HTTP server, picks the dialect
// from the subprotocol, and maps each `ws` socket onto the core's session.
// The only module that imports `ws`.

import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { RateLimit } from '../core/rate-limiter.js';
import type { Signaling } from '../core/signaling.js';
import type { PeerSocket } from '../core/ports.js';
import type { Session, SessionGrant } from '../core/session.js';
import { CLOSES, dialectOf, selectSubprotocol, type CloseSpec, type Dialect } from '../protocol/index.js';
import { quietReceiverEnds, socketEnded, takeOverSocketEnd } from './quiet-close.js';
import { ReceiveGuard, type ReceiveLimits } from './receive-guard.js';

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

/** One accepted WebSocket: the core's {@link PeerSocket} for it. */
class Connection implements PeerSocket, ClosedConnection {
  session!: Session;
  /** Answered the last heartbeat ping. */
  alive = true;
  /** Marked slow: nothing more is sent to it. */
  slow = false;
  /** Runs when it has closed (from {@link GatewayHooks.accepted}). */
  onClosed: (() => void) | undefined = undefined;
  /** Its socket holds writes until the end of the current tick. */
  corked = false;
  /**
   * Judges each read before `ws` parses it. Made at the first read: an idle
   * connection carries none, and a bucket made then is as full as one made
   * at the opening would be by then.
   */
  guard: ReceiveGuard | undefined = undefined;
  /**
   * `ws`'s readers of the socket, which the gateway calls with each read its
   * guard lets through; none once `ws` stopped reading after an error of its own.
   */
  readers: readonly SocketReader[] = [];
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

  constructor(
    readonly ws: WebSocket,
    readonly gateway: WebSocketGateway,
  ) {}

  send(text: string): void {
    const { ws } = this;
    if (this.slow || ws.readyState !== ws.OPEN) return;
    if (!this.corked) this.gateway.cork(this);
    // Encoded here: a string handed to the socket takes Node's slower
    // mixed string-and-buffer writev path, once per frame.
    ws.send(Buffer.from(text), TEXT_FRAME);
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }
}

const TEXT_FRAME = { binary: false } as const;

const CONNECTION = Symbol('sigver.connection');
type TaggedSocket = WebSocket & { [CONNECTION]: Connection };
type TaggedTcp = Duplex & { [CONNECTION]: Connection };
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
 * How long a connection closed by its guard keeps its socket, ms: time for
 * its close frame to arrive. What it sends meanwhile is read and dropped
 * (its answering close frame too), and what `ws` holds of it is released
 * when the socket is destroyed, whether or not the client answers.
 */
const REFUSED_LINGER_MS = 1_000;

function connectionOf(ws: WebSocket): Connection {
  return (ws as TaggedSocket)[CONNECTION];
}

// Listeners shared by every socket (`this` is the socket), so a connection
// costs no closures.
function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  const connection = connectionOf(this);
  connection.messagesReceived++;
  if (isBinary) return connection.gateway.core.close(connection.session, CLOSES.NOT_JSON);
  try {
    connection.gateway.core.receive(connection.session, data.toString());
  } catch (error) {
    connection.gateway.failed(connection, error);
  }
}

// The socket's only 'data' listener: `ws` reads what it passes on.
function onSocketData(this: TaggedTcp, chunk: Buffer): void {
  const connection = this[CONNECTION];
  connection.gateway.received(connection, this, chunk);
}

// Replaces `ws`'s own 'end' listener (see quiet-close.ts).
function onSocketEnd(this: TaggedTcp): void {
  socketEnded(this, this[CONNECTION].ws);
}

function onMessageTimeout(connection: Connection): void {
  connection.timer = undefined;
  connection.gateway.messageTimedOut(connection);
}

function onRefusedLinger(connection: Connection): void {
  connection.timer = undefined;
  connection.ws.terminate();
}

function onPong(this: WebSocket): void {
  connectionOf(this).alive = true;
}

// `ws` reports protocol violations (oversized frame, bad UTF-8) here and
// closes the connection itself; the peer leaves at once, with no grace.
function onError(this: WebSocket, error: Error): void {
  const connection = connectionOf(this);
  // As `ws` does after its own errors: nothing more is read (it waits for no close frame).
  connection.readers = [];
  connection.gateway.core.close(connection.session, { code: statusCodeOf(error), reason: '' });
}

function onClose(this: WebSocket, code: number, reason: Buffer): void {
  const connection = connectionOf(this);
  connection.gateway.ended(connection, code, reason.toString());
}

/** Close code `ws` reports when the connection ended without a close frame. */
const ABNORMAL_CLOSURE = 1006;

/** Accepts WebSocket connections and feeds them to the signaling core. */
export class WebSocketGateway {
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<Connection>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly byteLimit: RateLimit;
  private closing = false;

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
      handleProtocols: (protocols) => selectSubprotocol(protocols) ?? false,
    });
    this.byteLimit = new RateLimit(limits.byteRate, limits.byteBurst);
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
    const open = [...this.connections];
    const allClosed = Promise.all(open.map((c) => closedPromise(c.ws)));
    this.core.closeAll(CLOSES.SHUTDOWN);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([allClosed, timedOut]);
    clearTimeout(timer);
    for (const connection of this.connections) connection.ws.terminate();
    await allClosed;
    this.wss.close();
  }

  private accept(
    ws: WebSocket,
    request: IncomingMessage,
    grant: SessionGrant | undefined,
    peerjs: PeerJsUpgrade | undefined,
  ): void {
    const connection = new Connection(ws, this);
    const dialect = peerjs === undefined ? dialectOf(ws.protocol) : 'peerjs';
    connection.session = this.core.open(connection, dialect, grant);
    (ws as TaggedSocket)[CONNECTION] = connection;
    const now = performance.now();
    connection.openedAt = Math.round(now);
    const remote = this.hooks.remember?.(request);
    if (remote !== undefined) {
      connection.remote = remote;
      connection.origin = request.headers.origin;
    }
    // The guard must see a read before `ws` parses it, and keep `ws` from
    // parsing one it refuses (a single read can hold thousands of frames):
    // the gateway stands between the socket and `ws`'s own listener.
    const tcp = tcpOf(ws) as TaggedTcp;
    tcp[CONNECTION] = connection;
    connection.readers = tcp.listeners('data') as SocketReader[];
    // Added before `ws`'s readers are removed one by one: removing the last
    // 'data' listener deletes the key from the socket's listener table, and
    // adding it back then grows that table by about 700 bytes per connection.
    tcp.on('data', onSocketData);
    for (const reader of connection.readers) tcp.removeListener('data', reader);
    if (takeOverSocketEnd(tcp)) tcp.on('end', onSocketEnd);
    this.connections.add(connection);
    connection.onClosed = this.hooks.accepted?.(request, connection.session.address.conn, dialect);
    ws.on('message', onMessage);
    ws.on('pong', onPong);
    ws.on('error', onError);
    ws.on('close', onClose);
    if (peerjs !== undefined) this.core.helloPeerJs(connection.session, peerjs(grant));
  }

  /** @internal A connection's socket closed. */
  ended(connection: Connection, code: number, reason: string): void {
    clearTimeout(connection.timer);
    connection.timer = undefined;
    this.connections.delete(connection);
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

  /** @internal A connection's socket read `chunk`: `ws` reads it if the guard lets it through. */
  received(connection: Connection, tcp: Duplex, chunk: Buffer): void {
    connection.bytesReceived += chunk.length;
    // Read, so that the close frame and the FIN after it are not lost to a reset; never parsed.
    if (connection.refusal !== undefined) return;
    const now = performance.now();
    const guard = (connection.guard ??= new ReceiveGuard(this.byteLimit, now));
    const verdict = guard.read(chunk, now);
    if (verdict !== undefined) return this.refuseTraffic(connection, verdict);
    if (!guard.open) {
      clearTimeout(connection.timer);
      connection.timer = undefined;
    } else if (connection.timer === undefined) {
      connection.timer = setTimeout(onMessageTimeout, this.limits.messageTimeoutMs, connection).unref();
    }
    for (const read of connection.readers) read.call(tcp, chunk);
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
      connection.ws.terminate();
    }
  }

  /** @internal The timer of an unfinished message fired: it may be a later message than the one it was set for. */
  messageTimedOut(connection: Connection): void {
    const { guard } = connection;
    if (connection.refusal !== undefined || guard === undefined || !guard.open) return;
    const remaining = guard.openedAt + this.limits.messageTimeoutMs - performance.now();
    // Timers run on a millisecond clock: one may fire a fraction early.
    if (remaining > 1) connection.timer = setTimeout(onMessageTimeout, remaining, connection).unref();
    else this.refuseTraffic(connection, CLOSES.MESSAGE_TIMEOUT);
  }

  /** Closes a connection whose traffic broke a rule of its guard, and drops it soon after. */
  private refuseTraffic(connection: Connection, spec: CloseSpec): void {
    connection.refusal = spec;
    connection.readers = [];
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
    tcpOf(connection.ws).cork();
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
      tcpOf(connection.ws).uncork();
      if (!connection.slow && connection.ws.bufferedAmount > slowConsumerBytes) this.slowConsumer(connection);
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

  private sweep(): void {
    for (const connection of this.connections) {
      if (!connection.alive) {
        connection.ws.terminate();
        continue;
      }
      connection.alive = false;
      connection.ws.ping();
    }
  }
}

function statusCodeOf(error: object): number {
  for (const symbol of Object.getOwnPropertySymbols(error)) {
    const value = (error as Record<symbol, unknown>)[symbol];
    if (symbol.description === 'status-code' && typeof value === 'number') return value;
  }
  return CLOSES.TOO_BIG.code;
}

function closedPromise(ws: WebSocket): Promise<void> {
  if (ws.readyState === ws.CLOSED) return Promise.resolve();
  return new Promise((resolve) => ws.once('close', () => resolve()));
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
