// Log lines about connections: one when a connection opens, one when it
// closes (code, reason), one per refusal, whether a v1 error, a v0 close or
// an upgrade refused over HTTP. Payloads (SDP, ICE candidates: they hold IP
// addresses) and keys are never logged.

import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { SignalingObserver } from '../core/ports.js';
import type { Dialect } from '../protocol/index.js';

/**
 * Writes connection events to a pino logger. The client address is in the
 * `opened` line; later lines name the connection by `conn` (with `pid`, the
 * key to join them). Only the opening time is kept per connection: idle
 * connections are what a server holds most.
 */
export class ConnectionLog {
  /** Opening time of each open connection, ms since {@link epoch}. */
  private readonly open = new Map<number, number>();
  /** Small numbers stay unboxed in the map. */
  private readonly epoch: number;
  /** Hooks to give the signaling core. */
  readonly observer: SignalingObserver;

  /**
   * @param logger Where lines go.
   * @param addressOf The client address of a request (see `clientAddress`).
   * @param now Wall-clock time, epoch ms, for connection durations.
   */
  constructor(
    private readonly logger: Logger,
    private readonly addressOf: (request: IncomingMessage) => string,
    private readonly now: () => number = Date.now,
  ) {
    this.epoch = now();
    this.observer = {
      ended: (conn, dialect, role, code, reason) => {
        if (!this.logger.isLevelEnabled('info')) return;
        const since = this.open.get(conn);
        this.open.delete(conn);
        const durationMs = since === undefined ? undefined : this.now() - this.epoch - since;
        this.logger.info({ event: 'closed', conn, dialect, role, code, reason, durationMs }, 'connection closed');
      },
      refused: (conn, dialect, code) => {
        this.logger.info({ event: 'refused', conn, dialect, code }, 'request refused');
      },
      rateLimited: (conn) => {
        this.logger.warn({ event: 'rate-limited', conn }, 'rate limit exceeded');
      },
      slowConsumer: (conn) => {
        this.logger.warn({ event: 'slow-consumer', conn }, 'slow consumer');
      },
    };
  }

  /**
   * A WebSocket connection was accepted. Below level info nothing is kept:
   * finding a peer's address is a system call per connection (warn lines then
   * name the connection by `conn` only).
   */
  accepted(request: IncomingMessage, conn: number, dialect: Dialect): void {
    if (!this.logger.isLevelEnabled('info')) return;
    const remote = this.addressOf(request);
    this.open.set(conn, Math.round(this.now() - this.epoch));
    this.logger.info(
      { event: 'opened', conn, dialect, remote, origin: request.headers.origin, path: pathOf(request) },
      'connection opened',
    );
  }

  /** A WebSocket upgrade was refused over HTTP. */
  upgradeRefused(request: IncomingMessage, status: number, message: string): void {
    this.logger.info(
      {
        event: 'upgrade-refused',
        status,
        message,
        remote: this.addressOf(request),
        origin: request.headers.origin,
        path: pathOf(request),
      },
      'upgrade refused',
    );
  }
}

/** The request path without its query: the query may carry an access token. */
function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}
