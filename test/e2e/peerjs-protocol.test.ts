// PeerJS's server protocol frame by frame, over real sockets: what a PeerJS
// client receives from Sigver is what `peer` 1.0.2 sends it (each exchange
// runs against both), then what only Sigver has: bad input answered with
// ERROR, access tokens in `key`, realms, origins, metrics, and two
// processes over Redis.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { RedisBackplane } from '../../src/cluster/redis-backplane.js';
import { mintAccessToken } from '../../src/ops/access-token.js';
import { RedisServer } from '../cluster/redis-server.js';
import { TestClient } from '../support/client.js';
import { fetchText, sample } from '../support/http.js';
import { startServer } from '../support/server.js';
import { startNativePeer } from '../support/peerjs-stage.js';

const SECRET = 'peerjs protocol test secret of 32+ bytes';
const EXPIRE_MS = 300;

/** A server under test: where its sockets and HTTP routes are. */
interface Target {
  readonly ws: string;
  readonly http: string;
}

async function sigverTarget(t: TestContext, options: Parameters<typeof startServer>[1] = {}): Promise<Target> {
  const { url } = await startServer(t, { peerjsExpireMs: EXPIRE_MS, ...options });
  return { ws: url, http: url.replace('ws://', 'http://') };
}

async function targets(t: TestContext): Promise<Array<[string, Target]>> {
  return [
    ['sigver', await sigverTarget(t)],
    ['peer', await startNativePeer(t, { expireMs: EXPIRE_MS })],
  ];
}

const clients = new Set<TestClient>();

/** A PeerJS socket for `id`, as the client opens it. */
async function socket(target: Target, id: string, token = `token-${id}`, key = 'peerjs'): Promise<TestClient> {
  const client = await TestClient.connect(
    `${target.ws}/peerjs?key=${encodeURIComponent(key)}&id=${encodeURIComponent(id)}&token=${token}&version=1.5.5`,
  );
  clients.add(client);
  return client;
}

/** A registered peer: its socket, past OPEN. */
async function peer(target: Target, id: string, key = 'peerjs'): Promise<TestClient> {
  const client = await socket(target, id, `token-${id}`, key);
  assert.deepEqual(await client.next(), { type: 'OPEN' });
  return client;
}

test.afterEach(() => {
  for (const client of clients) client.ws.terminate();
  clients.clear();
});

const OFFER = {
  type: 'OFFER',
  dst: 'bob',
  payload: {
    sdp: { type: 'offer', sdp: 'v=0\r\n' },
    type: 'data',
    connectionId: 'dc_1',
    label: 'dc_1',
    reliable: true,
  },
};

test('an offer, answer and candidate reach their ids as `peer` relays them, src set by the server', async (t) => {
  for (const [name, target] of await targets(t)) {
    const alice = await peer(target, 'alice');
    const bob = await peer(target, 'bob');
    // A client cannot speak for another id: `src` is the server's.
    alice.send({ ...OFFER, src: 'mallory' });
    assert.deepEqual(await bob.next(), { type: 'OFFER', src: 'alice', dst: 'bob', payload: OFFER.payload }, name);
    bob.send({ type: 'ANSWER', dst: 'alice', payload: { sdp: { type: 'answer', sdp: 'v=0' }, connectionId: 'dc_1' } });
    assert.deepEqual(
      await alice.nextText(),
      '{"type":"ANSWER","src":"bob","dst":"alice","payload":{"sdp":{"type":"answer","sdp":"v=0"},"connectionId":"dc_1"}}',
      name,
    );
    bob.send({ type: 'CANDIDATE', dst: 'alice', payload: { candidate: { candidate: 'c' } } });
    bob.send({ type: 'HEARTBEAT' });
    bob.send({ type: 'LEAVE', dst: 'alice' });
    assert.deepEqual(
      await alice.next(),
      { type: 'CANDIDATE', src: 'bob', dst: 'alice', payload: { candidate: { candidate: 'c' } } },
      name,
    );
    assert.deepEqual(await alice.next(), { type: 'LEAVE', src: 'bob', dst: 'alice' }, name);
  }
});

