// Failures of a cluster, with real redis-server processes and real Sigver
// processes where a process must die: SIGKILL of a process, Redis restarted
// under live pairs, Redis down while running, Redis unreachable at start.

import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test, type TestContext } from 'node:test';
import { TestClient } from '../support/client.js';
import { startCluster, type ClusterNode } from './cluster-node.js';
import { freePort, RedisServer } from './redis-server.js';
import { runSigver, spawnSigver } from '../support/sigver-process.js';

/** What the protocol bounds: partners told within 10 s of a process dying (default settings). */
const FAILURE_BOUND_MS = 10_000;

async function client(t: TestContext, url: string, dialect: 'v0' | 'v1' = 'v0'): Promise<TestClient> {
  const c = await TestClient.connect(url, dialect);
  t.after(() => c.ws.terminate());
  return c;
}

async function join(t: TestContext, url: string, key: string, dialect: 'v0' | 'v1'): Promise<TestClient> {
  const joiner = await client(t, url, dialect);
  joiner.send({ joinkey: key });
  assert.deepEqual(await joiner.next(), { reachable: 'true' }, `joined ${key}`);
  return joiner;
}

async function registerV1(t: TestContext, url: string, key: string): Promise<TestClient> {
  const host = await client(t, url, 'v1');
  host.send({ key });
  assert.equal(((await host.next()) as { registered: string }).registered, key);
  return host;
}

test("a process killed with SIGKILL: its keys are freed and its peers' partners told within 10 s", async (t) => {
  const redis = await RedisServer.start(t);
  const [a, b] = await Promise.all([spawnSigver(t, ['--redis', redis.url]), spawnSigver(t, ['--redis', redis.url])]);

  // Rooms on A with joiners on B, in both dialects.
  const v1Host = await registerV1(t, a.url, 'on-a');
  const v1Joiner = await join(t, b.url, 'on-a', 'v1');
  assert.deepEqual(await v1Host.next(), { join: 1 });
  const v0Host = await client(t, a.url);
  v0Host.send({ key: 'v0-on-a' });
  // v0 has no acknowledgement: a v1 joiner on the same process shows the room is there.
  await join(t, a.url, 'v0-on-a', 'v1');
  const unanswered = await join(t, b.url, 'v0-on-a', 'v0');
  const answered = await join(t, b.url, 'v0-on-a', 'v0');
  answered.send({ offer: 'o' });
  assert.deepEqual(await v0Host.next(), { offer: 'o' });
  v0Host.send({ answer: 'a' });
  assert.deepEqual(await answered.next(), { answer: 'a' });
  // A room on B with a joiner on A.
  const hostOnB = await registerV1(t, b.url, 'on-b');
  await join(t, a.url, 'on-b', 'v1');
  assert.deepEqual(await hostOnB.next(), { join: 1 });

  const killedAt = performance.now();
  await a.kill();
  const told = (what: string) => (value: unknown) => {
    t.diagnostic(`${what} told after ${Math.round(performance.now() - killedAt)} ms`);
    return value;
  };
  const [leave, closed, left] = await Promise.all([
    v1Joiner.next(FAILURE_BOUND_MS).then(told('v1 joiner')),
    unanswered.waitClose(FAILURE_BOUND_MS).then(told('unanswered v0 joiner')),
    hostOnB.next(FAILURE_BOUND_MS).then(told('host of the joiner on A')),
  ]);
  const elapsed = performance.now() - killedAt;
  assert.deepEqual(leave, { leave: 0 });
  assert.deepEqual(closed, { code: 1008, reason: 'The peer is no longer available' });
  assert.deepEqual(left, { leave: 1 });
  assert.ok(elapsed < FAILURE_BOUND_MS, `told after ${elapsed} ms`);

  // The answered v0 joiner stays connected, and can no longer offer.
  answered.send({ offer: 'again' });
  assert.deepEqual(await answered.waitClose(), { code: 1008, reason: 'The peer is no longer available' });
  // The dead process's keys are free: another process may register them.
  await registerV1(t, b.url, 'on-a');
  const v0Again = await client(t, b.url, 'v1');
  v0Again.send({ key: 'v0-on-a' });
  assert.equal(((await v0Again.next()) as { registered: string }).registered, 'v0-on-a');
});

