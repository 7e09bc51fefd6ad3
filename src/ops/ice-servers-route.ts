// GET /ice-servers: fresh TURN credentials for browsers and SDK clients,
// only to allowed origins and, when authentication is on, to holders of a
// valid access token. Cross-origin pages get the CORS headers they need.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate } from './access-token.js';
import type { OriginPolicy } from './origin-policy.js';
import { iceServers, type TurnConfig } from './turn-credentials.js';

/** What the route needs. */
export interface IceServersRouteOptions {
  /** The servers to vend; undefined: none, answered as `{"iceServers": []}`. */
  readonly turn: TurnConfig | undefined;
  readonly origins: OriginPolicy;
  /** The access token secret; empty: no authentication. */
  readonly authSecret: string;
  /** Wall-clock time, epoch ms. */
  readonly now: () => number;
}

/**
 * The answer of a server with no STUN or TURN URL. A list that is empty,
 * rather than a 404, is what a page or an SDK reads as "none" without an
 * error in the browser's console.
 */
const NONE = { iceServers: [] };

/** The GET and preflight handlers of `/ice-servers`. */
export function iceServersRoute(options: IceServersRouteOptions): {
  get(request: IncomingMessage, response: ServerResponse): void;
  preflight(request: IncomingMessage, response: ServerResponse): void;
} {
  const { origins } = options;
  return {
    get(request, response) {
      const origin = request.headers.origin;
      if (!origins.allows(origin)) return plain(response, 403, 'Origin not allowed', {});
      const cors = corsHeaders(origin);
      if (options.authSecret !== '') {
        const auth = authenticate(request, options.authSecret, options.now());
        if ('status' in auth) return plain(response, auth.status, auth.message, cors);
      }
      const body = JSON.stringify(options.turn === undefined ? NONE : iceServers(options.turn, options.now()));
      response.writeHead(200, { ...cors, 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : body);
    },
    preflight(request, response) {
      const origin = request.headers.origin;
      if (!origins.allows(origin)) return plain(response, 403, 'Origin not allowed', {});
      response.writeHead(204, {
        ...corsHeaders(origin),
        'access-control-allow-methods': 'GET, HEAD',
        'access-control-allow-headers': 'authorization',
        'access-control-max-age': '600',
      });
      response.end();
    },
  };
}

/** The allowed origin is echoed (not `*`), so that a credentialed page may read the answer too. */
function corsHeaders(origin: string | undefined): Record<string, string> {
  return origin === undefined ? { vary: 'Origin' } : { 'access-control-allow-origin': origin, vary: 'Origin' };
}

function plain(response: ServerResponse, status: number, message: string, headers: Record<string, string>): void {
  response.writeHead(status, { ...headers, 'content-type': 'text/plain', 'cache-control': 'no-store' });
  response.end(`${message}\n`);
}
