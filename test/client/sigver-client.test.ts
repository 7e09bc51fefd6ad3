import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SigverClient, SigverClientError, type SigverClientOptions } from '../../src/client/index.js';
import { FakeServer, type FakeSocket } from './fake-websocket.js';

const FAST_RECONNECT = { initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 3 };

async function connected(
  options: Partial<SigverClientOptions> = {},
  selectV1 = true,
): Promise<{ client: SigverClient; server: FakeServer; socket: FakeSocket }> {
  const server = new FakeServer();
  const client = new SigverClient({
    url: 'ws://sigver.test/',
    WebSocket: server.WebSocket,
    reconnect: FAST_RECONNECT,
    ...options,
  });
  const opening = client.connect();
  const socket = await server.nextSocket();
  socket.accept(selectV1);
  await opening;
  return { client, server, socket };
}

async function registeredHost(options: Partial<SigverClientOptions> = {}) {
  const setup = await connected(options);
  const hosting = setup.client.host('room');
  assert.deepEqual(await setup.socket.nextSent(), { key: 'room' });
  setup.socket.push({ registered: 'room', token: 'T0K3N' });
  await hosting;
  return setup;
}

describe('SigverClient', () => {
  it('offers sigver.v1 and speaks v1 when the server selects it', async () => {
    const { client, socket } = await connected();
    assert.deepEqual(socket.protocols, ['sigver.v1']);
    assert.equal(client.dialect, 'v1');
    assert.equal(client.state, 'open');
    await client.close();
  });

  it('falls back to v0 when the server selects no subprotocol', async () => {
    const { client } = await connected({}, false);
    assert.equal(client.dialect, 'v0');
    await client.close();
  });

  it('offers no subprotocol when asked for v0', async () => {
    const { client, socket } = await connected({ dialect: 'v0' });
    assert.deepEqual(socket.protocols, []);
    assert.equal(client.dialect, 'v0');
    await client.close();
  });

  it('rejects connect with CONNECT_FAILED when the upgrade is refused, and can try again', async () => {
    const server = new FakeServer();
    const client = new SigverClient({ url: 'ws://sigver.test/', WebSocket: server.WebSocket });
    const opening = client.connect();
    (await server.nextSocket()).refuse();
    await assert.rejects(opening, { code: 'CONNECT_FAILED', closeCode: 1006 });
    assert.equal(client.state, 'idle');
    const again = client.connect();
    (await server.nextSocket()).accept();
    await again;
    await client.close();
  });

  it('rejects connect with TIMEOUT and drops the socket', async () => {
    const server = new FakeServer();
    const client = new SigverClient({ url: 'ws://sigver.test/', WebSocket: server.WebSocket });
    const opening = client.connect({ timeoutMs: 5 });
    const socket = await server.nextSocket();
    await assert.rejects(opening, { code: 'TIMEOUT' });
    assert.equal(socket.terminated, true);
    await client.close();
  });

  it('rejects connect with the abort reason when its signal aborts', async () => {
    const server = new FakeServer();
    const client = new SigverClient({ url: 'ws://sigver.test/', WebSocket: server.WebSocket });
    const controller = new AbortController();
    const opening = client.connect({ signal: controller.signal });
    await server.nextSocket();
    const reason = new Error('user gave up');
    controller.abort(reason);
    await assert.rejects(opening, (error) => error === reason);
    await client.close();
  });

  it('fails at once without a WebSocket implementation', async () => {
    const client = new SigverClient({ url: 'ws://sigver.test/', WebSocket: undefined });
    if (globalThis.WebSocket === undefined) await assert.rejects(client.connect(), { code: 'NO_WEBSOCKET' });
    await client.close();
  });

  it('hosts a generated key in v1 and keeps its resume token', async () => {
    const { client, socket } = await connected();
    const registered: unknown[] = [];
    client.on('registered', (event) => registered.push(event));
    const hosting = client.host(null);
    assert.deepEqual(await socket.nextSent(), { key: null });
    socket.push({ registered: 'GENERATEDkey', token: 'secret' });
    assert.deepEqual(await hosting, { key: 'GENERATEDkey', token: 'secret' });
    assert.deepEqual(registered, [{ key: 'GENERATEDkey', token: 'secret', resumed: false }]);
    assert.equal(client.role, 'host');
    assert.equal(client.token, 'secret');
    await client.close();
  });

  it('draws a 128-bit URL-safe key itself for a v0 host, which gets no acknowledgement', async () => {
    const { client, socket } = await connected({ dialect: 'v0' });
    const { key, token } = await client.host(null);
    assert.match(key, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(token, undefined);
    assert.deepEqual(await socket.nextSent(), { key });
    await client.close();
  });

  it('rejects host with the server error code and stays connected', async () => {
    const { client, socket } = await connected();
    const hosting = client.host('taken');
    await socket.nextSent();
    socket.push({ error: { code: 'KEY_TAKEN', message: 'The key already exists' } });
    await assert.rejects(hosting, (error: unknown) => error instanceof SigverClientError && error.code === 'KEY_TAKEN');
    assert.equal(client.state, 'open');
    await client.close();
  });

  it('rejects an invalid v0 key before sending it', async () => {
    const { client, socket } = await connected({ dialect: 'v0' });
    await assert.rejects(client.host(''), { code: 'INVALID_KEY' });
    assert.equal(socket.sent.length, 0);
    await client.close();
  });

  it('joins on {"reachable":"true"} and relays offers, answers and candidates', async () => {
    const { client, socket } = await connected();
    const joining = client.join(42);
    assert.deepEqual(await socket.nextSent(), { joinkey: 42 });
    socket.push({ reachable: 'true' });
    await joining;
    assert.equal(client.role, 'joiner');
    assert.equal(client.key, '42');
    await client.sendOffer({ type: 'offer', sdp: 'v=0' });
    await client.sendCandidate(null);
    assert.deepEqual(await socket.nextSent(), { offer: { type: 'offer', sdp: 'v=0' } });
    assert.deepEqual(await socket.nextSent(), { candidate: null });
    const answer = client.waitFor('answer', { timeoutMs: 1_000 });
    socket.push({ answer: { type: 'answer', sdp: 'v=0' } });
    assert.deepEqual(await answer, { data: { type: 'answer', sdp: 'v=0' }, id: undefined });
    await client.close();
  });

  it('maps a v0 refusal close onto its error code', async () => {
    const { client, socket } = await connected({ dialect: 'v0' });
    const joining = client.join('nobody');
    await socket.nextSent();
    socket.closeFromServer(1008, 'The key does not exist');
    await assert.rejects(joining, { code: 'KEY_UNKNOWN', closeCode: 1008 });
    assert.equal(client.state, 'closed');
  });

  it('tells a host about joiners and their relayed messages, with ids', async () => {
    const { client, socket } = await registeredHost();
    const events: unknown[] = [];
    client.on('join', (e) => events.push(['join', e.id]));
    client.on('offer', (e) => events.push(['offer', e.id, e.data]));
    client.on('candidate', (e) => events.push(['candidate', e.id, e.data]));
    client.on('leave', (e) => events.push(['leave', e.id]));
    socket.push({ join: 1 });
    socket.push({ offer: { type: 'offer', sdp: 'x' }, id: 1 });
    socket.push({ candidate: null, id: 1 });
    socket.push({ leave: 1 });
    assert.deepEqual(events, [
      ['join', 1],
      ['offer', 1, { type: 'offer', sdp: 'x' }],
      ['candidate', 1, null],
      ['leave', 1],
    ]);
    await client.sendAnswer({ type: 'answer', sdp: 'y' }, 1);
    assert.deepEqual(await socket.nextSent(), { answer: { type: 'answer', sdp: 'y' }, id: 1 });
    await client.close();
  });

  it('surfaces a v1 error message as an error event and keeps the connection', async () => {
    const { client, socket } = await registeredHost();
    const error = client.waitFor('error', { timeoutMs: 1_000 });
    socket.push({ error: { code: 'UNKNOWN_ID', message: 'No joiner has this id' } });
    assert.equal((await error).code, 'UNKNOWN_ID');
    assert.equal(client.state, 'open');
    await client.close();
  });

  it('ignores frames it does not know', async () => {
    const { client, socket } = await registeredHost();
    socket.push('not json');
    socket.push({ something: 'new' });
    const join = client.waitFor('join', { timeoutMs: 1_000 });
    socket.push({ join: 7 });
    assert.deepEqual(await join, { id: 7 });
    await client.close();
  });

  it('a joiner told that its host left has no role any more', async () => {
    const { client, socket } = await connected();
    const joining = client.join('room');
    await socket.nextSent();
    socket.push({ reachable: 'true' });
    await joining;
    const leave = client.waitFor('leave', { timeoutMs: 1_000 });
    socket.push({ leave: 0 });
    assert.deepEqual(await leave, { id: 0 });
    assert.equal(client.role, 'none');
    await client.close();
  });

  it('closing sends a close frame, ends in state closed and does not reconnect', async () => {
    const { client, server, socket } = await registeredHost();
    const closes: unknown[] = [];
    client.on('close', (event) => closes.push(event));
    await client.close();
    assert.deepEqual(socket.closedWith, { code: 1000, reason: undefined });
    assert.equal(client.state, 'closed');
    assert.deepEqual(closes, [{ code: 1000, reason: '', reconnecting: false }]);
    assert.equal(server.sockets.length, 1);
    await assert.rejects(client.sendOffer({}), { code: 'NOT_CONNECTED' });
  });

  it('does not reconnect after a refusal close', async () => {
    const { client, server, socket } = await registeredHost();
    const close = client.waitFor('close', { timeoutMs: 1_000 });
    socket.closeFromServer(1008, 'Rate limit exceeded');
    assert.deepEqual(await close, { code: 1008, reason: 'Rate limit exceeded', reconnecting: false });
    assert.equal(client.state, 'closed');
    assert.equal(server.sockets.length, 1);
  });

  it('reconnects after a drop and resumes the hosted key with its token', async () => {
    const { client, server, socket } = await registeredHost();
    const events: unknown[] = [];
    client.on('close', (event) => events.push(['close', event]));
    client.on('registered', (event) => events.push(['registered', event]));
    client.on('join', (event) => events.push(['join', event.id]));
    const reconnected = client.waitFor('reconnect', { timeoutMs: 2_000 });
    socket.drop();
    const second = await server.nextSocket();
    second.accept();
    assert.deepEqual(await second.nextSent(), { key: 'room', token: 'T0K3N' });
    second.push({ registered: 'room', token: 'T0K3N' });
    second.push({ join: 1 });
    assert.deepEqual(await reconnected, { attempt: 1, resumed: true });
    assert.equal(client.state, 'open');
    assert.deepEqual(events, [
      ['close', { code: 1006, reason: '', reconnecting: true }],
      ['registered', { key: 'room', token: 'T0K3N', resumed: true }],
      ['join', 1],
    ]);
    await client.close();
  });

  it('keeps relayed frames sent while reconnecting and delivers them once the key is resumed', async () => {
    const { client, server, socket } = await registeredHost();
    const closed = client.waitFor('close', { timeoutMs: 1_000 });
    socket.drop();
    await closed;
    const sent = client.sendCandidate({ candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host' }, 3);
    await sent;
    const second = await server.nextSocket();
    second.accept();
    await second.nextSent();
    second.push({ registered: 'room', token: 'T0K3N' });
    assert.deepEqual(await second.nextSent(), {
      candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host' },
      id: 3,
    });
    await client.close();
  });

  it('drops frames kept while reconnecting when the key had to be registered anew', async () => {
    const { client, server, socket } = await registeredHost();
    const closed = client.waitFor('close', { timeoutMs: 1_000 });
    socket.drop();
    await closed;
    await client.sendAnswer({ type: 'answer', sdp: 'stale' }, 1);
    const reconnected = client.waitFor('reconnect', { timeoutMs: 2_000 });
    const second = await server.nextSocket();
    second.accept();
    await second.nextSent();
    second.push({ registered: 'room', token: 'NEW' });
    assert.deepEqual(await reconnected, { attempt: 1, resumed: false });
    await client.sendCandidate(null, 1);
    assert.deepEqual(await second.nextSent(), { candidate: null, id: 1 });
    await client.close();
  });

  it('rejoins its key after a reconnection', async () => {
    const { client, server, socket } = await connected();
    const joining = client.join('room');
    await socket.nextSent();
    socket.push({ reachable: 'true' });
    await joining;
    const reconnected = client.waitFor('reconnect', { timeoutMs: 2_000 });
    socket.drop();
    const second = await server.nextSocket();
    second.accept();
    assert.deepEqual(await second.nextSent(), { joinkey: 'room' });
    second.push({ reachable: 'true' });
    assert.deepEqual(await reconnected, { attempt: 1, resumed: false });
    await client.close();
  });

  it('gives up with the refusal when its key was taken during the outage', async () => {
    const { client, server, socket } = await registeredHost();
    const errors: SigverClientError[] = [];
    client.on('error', (error) => errors.push(error));
    const finalClose = client.waitFor('close', { timeoutMs: 2_000, filter: (event) => !event.reconnecting });
    socket.drop();
    const second = await server.nextSocket();
    second.accept();
    await second.nextSent();
    second.push({ error: { code: 'KEY_TAKEN', message: 'The key already exists' } });
    await finalClose;
    assert.equal(client.state, 'closed');
    assert.deepEqual(
      errors.map((e) => e.code),
      ['KEY_TAKEN', 'KEY_TAKEN'],
    );
    assert.equal(server.sockets.length, 2);
  });

  it('gives up after its last attempt when the server stays unreachable', async () => {
    const { client, server, socket } = await registeredHost();
    const errors: SigverClientError[] = [];
    client.on('error', (error) => errors.push(error));
    const finalClose = client.waitFor('close', { timeoutMs: 2_000, filter: (event) => !event.reconnecting });
    socket.drop();
    for (let attempt = 1; attempt <= FAST_RECONNECT.maxAttempts; attempt += 1) (await server.nextSocket()).refuse();
    await finalClose;
    assert.equal(client.state, 'closed');
    assert.equal(errors.at(-1)?.code, 'CLOSED');
    assert.equal(server.sockets.length, 1 + FAST_RECONNECT.maxAttempts);
  });

  it('stops reconnecting when closed during the outage', async () => {
    const { client, server, socket } = await registeredHost();
    const closed = client.waitFor('close', { timeoutMs: 1_000 });
    socket.drop();
    await closed;
    await client.close();
    assert.equal(client.state, 'closed');
    assert.ok(server.sockets.length <= 2);
    for (const s of server.sockets.slice(1)) assert.ok(s.readyState >= 2 || s.terminated);
  });

  it('pings in v1 and treats an unanswered ping as a lost connection', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval', 'setTimeout'] });
    const { client, socket } = await registeredHost({ pingIntervalMs: 1_000, pongTimeoutMs: 500, reconnect: false });
    t.mock.timers.tick(1_000);
    assert.deepEqual(await socket.nextSent(), { ping: 1 });
    socket.push({ pong: 1 });
    t.mock.timers.tick(1_000);
    assert.deepEqual(await socket.nextSent(), { ping: 2 });
    const close = client.waitFor('close');
    t.mock.timers.tick(500);
    assert.deepEqual(await close, { code: 1006, reason: 'Keep-alive timeout', reconnecting: false });
    assert.equal(socket.terminated, true);
  });

  it('never pings a v0 server', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval', 'setTimeout'] });
    const { client, socket } = await connected({ dialect: 'v0', pingIntervalMs: 1_000 });
    t.mock.timers.tick(5_000);
    assert.equal(socket.sent.length, 0);
    await client.close();
  });
});
