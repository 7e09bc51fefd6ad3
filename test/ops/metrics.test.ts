// GET /metrics: Prometheus text from each server's own registry, fed by
// the core's hooks and read from the core at scrape time.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetchText, sample } from '../support/http.js';
import { startServer } from '../support/server.js';

test('counts connections by dialect and role, keys, relays, handshakes and refusals', async (t) => {
  const { url, connect, nextEnd } = await startServer(t);
  const v0Host = await connect();
  v0Host.send({ key: 'metrics-a' });
  const v1Joiner = await connect('v1');
  v1Joiner.send({ joinkey: 'metrics-a' });
  assert.deepEqual(await v1Joiner.next(), { reachable: 'true' });
  v1Joiner.send({ offer: { sdp: 'o' } });
  await v0Host.next();
  v0Host.send({ answer: { sdp: 'a' } });
  await v1Joiner.next();
  v1Joiner.send({ candidate: { candidate: 'c' } });
  assert.deepEqual(await v0Host.next(), { candidate: { candidate: 'c' } });
  const v1Host = await connect('v1');
  v1Host.send({ key: 'metrics-b' });
  await v1Host.next();
  v1Host.send({ key: 'again' });
  assert.equal(((await v1Host.next()) as { error: { code: string } }).error.code, 'ROLE_SET');
  await connect('v1');

  const { status, headers, body } = await fetchText(`${url}/metrics`);
  assert.equal(status, 200);
  assert.match(String(headers['content-type']), /^text\/plain/);
  assert.equal(sample(body, 'sigver_connections', { dialect: 'v0', role: 'host' }), 1);
  assert.equal(sample(body, 'sigver_connections', { dialect: 'v1', role: 'joiner' }), 1);
  assert.equal(sample(body, 'sigver_connections', { dialect: 'v1', role: 'host' }), 1);
  assert.equal(sample(body, 'sigver_connections', { dialect: 'v1', role: 'none' }), 1);
  assert.equal(sample(body, 'sigver_connections', { dialect: 'v0', role: 'none' }), 0);
  assert.equal(sample(body, 'sigver_keys'), 2);
  assert.equal(sample(body, 'sigver_joiners'), 1);
  assert.equal(sample(body, 'sigver_keys_registered_total'), 2);
  assert.equal(sample(body, 'sigver_connections_opened_total', { dialect: 'v0' }), 1);
  assert.equal(sample(body, 'sigver_connections_opened_total', { dialect: 'v1' }), 3);
  assert.equal(sample(body, 'sigver_messages_relayed_total', { type: 'offer' }), 1);
  assert.equal(sample(body, 'sigver_messages_relayed_total', { type: 'answer' }), 1);
  assert.equal(sample(body, 'sigver_messages_relayed_total', { type: 'candidate' }), 1);
  assert.equal(sample(body, 'sigver_refusals_total', { code: 'ROLE_SET' }), 1);
  assert.equal(sample(body, 'sigver_refusals_total', { code: 'KEY_TAKEN' }), 0);
  assert.equal(sample(body, 'sigver_handshake_seconds_count'), 1);
  assert.ok(sample(body, 'sigver_handshake_seconds_bucket', { le: '+Inf' }) === 1);

  const ended = nextEnd();
  await v1Host.close();
  await ended;
  const after = (await fetchText(`${url}/metrics`)).body;
  assert.equal(sample(after, 'sigver_connections_closed_total', { code: '1005' }), 1, 'a close frame with no code');
  assert.equal(sample(after, 'sigver_connections', { dialect: 'v1', role: 'host' }), 0);
  assert.equal(sample(after, 'sigver_keys'), 1);
});

