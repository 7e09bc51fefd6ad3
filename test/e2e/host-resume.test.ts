// (d) The host's connection is cut mid-session, without a close frame; it
// comes back with its resume token and its joiners stay attached.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { connectPeer, hostPeers, type HostedPeer, type PeerSession } from '../../src/client/index.js';
import { RTCPeerConnection } from '../support/loopback-werift.js';
import { nextMessage, roundTrip } from '../support/stack.js';
import { startServer } from '../support/server.js';
import { WAIT_MS, withTimeout } from '../support/waits.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

describe('a host whose connection is cut', () => {
  it('resumes its key with its token while its three joiners stay attached', async (t) => {
    const { url, port } = await startServer(t, { resumeGraceMs: 10_000 });
    // Only the host goes through the proxy, so only its connection is cut.
    const proxy = await startTcpProxy(port);
    t.after(() => proxy.close());
    const common = { RTCPeerConnection, WebSocket, timeoutMs: WAIT_MS };
    const host = await hostPeers({
      ...common,
      url: `ws://127.0.0.1:${proxy.port}/`,
      key: null,
      reconnect: { initialDelayMs: 50, maxDelayMs: 200, maxAttempts: 10 },
    });
    const joiners: PeerSession[] = [];
    const peers: HostedPeer[] = [];
    t.after(async () => {
      for (const peer of peers) peer.close();
      await Promise.all(joiners.map((joiner) => joiner.close()));
      await host.close();
    });
    const tokenBefore = host.client.token;
    assert.ok(tokenBefore !== undefined && tokenBefore.length >= 22);

    const [sessions] = await Promise.all([
      Promise.all(
        [1, 2, 3].map(() => connectPeer({ ...common, url, role: 'joiner', key: host.key, keepSignaling: true })),
      ),
      (async () => {
        for (let i = 0; i < 3; i += 1) peers.push(await host.nextPeer({ timeoutMs: WAIT_MS }));
      })(),
    ]);
    joiners.push(...sessions);
    // Pair each joiner with its peer on the host: each joiner names itself.
    const pairs = new Map<PeerSession, HostedPeer>();
    const naming = Promise.all(
      peers.map(async (peer) => {
        const name = await nextMessage(peer.channel, 'a name');
        pairs.set(sessions[Number(name)]!, peer);
      }),
    );
    sessions.forEach((session, i) => session.channel.send(String(i)));
    await naming;
    const joinerLeaves: number[] = [];
    for (const session of sessions) session.client?.on('leave', ({ id }) => joinerLeaves.push(id));

    // Cut: both TCP sides are reset, no close frame either way.
    const joinsAfter: number[] = [];
    host.client.on('join', ({ id }) => joinsAfter.push(id));
    const closes: { code: number; reconnecting: boolean }[] = [];
    host.client.on('close', ({ code, reconnecting }) => closes.push({ code, reconnecting }));
    const reconnected = host.client.waitFor('reconnect', { timeoutMs: WAIT_MS });
    const announced = withTimeout(
      new Promise<void>((resolve) => {
        host.client.on('join', () => {
          if (joinsAfter.length === 3) resolve();
        });
      }),
      'the resumed host to hear of its three joiners',
    );
    proxy.cut();

    assert.deepEqual(await reconnected, { attempt: 1, resumed: true });
    await announced;
    assert.deepEqual(closes, [{ code: 1006, reconnecting: true }]);
    assert.equal(host.client.token, tokenBefore, 'the same token: the key was taken over, not registered anew');
    assert.deepEqual(
      joinsAfter,
      peers.map((peer) => peer.id).sort((a, b) => a - b),
      'each joiner announced again, ascending',
    );

    // Signaling reaches every joiner through the resumed connection, and no joiner was told its host left.
    const delivered = Promise.all(
      sessions.map((session) => session.client!.waitFor('candidate', { timeoutMs: WAIT_MS })),
    );
    for (const peer of peers) await host.client.sendCandidate(null, peer.id);
    await delivered;
    assert.deepEqual(joinerLeaves, []);

    // The data channels never depended on the server: each pair still talks both ways.
    for (const [session, peer] of pairs) {
      assert.equal(await roundTrip(session.channel, peer.channel, `up ${peer.id}`), `up ${peer.id}`);
      assert.equal(await roundTrip(peer.channel, session.channel, `down ${peer.id}`), `down ${peer.id}`);
    }

    // And the resumed host still accepts joiners, with ids that kept counting.
    const fourth = connectPeer({ ...common, url, role: 'joiner', key: host.key });
    const [late, latePeer] = await Promise.all([fourth, host.nextPeer({ timeoutMs: WAIT_MS })]);
    joiners.push(late);
    peers.push(latePeer);
    assert.equal(latePeer.id, 4);
    assert.equal(await roundTrip(late.channel, latePeer.channel, 'late'), 'late');
  });
});
