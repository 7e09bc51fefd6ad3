// Composition root: builds a Sigver server from options: the signaling core,
// its backplane, the WebSocket gateway and the HTTP routes.

import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { MemoryBackplane } from './cluster/memory-backplane.js';
import type { Backplane, Clock, SecretSource, SignalingObserver } from './core/ports.js';
import { Signaling, type SignalingStats } from './core/signaling.js';
import { resolveSettings, type Settings } from './options.js';
import { healthReport, type HealthReport } from './ops/health.js';
import { addDemoRoutes } from './transport/demo-routes.js';
import { HttpRoutes } from './transport/http-routes.js';
import { randomSecret, systemClock } from './transport/system-clock.js';
import { WebSocketGateway, type UpgradeCheck } from './transport/websocket-gateway.js';

/** Options of {@link createSigverServer}: every setting (see `SETTINGS`), plus objects. */
export interface SigverServerOptions extends Partial<Settings> {
  /**
   * An existing HTTP or HTTPS server to attach to (an Express or Fastify app's
   * server, say). Sigver then takes WebSocket upgrades on `path` only and
   * leaves every other request to that server; `listen()` is not used.
   */
  readonly server?: HttpServer;
  /** With `server`: the path that WebSocket upgrades must have. Default `/`. Without `server`: any path. */
  readonly path?: string;
  /** Key ownership and inter-process delivery. Default: in memory, one process. */
  readonly backplane?: Backplane;
  /** Time source, for tests. Default: the system clock. */
  readonly clock?: Clock;
  /** Source of generated keys and resume tokens, for tests. Default: 128 random bits. */
  readonly secret?: SecretSource;
  /** Hooks for logs and metrics. */
  readonly observer?: SignalingObserver;
  /** Extra checks run on every WebSocket upgrade (origin, authentication...). */
  readonly upgradeChecks?: readonly UpgradeCheck[];
}

/** Where a listening server can be reached. */
export interface ListeningAddress {
  readonly host: string;
  readonly port: number;
  /** `ws://host:port` */
  readonly url: string;
}

/** A running (or ready to run) Sigver server. */
export interface SigverServer {
  /** The HTTP server carrying the WebSocket endpoint (its own, or the one given). */
  readonly httpServer: HttpServer;
  /** The resolved settings. */
  readonly settings: Settings;
  /** Starts listening on the configured host and port (port 0: a free one). */
  listen(): Promise<ListeningAddress>;
  /**
   * Stops accepting, closes every WebSocket with 1001 `Server shutting down`
   * and resolves once every socket is closed (those still open after the
   * shutdown grace are terminated).
   */
  close(): Promise<void>;
  /** Counts of connections, keys and joiners in this process. */
  stats(): SignalingStats;
  /** The JSON served at `GET /health`. */
  health(): HealthReport;
  /**
   * Answers Sigver's HTTP routes (`/health`, and the test page at `/` when
   * not attached to an app's server); false when the path is not one of them.
   */
  handleRequest(request: IncomingMessage, response: ServerResponse): boolean;
}

/**
 * Builds a Sigver server.
 *
 * @example
 * const server = createSigverServer({ port: 8000 });
 * const { url } = await server.listen(); // ws://0.0.0.0:8000
 * // ...
 * await server.close();
 *
 * @example
 * // Attached to an existing HTTP server, under a path:
 * const app = http.createServer(handler);
 * const sigver = createSigverServer({ server: app, path: '/signal' });
 * app.listen(3000);
 */
export function createSigverServer(options: SigverServerOptions = {}): SigverServer {
  const { server, path, backplane, clock, secret, observer, upgradeChecks, ...partial } = options;
  const settings = resolveSettings(partial);
  const startedAt = Date.now();
  const core = new Signaling({
    limits: settings,
    backplane: backplane ?? new MemoryBackplane(),
    clock: clock ?? systemClock,
    secret: secret ?? randomSecret,
    ...(observer === undefined ? {} : { observer }),
  });
  const gateway = new WebSocketGateway(core, settings, upgradeChecks);
  const health = (): HealthReport => healthReport(startedAt, core.stats());
  const routes = new HttpRoutes();
  routes.json('/health', health);

  const attached = server !== undefined;
  // An app that Sigver is attached to keeps its own `/`; and the page, which
  // signals on `/`, would not find a Sigver mounted on another path.
  if (!attached) addDemoRoutes(routes);
  const httpServer = server ?? createServer();
  const wsPath = attached ? (path ?? '/') : undefined;
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (wsPath !== undefined && pathOf(request) !== wsPath) {
      // Another upgrade listener of the app may want it; if there is none, nobody will answer.
      if (httpServer.listenerCount('upgrade') === 1) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    gateway.handleUpgrade(request, socket, head);
  };
  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    if (!routes.handle(request, response)) routes.notFound(response);
  };
  httpServer.on('upgrade', onUpgrade);
  if (!attached) httpServer.on('request', onRequest);

  let closing: Promise<void> | undefined;
  return {
    httpServer,
    settings,
    stats: () => core.stats(),
    health,
    handleRequest: (request, response) => routes.handle(request, response),
    listen() {
      if (attached) return Promise.reject(new Error('this Sigver server is attached to an existing HTTP server'));
      return new Promise<ListeningAddress>((resolve, reject) => {
        const onError = (error: Error): void => reject(error);
        httpServer.once('error', onError);
        httpServer.listen(settings.port, settings.host, () => {
          httpServer.off('error', onError);
          const { port } = httpServer.address() as AddressInfo;
          const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
          resolve({ host: settings.host, port, url: `ws://${host}:${port}` });
        });
      });
    },
    close() {
      closing ??= (async () => {
        const stopped = attached || !httpServer.listening ? Promise.resolve() : closeHttp(httpServer);
        // Also ends the keys of hosts away within their grace: nobody can resume on a closed server.
        await gateway.shutdown(settings.shutdownGraceMs);
        httpServer.off('upgrade', onUpgrade);
        if (!attached) {
          httpServer.off('request', onRequest);
          httpServer.closeAllConnections();
        }
        await stopped;
      })();
      return closing;
    },
  };
}

function closeHttp(server: HttpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}
