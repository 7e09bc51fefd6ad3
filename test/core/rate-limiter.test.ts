import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimit } from '../../src/core/rate-limiter.js';

test('a token bucket allows its burst at once, then its rate', () => {
  const limit = new RateLimit(10, 5);
  const bucket = { tokens: 5, refilledAt: 0 };
  for (let i = 0; i < 5; i += 1) assert.ok(limit.take(bucket, 0));
  assert.equal(limit.take(bucket, 0), false);
  assert.equal(limit.take(bucket, 99), false, 'less than one token refilled after 99 ms at 10/s');
  assert.ok(limit.take(bucket, 100));
  assert.equal(limit.take(bucket, 100), false);
  assert.ok(limit.take(bucket, 10_000));
  for (let i = 0; i < 4; i += 1) assert.ok(limit.take(bucket, 10_000), 'refill stops at the burst');
  assert.equal(limit.take(bucket, 10_000), false);
});
