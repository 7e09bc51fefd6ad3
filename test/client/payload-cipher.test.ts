import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PayloadCipher, PBKDF2_ITERATIONS } from '../../src/client/payload-cipher.js';
import { SigverClient } from '../../src/client/index.js';
import { FakeServer } from './fake-websocket.js';

const offer = { type: 'offer', sdp: 'v=0\r\na=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\r\n' };

describe('PayloadCipher', () => {
  it('round-trips any JSON value for the same password, kind and key', async () => {
    const cipher = new PayloadCipher('correct horse');
    for (const value of [offer, null, 'text', 42, [1, { a: 'é' }]]) {
      const sealed = await cipher.seal('offer', 'room', value);
      assert.deepEqual(await new PayloadCipher('correct horse').open('offer', 'room', sealed), value);
    }
  });

  it('puts only base64url salt, iv and ciphertext on the wire', async () => {
    const sealed = await new PayloadCipher('pw').seal('offer', 'room', offer);
    assert.deepEqual(Object.keys(sealed).sort(), ['ct', 'enc', 'iv', 'salt']);
    assert.equal(sealed.enc, 'v1');
    assert.match(sealed.salt, /^[A-Za-z0-9_-]{22}$/);
    assert.match(sealed.iv, /^[A-Za-z0-9_-]{16}$/);
    assert.match(sealed.ct, /^[A-Za-z0-9_-]+$/);
    assert.ok(!JSON.stringify(sealed).includes('candidate'));
    assert.equal(PBKDF2_ITERATIONS, 100_000);
  });

  it('uses a fresh iv for every payload and one salt per cipher', async () => {
    const cipher = new PayloadCipher('pw');
    const a = await cipher.seal('candidate', 'room', null);
    const b = await cipher.seal('candidate', 'room', null);
    assert.notEqual(a.iv, b.iv);
    assert.equal(a.salt, b.salt);
  });

  const refusals: [string, (sealed: Record<string, unknown>) => Promise<unknown>][] = [
    ['a wrong password', (sealed) => new PayloadCipher('other').open('offer', 'room', sealed)],
    ['another kind', (sealed) => new PayloadCipher('pw').open('answer', 'room', sealed)],
    ['another key', (sealed) => new PayloadCipher('pw').open('offer', 'room2', sealed)],
    [
      'a flipped ciphertext byte',
      (sealed) => {
        const ct = String(sealed.ct);
        const flipped = (ct[0] === 'A' ? 'B' : 'A') + ct.slice(1);
        return new PayloadCipher('pw').open('offer', 'room', { ...sealed, ct: flipped });
      },
    ],
    ['an unknown format', (sealed) => new PayloadCipher('pw').open('offer', 'room', { ...sealed, enc: 'v9' })],
    ['a short iv', (sealed) => new PayloadCipher('pw').open('offer', 'room', { ...sealed, iv: 'AAAA' })],
    ['a clear-text payload', () => new PayloadCipher('pw').open('offer', 'room', offer)],
  ];
  for (const [what, open] of refusals) {
    it(`refuses ${what} with DECRYPT_FAILED`, async () => {
      const sealed = { ...(await new PayloadCipher('pw').seal('offer', 'room', offer)) };
      await assert.rejects(open(sealed), { code: 'DECRYPT_FAILED' });
    });
  }
});

describe('SigverClient with a password', () => {
  async function pair(hostPassword: string, joinerPassword: string | undefined) {
    const server = new FakeServer();
    const host = new SigverClient({ url: 'ws://x/', WebSocket: server.WebSocket, password: hostPassword });
    const joiner = new SigverClient({ url: 'ws://x/', WebSocket: server.WebSocket, password: joinerPassword });
    const hostOpen = host.connect();
    const hostSocket = await server.nextSocket();
    hostSocket.accept();
    await hostOpen;
    const hosting = host.host('room');
    await hostSocket.nextSent();
    hostSocket.push({ registered: 'room', token: 't' });
    await hosting;
    const joinerOpen = joiner.connect();
    const joinerSocket = await server.nextSocket();
    joinerSocket.accept();
    await joinerOpen;
    const joining = joiner.join('room');
    await joinerSocket.nextSent();
    joinerSocket.push({ reachable: 'true' });
    await joining;
    return { host, joiner, hostSocket, joinerSocket };
  }

  it('relays only ciphertext, and the peer decrypts every payload in order', async () => {
    const { host, joiner, hostSocket, joinerSocket } = await pair('pw', 'pw');
    await joiner.sendOffer(offer);
    await joiner.sendCandidate({ candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0' });
    const sentOffer = (await joinerSocket.nextSent()) as { offer: Record<string, unknown> };
    const sentCandidate = (await joinerSocket.nextSent()) as { candidate: Record<string, unknown> };
    assert.equal(sentOffer.offer.enc, 'v1');
    assert.ok(!JSON.stringify([sentOffer, sentCandidate]).includes('127.0.0.1'));
    const seen: string[] = [];
    const done = new Promise<void>((resolve) => {
      host.on('offer', ({ data, id }) => seen.push(`offer ${id} ${(data as { type: string }).type}`));
      host.on('candidate', ({ id }) => seen.push(`candidate ${id}`));
      host.on('leave', ({ id }) => {
        seen.push(`leave ${id}`);
        resolve();
      });
    });
    hostSocket.push({ ...sentOffer, id: 1 });
    hostSocket.push({ ...sentCandidate, id: 1 });
    hostSocket.push({ leave: 1 });
    await done;
    assert.deepEqual(seen, ['offer 1 offer', 'candidate 1', 'leave 1']);
    await host.close();
    await joiner.close();
  });

  it('reports a payload sealed with another password as DECRYPT_FAILED for that joiner', async () => {
    const { host, joiner, hostSocket, joinerSocket } = await pair('pw', 'wrong');
    await joiner.sendOffer(offer);
    const error = host.waitFor('error', { timeoutMs: 5_000 });
    hostSocket.push({ ...((await joinerSocket.nextSent()) as object), id: 4 });
    const { code, joinerId, kind } = await error;
    assert.deepEqual({ code, joinerId, kind }, { code: 'DECRYPT_FAILED', joinerId: 4, kind: 'offer' });
    await host.close();
    await joiner.close();
  });

  it('refuses a clear-text payload, so the server cannot downgrade the session', async () => {
    const { host, joiner, hostSocket } = await pair('pw', 'pw');
    const error = host.waitFor('error', { timeoutMs: 5_000 });
    hostSocket.push({ offer, id: 1 });
    assert.equal((await error).code, 'DECRYPT_FAILED');
    await host.close();
    await joiner.close();
  });

  it('without a password, reports an encrypted payload instead of passing it on', async () => {
    const { host, joiner, joinerSocket } = await pair('pw', 'pw');
    await joiner.sendOffer(offer);
    const sealed = await joinerSocket.nextSent();
    const server = new FakeServer();
    const client = new SigverClient({ url: 'ws://x/', WebSocket: server.WebSocket });
    const opening = client.connect();
    const socket = await server.nextSocket();
    socket.accept();
    await opening;
    const error = client.waitFor('error', { timeoutMs: 1_000 });
    socket.push({ ...(sealed as object), id: 1 });
    assert.equal((await error).code, 'DECRYPT_FAILED');
    await client.close();
    await host.close();
    await joiner.close();
  });
});
