// The signaling core without sockets: time-dependent rules on a manual clock.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CoreHarness } from '../support/core-harness.js';

function hostWithJoiner(h: CoreHarness): {
  host: ReturnType<CoreHarness['open']>;
  joiner: ReturnType<CoreHarness['open']>;
  token: string;
} {
  const host = h.open('v1');
  h.send(host, { key: 'k' });
  const { token } = host.messages[0] as { token: string };
  const joiner = h.open('v1');
  h.send(joiner, { joinkey: 'k' });
  return { host, joiner, token };
}

test('the resume grace lasts exactly resumeGraceMs', () => {
  const h = new CoreHarness({ resumeGraceMs: 1_000 });
  const { host, joiner } = hostWithJoiner(h);
  h.end(host, 'abrupt');
  h.clock.advance(999);
  assert.deepEqual(joiner.messages, [{ reachable: 'true' }]);
  assert.equal(h.core.stats().hostsAway, 1);
  h.clock.advance(1);
  assert.deepEqual(joiner.messages, [{ reachable: 'true' }, { leave: 0 }]);
  assert.deepEqual(h.core.stats(), { connections: 1, keys: 0, joiners: 0, hostsAway: 0 });
});

test('a resume within the grace cancels its timer', () => {
  const h = new CoreHarness({ resumeGraceMs: 1_000 });
  const { host, joiner, token } = hostWithJoiner(h);
  h.end(host, 'abrupt');
  h.clock.advance(500);
  const again = h.open('v1');
  h.send(again, { key: 'k', token });
  assert.deepEqual(again.messages, [{ registered: 'k', token }, { join: 1 }]);
  assert.equal(h.clock.pendingTimers, 0);
  h.clock.advance(5_000);
  assert.deepEqual(joiner.messages, [{ reachable: 'true' }]);
});

test('with a grace of 0 a dropped v1 host leaves at once', () => {
  const h = new CoreHarness({ resumeGraceMs: 0 });
  const { host, joiner } = hostWithJoiner(h);
  h.end(host, 'abrupt');
  assert.deepEqual(joiner.messages.at(-1), { leave: 0 });
  assert.equal(h.clock.pendingTimers, 0);
});

test('the rate limit closes 1008 and releases the session at once', () => {
  const h = new CoreHarness({ rateLimit: 1, rateBurst: 2 });
  const { host, joiner } = hostWithJoiner(h);
  h.send(joiner, { candidate: 1 });
  h.send(joiner, { candidate: 2 });
  assert.deepEqual(joiner.closed, { code: 1008, reason: 'Rate limit exceeded' });
  assert.equal(joiner.session.released, true);
  assert.deepEqual(host.messages.slice(1), [{ join: 1 }, { candidate: 1, id: 1 }, { leave: 1 }]);
  h.clock.advance(1_000);
  h.send(host, { ping: 1 });
  assert.deepEqual(host.messages.at(-1), { pong: 1 }, 'the host has its own bucket');
});

test('dissolveAll frees keys in grace and cancels their timers', () => {
  const h = new CoreHarness();
  const { host } = hostWithJoiner(h);
  h.end(host, 'abrupt');
  h.core.dissolveAll();
  assert.equal(h.core.stats().keys, 0);
  assert.equal(h.clock.pendingTimers, 0);
});
