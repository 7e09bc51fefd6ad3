// The checks every WebSocket upgrade passes before it is accepted, in order:
// the Origin, the per-address limit, the access token; then the embedder's.

import type { IncomingMessage } from 'node:http';
import type { Settings } from '../options.js';
import { authenticate, authenticateToken } from '../ops/access-token.js';
import { AddressLimiter } from '../ops/address-limiter.js';
import type { OriginPolicy } from '../ops/origin-policy.js';
import { peerJsKeyOf, peerJsSocketQuery } from '../ops/peerjs-routes.js';
import type { UpgradeCheck } from '../transport/websocket-gateway.js';

/** What the checks read of the settings. */
export type UpgradeCheckSettings = Pick<Settings, 'maxConnectionsPerAddress' | 'authSecret' | 'peerjsPath'>;

/** The checks, and the per-address limiter when there is one (its count must be released at each close). */
export interface UpgradeChecks {
  readonly checks: readonly UpgradeCheck[];
  readonly limiter: AddressLimiter | undefined;
}

export function upgradeChecks(
  settings: UpgradeCheckSettings,
  origins: OriginPolicy,
  addressOf: (request: IncomingMessage) => string,
  now: () => number,
  extra: readonly UpgradeCheck[] = [],
): UpgradeChecks {
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
  const { authSecret, peerjsPath } = settings;
  if (authSecret !== '') {
    checks.push((request) => {
      // A PeerJS client's `token` is its own session secret: its access token travels in `key`.
      const peerjs = peerJsSocketQuery(request, peerjsPath);
      const auth =
        peerjs === undefined
          ? authenticate(request, authSecret, now())
          : authenticateToken(peerJsKeyOf(peerjs), authSecret, now());
      return 'status' in auth ? auth : { grant: { allowedKey: auth.allowedKey } };
    });
  }
  checks.push(...extra);
  return { checks, limiter };
}