test('the connection, joiner and away-host gauges follow every change and return to zero', async (t) => {
  const { url, connect, idle, nextEnd } = await startServer(t);
  const scrape = async () => (await fetchText(`${url}/metrics`)).body;
  const host = await connect('v1');
  host.send({ key: 'gauges' });
  const { token } = (await host.next()) as { token: string };
  const joiners = [];
  for (const dialect of ['v1', 'v1', 'v0'] as const) {
    const joiner = await connect(dialect);
    joiner.send({ joinkey: 'gauges' });
    assert.deepEqual(await joiner.next(), { reachable: 'true' });
    joiners.push(joiner);
  }
  // A connection opened as v0 that turns out to speak y-webrtc moves to its dialect.
  const yjs = await connect();
  yjs.send({ type: 'subscribe', topics: ['room'] });
  yjs.send({ type: 'ping' });
  assert.deepEqual(await yjs.next(), { type: 'pong' });
  let body = await scrape();
  assert.equal(sample(body, 'sigver_connections', { dialect: 'v1', role: 'host' }), 1);
  assert.equal(sample(body, 'sigver_connections', { dialect: 'v1', role: 'joiner' }), 2);
  assert.equal(sample(body, 'sigver_connections', { dialect: 'v0', role: 'joiner' }), 1);
  assert.equal(sample(body, 'sigver_connections', { dialect: 'v0', role: 'none' }), 0);
  assert.equal(sample(body, 'sigver_connections', { dialect: 'ywebrtc', role: 'none' }), 1);
  assert.equal(sample(body, 'sigver_joiners'), 3);
  assert.equal(sample(body, 'sigver_hosts_away'), 0);

  // The host drops (no close frame): away within its grace, its joiners still attached.
  let ended = nextEnd();
  host.ws.terminate();
  await ended;
  body = await scrape();
  assert.equal(sample(body, 'sigver_connections', { dialect: 'v1', role: 'host' }), 0);
  assert.equal(sample(body, 'sigver_hosts_away'), 1);
  assert.equal(sample(body, 'sigver_keys'), 1);
  assert.equal(sample(body, 'sigver_joiners'), 3);
  // It resumes; then a joiner leaves.
  const back = await connect('v1');
  back.send({ key: 'gauges', token });
  assert.equal(((await back.next()) as { registered: string }).registered, 'gauges');
  ended = nextEnd();
  await joiners[0]!.close();
  await ended;
  body = await scrape();
  assert.equal(sample(body, 'sigver_hosts_away'), 0);
  assert.equal(sample(body, 'sigver_connections', { dialect: 'v1', role: 'host' }), 1);
  assert.equal(sample(body, 'sigver_connections', { dialect: 'v1', role: 'joiner' }), 1);
  assert.equal(sample(body, 'sigver_joiners'), 2);

  // The host leaves on purpose: the v1 joiner has no role again, the unanswered v0 joiner is closed.
  await back.close();
  assert.deepEqual(await joiners[1]!.next(), { leave: 0 });
  assert.equal((await joiners[2]!.waitClose()).code, 1008);
  body = await scrape();
  assert.equal(sample(body, 'sigver_connections', { dialect: 'v1', role: 'none' }), 1);
  assert.equal(sample(body, 'sigver_joiners'), 0);
  assert.equal(sample(body, 'sigver_keys'), 0);
  await joiners[1]!.close();
  await yjs.close();
  await idle();
  body = await scrape();
  for (const dialect of ['v0', 'v1', 'ywebrtc']) {
    for (const role of ['none', 'host', 'joiner']) {
      assert.equal(sample(body, 'sigver_connections', { dialect, role }), 0, `${dialect} ${role}`);
    }
  }
});

