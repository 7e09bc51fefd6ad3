// The HTTP server's side of a Sigver server: which upgrades and requests it
// takes, listening, accept errors, and the orderly close.

import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import { peerJsHello, peerJsSocketQuery } from '../ops/peerjs-routes.js';
import type { HttpRoutes } from '../transport/http-routes.js';
import { refuseUpgrade, type WebSocketGateway } from '../transport/websocket-gateway.js';

/** Where a listening server can be reached. */
export interface ListeningAddress {
  readonly host: string;
  readonly port: number;
  /** `ws://host:port`, or `wss://host:port` with TLS. */
  readonly url: string;
}

/** What the lifecycle needs. */
export interface LifecycleParts {
  /** An app's server to attach to; undefined: Sigver's own. */
  readonly server: HttpServer | undefined;
  /** With `server`: the path upgrades must have. */
  readonly path: string | undefined;
  readonly tls: SecureContextOptions | undefined;
  readonly gateway: WebSocketGateway;
  readonly routes: HttpRoutes;
  readonly logger: Logger | undefined;
  readonly listenOn: { readonly port: number; readonly host: string };
  readonly peerjsPath: string;
  /** Access tokens are required: a PeerJS hello must carry one in `key`. */
  readonly authenticated: boolean;
  readonly shutdownGraceMs: number;
}

/** The HTTP server of a Sigver server, with its listeners attached. */
export class Lifecycle {
  readonly httpServer: HttpServer | HttpsServer;
  private readonly attached: boolean;
  private readonly wsPath: string | undefined;
  private acceptErrorLoggedAt = -Infinity;
  private closing: Promise<void> | undefined;

  constructor(private readonly parts: LifecycleParts) {
    this.attached = parts.server !== undefined;
    this.httpServer = parts.server ?? (parts.tls === undefined ? createServer() : createHttpsServer(parts.tls));
    this.wsPath = this.attached ? (parts.path ?? '/') : undefined;
    this.httpServer.on('upgrade', this.onUpgrade);
    if (!this.attached) this.httpServer.on('request', this.onRequest);
  }

  /** Uses new TLS files for new connections (with TLS only). */
  setSecureContext(tls: SecureContextOptions): void {
    (this.httpServer as HttpsServer).setSecureContext(tls);
  }

  listen(): Promise<ListeningAddress> {
    if (this.attached) return Promise.reject(new Error('this Sigver server is attached to an existing HTTP server'));
    const { httpServer } = this;
    const { port, host } = this.parts.listenOn;
    return new Promise<ListeningAddress>((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      httpServer.once('error', onError);
      httpServer.listen(port, host, () => {
        httpServer.off('error', onError);
        httpServer.on('error', this.onServerError);
        const { port: bound } = httpServer.address() as AddressInfo;
        const shownHost = host.includes(':') ? `[${host}]` : host;
        const scheme = this.parts.tls === undefined ? 'ws' : 'wss';
        resolve({ host, port: bound, url: `${scheme}://${shownHost}:${bound}` });
      });
    });
  }

  /** Stops accepting, closes every WebSocket (1001) within the grace, and resolves once all is closed. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const { httpServer, attached } = this;
      const stopped = attached || !httpServer.listening ? Promise.resolve() : closeHttp(httpServer);
      // Also ends the keys of hosts away within their grace: nobody can resume on a closed server.
      await this.parts.gateway.shutdown(this.parts.shutdownGraceMs);
      httpServer.off('upgrade', this.onUpgrade);
      if (!attached) {
        httpServer.off('request', this.onRequest);
        httpServer.off('error', this.onServerError);
        httpServer.closeAllConnections();
      }
      await stopped;
    })();
    return this.closing;
  }

  private readonly onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const { gateway, peerjsPath, authenticated } = this.parts;
    const peerjs = peerJsSocketQuery(request, peerjsPath);
    if (peerjs !== undefined) {
      return gateway.handleUpgrade(request, socket, head, (grant) =>
        peerJsHello(peerjs, authenticated, grant?.allowedKey),
      );
    }
    if (this.wsPath !== undefined && pathOf(request) !== this.wsPath) {
      // Another upgrade listener of the app may want it; if there is none, nobody will answer.
      if (this.httpServer.listenerCount('upgrade') === 1) refuseUpgrade(socket, 404, '');
      return;
    }
    gateway.handleUpgrade(request, socket, head);
  };

  private readonly onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const { routes } = this.parts;
    if (!routes.handle(request, response)) routes.notFound(response);
  };

  // Once listening, the server's own errors are failed accepts: out of file
  // descriptors (EMFILE, ENFILE), mostly. Unhandled, they would end the
  // process; the connection is refused (libuv closes it) and the next is
  // tried. Logged once a second at most: a flood would repeat it per attempt.
  private readonly onServerError = (error: NodeJS.ErrnoException): void => {
    const at = Date.now();
    if (at - this.acceptErrorLoggedAt < 1_000) return;
    this.acceptErrorLoggedAt = at;
    this.parts.logger?.error(
      { event: 'accept-failed', code: error.code, error: error.message },
      'cannot accept a connection; refusing connections until some close',
    );
  };
}

function closeHttp(server: HttpServer | HttpsServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}
