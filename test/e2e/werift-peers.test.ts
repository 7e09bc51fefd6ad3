// (a) Two werift peers in Node connect through a real Sigver server, in both
// dialects, and a data channel message goes both ways.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectPeer, type PeerSession } from '../../src/client/index.js';
import type { Dialect } from '../../src/protocol/dialect.js';
import { RTCPeerConnection } from '../support/loopback-werift.js';
import { recordingWebSocket, roundTrip } from '../support/stack.js';
import { startServer } from '../support/server.js';
import { WAIT_MS } from '../support/waits.js';

interface Pair {
  host: PeerSession;
  joiner: PeerSession;
  hostFrames: string[];
  joinerFrames: string[];
}

async function connectPair(
  url: string,
  dialect: Dialect,
  password?: string,
  joinerDialect: Dialect = dialect,
): Promise<Pair> {
  const hostFrames: string[] = [];
  const joinerFrames: string[] = [];
  const common = { url, RTCPeerConnection, dialect, password, timeoutMs: WAIT_MS };
  let announce: (key: string) => void = () => {};
  const generated = new Promise<string>((resolve) => {
    announce = resolve;
  });
  const hosting = connectPeer({
    ...common,
    role: 'host',
    key: null,
    WebSocket: recordingWebSocket(hostFrames),
    onKey: announce,
  });
  // The key is only known once registered; a failed registration rejects `hosting` first.
  const key = await Promise.race([generated, hosting.then(() => assert.fail('connected without a joiner'))]);
  const joining = connectPeer({
    ...common,
    dialect: joinerDialect,
    role: 'joiner',
    key,
    WebSocket: recordingWebSocket(joinerFrames),
  });
  const [host, joiner] = await Promise.all([hosting, joining]);
  return { host, joiner, hostFrames, joinerFrames };
}

for (const dialect of ['v0', 'v1'] as const) {
  describe(`two werift peers through Sigver, ${dialect}`, () => {
    it('open a data channel and exchange a message both ways', async (t) => {
      const { url } = await startServer(t);
      const { host, joiner, joinerFrames } = await connectPair(url, dialect);
      t.after(async () => {
        await host.close();
        await joiner.close();
      });
      assert.equal(host.key, joiner.key);
      assert.equal(await roundTrip(joiner.channel, host.channel, `hello host (${dialect})`), `hello host (${dialect})`);
      assert.equal(
        await roundTrip(host.channel, joiner.channel, `hello joiner (${dialect})`),
        `hello joiner (${dialect})`,
      );
      const sent = joinerFrames.map((frame) => JSON.parse(frame) as Record<string, unknown>);
      const offers = sent.filter((frame) => 'offer' in frame);
      const candidates = sent.filter((frame) => 'candidate' in frame);
      assert.equal(offers.length, 1);
      if (dialect === 'v0') {
        // No trickle: one complete description, candidates inside.
        assert.equal(candidates.length, 0);
        assert.match(String((offers[0]?.offer as { sdp: string }).sdp), /^a=candidate:/m);
      } else {
        assert.ok(candidates.length > 0, 'v1 trickles candidates');
      }
    });
  });
}

describe('werift peers through Sigver, more', () => {
  it('with a password, the server relays only ciphertext and the peers still connect', async (t) => {
    const { url } = await startServer(t);
    const { host, joiner, hostFrames, joinerFrames } = await connectPair(url, 'v1', 'open sesame');
    t.after(async () => {
      await host.close();
      await joiner.close();
    });
    assert.equal(await roundTrip(joiner.channel, host.channel, 'sealed'), 'sealed');
    const relayed = [...hostFrames, ...joinerFrames].filter((frame) => /"(offer|answer|candidate)"/.test(frame));
    assert.ok(relayed.length >= 2);
    for (const frame of relayed) {
      assert.doesNotMatch(frame, /sdp|candidate:|127\.0\.0\.1/);
      assert.match(frame, /"enc":"v1"/);
    }
  });

  for (const [hostDialect, joinerDialect] of [
    ['v1', 'v0'],
    ['v0', 'v1'],
  ] as const) {
    it(`a ${hostDialect} host and a ${joinerDialect} joiner connect (mixed dialects)`, async (t) => {
      const { url } = await startServer(t);
      const { host, joiner } = await connectPair(url, hostDialect, undefined, joinerDialect);
      t.after(async () => {
        await host.close();
        await joiner.close();
      });
      assert.equal(await roundTrip(host.channel, joiner.channel, 'mixed'), 'mixed');
      assert.equal(await roundTrip(joiner.channel, host.channel, 'and back'), 'and back');
    });
  }
});
