// The address a request comes from: the socket's peer, or behind trusted
// reverse proxies the address the nearest untrusted hop had, read from
// X-Forwarded-For.

import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { TrustedProxies, unmapped } from './trusted-proxies.js';

/**
 * How much of X-Forwarded-For is read, from its end: the hops that matter
 * are the last ones, and a client can send a header of any length.
 */
export const MAX_FORWARDED_CHARS = 1_024;

/**
 * The client address of a request, for per-address limits and logs.
 * X-Forwarded-For is read only when the TCP peer is a trusted proxy. With
 * the boolean form (any peer trusted), its last entry: the one the proxy in
 * front of Sigver appended. With a list, the header is walked from the right,
 * skipping the entries of trusted proxies; the first other one is the client
 * (entries to its left come from the client and can be forged). An entry
 * that is not an IP address ends the walk at the hop before it.
 * IPv4-mapped IPv6 addresses are shown as IPv4.
 */
export function clientAddress(request: IncomingMessage, proxies: TrustedProxies | boolean): string {
  const trust = typeof proxies === 'boolean' ? new TrustedProxies(proxies) : proxies;
  const peer = unmapped(request.socket.remoteAddress ?? 'unknown');
  if (!trust.enabled || !trust.trusts(peer)) return peer;
  const header = request.headers['x-forwarded-for'];
  if (header === undefined) return peer;
  // Several X-Forwarded-For headers are one list (RFC 9110, 5.3); Node joins them with ", ".
  const full = Array.isArray(header) ? header.join(',') : header;
  const list =
    full.length > MAX_FORWARDED_CHARS ? full.slice(full.indexOf(',', full.length - MAX_FORWARDED_CHARS) + 1) : full;
  let client = peer;
  let end = list.length;
  while (end > 0) {
    const comma = list.lastIndexOf(',', end - 1);
    const entry = unmapped(list.slice(comma + 1, end).trim());
    end = comma;
    if (isIP(entry) === 0) break;
    client = entry;
    if (trust.any || !trust.trusts(entry)) break;
  }
  return client;
}