test('an id held by another session token gets ID-TAKEN, then the close', async (t) => {
  for (const [name, target] of await targets(t)) {
    await peer(target, 'alice');
    const thief = await socket(target, 'alice', 'other-token');
    assert.deepEqual(await thief.next(), { type: 'ID-TAKEN', payload: { msg: 'ID is taken' } }, name);
    await thief.waitClose();
  }
});

test('messages for an id not connected yet wait for it, and reach it after OPEN', async (t) => {
  for (const [name, target] of await targets(t)) {
    const alice = await peer(target, 'alice');
    alice.send(OFFER);
    // Whether the offer is queued or bob is there first, bob gets OPEN, then the offer.
    const late = await socket(target, 'bob');
    const got = [await late.next(), await late.next()];
    assert.deepEqual(
      got,
      [{ type: 'OPEN' }, { type: 'OFFER', src: 'alice', dst: 'bob', payload: OFFER.payload }],
      name,
    );
  }
});

test('messages for an id that never connects expire: the sender gets one EXPIRE per destination', async (t) => {
  for (const [name, target] of await targets(t)) {
    const alice = await peer(target, 'alice');
    alice.send({ ...OFFER, dst: 'nobody' });
    alice.send({ type: 'CANDIDATE', dst: 'nobody', payload: { candidate: {} } });
    assert.deepEqual(await alice.next(), { type: 'EXPIRE', src: 'nobody', dst: 'alice' }, name);
    // Only one: the next thing alice hears is what bob sends her.
    const bob = await peer(target, 'bob');
    bob.send({ type: 'LEAVE', dst: 'alice' });
    assert.deepEqual(await alice.next(), { type: 'LEAVE', src: 'bob', dst: 'alice' }, name);
  }
});

test('a socket without id, token or key gets ERROR, then the close', async (t) => {
  for (const [name, target] of await targets(t)) {
    const client = await TestClient.connect(`${target.ws}/peerjs?key=peerjs&id=alice`);
    clients.add(client);
    assert.deepEqual(
      await client.next(),
      { type: 'ERROR', payload: { msg: 'No id, token, or key supplied to websocket server' } },
      name,
    );
    await client.waitClose();
  }
});

test('GET /{key}/id answers a fresh UUID as text; /peers is 401 without discovery', async (t) => {
  for (const [name, target] of await targets(t)) {
    const first = await fetchText(`${target.http}/peerjs/id?ts=1&version=1.5.5`);
    const second = await fetchText(`${target.http}/peerjs/id`);
    assert.equal(first.status, 200, name);
    assert.match(first.body, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, name);
    assert.notEqual(first.body, second.body);
    assert.match(String(first.headers['content-type']), /^text\/html/, name);
    assert.equal((await fetchText(`${target.http}/peerjs/peers`)).status, 401, name);
  }
});

test('with discovery on, GET /{key}/peers lists the ids of the realm', async (t) => {
  const sigver = await sigverTarget(t, { peerjsDiscovery: true });
  const native = await startNativePeer(t, { discovery: true });
  for (const [name, target] of [
    ['sigver', sigver],
    ['peer', native],
  ] as const) {
    await peer(target, 'alice');
    await peer(target, 'bob');
    const listed = await fetchText(`${target.http}/peerjs/peers`);
    assert.equal(listed.status, 200, name);
    assert.deepEqual((JSON.parse(listed.body) as string[]).sort(), ['alice', 'bob'], name);
  }
  // Sigver's realms: another key lists its own ids only.
  assert.deepEqual(JSON.parse((await fetchText(`${sigver.http}/other/peers`)).body), []);
});

