import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostPeers, type SigverClientError } from '../../src/client/index.js';
import { FakeServer, type FakeSocket } from './fake-websocket.js';
import { FakePeerConnection } from './fake-peer-connection.js';

async function startHost(selectV1: boolean, onPeerError?: (error: SigverClientError) => void) {
  const server = new FakeServer();
  const created: FakePeerConnection[] = [];
  class RecordingPeerConnection extends FakePeerConnection {
    constructor(config?: unknown) {
      super(config);
      created.push(this);
    }
  }
  const hosting = hostPeers({
    url: 'ws://x/',
    key: 'room',
    WebSocket: server.WebSocket,
    RTCPeerConnection: RecordingPeerConnection,
    rtcConfig: { iceServers: [] },
    timeoutMs: 2_000,
    onPeerError,
  });
  const socket = await server.nextSocket();
  socket.accept(selectV1);
  assert.deepEqual(await socket.nextSent(), { key: 'room' });
  if (selectV1) socket.push({ registered: 'room', token: 't' });
  const host = await hosting;
  return { host, socket, created };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise<void>((resolve) => setImmediate(resolve));
}

function offerFrom(name: string): { type: string; sdp: string } {
  return { type: 'offer', sdp: `${name}\r\n` };
}

describe('hostPeers', () => {
  it('gives each v1 joiner its own peer connection and channel, answered by id', async () => {
    const { host, socket, created } = await startHost(true);
    assert.equal(host.key, 'room');
    socket.push({ join: 1 });
    socket.push({ offer: offerFrom('one'), id: 1 });
    socket.push({ join: 2 });
    socket.push({ offer: offerFrom('two'), id: 2 });
    const answers = [await socket.nextSent(), await socket.nextSent()];
    assert.deepEqual(
      answers.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      [
        { answer: { type: 'answer', sdp: 'answer-to-one\r\n' }, id: 1 },
        { answer: { type: 'answer', sdp: 'answer-to-two\r\n' }, id: 2 },
      ],
    );
    assert.equal(created.length, 2);
    assert.deepEqual(created[0]?.config, { iceServers: [] });
    created[1]?.remoteChannel();
    created[0]?.remoteChannel();
    const peers = [await host.nextPeer({ timeoutMs: 1_000 }), await host.nextPeer({ timeoutMs: 1_000 })];
    assert.deepEqual(peers.map((peer) => peer.id).sort(), [1, 2]);
    for (const peer of peers) {
      assert.equal(peer.pc, created[peer.id - 1]);
      assert.equal(peer.channel.readyState, 'open');
    }
    await host.close();
    assert.equal(created[0]?.closed, false, 'peers handed out stay open');
  });

  it('routes a joiner candidate to that joiner, after its offer', async () => {
    const { host, socket, created } = await startHost(true);
    socket.push({ offer: offerFrom('one'), id: 1 });
    socket.push({ candidate: { candidate: 'candidate:x', sdpMid: '0', sdpMLineIndex: 0 }, id: 1 });
    socket.push({ candidate: { candidate: 'candidate:stray', sdpMid: '0' }, id: 9 });
    await socket.nextSent();
    await until(() => created[0]?.added.length === 1);
    assert.deepEqual(created[0]?.added, [{ candidate: 'candidate:x', sdpMid: '0', sdpMLineIndex: 0 }]);
    await host.close();
  });

  it('answers v0 offers in arrival order even when a later answer is ready first', async () => {
    const { host, socket, created } = await startHost(false);
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    socket.push({ offer: offerFrom('first') });
    await until(() => created.length === 1);
    created[0]!.answerGate = gate;
    socket.push({ offer: offerFrom('second') });
    await until(() => created.length === 2);
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(socket.sent.length, 1, 'the second answer waits for the first');
    release();
    assert.deepEqual(await socket.nextSent(), { answer: { type: 'answer', sdp: 'answer-to-first\r\n' } });
    assert.deepEqual(await socket.nextSent(), { answer: { type: 'answer', sdp: 'answer-to-second\r\n' } });
    await host.close();
  });

  it('answers a v0 offer it cannot use with null, so later answers stay routed', async () => {
    const errors: SigverClientError[] = [];
    const { host, socket } = await startHost(false, (error) => errors.push(error));
    socket.push({ offer: 'not a description' });
    socket.push({ offer: offerFrom('good') });
    assert.deepEqual(await socket.nextSent(), { answer: null });
    assert.deepEqual(await socket.nextSent(), { answer: { type: 'answer', sdp: 'answer-to-good\r\n' } });
    await until(() => errors.length === 1);
    assert.equal(errors[0]?.code, 'BAD_PAYLOAD');
    await host.close();
  });

  it('gives no answer to v0 candidates sent as offers, so the next joiner gets its own answer', async () => {
    const { host, socket, created } = await startHost(false);
    socket.push({ offer: offerFrom('first') });
    socket.push({ offer: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 } });
    socket.push({ offer: { candidate: 'candidate:2', sdpMid: '0', sdpMLineIndex: 0 } });
    socket.push({ offer: offerFrom('second') });
    assert.deepEqual(await socket.nextSent(), { answer: { type: 'answer', sdp: 'answer-to-first\r\n' } });
    assert.deepEqual(await socket.nextSent(), { answer: { type: 'answer', sdp: 'answer-to-second\r\n' } });
    assert.equal(created.length, 2, 'one peer connection per joiner');
    await host.close();
  });

  it('fails only the handshake of a joiner that leaves before its answer', async () => {
    const errors: SigverClientError[] = [];
    const { host, socket, created } = await startHost(true, (error) => errors.push(error));
    socket.push({ offer: offerFrom('leaver'), id: 1 });
    await until(() => created.length === 1);
    created[0]!.answerGate = new Promise(() => {});
    socket.push({ leave: 1 });
    socket.push({ offer: offerFrom('stayer'), id: 2 });
    await until(() => errors.length === 1);
    assert.equal(errors[0]?.code, 'PEER_GONE');
    assert.equal(errors[0]?.joinerId, 1);
    assert.equal(created[0]?.closed, true);
    assert.deepEqual(await socket.nextSent(), { answer: { type: 'answer', sdp: 'answer-to-stayer\r\n' }, id: 2 });
    created[1]?.remoteChannel();
    assert.equal((await host.nextPeer({ timeoutMs: 1_000 })).id, 2);
    await host.close();
  });

  it('ends for-await iteration when closed', async () => {
    const { host, socket, created } = await startHost(true);
    socket.push({ offer: offerFrom('one'), id: 1 });
    await socket.nextSent();
    created[0]?.remoteChannel();
    const ids: number[] = [];
    for await (const peer of host) {
      ids.push(peer.id);
      void host.close();
    }
    assert.deepEqual(ids, [1]);
    await assert.rejects(host.nextPeer(), { code: 'CLOSED' });
  });

  it('rejects when the key is taken, and closes its connection', async () => {
    const server = new FakeServer();
    const hosting = hostPeers({
      url: 'ws://x/',
      key: 'room',
      WebSocket: server.WebSocket,
      RTCPeerConnection: FakePeerConnection,
    });
    const socket: FakeSocket = await server.nextSocket();
    socket.accept();
    await socket.nextSent();
    socket.push({ error: { code: 'KEY_TAKEN', message: 'The key already exists' } });
    await assert.rejects(hosting, { code: 'KEY_TAKEN' });
    assert.ok(socket.readyState >= 2);
  });
});
