// y-webrtc's signaling protocol frame by frame, over real sockets: what a
// subscriber receives from Sigver is what y-webrtc's own server
// (bin/server.js) sends it, and where Sigver differs on purpose
// (docs/PROTOCOL.md, y-webrtc dialect) the test says so. Then what only
// Sigver has: bad input ignored, access tokens in the query, metrics, logs.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { mintAccessToken } from '../../src/ops/access-token.js';
import { TestClient } from '../support/client.js';
import { fetchText, sample } from '../support/http.js';
import { startServer } from '../support/server.js';
import { startNativeServer } from '../support/y-webrtc-stage.js';

const SECRET = 'y-webrtc protocol test secret of 32+ bytes';

async function subscriber(url: string, ...topics: string[]): Promise<TestClient> {
  const client = await TestClient.connect(url);
  client.send({ type: 'subscribe', topics });
  // The pong says the subscription before it is in place.
  client.send({ type: 'ping' });
  assert.deepEqual(await client.next(), { type: 'pong' });
  return client;
}

/** The messages a client gets before the pong to a ping sent now: all that was on its way to it. */
async function untilPong(client: TestClient): Promise<unknown[]> {
  client.send({ type: 'ping' });
  const got: unknown[] = [];
  for (;;) {
    const message = await client.next();
    if ((message as { type?: unknown }).type === 'pong') return got;
    got.push(message);
  }
}

/** What three subscribers of one topic and one of another see of one publication. */
async function exchange(url: string): Promise<{ others: unknown[]; publisher: unknown[]; stranger: unknown[] }> {
  const [a, b, c] = [await subscriber(url, 'doc'), await subscriber(url, 'doc'), await subscriber(url, 'doc')];
  const stranger = await subscriber(url, 'elsewhere');
  a.send({ type: 'publish', topic: 'doc', data: { type: 'announce', from: 'a' } });
  const others = [await b.next(), await c.next()];
  const publisher = await untilPong(a);
  const strangerGot = await untilPong(stranger);
  for (const client of [a, b, c, stranger]) client.ws.terminate();
  return { others, publisher, stranger: strangerGot };
}

test("a publication reaches the other subscribers as y-webrtc's server sends it, with clients", async (t: TestContext) => {
  const sigver = await startServer(t);
  const native = await startNativeServer(t);
  const expected = { type: 'publish', topic: 'doc', data: { type: 'announce', from: 'a' }, clients: 3 };
  const fromSigver = await exchange(`${sigver.url}/any/path`);
  const fromNative = await exchange(native.url);
  assert.deepEqual(fromNative.others, [expected, expected]);
  assert.deepEqual(fromSigver.others, fromNative.others);
  assert.deepEqual(fromSigver.stranger, []);
  assert.deepEqual(fromNative.stranger, []);
  // On purpose: y-webrtc's server sends the publisher its own publication, which its client drops.
  assert.deepEqual(fromNative.publisher, [expected]);
  assert.deepEqual(fromSigver.publisher, []);
});

test("Sigver ignores what it does not understand, where y-webrtc's server would crash or throw", async (t) => {
  const { url } = await startServer(t);
  const a = await subscriber(url, 'doc');
  const b = await subscriber(url, 'doc');
  for (const bad of [
    'not json',
    '[]',
    '{"type":"subscribe","topics":"doc"}',
    '{"type":"subscribe","topics":[1,null,""]}',
    '{"type":"publish","topic":5,"data":1}',
    '{"type":"publish","topic":"not-mine","data":1}',
    '{"type":"unknown"}',
    '{"key":"a v0 frame"}',
  ]) {
    a.send(bad);
  }
  a.send({ type: 'publish', topic: 'doc', data: 'still here' });
  assert.deepEqual(await b.next(), { type: 'publish', topic: 'doc', data: 'still here', clients: 2 });
  assert.deepEqual(await untilPong(a), []);
});

test('access token in the query, its key naming the one topic; metrics and the end of the connection say ywebrtc', async (t) => {
  const lines: Array<Record<string, unknown>> = [];
  const { url } = await startServer(t, {
    authSecret: SECRET,
    observer: { ended: (conn, dialect) => lines.push({ conn, dialect }) },
  });
  await assert.rejects(TestClient.connect(url), /401/, 'no token, no connection');
  const token = mintAccessToken(SECRET, { expiresAt: Math.floor(Date.now() / 1000) + 60, key: 'doc' });
  const a = await subscriber(`${url}/?token=${token}`, 'doc', 'forbidden');
  const b = await subscriber(`${url}/?token=${token}`, 'forbidden');
  a.send({ type: 'publish', topic: 'forbidden', data: 1 });
  assert.deepEqual(await untilPong(b), [], 'b is not subscribed to a topic its token does not allow');
  const metrics = await fetchText(`${url.replace('ws:', 'http:')}/metrics`);
  assert.equal(sample(metrics.body, 'sigver_connections_opened_total', { dialect: 'ywebrtc' }), 2);
  assert.equal(sample(metrics.body, 'sigver_connections_opened_total', { dialect: 'v0' }), 0);
  assert.equal(sample(metrics.body, 'sigver_connections', { dialect: 'ywebrtc', role: 'none' }), 2);
  assert.equal(sample(metrics.body, 'sigver_refusals_total', { code: 'KEY_FORBIDDEN' }), 2);
  assert.equal(sample(metrics.body, 'sigver_refusals_total', { code: 'NOT_SUBSCRIBED' }), 1);
  assert.equal(sample(metrics.body, 'sigver_topics'), 1);
  await a.close();
  assert.deepEqual(
    lines.map((line) => line.dialect),
    ['ywebrtc'],
  );
});
