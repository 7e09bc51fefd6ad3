// Asks a Sigver server for its ICE servers (GET /ice-servers): STUN URLs and
// time-limited TURN credentials, when the server hands them out.

import type { IceServer } from '../protocol/ice-servers.js';

/** Options of {@link fetchIceServers}. */
export interface FetchIceServersOptions {
  /** Access token, when the server requires authentication (sent as a Bearer header). */
  readonly token?: string | undefined;
  /** Cancels the request. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * The ICE servers a Sigver server vends at `GET /ice-servers`, or `[]` when
 * it vends none (an empty list; older servers answered 404). `url` is the server's WebSocket or HTTP URL; the path
 * is replaced. Other failures reject.
 *
 * @example
 * const iceServers = await fetchIceServers('wss://signal.example.com/');
 * const { channel } = await connectPeer({ url, key, role: 'joiner', rtcConfig: { iceServers } });
 */
export async function fetchIceServers(url: string, options: FetchIceServersOptions = {}): Promise<IceServer[]> {
  const endpoint = new URL('/ice-servers', url.replace(/^ws(s?):/, 'http$1:'));
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(endpoint, {
    headers,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  if (response.status === 404) return [];
  if (!response.ok) throw new Error(`GET ${endpoint.href} answered ${response.status} ${response.statusText}`);
  const body = (await response.json()) as { iceServers?: unknown };
  if (!Array.isArray(body.iceServers)) throw new Error(`GET ${endpoint.href} did not return iceServers`);
  return body.iceServers as IceServer[];
}
