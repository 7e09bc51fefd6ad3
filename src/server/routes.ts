// Sigver's HTTP routes: /health, /metrics, /ice-servers, PeerJS's id and
// peers routes, and the SDK bundle with (when Sigver has its own server) the
// test page at `/`.

import type { Settings } from '../options.js';
import type { HealthReport } from '../ops/health.js';
import { iceServersRoute } from '../ops/ice-servers-route.js';
import type { SigverMetrics } from '../ops/metrics.js';
import type { OriginPolicy } from '../ops/origin-policy.js';
import { peerJsRoutes, type PeerJsEndpointOptions } from '../ops/peerjs-routes.js';
import { addDemoRoutes, addSdkRoute } from '../transport/demo-routes.js';
import { HttpRoutes } from '../transport/http-routes.js';

/** What the routes read of the settings. */
export type RouteSettings = Pick<
  Settings,
  'turnUrl' | 'turnSecret' | 'turnTtlSeconds' | 'authSecret' | 'peerjsPath' | 'peerjsDiscovery'
>;

/** What the routes answer from. */
export interface RouteSources {
  readonly health: () => HealthReport;
  readonly metrics: SigverMetrics | undefined;
  readonly origins: OriginPolicy;
  /** Wall-clock time, epoch ms. */
  readonly now: () => number;
  /** Up to `limit` PeerJS ids of `realm`. */
  readonly peerIds: PeerJsEndpointOptions['peerIds'];
  /**
   * Attached to an app's server: the app keeps its own `/`; and the page,
   * which signals on `/`, would not find a Sigver mounted on another path.
   * Its pages may still want the SDK.
   */
  readonly attached: boolean;
}

export function sigverRoutes(settings: RouteSettings, sources: RouteSources): HttpRoutes {
  const { metrics, origins, now } = sources;
  const routes = new HttpRoutes();
  routes.json('/health', sources.health);
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
      peerIds: sources.peerIds,
    }),
  );
  if (sources.attached) addSdkRoute(routes);
  else addDemoRoutes(routes);
  return routes;
}