test('counts v0 refusals and closes by code', async (t) => {
  const { url, connect, nextEnd } = await startServer(t);
  // A connection the server closes leaves the core at once, but is counted closed when its socket is.
  const joiner = await connect();
  let ended = nextEnd();
  joiner.send({ joinkey: 'nobody' });
  assert.deepEqual(await joiner.waitClose(), { code: 1008, reason: 'The key does not exist' });
  await ended;
  const v0 = await connect();
  ended = nextEnd();
  v0.send('not json');
  assert.equal((await v0.waitClose()).code, 1003);
  await ended;
  const body = (await fetchText(`${url}/metrics`)).body;
  assert.equal(sample(body, 'sigver_refusals_total', { code: 'KEY_UNKNOWN' }), 1);
  assert.equal(sample(body, 'sigver_connections_closed_total', { code: '1008' }), 1);
  assert.equal(sample(body, 'sigver_connections_closed_total', { code: '1003' }), 1);
  assert.equal(sample(body, 'sigver_connections_closed_total', { code: '1000' }), 0);
});

test('counts rate-limit closes', async (t) => {
  const { url, connect } = await startServer(t, { rateLimit: 1, rateBurst: 2 });
  const client = await connect('v1');
  for (let i = 0; i < 5; i += 1) client.send({ ping: i });
  assert.deepEqual(await client.waitClose(), { code: 1008, reason: 'Rate limit exceeded' });
  const body = (await fetchText(`${url}/metrics`)).body;
  assert.equal(sample(body, 'sigver_rate_limited_total'), 1);
});

test('counts slow consumers', async (t) => {
  const { url, connect } = await startServer(t, {
    slowConsumerBytes: 1024,
    rateLimit: 100_000,
    rateBurst: 100_000,
    byteRate: 1_000_000_000,
    byteBurst: 1_000_000_000,
  });
  const host = await connect();
  host.send({ key: 'slow' });
  const joiner = await connect();
  joiner.send({ joinkey: 'slow' });
  await joiner.next();
  // The host stops reading: what is relayed to it piles up in the server's buffers.
  (host.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const payload = 'x'.repeat(60_000);
  const closed = joiner.waitClose(10_000);
  for (let i = 0; i < 1_000 && joiner.ws.readyState === joiner.ws.OPEN; i += 1) {
    joiner.send({ offer: payload });
    if (i % 50 === 49) await new Promise<void>((resolve) => joiner.ws.send('{"offer":0}', () => resolve()));
  }
  // The slow host is a host leaving: its unanswered v0 joiner is closed.
  assert.deepEqual(await closed, { code: 1008, reason: 'The peer is no longer available' });
  const body = (await fetchText(`${url}/metrics`)).body;
  assert.equal(sample(body, 'sigver_slow_consumers_total'), 1);
});

test('serves Node process metrics, and each server its own registry', async (t) => {
  const a = await startServer(t);
  const b = await startServer(t);
  const host = await a.connect();
  host.send({ key: 'only-on-a' });
  const joiner = await a.connect();
  joiner.send({ joinkey: 'only-on-a' });
  await joiner.next();
  const textA = (await fetchText(`${a.url}/metrics`)).body;
  const textB = (await fetchText(`${b.url}/metrics`)).body;
  assert.equal(sample(textA, 'sigver_keys'), 1);
  assert.equal(sample(textB, 'sigver_keys'), 0);
  assert.equal(sample(textB, 'sigver_connections_opened_total', { dialect: 'v0' }), 0);
  for (const name of [
    'process_cpu_user_seconds_total',
    'process_resident_memory_bytes',
    'nodejs_eventloop_lag_seconds',
  ]) {
    assert.notEqual(sample(textA, name), undefined, name);
  }
  // Left out: their collection walks every socket or open file (scrape cost would grow with connections).
  for (const name of ['process_open_fds', 'nodejs_active_handles_total', 'nodejs_active_resources_total']) {
    assert.equal(sample(textA, name), undefined, name);
  }
});

test('--no-metrics: GET /metrics is 404, and /health still answers', async (t) => {
  const { url, server } = await startServer(t, { metrics: false });
  assert.equal((await fetchText(`${url}/metrics`)).status, 404);
  assert.equal(server.metricsRegistry, undefined);
  const health = await fetchText(`${url}/health`);
  assert.equal(health.status, 200);
  assert.equal((JSON.parse(health.body) as { status: string }).status, 'ok');
});
