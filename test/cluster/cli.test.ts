// The sigver command in cluster mode: a host on one process and a joiner on
// another, each process started from the command line, and a clean stop.

import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test, type TestContext } from 'node:test';
import { TestClient } from '../support/client.js';
import { RedisServer } from './redis-server.js';
import { spawnSigver } from '../support/sigver-process.js';

async function client(t: TestContext, url: string, dialect: 'v0' | 'v1'): Promise<TestClient> {
  const c = await TestClient.connect(url, dialect);
  t.after(() => c.ws.terminate());
  return c;
}

test('processes started with --redis or SIGVER_REDIS_URL serve one host and its joiner across them', async (t) => {
  const redis = await RedisServer.start(t);
  const [a, b] = await Promise.all([
    spawnSigver(t, ['--redis', redis.url]),
    spawnSigver(t, [], { SIGVER_REDIS_URL: redis.url }),
  ]);

  const host = await client(t, a.url, 'v1');
  host.send({ key: 'cli-v1' });
  const { token } = (await host.next()) as { token: string };
  assert.equal(typeof token, 'string');
  const joiner = await client(t, b.url, 'v1');
  joiner.send({ joinkey: 'cli-v1' });
  assert.deepEqual(await joiner.next(), { reachable: 'true' });
  assert.deepEqual(await host.next(), { join: 1 });
  joiner.send({ offer: 'o' });
  assert.deepEqual(await host.next(), { offer: 'o', id: 1 });
  host.send({ answer: 'a', id: 1 });
  assert.deepEqual(await joiner.next(), { answer: 'a' });

  const v0Host = await client(t, b.url, 'v0');
  v0Host.send({ key: 'cli-v0' });
  // No acknowledgement in v0: a v1 joiner on the host's process shows the room exists.
  const probe = await client(t, b.url, 'v1');
  probe.send({ joinkey: 'cli-v0' });
  assert.deepEqual(await probe.next(), { reachable: 'true' });
  const v0Joiner = await client(t, a.url, 'v0');
  v0Joiner.send({ joinkey: 'cli-v0' });
  assert.deepEqual(await v0Joiner.next(), { reachable: 'true' });
  v0Joiner.send({ offer: 'o' });
  assert.deepEqual(await v0Host.next(), { offer: 'o' });
  v0Host.send({ answer: 'a' });
  assert.deepEqual(await v0Joiner.next(), { answer: 'a' });
  assert.deepEqual([...a.stderr, ...b.stderr], [], 'nothing to report');
});

test("SIGTERM: a process leaving the cluster tells its peers' partners at once and frees its keys", async (t) => {
  const redis = await RedisServer.start(t);
  const [a, b] = await Promise.all([spawnSigver(t, ['--redis', redis.url]), spawnSigver(t, ['--redis', redis.url])]);
  const host = await client(t, a.url, 'v1');
  host.send({ key: 'leaving' });
  await host.next();
  const joiner = await client(t, b.url, 'v1');
  joiner.send({ joinkey: 'leaving' });
  assert.deepEqual(await joiner.next(), { reachable: 'true' });

  const stoppedAt = performance.now();
  a.child.kill('SIGTERM');
  assert.deepEqual(await host.waitClose(), { code: 1001, reason: 'Server shutting down' });
  assert.deepEqual(await joiner.next(), { leave: 0 });
  const elapsed = performance.now() - stoppedAt;
  t.diagnostic(`joiner told after ${Math.round(elapsed)} ms`);
  assert.ok(elapsed < 2_000, 'told by the leaving process, not by its lapsed liveness');
  assert.equal((await a.exited).code, 0);
  joiner.send({ key: 'leaving' });
  assert.equal(((await joiner.next()) as { registered: string }).registered, 'leaving');
});
