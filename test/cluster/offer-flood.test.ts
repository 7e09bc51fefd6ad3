// Issue #11 row 5, across processes: 256 joiners on one process flood offers
// at a host on another that reads but never answers, then all leave. Before
// the answer queue was capped and O(1), the host's process stalled long enough
// to be declared dead: every cross-process pair broke and its keys could be
// taken. Here a bystander pair spanning the two processes must carry on, no one
// is closed 1011, and the flooded host keeps its key.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TestClient } from '../support/client.js';
import { withTimeout } from '../support/waits.js';
import { redisForFile } from './redis-server.js';
import { spawnSigver } from '../support/sigver-process.js';

const redis = redisForFile();

const JOINERS_PER_DIALECT = 128;
/** Most of the default burst of 200 messages per connection. */
const OFFERS = 190;
/** The default --max-pending-offers. */
const MAX_PENDING_OFFERS = 1_024;
/** Generous: a liveness check on a busy machine, not a timing. */
const WAIT_MS = 30_000;

test('a flood of unanswered offers across processes breaks no other cross-process pair', async (t) => {
  const [a, b] = await Promise.all([spawnSigver(t, ['--redis', redis.url]), spawnSigver(t, ['--redis', redis.url])]);
  const clients: TestClient[] = [];
  t.after(() => clients.forEach((client) => client.ws.terminate()));
  const connect = async (url: string, dialect: 'v0' | 'v1'): Promise<TestClient> => {
    const client = await TestClient.connect(url, dialect);
    clients.push(client);
    return client;
  };

  // A bystander pair: host on A, joiner on B.
  const bystanderHost = await connect(a.url, 'v1');
  bystanderHost.send({ key: 'bystander' });
  assert.deepEqual(((await bystanderHost.next(WAIT_MS)) as { registered?: string }).registered, 'bystander');
  const bystanderJoiner = await connect(b.url, 'v1');
  bystanderJoiner.send({ joinkey: 'bystander' });
  assert.deepEqual(await bystanderJoiner.next(WAIT_MS), { reachable: 'true' });
  const joinedAs = (await bystanderHost.next(WAIT_MS)) as { join?: number };
  assert.equal(typeof joinedAs.join, 'number');

  // The flooded host on A reads everything and answers nothing.
  const host = await connect(a.url, 'v1');
  host.send({ key: 'never-answers' });
  assert.deepEqual(((await host.next(WAIT_MS)) as { registered?: string }).registered, 'never-answers');
  let offersRead = 0;
  let offersExpected = 0;
  let allRead = (): void => {};
  host.ws.on('message', (data: Buffer) => {
    if (!data.toString().startsWith('{"offer"')) return;
    offersRead += 1;
    if (offersRead === offersExpected) allRead();
  });
  const join = async (dialect: 'v0' | 'v1'): Promise<TestClient> => {
    const joiner = await connect(b.url, dialect);
    joiner.send({ joinkey: 'never-answers' });
    assert.deepEqual(await joiner.next(WAIT_MS), { reachable: 'true' });
    return joiner;
  };
  const old = await Promise.all(Array.from({ length: JOINERS_PER_DIALECT }, () => join('v0')));
  const modern = await Promise.all(Array.from({ length: JOINERS_PER_DIALECT }, () => join('v1')));

  for (const joiner of old) {
    offersExpected += OFFERS;
    const read = new Promise<void>((resolve) => (allRead = resolve));
    for (let i = 0; i < OFFERS; i += 1) joiner.send({ offer: 'o' });
    await withTimeout(read, 'the host to read the offers', WAIT_MS);
  }
  // Refusals come from the host's process over Redis, so they may trail a
  // joiner's own pong: count them as they come.
  const expectedRefusals = JOINERS_PER_DIALECT * OFFERS - (MAX_PENDING_OFFERS - JOINERS_PER_DIALECT);
  let refused = 0;
  let allRefused = (): void => {};
  const refusedAll = new Promise<void>((resolve) => (allRefused = resolve));
  for (const joiner of modern) {
    joiner.ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { error?: { code: string } };
      assert.equal(message.error?.code, 'TOO_MANY_OFFERS', data.toString());
      refused += 1;
      if (refused === expectedRefusals) allRefused();
    });
    for (let i = 0; i < OFFERS; i += 1) joiner.send({ offer: 'o' });
  }
  await withTimeout(refusedAll, 'the offers past the cap to be refused', WAIT_MS);
  for (const joiner of [...old, ...modern]) joiner.ws.close();
  await Promise.all([...old, ...modern].map((joiner) => joiner.waitClose(WAIT_MS)));

  assert.equal(refused, expectedRefusals, 'the queue stops at --max-pending-offers');

  // The bystander pair completes its handshake across the processes.
  bystanderJoiner.send({ offer: { type: 'offer', sdp: 'o' } });
  assert.deepEqual(await bystanderHost.next(WAIT_MS), { offer: { type: 'offer', sdp: 'o' }, id: joinedAs.join });
  bystanderHost.send({ answer: { type: 'answer', sdp: 'a' }, id: joinedAs.join });
  assert.deepEqual(await bystanderJoiner.next(WAIT_MS), { answer: { type: 'answer', sdp: 'a' } });

  // Nobody lost a key: the flooded host is still reachable from the other process.
  const late = await connect(b.url, 'v0');
  late.send({ joinkey: 'never-answers' });
  assert.deepEqual(await late.next(WAIT_MS), { reachable: 'true' });
  for (const client of [bystanderHost, bystanderJoiner, host]) {
    assert.equal(client.ws.readyState, client.ws.OPEN, 'no pair was closed');
  }
  assert.deepEqual(
    [a, b].flatMap((sigver) => sigver.stderr.filter((line) => /"level":(50|60)/.test(line))),
    [],
    'no errors logged',
  );
});
