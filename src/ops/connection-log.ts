// Log lines about connections: one when a connection opens, one when it
// closes (code, reason), one per refusal, whether a v1 error, a v0 close or
// an upgrade refused over HTTP. Payloads (SDP, ICE candidates: they hold IP
// addresses) and keys are never logged.

import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { SignalingObserver } from '../core/ports.js';
import type { Dialect } from '../protocol/index.js';

interface Open {
  readonly remote: string;
  readonly since: number;
}

/** Writes connection events to a pino logger. */
export class ConnectionLog {
  private readonly open = new Map<number, Open>();
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
    this.observer = {
      ended: (conn, dialect, role, code, reason) => {
        const open = this.open.get(conn);
        this.open.delete(conn);
        const durationMs = open === undefined ? undefined : this.now() - open.since;
        this.logger.info({ event: 'closed', conn, dialect, role, code, reason, remote: open?.remote, durationMs }, 'connection closed');
      },
      refused: (conn, dialect, code) => {
        this.logger.info({ event: 'refused', conn, dialect, code, remote: this.open.get(conn)?.remote }, 'request refused');
      },
      rateLimited: (conn) => {
        this.logger.warn({ event: 'rate-limited', conn, remote: this.open.get(conn)?.remote }, 'rate limit exceeded');
      },
      slowConsumer: (conn) => {
        this.logger.warn({ event: 'slow-consumer', conn, remote: this.open.get(conn)?.remote }, 'slow consumer');
      },
    };
  }

  /** A WebSocket connection was accepted. */
  accepted(request: IncomingMessage, conn: number, dialect: Dialect): void {
    const remote = this.addressOf(request);
    this.open.set(conn, { remote, since: this.now() });
    this.logger.info({ event: 'opened', conn, dialect, remote, origin: request.headers.origin, path: pathOf(request) }, 'connection opened');
  }

  /** A WebSocket upgrade was refused over HTTP. */
  upgradeRefused(request: IncomingMessage, status: number, message: string): void {
    this.logger.info(
      { event: 'upgrade-refused', status, message, remote: this.addressOf(request), origin: request.headers.origin, path: pathOf(request) },
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
