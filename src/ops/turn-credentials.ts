// Time-limited TURN credentials in the TURN REST API scheme that coturn
// implements (use-auth-secret / static-auth-secret): the username is
// "expiry:id", the credential base64(HMAC-SHA1(secret, username)).

import { createHmac, randomBytes } from 'node:crypto';
import type { IceServer, IceServersResponse } from '../protocol/index.js';

/** What {@link iceServers} needs. */
export interface TurnConfig {
  /** The secret shared with the TURN server. */
  readonly secret: string;
  /** `stun:`, `stuns:`, `turn:` and `turns:` URLs. STUN URLs get no credentials. */
  readonly urls: readonly string[];
  /** Lifetime of the credentials, seconds. */
  readonly ttlSeconds: number;
}

/**
 * The credential coturn expects for `username`: base64 of HMAC-SHA1 keyed
 * with the shared secret.
 */
export function turnCredential(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}

/**
 * Builds the ICE server list with fresh credentials. `nowMs` is wall-clock
 * time (epoch ms); `id` names the user in the TURN server's logs (default:
 * random).
 *
 * @example
 * iceServers({ secret, urls: ['turn:turn.example.com:3478'], ttlSeconds: 86_400 }, Date.now())
 * // { iceServers: [{ urls: [...], username: '1718086400:9f86d081', credential: '...' }], ttl: 86400, expiresAt: 1718086400 }
 */
export function iceServers(config: TurnConfig, nowMs: number, id = randomBytes(8).toString('hex')): IceServersResponse {
  const expiresAt = Math.floor(nowMs / 1000) + config.ttlSeconds;
  const stun = config.urls.filter((url) => url.startsWith('stun'));
  const turn = config.urls.filter((url) => url.startsWith('turn'));
  const servers: IceServer[] = [];
  if (stun.length > 0) servers.push({ urls: stun });
  if (turn.length > 0) {
    const username = `${expiresAt}:${id}`;
    servers.push({ urls: turn, username, credential: turnCredential(config.secret, username) });
  }
  return { iceServers: servers, ttl: config.ttlSeconds, expiresAt };
}
