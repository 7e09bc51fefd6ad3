// Each layer is given the settings it reads: the core and the gateway never
// see a secret, whatever the settings hold.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveSettings } from '../../src/options.js';
import { gatewayLimits, signalingLimits } from '../../src/server/layer-settings.js';

const SECRETS = {
  authSecret: 'an access-token secret of at least 32 bytes, here',
  turnSecret: 'a TURN REST secret',
} as const;

test('the core and the gateway get their limits and no secret', () => {
  const settings = resolveSettings({ ...SECRETS, turnUrl: ['turn:turn.example.com'], maxJoiners: 7, byteRate: 1_000 });
  for (const [layer, given] of Object.entries({
    core: signalingLimits(settings),
    gateway: gatewayLimits(settings),
  })) {
    const text = JSON.stringify(given);
    for (const secret of Object.values(SECRETS)) assert.ok(!text.includes(secret), `${layer} got a secret: ${text}`);
    assert.ok(!/secret|tls/i.test(Object.keys(given).join(' ')), `${layer}: ${Object.keys(given).join(', ')}`);
  }
  assert.equal(signalingLimits(settings).maxJoiners, 7);
  assert.equal(gatewayLimits(settings).byteRate, 1_000);
});