test('Sigver answers bad input with ERROR and a close, never a crash, and keeps serving others', async (t) => {
  const target = await sigverTarget(t, { maxFrameBytes: 4_096 });
  const bob = await peer(target, 'bob');
  const cases: Array<[string, string]> = [
    ['not json', 'Invalid message'],
    ['[1,2]', 'Invalid message'],
    ['{"type":5}', 'Invalid message'],
    ['{"type":"OFFER","dst":{"id":"bob"}}', 'Invalid message'],
    ['{"type":"OFFER","dst":"no/slashes"}', 'Invalid message'],
    [`{"type":"OFFER","dst":"bob","payload":${'['.repeat(40)}${']'.repeat(40)}}`, 'Invalid message'],
  ];
  for (const [frame, msg] of cases) {
    const mallory = await peer(target, 'mallory');
    mallory.send(frame);
    assert.deepEqual(await mallory.next(), { type: 'ERROR', payload: { msg } }, frame);
    assert.equal((await mallory.waitClose()).code, 1008, frame);
  }
  // Too large a frame: closed 1009 by the transport.
  const big = await peer(target, 'big');
  big.send({ type: 'OFFER', dst: 'bob', payload: 'x'.repeat(5_000) });
  assert.equal((await big.waitClose()).code, 1009);
  // A type `peer` has no handler for is ignored, as there; the connection stays.
  const quiet = await peer(target, 'quiet');
  quiet.send({ type: 'SOMETHING', dst: 'bob' });
  quiet.send({ type: 'LEAVE', dst: 'bob' });
  assert.deepEqual(await bob.next(), { type: 'LEAVE', src: 'quiet', dst: 'bob' });
  // Bad ids and keys on the socket.
  for (const [query, msg] of [
    ['key=peerjs&id=-bad-&token=t', 'ID "-bad-" is invalid'],
    [`key=peerjs&id=${'a'.repeat(200)}&token=t`, `ID "${'a'.repeat(128)}" is invalid`],
    [`key=${'k'.repeat(300)}&id=a&token=t`, 'Invalid key provided'],
  ] as const) {
    const client = await TestClient.connect(`${target.ws}/peerjs?${query}`);
    clients.add(client);
    assert.deepEqual(await client.next(), { type: 'ERROR', payload: { msg } }, query);
    await client.waitClose();
  }
});

test('a mailbox holds at most 64 messages: past it the sender gets EXPIRE at once', async (t) => {
  const target = await sigverTarget(t, { peerjsExpireMs: 60_000, rateBurst: 1_000, rateLimit: 1_000 });
  const alice = await peer(target, 'alice');
  for (let i = 0; i < 65; i += 1) alice.send({ type: 'CANDIDATE', dst: 'later', payload: { i } });
  assert.deepEqual(await alice.next(), { type: 'EXPIRE', src: 'later', dst: 'alice' });
  const later = await socket(target, 'later');
  assert.deepEqual(await later.next(), { type: 'OPEN' });
  for (let i = 0; i < 64; i += 1)
    assert.deepEqual(await later.next(), { type: 'CANDIDATE', src: 'alice', dst: 'later', payload: { i } });
});

test('the same session token takes an id over: the old socket is closed 4001', async (t) => {
  const target = await sigverTarget(t);
  const old = await peer(target, 'alice');
  const again = await socket(target, 'alice');
  assert.deepEqual(await again.next(), { type: 'OPEN' });
  assert.equal((await old.waitClose()).code, 4001);
  const bob = await peer(target, 'bob');
  bob.send({ type: 'LEAVE', dst: 'alice' });
  assert.deepEqual(await again.next(), { type: 'LEAVE', src: 'bob', dst: 'alice' });
});

test('without --auth-secret the key names a realm: ids of other keys are apart', async (t) => {
  const target = await sigverTarget(t);
  const a = await peer(target, 'alice', 'app-one');
  // The same id in another realm is not taken.
  await peer(target, 'alice', 'app-two');
  const b = await peer(target, 'bob', 'app-two');
  b.send({ type: 'LEAVE', dst: 'alice' });
  b.send({ ...OFFER, dst: 'carol' });
  // alice of app-one hears nothing from app-two.
  const carol = await peer(target, 'carol', 'app-one');
  a.send({ type: 'LEAVE', dst: 'carol' });
  assert.deepEqual(await carol.next(), { type: 'LEAVE', src: 'alice', dst: 'carol' });
  assert.deepEqual(a.pending, []);
});

