// The backplane contract against RedisBackplane on a real redis-server, and
// what only a cluster has: lapsed processes and keys, Redis going away and
// coming back, and keys taken over.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import {
  DEFAULT_REDIS_TIMINGS,
  RedisBackplane,
  RedisBackplaneError,
  type RedisBackplaneOptions,
} from '../../src/cluster/redis-backplane.js';
import type { Envelope, RoomAddress } from '../../src/core/ports.js';
import { ManualClock } from '../support/core-harness.js';
import { backplaneContract, RecordingHandler } from './backplane-contract.js';
import { freePort, RedisServer, redisForFile } from './redis-server.js';

/** The address of room `number` of `key` on process `processId`. */
function roomOf(key: string, processId: string, number = 1): RoomAddress {
  return { key, process: processId, room: number };
}

const redis = redisForFile();

let prefixes = 0;
/** Backplanes sharing a key prefix of their own (one cluster per test), closed after the test. */
function cluster(t: TestContext, options: Partial<RedisBackplaneOptions> = {}) {
  const keyPrefix = `test${++prefixes}:`;
  return {
    keyPrefix,
    async newProcess(extra: Partial<RedisBackplaneOptions> = {}): Promise<RedisBackplane> {
      const backplane = await RedisBackplane.connect({ url: redis.url, keyPrefix, ...options, ...extra });
      t.after(() => backplane.close());
      return backplane;
    },
  };
}

/** Quick timings, so that lapses happen within a test. */
const FAST = {
  livenessIntervalMs: 50,
  processTtlMs: 200,
  keyTtlMs: 400,
  keyRefreshMs: 100,
  commandTimeoutMs: 500,
} as const;

const { livenessIntervalMs, processTtlMs, keyRefreshMs } = DEFAULT_REDIS_TIMINGS;

/**
 * Moves the backplanes' manual clock on by `ms`, then waits until every
 * repeating task that fell due has finished its Redis round trips (each sets
 * its next timer when it is over).
 */
async function tick(clock: ManualClock, ms: number): Promise<void> {
  const armed = clock.pendingTimers;
  clock.advance(ms);
  await clock.untilPending(armed);
}

/** A plain Redis client for the test's own reads and writes, closed after the test. */
function rawClient(t: TestContext): Redis {
  const raw = new Redis(redis.url);
  t.after(() => raw.disconnect());
  return raw;
}

function joinEnvelope(to: string, fromProcess: string): Envelope {
  return {
    to: 'room',
    room: { key: 'k', process: to, room: 1 },
    command: { type: 'join', from: { process: fromProcess, conn: 9 }, dialect: 'v1' },
  };
}

backplaneContract({
  name: 'RedisBackplane',
  manyProcesses: true,
  fixture: async (t) => cluster(t),
});

test('a process that stops renewing is reported lost to those it dealt with, and its keys can be claimed', async (t) => {
  const clients: Redis[] = [];
  const clock = new ManualClock();
  const { newProcess, keyPrefix } = cluster(t, { clock });
  const a = await newProcess({
    createClient: (options) => track(clients, new Redis(redis.url, { ...options, replyMapping: 'legacy' })),
  });
  const b = await newProcess();
  const handler = new RecordingHandler();
  b.attach(handler);
  assert.equal(await a.claim(roomOf('k', a.processId)), true);
  b.post(a.processId, joinEnvelope(a.processId, b.processId));
  // As if killed: A's connections drop and it never renews anything again;
  // its liveness key lapses (deleted here rather than waited for).
  for (const client of clients) client.disconnect();
  await rawClient(t).del(`${keyPrefix}process:${a.processId}`);
  const lapsed = clock.now();
  while (handler.lostProcesses.length === 0 && clock.now() - lapsed < processTtlMs + livenessIntervalMs) {
    await tick(clock, livenessIntervalMs);
  }
  assert.deepEqual(handler.lostProcesses, [a.processId]);
  assert.ok(clock.now() - lapsed <= processTtlMs + livenessIntervalMs, `reported after ${clock.now() - lapsed} ms`);
  assert.equal(await b.locate('k'), undefined, "the dead process's room is not found");
  assert.equal(await b.claim(roomOf('k', b.processId)), true, "the dead process's key is free");
});

test('a process cut off for longer than its liveness is declared dead, and drops its side when it is back', async (t) => {
  const clients: Redis[] = [];
  const clock = new ManualClock();
  const { newProcess, keyPrefix } = cluster(t, { clock });
  const a = await newProcess({
    createClient: (options) => track(clients, new Redis(redis.url, { ...options, replyMapping: 'legacy' })),
  });
  const b = await newProcess();
  const onA = new RecordingHandler();
  const onB = new RecordingHandler();
  a.attach(onA);
  b.attach(onB);
  a.post(b.processId, joinEnvelope(b.processId, a.processId));
  b.post(a.processId, joinEnvelope(a.processId, b.processId));
  for (const client of clients) client.disconnect();
  await rawClient(t).del(`${keyPrefix}process:${a.processId}`);
  while (onB.lostProcesses.length === 0 && clock.now() <= processTtlMs + livenessIntervalMs) {
    await tick(clock, livenessIntervalMs);
  }
  assert.deepEqual(onB.lostProcesses, [a.processId]);
  await Promise.all(clients.map((client) => client.connect()));
  await onA.until('B dropped by A', () => onA.lostProcesses.length > 0);
  assert.deepEqual(onA.lostProcesses, [b.processId]);
});

