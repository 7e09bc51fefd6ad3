// Composition root: builds a Sigver server from options: the signaling core,
// its backplane, the WebSocket gateway, the HTTP routes, and the operations
// features (metrics, logs, TLS, origins, per-address limit, authentication,
// TURN credentials) that the settings turn on.

import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { MemoryBackplane } from './cluster/memory-backplane.js';
import type { Backplane, Clock, SecretSource, SignalingObserver } from './core/ports.js';
import { Signaling, type SignalingStats } from './core/signaling.js';
import { SettingError, resolveSettings, type Settings } from './options.js';
import { authenticate, authenticateToken } from './ops/access-token.js';
import { AddressLimiter } from './ops/address-limiter.js';
import { clientAddress } from './ops/client-address.js';
import { TrustedProxies } from './ops/trusted-proxies.js';
import { combineObservers } from './ops/combine-observers.js';
import { ConnectionLog } from './ops/connection-log.js';
import { healthReport, type HealthReport } from './ops/health.js';
import { iceServersRoute } from './ops/ice-servers-route.js';
import { SigverMetrics } from './ops/metrics.js';
import { OriginPolicy } from './ops/origin-policy.js';
import { peerJsHello, peerJsKeyOf, peerJsRoutes, peerJsSocketQuery } from './ops/peerjs-routes.js';
import { addDemoRoutes, addSdkRoute } from './transport/demo-routes.js';
import { HttpRoutes, type RequestMiddleware } from './transport/http-routes.js';
import { randomSecret, systemClock } from './runtime/system-clock.js';
import { WebSocketGateway, refuseUpgrade, type UpgradeCheck } from './transport/websocket-gateway.js';

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
  /** Extra checks run on every WebSocket upgrade, after the built-in ones (origin, per-address limit, access token). */
  readonly upgradeChecks?: readonly UpgradeCheck[];
  /**
   * A pino logger for connection lines (opened, closed, refused). Default:
   * none, nothing is logged. The `sigver` command builds one from `logLevel`.
   */
  readonly logger?: Logger;
  /**
   * The prom-client registry that `GET /metrics` serves. Default: a new
   * registry for this server, with Node process metrics. One given here (an
   * application's own) gets Sigver's metrics only; register process metrics
   * on it yourself.
   */
  readonly metricsRegistry?: Registry;
  /** Wall-clock time, epoch ms (access token expiry, TURN credentials), for tests. Default `Date.now`. */
  readonly wallClock?: () => number;
}

/** Where a listening server can be reached. */
export interface ListeningAddress {
  readonly host: string;
  readonly port: number;
  /** `ws://host:port`, or `wss://host:port` with TLS. */
  readonly url: string;
}

/** A running (or ready to run) Sigver server. */
export interface SigverServer {
  /** The HTTP server carrying the WebSocket endpoint (its own, HTTPS with TLS, or the one given). */
  readonly httpServer: HttpServer | HttpsServer;
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
   * Answers Sigver's HTTP routes (`/health`, `/metrics`, `/ice-servers`,
   * `/sigver-client.js`, and the test page at `/` when not attached to an
   * app's server); false when the path is not one of them.
   */
  handleRequest(request: IncomingMessage, response: ServerResponse): boolean;
  /**
   * The same routes as a `(request, response, next)` handler: an attached
   * Sigver answers no HTTP request by itself, so an app mounts this to serve
   * them (docs/EMBEDDING.md). Requests it does not answer go to `next()`,
   * or get 404 without one.
   *
   * @example
   * const server = app.listen(3000);
   * const sigver = createSigverServer({ server, path: '/signal' });
   * app.use(sigver.middleware); // Express: /health, /metrics, /ice-servers, /sigver-client.js
   */
  readonly middleware: RequestMiddleware;
  /** This server's metrics registry; undefined when `metrics` is off. */
  readonly metricsRegistry: Registry | undefined;
  /**
   * Reads the TLS certificate and key files again (after a renewal) and uses
   * them for new connections. Throws a `SettingError` when they cannot be
   * read, and keeps the old ones; does nothing without TLS.
   */
  reloadTls(): void;
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
  const {
    server,
    path,
    backplane,
    clock,
    secret,
    observer,
    upgradeChecks,
    logger,
    metricsRegistry,
    wallClock,
    ...partial
  } = options;
  const settings = resolveSettings(partial);
  const attached = server !== undefined;
  if (attached && settings.tlsCert !== '') {
    throw new SettingError('--tls-cert cannot be used with an attached server: give Sigver an https.Server instead');
  }
  if (settings.redis !== '' && backplane === undefined) {
    // Connecting is asynchronous and can fail: the caller does it (the CLI does for --redis).
    throw new SettingError('redis: pass a started RedisBackplane as the backplane option');
  }
  const tls = settings.tlsCert === '' ? undefined : readTls(settings);
  const now = wallClock ?? Date.now;
  const startedAt = Date.now();
  const proxies = new TrustedProxies(settings.trustProxy);
  const addressOf = (request: IncomingMessage): string => clientAddress(request, proxies);
  const origins = new OriginPolicy(settings.allowOrigin);

