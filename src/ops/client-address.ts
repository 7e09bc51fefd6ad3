// The address a request comes from: the socket's peer, or behind a trusted
// reverse proxy the address that proxy saw (the last X-Forwarded-For entry).

import type { IncomingMessage } from 'node:http';

/**
 * The client address of a request, for per-address limits and logs. With
 * `trustProxy`, the last `X-Forwarded-For` entry: the one the proxy in front
 * of Sigver appended (entries to its left come from the client and can be
 * forged). IPv4-mapped IPv6 addresses are shown as IPv4.
 */
export function clientAddress(request: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const header = request.headers['x-forwarded-for'];
    // Several X-Forwarded-For headers are one list (RFC 9110, 5.3); Node joins them with ", ".
    const list = Array.isArray(header) ? header.join(',') : header;
    if (list !== undefined) {
      const last = list.slice(list.lastIndexOf(',') + 1).trim();
      if (last !== '') return unmapped(last);
    }
  }
  return unmapped(request.socket.remoteAddress ?? 'unknown');
}

function unmapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