test('a process whose liveness lapsed unnoticed keeps its pairs', async (t) => {
  const clock = new ManualClock();
  const { newProcess, keyPrefix } = cluster(t, { clock });
  const a = await newProcess();
  const b = await newProcess();
  const onA = new RecordingHandler();
  a.attach(onA);
  a.post(b.processId, joinEnvelope(b.processId, a.processId));
  const liveness = `${keyPrefix}process:${a.processId}`;
  const raw = rawClient(t);
  // Nobody judged A while its key was gone (no tombstone): when it renews it, it drops nothing.
  await raw.del(liveness);
  await tick(clock, livenessIntervalMs);
  assert.equal(await raw.exists(liveness), 1, 'A renewed its liveness');
  await tick(clock, livenessIntervalMs);
  assert.deepEqual(onA.lostProcesses, []);
});

test('an owner never renews or deletes a key that another process took; it is told it lost the key', async (t) => {
  const clock = new ManualClock();
  const { newProcess, keyPrefix } = cluster(t, { clock });
  const a = await newProcess();
  const handler = new RecordingHandler();
  a.attach(handler);
  assert.equal(await a.claim(roomOf('k', a.processId)), true);
  const raw = rawClient(t);
  const theirs = JSON.stringify({ key: 'k', process: 'someone-else', room: 5 });
  await raw.set(`${keyPrefix}key:k`, theirs, 'PX', 60_000);
  await tick(clock, keyRefreshMs);
  assert.deepEqual(handler.lostKeys, ['k']);
  a.release('k');
  assert.equal(await raw.get(`${keyPrefix}key:k`), theirs);
  assert.ok((await raw.pttl(`${keyPrefix}key:k`)) > 50_000, 'its lifetime was not changed');
});

test('a key whose owner stops renewing it lapses after keyTtlMs', async (t) => {
  const clients: Redis[] = [];
  const { newProcess, keyPrefix } = cluster(t, FAST);
  const a = await newProcess({
    createClient: (options) => track(clients, new Redis(redis.url, { ...options, replyMapping: 'legacy' })),
  });
  assert.equal(await a.claim(roomOf('k', a.processId)), true);
  const raw = new Redis(redis.url);
  t.after(() => raw.disconnect());
  const ttl = await raw.pttl(`${keyPrefix}key:k`);
  assert.ok(ttl > 0 && ttl <= FAST.keyTtlMs, `key ttl ${ttl}`);
  assert.ok((await raw.pttl(`${keyPrefix}process:${a.processId}`)) <= FAST.processTtlMs);
});

test('an envelope that reaches no process goes back to the core, which decides the answer', async (t) => {
  const { newProcess } = cluster(t);
  const a = await newProcess();
  const handler = new RecordingHandler();
  a.attach(handler);
  a.post('nobody', joinEnvelope('nobody', a.processId));
  await handler.until('the envelope back', () => handler.undeliverable.length > 0);
  assert.deepEqual(handler.undeliverable, [[joinEnvelope('nobody', a.processId), 'process-gone']]);
  assert.deepEqual(handler.delivered, []);
});

test('closing frees the keys and the liveness of the process at once', async (t) => {
  const { newProcess, keyPrefix } = cluster(t);
  const a = await newProcess();
  const b = await newProcess();
  assert.equal(await a.claim(roomOf('k', a.processId)), true);
  await a.close();
  const raw = new Redis(redis.url);
  t.after(() => raw.disconnect());
  assert.equal(await raw.exists(`${keyPrefix}process:${a.processId}`), 0);
  assert.equal(await b.claim(roomOf('k', b.processId)), true);
});

