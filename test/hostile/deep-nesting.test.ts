// Frames nested thousands of levels deep (some thousands overflow a recursive
// walk; these go as deep as a 64 KiB frame allows) in every field, both dialects and y-webrtc, sent to a real
// Sigver process from the role in which each would be relayed: each gets the
// answer of an unsupported frame (docs/PROTOCOL.md), the process lives, and
// a pair still completes its handshake.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { TestClient } from '../support/client.js';
import { spawnSigver, type SigverProcess } from '../support/sigver-process.js';

/** The two shapes of deep nesting: arrays (`[[[...]]]`, 2 bytes a level) and objects (6 bytes), each about 60 KB. */
const SHAPES = {
  arrays: '['.repeat(30_000) + ']'.repeat(30_000),
  objects: '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000),
} as const;

type Shape = keyof typeof SHAPES;

function deepFrame(field: string, shape: Shape, extra = ''): string {
  return `{"${field}":${SHAPES[shape]}${extra}}`;
}

async function open(t: TestContext, sigver: SigverProcess, dialect: 'v0' | 'v1'): Promise<TestClient> {
  const client = await TestClient.connect(sigver.url, dialect);
  t.after(() => client.ws.terminate());
  return client;
}

/** A host of `key` and one joiner, each in `dialect`; the v1 host has heard the join. */
async function pair(
  t: TestContext,
  sigver: SigverProcess,
  dialect: 'v0' | 'v1',
  key: string,
): Promise<{ host: TestClient; joiner: TestClient }> {
  const host = await open(t, sigver, dialect);
  host.send({ key });
  if (dialect === 'v1') assert.equal(((await host.next()) as { registered?: unknown }).registered, key);
  const joiner = await open(t, sigver, dialect);
  joiner.send({ joinkey: key });
  assert.deepEqual(await joiner.next(), { reachable: 'true' });
  if (dialect === 'v1') assert.deepEqual(await host.next(), { join: 1 });
  return { host, joiner };
}

/** An offer and its answer go through, both ways: the server still relays. */
async function handshake(host: TestClient, joiner: TestClient, dialect: 'v0' | 'v1'): Promise<void> {
  const offer = { type: 'offer', sdp: 'v=0 fine' };
  joiner.send({ offer });
  assert.deepEqual(await host.next(), dialect === 'v1' ? { offer, id: 1 } : { offer });
  const answer = { type: 'answer', sdp: 'v=0 fine' };
  host.send({ answer });
  assert.deepEqual(await joiner.next(), { answer });
}

async function expectUnsupported(client: TestClient): Promise<void> {
  const message = (await client.next()) as { error?: { code?: unknown } };
  assert.equal(message.error?.code, 'UNSUPPORTED', JSON.stringify(message));
}

function assertAlive(sigver: SigverProcess): void {
  assert.equal(sigver.child.exitCode, null, `sigver exited: ${sigver.stderr.join(' | ')}`);
  assert.equal(sigver.child.signalCode, null, `sigver was killed: ${sigver.stderr.join(' | ')}`);
}

test('frames nested thousands of levels deep are refused, and the server lives on', async (t) => {
  const sigver = await spawnSigver(t, []);
  let rooms = 0;

  await t.test('v1: error UNSUPPORTED in every field and role, the connection stays open', async (t) => {
    for (const shape of Object.keys(SHAPES) as Shape[]) {
      const { host, joiner } = await pair(t, sigver, 'v1', `v1-${shape}`);
      const sent: Array<[TestClient, string]> = [
        [joiner, deepFrame('offer', shape)],
        [joiner, deepFrame('candidate', shape)],
        [joiner, deepFrame('answer', shape)],
        [joiner, deepFrame('ping', shape)],
        [host, deepFrame('answer', shape, ',"id":1')],
        [host, deepFrame('offer', shape, ',"id":1')],
        [host, deepFrame('candidate', shape, ',"id":1')],
        [host, deepFrame('ping', shape)],
        [host, deepFrame('key', shape)],
        [joiner, deepFrame('joinkey', shape)],
        [joiner, `{"other":${SHAPES[shape]},"ping":1}`],
      ];
      for (const [client, frame] of sent) {
        client.send(frame);
        await expectUnsupported(client);
      }
      // Nothing reached the other side: the first thing each hears is the handshake.
      await handshake(host, joiner, 'v1');
      assert.deepEqual(host.pending, []);
      assert.deepEqual(joiner.pending, []);
    }
  });

  await t.test('v0: closed 1007 in every field and role', async (t) => {
    const cases: Array<['host' | 'joiner', string]> = [
      ['joiner', 'offer'],
      ['host', 'answer'],
      ['joiner', 'answer'],
      ['host', 'key'],
      ['joiner', 'joinkey'],
      ['joiner', 'ping'],
      ['joiner', 'candidate'],
    ];
    for (const shape of Object.keys(SHAPES) as Shape[]) {
      for (const [role, field] of cases) {
        const { host, joiner } = await pair(t, sigver, 'v0', `v0-${(rooms += 1)}`);
        const sender = role === 'host' ? host : joiner;
        sender.send(deepFrame(field, shape));
        assert.deepEqual(await sender.waitClose(), { code: 1007, reason: 'Unsupported message format' });
      }
    }
  });

  await t.test('y-webrtc: a deep publication is ignored, the next one goes through', async (t) => {
    const subscribe = async (): Promise<TestClient> => {
      const client = await open(t, sigver, 'v0');
      client.send({ type: 'subscribe', topics: ['deep'] });
      client.send({ type: 'ping' });
      assert.deepEqual(await client.next(), { type: 'pong' });
      return client;
    };
    const [a, b] = [await subscribe(), await subscribe()];
    for (const shape of Object.keys(SHAPES) as Shape[]) {
      a.send(`{"type":"publish","topic":"deep","data":${SHAPES[shape]}}`);
    }
    a.send({ type: 'publish', topic: 'deep', data: 'fine' });
    assert.deepEqual(await b.next(), { type: 'publish', topic: 'deep', data: 'fine', clients: 2 });
    // A first frame that is deep is not y-webrtc's: the connection is v0, and closed 1007.
    const c = await open(t, sigver, 'v0');
    c.send(`{"type":"subscribe","topics":["deep"],"x":${SHAPES.arrays}}`);
    assert.deepEqual(await c.waitClose(), { code: 1007, reason: 'Unsupported message format' });
  });

  await t.test('the process lives and new pairs complete in both dialects', async (t) => {
    assertAlive(sigver);
    for (const dialect of ['v0', 'v1'] as const) {
      const { host, joiner } = await pair(t, sigver, dialect, `after-${dialect}`);
      await handshake(host, joiner, dialect);
    }
    assertAlive(sigver);
  });
});
