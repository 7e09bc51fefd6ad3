// Access tokens: compact JWTs signed with HMAC-SHA256 (HS256) that let a
// client connect when the server requires authentication, optionally for
// one key only. Any JWT library can mint them; so can `sigver token`.

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ACCESS_TOKEN_SUBPROTOCOL_PREFIX, normalizeKey } from '../protocol/index.js';

/** What a token says. */
export interface AccessClaims {
  /** Expiry, seconds since the Unix epoch (JWT `exp`). */
  readonly expiresAt: number;
  /** The only key the bearer may host or join (JWT claim `key`); absent: any key. */
  readonly key?: string | number;
}

/** The outcome of checking a token. */
export type AccessVerdict =
  | { readonly ok: true; readonly allowedKey: string | null; readonly expiresAt: number }
  | { readonly ok: false; readonly reason: 'malformed' | 'signature' | 'expired' | 'not-yet-valid' };

/** The JOSE header of every token, base64url of `{"alg":"HS256","typ":"JWT"}`. */
const HEADER = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url');

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Mints a token.
 *
 * @example
 * const token = mintAccessToken(secret, { expiresAt: Math.floor(Date.now() / 1000) + 3600, key: 'room-1' });
 */
export function mintAccessToken(secret: string, claims: AccessClaims): string {
  const payload: Record<string, unknown> = { exp: claims.expiresAt };
  if (claims.key !== undefined) payload.key = claims.key;
  const body = `${HEADER}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${body}.${sign(secret, body).toString('base64url')}`;
}

/**
 * Checks a token's signature, algorithm, expiry (`exp`, required), `nbf` if
 * present, and `key` if present (it must be a valid key; it is returned in
 * canonical form). `nowMs` is wall-clock time, epoch milliseconds.
 */
export function verifyAccessToken(token: string, secret: string, nowMs: number): AccessVerdict {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) return { ok: false, reason: 'malformed' };
  const [headerText, payloadText, signatureText] = parts as [string, string, string];
  const header = decodeJson(headerText);
  // Only HS256: never let the token pick its algorithm ("none", RS256 with the secret as a public key...).
  if (header === undefined || header.alg !== 'HS256') return { ok: false, reason: 'malformed' };
  const expected = sign(secret, `${headerText}.${payloadText}`);
  const signature = Buffer.from(signatureText, 'base64url');
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
    return { ok: false, reason: 'signature' };
  }
  const payload = decodeJson(payloadText);
  if (payload === undefined || typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) {
    return { ok: false, reason: 'malformed' };
  }
  const now = nowMs / 1000;
  if (now >= payload.exp) return { ok: false, reason: 'expired' };
  if (payload.nbf !== undefined) {
    if (typeof payload.nbf !== 'number') return { ok: false, reason: 'malformed' };
    if (now < payload.nbf) return { ok: false, reason: 'not-yet-valid' };
  }
  let allowedKey: string | null = null;
  if (payload.key !== undefined) {
    const key = normalizeKey(payload.key);
    if (key === undefined) return { ok: false, reason: 'malformed' };
    allowedKey = key;
  }
  return { ok: true, allowedKey, expiresAt: payload.exp };
}

/**
 * The access token a request carries: the `token` query parameter, else a
 * `sigver.auth.<token>` WebSocket subprotocol entry, else an
 * `Authorization: Bearer <token>` header.
 */
export function accessTokenOf(request: IncomingMessage): string | undefined {
  const url = request.url ?? '/';
  const query = url.indexOf('?');
  if (query >= 0) {
    const token = new URLSearchParams(url.slice(query + 1)).get('token');
    if (token !== null && token !== '') return token;
  }
  const protocols = request.headers['sec-websocket-protocol'];
  if (protocols !== undefined) {
    for (const entry of protocols.split(',')) {
      const protocol = entry.trim();
      if (
        protocol.startsWith(ACCESS_TOKEN_SUBPROTOCOL_PREFIX) &&
        protocol.length > ACCESS_TOKEN_SUBPROTOCOL_PREFIX.length
      ) {
        return protocol.slice(ACCESS_TOKEN_SUBPROTOCOL_PREFIX.length);
      }
    }
  }
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match !== null) return match[1];
  }
  return undefined;
}

/** An HTTP refusal for a request without a valid token. */
export interface AuthRefusal {
  readonly status: 401;
  readonly message: string;
}

/** Checks a request's access token: the key it allows, or a 401 refusal. */
export function authenticate(
  request: IncomingMessage,
  secret: string,
  nowMs: number,
): { readonly allowedKey: string | null } | AuthRefusal {
  return authenticateToken(accessTokenOf(request), secret, nowMs);
}

/** Checks an access token found elsewhere (a PeerJS client's `key`): the key it allows, or a 401 refusal. */
export function authenticateToken(
  token: string | undefined,
  secret: string,
  nowMs: number,
): { readonly allowedKey: string | null } | AuthRefusal {
  if (token === undefined) return { status: 401, message: 'Access token required' };
  const verdict = verifyAccessToken(token, secret, nowMs);
  if (verdict.ok) return { allowedKey: verdict.allowedKey };
  return { status: 401, message: verdict.reason === 'expired' ? 'Access token expired' : 'Invalid access token' };
}

function sign(secret: string, body: string): Buffer {
  return createHmac('sha256', secret).update(body).digest();
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