test('refuses to start, with one readable line, when Redis cannot be reached', async () => {
  const port = await freePort();
  await assert.rejects(RedisBackplane.connect({ url: `redis://:secret@127.0.0.1:${port}` }), (error: unknown) => {
    assert.ok(error instanceof RedisBackplaneError);
    assert.equal(error.code, 'SIGVER_REDIS_UNAVAILABLE');
    assert.equal(
      error.message,
      `cannot reach Redis at redis://:***@127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    return true;
  });
});

test('rejects bad options when built', () => {
  const cases: Array<[Partial<RedisBackplaneOptions>, RegExp]> = [
    [{ url: 'http://127.0.0.1' }, /not a Redis URL/],
    [{ url: 'nonsense' }, /not a Redis URL/],
    [{}, /URL/],
    [{ url: 'redis://h', livenessIntervalMs: 0 }, /livenessIntervalMs/],
    [{ url: 'redis://h', livenessIntervalMs: 5_000, processTtlMs: 5_000 }, /shorter than processTtlMs/],
    [{ url: 'redis://h', keyRefreshMs: 20_000 }, /shorter than keyTtlMs/],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => new RedisBackplane(options),
      (error: unknown) => {
        assert.ok(error instanceof RedisBackplaneError, JSON.stringify(options));
        assert.equal(error.code, 'SIGVER_INVALID_REDIS_OPTION');
        assert.match(error.message, message);
        return true;
      },
    );
  }
});

test('while Redis is down, claims and lookups fail at once; when it is back, keys are claimed again', async (t) => {
  const own = await RedisServer.start(t);
  const keyPrefix = 'restart:';
  const events: string[] = [];
  const wait = new RecordingHandler();
  const make = async (name: string) => {
    const backplane = await RedisBackplane.connect({
      url: own.url,
      keyPrefix,
      events: {
        disconnected: () => {
          events.push(`${name} disconnected`);
          wait.processLost(name);
        },
        reconnected: () => {
          events.push(`${name} reconnected`);
          wait.deliver({ to: 'peer', peer: { process: name, conn: 0 }, effect: { type: 'orphaned' } });
        },
      },
    });
    t.after(() => backplane.close());
    return backplane;
  };
  const a = await make('a');
  const b = await make('b');
  const handler = new RecordingHandler();
  a.attach(handler);
  assert.equal(await a.claim(roomOf('k', a.processId, 2)), true);
  await own.kill();
  const started = performance.now();
  await assert.rejects(Promise.resolve(b.claim(roomOf('new', b.processId))));
  await assert.rejects(Promise.resolve(b.locate('k')));
  assert.ok(performance.now() - started < 200, 'failures are immediate');
  // Once b knows Redis is gone, what it posts comes back at once.
  await wait.until('b disconnected', () => wait.lostProcesses.includes('b'));
  const onB = new RecordingHandler();
  b.attach(onB);
  b.post(a.processId, joinEnvelope(a.processId, b.processId));
  await onB.until('the envelope back', () => onB.undeliverable.length > 0);
  assert.deepEqual(onB.undeliverable, [[joinEnvelope(a.processId, b.processId), 'backplane-down']]);
  await own.start();
  await wait.until('both reconnected', () => wait.delivered.length >= 2, 5_000);
  assert.deepEqual(events.filter((e) => e.endsWith('disconnected')).sort(), ['a disconnected', 'b disconnected']);
  assert.equal(await b.claim(roomOf('k', b.processId)), false, "the live room's key was claimed again");
  assert.deepEqual(await b.locate('k'), { key: 'k', process: a.processId, room: 2 });
  b.post(a.processId, joinEnvelope(a.processId, b.processId));
  await handler.until('delivery after the restart', () => handler.delivered.length > 0);
  assert.equal(handler.lostProcesses.length, 0, 'nobody was declared dead by the restart');
});

function track(clients: Redis[], client: Redis): Redis {
  clients.push(client);
  return client;
}

test('the envelopes one turn posts to a process arrive all, in the order posted, across batches', async (t) => {
  const { newProcess } = cluster(t);
  const a = await newProcess();
  const b = await newProcess();
  const handler = new RecordingHandler();
  b.attach(handler);
  const sent = Array.from({ length: 150 }, (_, i) => joinEnvelope(b.processId, `p${i}`));
  for (const envelope of sent) a.post(b.processId, envelope);
  await handler.until('every envelope', () => handler.delivered.length >= sent.length);
  assert.deepEqual(handler.delivered, sent);
});

test('a batch from Redis is taken apart with bounds: at most 64 envelopes, anything else in it dropped', async (t) => {
  const { newProcess, keyPrefix } = cluster(t);
  const b = await newProcess();
  const handler = new RecordingHandler();
  b.attach(handler);
  const raw = rawClient(t);
  const channel = `${keyPrefix}process:${b.processId}`;
  const good = (i: number) => joinEnvelope(b.processId, `p${i}`);
  await raw.publish(channel, JSON.stringify([good(1), 42, [good(2)], null, 'text', { to: 'nowhere' }, good(3)]));
  await raw.publish(channel, JSON.stringify(Array.from({ length: 70 }, (_, i) => good(100 + i))));
  await raw.publish(channel, '[');
  await raw.publish(channel, JSON.stringify(good(999)));
  await handler.until('the last envelope', () =>
    handler.delivered.some((e) => JSON.stringify(e) === JSON.stringify(good(999))),
  );
  assert.deepEqual(handler.delivered, [
    good(1),
    good(3),
    ...Array.from({ length: 64 }, (_, i) => good(100 + i)),
    good(999),
  ]);
});
