// (c) One host, three joiners at once, each with its own data channel.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { connectPeer, hostPeers, type HostedPeer, type PeerSession } from '../../src/client/index.js';
import { RTCPeerConnection } from '../support/loopback-werift.js';
import { nextMessage } from '../support/stack.js';
import { startServer } from '../support/server.js';
import { WAIT_MS, withTimeout } from '../support/waits.js';

const JOINERS = ['ann', 'bob', 'cyd'];

for (const dialect of ['v1', 'v0'] as const) {
  describe(`a host with three joiners at once, ${dialect}`, () => {
    it('gives each joiner its own channel, and replies reach the right joiner', async (t) => {
      const { url } = await startServer(t);
      const common = { url, RTCPeerConnection, WebSocket, dialect, timeoutMs: WAIT_MS };
      const host = await hostPeers({ ...common, key: `crowd-${dialect}` });
      const joiners: PeerSession[] = [];
      const hosted: HostedPeer[] = [];
      t.after(async () => {
        for (const peer of hosted) peer.close();
        await Promise.all(joiners.map((joiner) => joiner.close()));
        await host.close();
      });

      // All three join and offer together; the host answers each.
      const [sessions, peers] = await Promise.all([
        Promise.all(JOINERS.map(() => connectPeer({ ...common, role: 'joiner', key: host.key }))),
        withTimeout(
          (async () => {
            const taken: HostedPeer[] = [];
            for (let i = 0; i < JOINERS.length; i += 1) taken.push(await host.nextPeer());
            return taken;
          })(),
          'three peers on the host',
        ),
      ]);
      joiners.push(...sessions);
      hosted.push(...peers);
      assert.equal(new Set(peers.map((peer) => peer.id)).size, 3, 'distinct ids');
      assert.equal(new Set(peers.map((peer) => peer.channel)).size, 3, 'distinct channels');

      // Each joiner names itself on its channel; the host learns which channel is whose.
      const heard = new Map<string, HostedPeer>();
      const listening = Promise.all(
        peers.map(async (peer) => {
          heard.set(await nextMessage(peer.channel, 'a name'), peer);
        }),
      );
      sessions.forEach((session, i) => session.channel.send(JOINERS[i]!));
      await listening;
      assert.deepEqual([...heard.keys()].sort(), JOINERS);

      // The host answers each joiner by name, on that joiner's channel only.
      const replies = Promise.all(sessions.map((session) => nextMessage(session.channel, 'a reply')));
      for (const [name, peer] of heard) peer.channel.send(`hi ${name}`);
      assert.deepEqual(
        await replies,
        JOINERS.map((name) => `hi ${name}`),
      );
    });
  });
}