  // The metrics read the core's counts at scrape time only, after it exists.
  const source = { stats: () => core.stats(), census: () => core.census(), topicStats: () => core.topicStats() };
  const metrics = settings.metrics
    ? new SigverMetrics(source, metricsRegistry === undefined ? {} : { registry: metricsRegistry })
    : undefined;
  const log = logger === undefined ? undefined : new ConnectionLog(logger, addressOf);
  if (settings.turnSecret !== '' && settings.authSecret === '') {
    logger?.warn(
      { event: 'turn-credentials-open' },
      'TURN credentials are served to anyone: without --auth-secret any website or program can get them from /ice-servers and relay through your TURN server (--allow-origin does not stop programs)',
    );
  }
  const observers = combineObservers([observer, metrics?.observer, log?.observer]);
  const core: Signaling = new Signaling({
    limits: { ...settings, peerjs: { expireMs: settings.peerjsExpireMs } },
    backplane: backplane ?? new MemoryBackplane(),
    clock: clock ?? systemClock,
    secret: secret ?? randomSecret,
    observer: observers,
  });

  const checks: UpgradeCheck[] = [];
  if (!origins.allowsAny) {
    checks.push((request) =>
      origins.allows(request.headers.origin) ? undefined : { status: 403, message: 'Origin not allowed' },
    );
  }
  const limiter =
    settings.maxConnectionsPerAddress > 0
      ? new AddressLimiter(settings.maxConnectionsPerAddress, addressOf)
      : undefined;
  if (limiter !== undefined) checks.push((request) => limiter.check(request));
  if (settings.authSecret !== '') {
    checks.push((request) => {
      // A PeerJS client's `token` is its own session secret: its access token travels in `key`.
      const peerjs = peerJsSocketQuery(request, settings.peerjsPath);
      const auth =
        peerjs === undefined
          ? authenticate(request, settings.authSecret, now())
          : authenticateToken(peerJsKeyOf(peerjs), settings.authSecret, now());
      return 'status' in auth ? auth : { grant: { allowedKey: auth.allowedKey } };
    });
  }
  checks.push(...(upgradeChecks ?? []));
  const gateway = new WebSocketGateway(core, settings, checks, {
    upgradeRefused(request, refusal) {
      metrics?.upgradeRefused(refusal.status);
      log?.upgradeRefused(request, refusal.status, refusal.message);
    },
    accepted: (request) => limiter?.acquire(request),
    ...(log === undefined
      ? {}
      : {
          remember: (request) => log.remember(request),
          closed: (connection, code, reason) => log.closed(connection, code, reason),
        }),
    slowConsumer: (conn) => observers.slowConsumer?.(conn),
    failed: (conn, error) => logger?.error({ event: 'internal-error', conn, err: error }, 'handling a message failed'),
  });

  const health = (): HealthReport => healthReport(startedAt, core.stats());
  const routes = new HttpRoutes();
  routes.json('/health', health);
  if (metrics !== undefined) {
    routes.get('/metrics', (_request, response) => {
      metrics.render().then(
        (text) => {
          response.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
          response.end(text);
        },
        () => {
          response.writeHead(500, { 'content-type': 'text/plain' });
          response.end('Metrics unavailable\n');
        },
      );
    });
  }
  const iceServers = iceServersRoute({
    turn:
      settings.turnUrl.length === 0
        ? undefined
        : { secret: settings.turnSecret, urls: settings.turnUrl, ttlSeconds: settings.turnTtlSeconds },
    origins,
    authSecret: settings.authSecret,
    now,
  });
  routes.get('/ice-servers', iceServers.get, iceServers.preflight);
  routes.pattern(
    peerJsRoutes({
      path: settings.peerjsPath,
      discovery: settings.peerjsDiscovery,
      origins,
      authSecret: settings.authSecret,
      now,
      peerIds: (realm, limit) => core.peerIds(realm, limit),
    }),
  );