test('Redis restarted under live pairs: keys are claimed again, every pair carries on, new keys wait until Redis settled', async (t) => {
  const redis = await RedisServer.start(t);
  const [a, b] = (await startCluster(t, redis.url, 2)) as [ClusterNode, ClusterNode];
  const localHost = await registerV1(t, a.url, 'local');
  const localJoiner = await join(t, a.url, 'local', 'v1');
  assert.deepEqual(await localHost.next(), { join: 1 });
  const crossHost = await registerV1(t, a.url, 'cross');
  const crossJoiner = await join(t, b.url, 'cross', 'v1');
  assert.deepEqual(await crossHost.next(), { join: 1 });

  const back = Promise.all([a.next('reconnected', 10_000), b.next('reconnected', 10_000)]);
  await redis.restart();
  await back;

  localJoiner.send({ offer: 'local offer' });
  assert.deepEqual(await localHost.next(), { offer: 'local offer', id: 1 });
  crossJoiner.send({ offer: 'cross offer' });
  assert.deepEqual(await crossHost.next(), { offer: 'cross offer', id: 1 });
  crossHost.send({ answer: 'cross answer', id: 1 });
  assert.deepEqual(await crossJoiner.next(), { answer: 'cross answer' });

  // Both keys were claimed again: taken for the other process, and still found by it.
  const other = await client(t, b.url, 'v1');
  other.send({ key: 'local' });
  assert.equal(((await other.next()) as { error: { code: string } }).error.code, 'KEY_TAKEN');
  other.send({ key: 'cross' });
  assert.equal(((await other.next()) as { error: { code: string } }).error.code, 'KEY_TAKEN');
  await join(t, b.url, 'local', 'v1');
  assert.deepEqual(await localHost.next(), { join: 2 });
  // New keys are refused while Redis settles (the live processes claim theirs
  // again first, for one liveness period), then registered again.
  const newcomer = await client(t, b.url, 'v1');
  newcomer.send({ key: 'after-restart' });
  assert.equal(((await newcomer.next()) as { error: { code: string } }).error.code, 'UNAVAILABLE');
  const settledBy = performance.now() + 10_000;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 250)); // polling a client would, not synchronization
    newcomer.send({ key: 'after-restart' });
    const reply = (await newcomer.next()) as { registered?: string; error?: { code: string } };
    if (reply.registered === 'after-restart') break;
    assert.equal(reply.error?.code, 'UNAVAILABLE');
    assert.ok(performance.now() < settledBy, 'new keys registered again within 10 s of the restart');
  }
  assert.equal(a.server.stats().joiners + b.server.stats().joiners, 3);
});

test('Redis down while running: new keys are refused (v1 UNAVAILABLE, v0 1011) while local pairs carry on', async (t) => {
  const redis = await RedisServer.start(t);
  const [node] = (await startCluster(t, redis.url, 1)) as [ClusterNode];
  const v0Host = await client(t, node.url);
  const registered = node.next('keyRegistered');
  v0Host.send({ key: 'v0-local' });
  await registered;
  const v0Joiner = await join(t, node.url, 'v0-local', 'v0');
  const v1Host = await registerV1(t, node.url, 'v1-local');
  const v1Joiner = await join(t, node.url, 'v1-local', 'v1');
  assert.deepEqual(await v1Host.next(), { join: 1 });

  const down = node.next('disconnected');
  await redis.kill();
  await down;

  const v1 = await client(t, node.url, 'v1');
  const unavailable = {
    error: { code: 'UNAVAILABLE', message: 'The server cannot register keys right now; try again later' },
  };
  v1.send({ key: 'new' });
  assert.deepEqual(await v1.next(), unavailable);
  v1.send({ key: null });
  assert.deepEqual(await v1.next(), unavailable);
  v1.send({ joinkey: 'maybe-on-another-process' });
  assert.deepEqual(await v1.next(), unavailable);
  v1.send({ key: 'v1-local' });
  assert.equal(
    ((await v1.next()) as { error: { code: string } }).error.code,
    'KEY_TAKEN',
    'a local key is known taken',
  );
  const v0 = await client(t, node.url);
  v0.send({ key: 'new' });
  assert.deepEqual(await v0.waitClose(), { code: 1011, reason: 'Service unavailable' });

  v0Joiner.send({ offer: 'o' });
  assert.deepEqual(await v0Host.next(), { offer: 'o' });
  v0Host.send({ answer: 'a' });
  assert.deepEqual(await v0Joiner.next(), { answer: 'a' });
  v1Joiner.send({ candidate: 'c' });
  assert.deepEqual(await v1Host.next(), { candidate: 'c', id: 1 });
  v1Host.send({ candidate: 'd' });
  assert.deepEqual(await v1Joiner.next(), { candidate: 'd' });
  // A newcomer still joins a key of this process.
  await join(t, node.url, 'v1-local', 'v1');
  assert.deepEqual(await v1Host.next(), { join: 2 });
});

test('Redis unreachable at start: one error line and exit code 1', async () => {
  const port = await freePort();
  const result = await runSigver(['--port', '0', '--host', '127.0.0.1', '--redis', `redis://127.0.0.1:${port}`]);
  assert.equal(result.code, 1);
  assert.deepEqual(result.stdout, []);
  assert.deepEqual(result.stderr, [
    `sigver: cannot reach Redis at redis://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`,
  ]);
});

test('a bad Redis URL: one error line and exit code 1', async () => {
  const result = await runSigver(['--port', '0', '--redis', 'http://127.0.0.1:6379']);
  assert.equal(result.code, 1);
  assert.deepEqual(result.stderr, ['sigver: not a Redis URL: "http://127.0.0.1:6379" (expected redis://HOST:PORT)']);
});