test('with --auth-secret the access token travels in key; its key claim names the realm', async (t) => {
  const target = await sigverTarget(t, { authSecret: SECRET });
  const exp = Math.floor(Date.now() / 1000) + 600;
  const token = mintAccessToken(SECRET, { expiresAt: exp });
  const roomToken = mintAccessToken(SECRET, { expiresAt: exp, key: 'room-7' });
  const alice = await peer(target, 'alice', token);
  // Another user's token, same realm (no claim): they reach each other.
  const bob = await peer(target, 'bob', mintAccessToken(SECRET, { expiresAt: exp + 1 }));
  bob.send({ type: 'LEAVE', dst: 'alice' });
  assert.deepEqual(await alice.next(), { type: 'LEAVE', src: 'bob', dst: 'alice' });
  // A token for room-7 is in realm room-7: alice there is another alice.
  await peer(target, 'alice', roomToken);
  for (const [key, msg] of [
    ['peerjs', 'Invalid access token'],
    [mintAccessToken(SECRET, { expiresAt: 1 }), 'Access token expired'],
  ] as const) {
    const refused = await socket(target, 'carol', 't', key);
    assert.deepEqual(await refused.next(), { type: 'ERROR', payload: { msg } });
    await refused.waitClose();
  }
  assert.equal((await fetchText(`${target.http}/${token}/id`)).status, 200);
  assert.equal((await fetchText(`${target.http}/peerjs/id`)).status, 401);
});

test('--allow-origin applies to the socket and to /id; metrics count the dialect', async (t) => {
  const target = await sigverTarget(t, { allowOrigin: ['https://app.example'] });
  const url = `${target.ws}/peerjs?key=peerjs&id=alice&token=t`;
  await assert.rejects(TestClient.connect(url, 'v0', { origin: 'https://evil.example' }));
  const ok = await TestClient.connect(url, 'v0', { origin: 'https://app.example' });
  clients.add(ok);
  assert.deepEqual(await ok.next(), { type: 'OPEN' });
  const id = await fetchText(`${target.http}/peerjs/id`, { headers: { origin: 'https://app.example' } });
  assert.equal(id.headers['access-control-allow-origin'], 'https://app.example');
  assert.equal(
    (await fetchText(`${target.http}/peerjs/id`, { headers: { origin: 'https://evil.example' } })).status,
    403,
  );
  const metrics = await fetchText(`${target.http}/metrics`);
  assert.equal(sample(metrics.body, 'sigver_connections_opened_total', { dialect: 'peerjs' }), 1);
});

test('over Redis: ids are unique across processes, messages cross, mailboxes expire', async (t) => {
  const redis = await RedisServer.start(t);
  const cluster: Target[] = [];
  for (let i = 0; i < 2; i += 1) {
    const backplane = await RedisBackplane.connect({ url: redis.url, keyPrefix: 'peerjs-test:' });
    t.after(() => backplane.close());
    cluster.push(await sigverTarget(t, { backplane }));
  }
  const [one, two] = cluster as [Target, Target];
  const alice = await peer(one, 'alice');
  const bob = await peer(two, 'bob');
  alice.send(OFFER);
  assert.deepEqual(await bob.next(), { type: 'OFFER', src: 'alice', dst: 'bob', payload: OFFER.payload });
  bob.send({ type: 'ANSWER', dst: 'alice', payload: { sdp: 'a' } });
  bob.send({ type: 'CANDIDATE', dst: 'alice', payload: { n: 1 } });
  bob.send({ type: 'CANDIDATE', dst: 'alice', payload: { n: 2 } });
  assert.deepEqual(
    [await alice.next(), await alice.next(), await alice.next()],
    [
      { type: 'ANSWER', src: 'bob', dst: 'alice', payload: { sdp: 'a' } },
      { type: 'CANDIDATE', src: 'bob', dst: 'alice', payload: { n: 1 } },
      { type: 'CANDIDATE', src: 'bob', dst: 'alice', payload: { n: 2 } },
    ],
  );
  const thief = await socket(two, 'alice', 'other-token');
  assert.deepEqual(await thief.next(), { type: 'ID-TAKEN', payload: { msg: 'ID is taken' } });
  alice.send({ ...OFFER, dst: 'nobody' });
  assert.deepEqual(await alice.next(), { type: 'EXPIRE', src: 'nobody', dst: 'alice' });
});
