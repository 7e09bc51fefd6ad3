// The PeerJS endpoints under `--peerjs-path` (default `/`), as `peer` serves
// them: `GET {path}{key}/id` (a server-assigned id), `GET {path}{key}/peers`
// (discovery, off by default) and the socket `{path}peerjs?key=&id=&token=`.
// The `key` carries the access token when `--auth-secret` is set, and names
// the realm of ids otherwise (docs/PROTOCOL.md, PeerJS).

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  DEFAULT_PEERJS_REALM,
  PEERJS_ERRORS,
  PEERJS_SOCKET_SEGMENT,
  V1_SUBPROTOCOL,
  isPeerJsRealm,
  parsePeerJsQuery,
} from '../protocol/index.js';
import { authenticateToken } from './access-token.js';
import type { OriginPolicy } from './origin-policy.js';

/** Most ids one discovery answer lists. */
export const MAX_DISCOVERED_PEERS = 10_000;

/** What the PeerJS endpoints need. */
export interface PeerJsEndpointOptions {
  /** The mount path, starting and ending with `/`. */
  readonly path: string;
  readonly discovery: boolean;
  readonly origins: OriginPolicy;
  /** The access token secret; empty: no authentication. */
  readonly authSecret: string;
  /** Wall-clock time, epoch ms. */
  readonly now: () => number;
  /** Up to `limit` ids of a realm, all processes together. */
  peerIds(realm: string, limit: number): string[] | Promise<string[]>;
}

/** The realm a PeerJS `key` opens, or the refusal: a 401 for a bad access token, a 404 for a bad realm name. */
export type RealmVerdict = { readonly realm: string } | { readonly status: 401 | 404; readonly message: string };

/** The PeerJS socket's request, if `request` is one: a path of `{path}peerjs` with a `key` in its query. */
export function peerJsSocketQuery(request: IncomingMessage, mountPath: string): string | undefined {
  const url = request.url ?? '/';
  const mark = url.indexOf('?');
  if (mark < 0 || url.slice(0, mark) !== `${mountPath}${PEERJS_SOCKET_SEGMENT}`) return undefined;
  const search = url.slice(mark + 1);
  if (!new URLSearchParams(search).has('key')) return undefined;
  // A Sigver v1 client that happens to use this path stays a v1 client.
  const protocols = request.headers['sec-websocket-protocol'];
  if (protocols?.split(',').some((entry) => entry.trim() === V1_SUBPROTOCOL) === true) return undefined;
  return search;
}

/** The `key` of a PeerJS socket's query (its access token, with authentication on). */
export function peerJsKeyOf(search: string): string | undefined {
  const key = new URLSearchParams(search).get('key');
  return key === null || key === '' ? undefined : key;
}

/**
 * The hello of a PeerJS socket, given the grant of the upgrade's checks:
 * without authentication the `key` names the realm; with it, the realm is
 * the token's `key` claim, or `peerjs` for a token without one.
 */
export function peerJsHello(
  search: string,
  authenticated: boolean,
  allowedKey: string | null | undefined,
): { readonly realm: string; readonly id: string; readonly token: string } | { readonly error: string } {
  const query = parsePeerJsQuery(search);
  if ('error' in query) return query;
  const { key, id, token } = query;
  if (authenticated) return { realm: allowedKey ?? DEFAULT_PEERJS_REALM, id, token };
  return isPeerJsRealm(key) ? { realm: key, id, token } : { error: PEERJS_ERRORS.INVALID_KEY };
}

/** Answers `GET {path}{key}/id` and `GET {path}{key}/peers`; false for any other request. */
export function peerJsRoutes(
  options: PeerJsEndpointOptions,
): (request: IncomingMessage, response: ServerResponse) => boolean {
  const { path, origins } = options;
  return (request, response) => {
    const url = request.url ?? '/';
    const mark = url.indexOf('?');
    const pathname = mark < 0 ? url : url.slice(0, mark);
    if (!pathname.startsWith(path)) return false;
    const rest = pathname.slice(path.length).split('/');
    if (rest.length !== 2 || rest[0] === '' || (rest[1] !== 'id' && rest[1] !== 'peers')) return false;
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    const origin = request.headers.origin;
    if (!origins.allows(origin)) {
      plain(response, 403, 'Origin not allowed', {});
      return true;
    }
    const cors: Record<string, string> =
      origin === undefined ? { vary: 'Origin' } : { 'access-control-allow-origin': origin, vary: 'Origin' };
    let key: string;
    try {
      key = decodeURIComponent(rest[0]!);
    } catch {
      plain(response, 404, 'Not found', cors);
      return true;
    }
    const verdict = realmOf(key, options);
    if ('status' in verdict) {
      plain(response, verdict.status, verdict.message, cors);
      return true;
    }
    if (rest[1] === 'id') {
      // As `peer`: a random UUID, as text/html.
      response.writeHead(200, { ...cors, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : randomUUID());
      return true;
    }
    if (!options.discovery) {
      // `peer` answers 401 without allow_discovery; the PeerJS client explains it.
      plain(response, 401, 'Discovery is off (--peerjs-discovery)', cors);
      return true;
    }
    Promise.resolve(options.peerIds(verdict.realm, MAX_DISCOVERED_PEERS)).then(
      (ids) => {
        response.writeHead(200, { ...cors, 'content-type': 'application/json', 'cache-control': 'no-store' });
        response.end(request.method === 'HEAD' ? undefined : JSON.stringify(ids));
      },
      () => plain(response, 503, 'Service unavailable', cors),
    );
    return true;
  };
}

function realmOf(key: string, options: PeerJsEndpointOptions): RealmVerdict {
  if (options.authSecret === '') {
    return isPeerJsRealm(key) ? { realm: key } : { status: 404, message: PEERJS_ERRORS.INVALID_KEY };
  }
  const auth = authenticateToken(key, options.authSecret, options.now());
  if ('status' in auth) return { status: 401, message: auth.message };
  return { realm: auth.allowedKey ?? DEFAULT_PEERJS_REALM };
}

function plain(response: ServerResponse, status: number, message: string, headers: Record<string, string>): void {
  response.writeHead(status, { ...headers, 'content-type': 'text/plain', 'cache-control': 'no-store' });
  response.end(`${message}\n`);
}
