// Composition root: builds a Sigver server from options: the signaling core,
// its backplane, the WebSocket gateway, and the operations features (metrics,
// logs, origins, per-address limit, authentication, TURN credentials) that
// the settings turn on. The parts live in server/: the upgrade checks, the
// HTTP routes, TLS loading, the listen/close lifecycle, and what each layer
// is given of the settings.

import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { MemoryBackplane } from './cluster/memory-backplane.js';
import type { Backplane, Clock, SecretSource, SignalingObserver } from './core/ports.js';
import { Signaling, type SignalingStats } from './core/signaling.js';
import { SettingError, resolveSettings, type Settings } from './options.js';
import { clientAddress } from './ops/client-address.js';
import { combineObservers } from './ops/combine-observers.js';
import { ConnectionLog } from './ops/connection-log.js';
import { healthReport, type HealthReport } from './ops/health.js';
import { SigverMetrics } from './ops/metrics.js';
import { OriginPolicy } from './ops/origin-policy.js';
import { TrustedProxies } from './ops/trusted-proxies.js';
import { randomSecret, systemClock } from './runtime/system-clock.js';
import { gatewayLimits, signalingLimits } from './server/layer-settings.js';
import { Lifecycle, type ListeningAddress } from './server/lifecycle.js';
import { sigverRoutes } from './server/routes.js';
import { readTls } from './server/tls.js';
import { upgradeChecks } from './server/upgrade-checks.js';
import type { RequestMiddleware } from './transport/http-routes.js';
import { WebSocketGateway, type UpgradeCheck } from './transport/websocket-gateway.js';

export type { ListeningAddress };

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
    upgradeChecks: extraChecks,
    logger,
    metricsRegistry,
    wallClock,
    ...partial
  } = options;
  const settings = resolveSettings(partial);
  if (server !== undefined && settings.tlsCert !== '') {
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
  if (settings.turnSecret !== '' && settings.authSecret === '') {
    logger?.warn(
      { event: 'turn-credentials-open' },
      'TURN credentials are served to anyone: without --auth-secret any website or program can get them from /ice-servers and relay through your TURN server (--allow-origin does not stop programs)',
    );
  }

  // The metrics read the core's counts at scrape time only, after it exists.
  const source = { stats: () => core.stats(), census: () => core.census(), topicStats: () => core.topicStats() };
  const metrics = settings.metrics
    ? new SigverMetrics(source, metricsRegistry === undefined ? {} : { registry: metricsRegistry })
    : undefined;
  const log = logger === undefined ? undefined : new ConnectionLog(logger, addressOf);
  const observers = combineObservers([observer, metrics?.observer, log?.observer]);
  const core: Signaling = new Signaling({
    limits: signalingLimits(settings),
    backplane: backplane ?? new MemoryBackplane(),
    clock: clock ?? systemClock,
    secret: secret ?? randomSecret,
    observer: observers,
  });

  const { checks, limiter } = upgradeChecks(settings, origins, addressOf, now, extraChecks);
  const gateway = new WebSocketGateway(core, gatewayLimits(settings), checks, {
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
  const routes = sigverRoutes(settings, {
    health,
    metrics,
    origins,
    now,
    peerIds: (realm, limit) => core.peerIds(realm, limit),
    attached: server !== undefined,
  });
  const lifecycle = new Lifecycle({
    server,
    path,
    tls,
    gateway,
    routes,
    logger,
    listenOn: { port: settings.port, host: settings.host },
    peerjsPath: settings.peerjsPath,
    authenticated: settings.authSecret !== '',
    shutdownGraceMs: settings.shutdownGraceMs,
  });

  return {
    httpServer: lifecycle.httpServer,
    settings,
    metricsRegistry: metrics?.registry,
    stats: () => core.stats(),
    health,
    handleRequest: (request, response) => routes.handle(request, response),
    middleware: routes.middleware(),
    reloadTls() {
      if (tls !== undefined) lifecycle.setSecureContext(readTls(settings));
    },
    listen: () => lifecycle.listen(),
    close: () => lifecycle.close(),
  };
}
