// The SDK's signaling against a real server: refusals in both dialects,
// generated keys, aborts and a host that leaves mid-handshake.

import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { WebSocket } from 'ws';
import { connectPeer, SigverClient, type SigverClientOptions } from '../../src/client/index.js';
import type { Dialect } from '../../src/protocol/dialect.js';
import { RTCPeerConnection } from '../support/loopback-werift.js';
import { startServer } from '../support/server.js';
import { WAIT_MS } from '../support/waits.js';

async function open(t: TestContext, url: string, options: Partial<SigverClientOptions> = {}): Promise<SigverClient> {
  const client = new SigverClient({ url, WebSocket, reconnect: false, ...options });
  t.after(() => client.close());
  await client.connect({ timeoutMs: WAIT_MS });
  return client;
}

for (const dialect of ['v0', 'v1'] as const satisfies readonly Dialect[]) {
  describe(`SigverClient against a real server, ${dialect}`, () => {
    it('speaks the dialect it asked for', async (t) => {
      const { url } = await startServer(t);
      assert.equal((await open(t, url, { dialect })).dialect, dialect);
    });

    it('is refused with KEY_UNKNOWN when joining a key nobody hosts', async (t) => {
      const { url } = await startServer(t);
      const client = await open(t, url, { dialect });
      await assert.rejects(client.join('nobody-here'), { code: 'KEY_UNKNOWN' });
      assert.equal(client.state, dialect === 'v0' ? 'closed' : 'open');
    });

    it('is refused with KEY_TAKEN when hosting a key another host holds', async (t) => {
      const { url } = await startServer(t);
      const first = await open(t, url, { dialect: 'v1' });
      await first.host('taken');
      const second = await open(t, url, { dialect });
      if (dialect === 'v1') {
        await assert.rejects(second.host('taken'), { code: 'KEY_TAKEN' });
      } else {
        // v0 has no acknowledgement: the refusal is a close.
        const closed = second.waitFor('close', { timeoutMs: WAIT_MS });
        await second.host('taken');
        assert.deepEqual(await closed, { code: 1008, reason: 'The key already exists', reconnecting: false });
      }
    });

    it('hosts a generated key that a joiner can join', async (t) => {
      const { url } = await startServer(t);
      const host = await open(t, url, { dialect });
      const { key } = await host.host(null);
      assert.match(key, /^[A-Za-z0-9_-]{22,}$/);
      const joiner = await open(t, url, { dialect });
      await joiner.join(key);
      assert.equal(joiner.role, 'joiner');
    });

    it('fails a joiner with PEER_GONE when the host leaves before answering', async (t) => {
      const { url } = await startServer(t);
      const host = await open(t, url, { dialect });
      await host.host('leaving');
      const offered = host.waitFor('offer', { timeoutMs: WAIT_MS });
      const joining = connectPeer({
        url,
        key: 'leaving',
        role: 'joiner',
        RTCPeerConnection,
        WebSocket,
        dialect,
        timeoutMs: WAIT_MS,
      });
      await offered;
      await host.close();
      await assert.rejects(joining, { code: 'PEER_GONE' });
    });
  });
}

describe('connectPeer against a real server', () => {
  it('rejects with the abort reason and closes its connection when aborted', async (t) => {
    const { url, server } = await startServer(t);
    const host = await open(t, url);
    await host.host('silent');
    const offered = host.waitFor('offer', { timeoutMs: WAIT_MS });
    const controller = new AbortController();
    const joining = connectPeer({
      url,
      key: 'silent',
      role: 'joiner',
      RTCPeerConnection,
      WebSocket,
      signal: controller.signal,
    });
    await offered;
    const leave = host.waitFor('leave', { timeoutMs: WAIT_MS });
    const reason = new Error('the user went away');
    controller.abort(reason);
    await assert.rejects(joining, (error) => error === reason);
    await leave;
    assert.equal(server.stats().joiners, 0);
  });

  it('rejects with TIMEOUT when the host never answers', async (t) => {
    const { url } = await startServer(t);
    const host = await open(t, url);
    await host.host('mute');
    await assert.rejects(
      connectPeer({ url, key: 'mute', role: 'joiner', RTCPeerConnection, WebSocket, timeoutMs: 300 }),
      { code: 'TIMEOUT' },
    );
  });
});
