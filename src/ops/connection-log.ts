// Log lines about connections: one per connection when it closes (who, how
// long, why), one per refusal, whether a v1 error, a v0 close or an upgrade
// refused over HTTP. Payloads (SDP, ICE candidates: they hold IP
// addresses) and keys are never logged.

import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { SignalingObserver } from '../core/ports.js';
import { roleName, type Session } from '../core/session.js';

/** What the close line reads of a connection (the gateway's view of it). */
export interface LoggedConnection {
  readonly session: Session;
  readonly remote: string | undefined;
  readonly origin: string | undefined;
  /** When it was accepted, ms on the `performance.now()` scale. */
  readonly openedAt: number;
  readonly messagesReceived: number;
  readonly bytesReceived: number;
}

/**
 * Writes connection events to a pino logger: one line per connection, when
 * it closes, with what is worth knowing of it (address, Origin, dialect,
 * role, duration, close code and reason, messages and bytes received), one
 * per refusal, and warnings. Nothing is written when a connection opens and
 * nothing is kept for logs but the address and Origin on the connection
 * itself: idle connections are what a server holds most, and a line per
 * event costs more than the signaling it reports.
 */
export class ConnectionLog {
  /** Hooks to give the signaling core. */
  readonly observer: SignalingObserver;

  /**
   * @param logger Where lines go.
   * @param addressOf The client address of a request (see `clientAddress`).
   * @param now Monotonic time, ms, on the scale of `LoggedConnection.openedAt`.
   */
  constructor(
    private readonly logger: Logger,
    private readonly addressOf: (request: IncomingMessage) => string,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.observer = {
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
   * The client address to keep with a new connection for its close line;
   * undefined below level info (finding a peer's address is a system call).
   */
  remember(request: IncomingMessage): string | undefined {
    return this.logger.isLevelEnabled('info') ? this.addressOf(request) : undefined;
  }

  /** A connection closed: its one line. */
  closed(connection: LoggedConnection, code: number, reason: string): void {
    if (connection.remote === undefined || !this.logger.isLevelEnabled('info')) return;
    const { session } = connection;
    this.logger.info(
      {
        event: 'closed',
        conn: session.address.conn,
        remote: connection.remote,
        origin: connection.origin,
        dialect: session.dialect,
        role: roleName(session.role),
        code,
        reason,
        durationMs: Math.max(0, Math.round(this.now()) - connection.openedAt),
        messages: connection.messagesReceived,
        bytes: connection.bytesReceived,
      },
      'connection closed',
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
