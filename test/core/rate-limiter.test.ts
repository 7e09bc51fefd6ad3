import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenBucket } from '../../src/core/rate-limiter.js';

test('a token bucket allows its burst at once, then its rate', () => {
  const bucket = new TokenBucket(10, 5, 0);
  for (let i = 0; i < 5; i += 1) assert.ok(bucket.take(0));
  assert.equal(bucket.take(0), false);
  assert.equal(bucket.take(99), false, 'less than one token refilled after 99 ms at 10/s');
  assert.ok(bucket.take(100));
  assert.equal(bucket.take(100), false);
  assert.ok(bucket.take(10_000));
  for (let i = 0; i < 4; i += 1) assert.ok(bucket.take(10_000), 'refill stops at the burst');
  assert.equal(bucket.take(10_000), false);
});