  // An app that Sigver is attached to keeps its own `/`; and the page, which
  // signals on `/`, would not find a Sigver mounted on another path. Its
  // pages may still want the SDK, through the middleware.
  if (attached) addSdkRoute(routes);
  else addDemoRoutes(routes);
  const httpServer: HttpServer | HttpsServer = server ?? (tls === undefined ? createServer() : createHttpsServer(tls));
  const wsPath = attached ? (path ?? '/') : undefined;
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const peerjs = peerJsSocketQuery(request, settings.peerjsPath);
    if (peerjs !== undefined) {
      const authenticated = settings.authSecret !== '';
      return gateway.handleUpgrade(request, socket, head, (grant) =>
        peerJsHello(peerjs, authenticated, grant?.allowedKey),
      );
    }
    if (wsPath !== undefined && pathOf(request) !== wsPath) {
      // Another upgrade listener of the app may want it; if there is none, nobody will answer.
      if (httpServer.listenerCount('upgrade') === 1) refuseUpgrade(socket, 404, '');
      return;
    }
    gateway.handleUpgrade(request, socket, head);
  };
  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    if (!routes.handle(request, response)) routes.notFound(response);
  };
  // Once listening, the server's own errors are failed accepts: out of file
  // descriptors (EMFILE, ENFILE), mostly. Unhandled, they would end the
  // process; the connection is refused (libuv closes it) and the next is
  // tried. Logged once a second at most: a flood would repeat it per attempt.
  let acceptErrorLoggedAt = -Infinity;
  const onServerError = (error: NodeJS.ErrnoException): void => {
    const at = Date.now();
    if (at - acceptErrorLoggedAt < 1_000) return;
    acceptErrorLoggedAt = at;
    logger?.error(
      { event: 'accept-failed', code: error.code, error: error.message },
      'cannot accept a connection; refusing connections until some close',
    );
  };
  httpServer.on('upgrade', onUpgrade);
  if (!attached) httpServer.on('request', onRequest);

  let closing: Promise<void> | undefined;
  return {
    httpServer,
    settings,
    metricsRegistry: metrics?.registry,
    stats: () => core.stats(),
    health,
    handleRequest: (request, response) => routes.handle(request, response),
    middleware: routes.middleware(),
    reloadTls() {
      if (tls === undefined) return;
      (httpServer as HttpsServer).setSecureContext(readTls(settings));
    },
    listen() {
      if (attached) return Promise.reject(new Error('this Sigver server is attached to an existing HTTP server'));
      return new Promise<ListeningAddress>((resolve, reject) => {
        const onError = (error: Error): void => reject(error);
        httpServer.once('error', onError);
        httpServer.listen(settings.port, settings.host, () => {
          httpServer.off('error', onError);
          httpServer.on('error', onServerError);
          const { port } = httpServer.address() as AddressInfo;
          const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
          const scheme = tls === undefined ? 'ws' : 'wss';
          resolve({ host: settings.host, port, url: `${scheme}://${host}:${port}` });
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
          httpServer.off('error', onServerError);
          httpServer.closeAllConnections();
        }
        await stopped;
      })();
      return closing;
    },
  };
}

/** Reads the PEM files named by the TLS settings. */
function readTls(settings: Settings): SecureContextOptions {
  const read = (file: string, flag: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new SettingError(`${flag}: cannot read "${file}" (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  const options: SecureContextOptions = {
    cert: read(settings.tlsCert, '--tls-cert'),
    key: read(settings.tlsKey, '--tls-key'),
  };
  if (settings.tlsCa !== '') options.ca = read(settings.tlsCa, '--tls-ca');
  try {
    // Parse now, so a bad file is one clear error at start-up rather than a failed handshake later.
    createSecureContext(options);
  } catch (error) {
    throw new SettingError(`--tls-cert/--tls-key: ${(error as Error).message}`);
  }
  return options;
}

function closeHttp(server: HttpServer | HttpsServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}
