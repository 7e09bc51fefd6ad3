// Connection logs: one JSON line per connection (when it closes) and per
// refusal, with no payloads, keys or access tokens in them.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TestClient } from '../support/client.js';
import { memoryLog } from '../support/memory-log.js';
import { startServer } from '../support/server.js';

test('logs one JSON line per refusal and one per connection when it closes: who, dialect, role, how long, why, how much', async (t) => {
  const log = memoryLog('info');
  const { connect, idle } = await startServer(t, { logger: log.logger });
  const client = await connect('v1', { headers: { origin: 'https://app.example.com' } }, '/room?x=1');
  client.send({ joinkey: 'nobody' });
  assert.equal(((await client.next()) as { error: { code: string } }).error.code, 'KEY_UNKNOWN');
  client.ws.close(4321, 'bye now');
  await idle();

  assert.equal(
    log.lines.some((l) => l.event === 'opened'),
    false,
    'no line when a connection opens',
  );
  const refused = log.lines.find((l) => l.event === 'refused');
  assert.ok(refused !== undefined);
  const conn = refused.conn;
  assert.equal(typeof conn, 'number');
  assert.deepEqual({ code: refused.code, dialect: refused.dialect }, { code: 'KEY_UNKNOWN', dialect: 'v1' });

  const closed = log.lines.find((l) => l.event === 'closed');
  assert.ok(closed !== undefined);
  assert.equal(closed.level, 'info');
  assert.equal(closed.msg, 'connection closed');
  assert.equal(typeof closed.time, 'number', 'epoch milliseconds');
  assert.deepEqual(
    {
      conn: closed.conn,
      remote: closed.remote,
      origin: closed.origin,
      dialect: closed.dialect,
      role: closed.role,
      code: closed.code,
      reason: closed.reason,
      messages: closed.messages,
    },
    {
      conn,
      remote: '127.0.0.1',
      origin: 'https://app.example.com',
      dialect: 'v1',
      role: 'none',
      code: 4321,
      reason: 'bye now',
      messages: 1,
    },
  );
  assert.equal(typeof closed.durationMs, 'number');
  // The joinkey frame and the close frame, with their headers.
  assert.ok(typeof closed.bytes === 'number' && closed.bytes > '{"joinkey":"nobody"}'.length);
  assert.equal(log.lines.filter((l) => l.conn === conn).length, 2, 'the refusal and the close, nothing else');
});

test('the close line gives the role the connection had', async (t) => {
  const log = memoryLog('info');
  const { connect, idle } = await startServer(t, { logger: log.logger });
  const host = await connect('v1');
  host.send({ key: 'role-key' });
  await host.next();
  const joiner = await connect('v1');
  joiner.send({ joinkey: 'role-key' });
  await joiner.next();
  await joiner.close();
  await host.close();
  await idle();
  const roles = log.lines
    .filter((l) => l.event === 'closed')
    .map((l) => l.role)
    .sort();
  assert.deepEqual(roles, ['host', 'joiner']);
});

test('logs a v0 refusal and the close that follows it', async (t) => {
  const log = memoryLog('info');
  const { connect, nextEnd } = await startServer(t, { logger: log.logger });
  const host = await connect();
  host.send({ key: 'taken' });
  const second = await connect();
  const ended = nextEnd();
  second.send({ key: 'taken' });
  assert.deepEqual(await second.waitClose(), { code: 1008, reason: 'The key already exists' });
  await ended;
  assert.ok(log.lines.some((l) => l.event === 'refused' && l.code === 'KEY_TAKEN' && l.dialect === 'v0'));
  assert.ok(log.lines.some((l) => l.event === 'closed' && l.code === 1008 && l.reason === 'The key already exists'));
});

test('logs upgrades refused over HTTP, with status and client address', async (t) => {
  const log = memoryLog('info');
  const { url } = await startServer(t, { logger: log.logger, allowOrigin: ['https://good.example'] });
  await assert.rejects(TestClient.connect(url, 'v0', { headers: { origin: 'https://evil.example' } }), /403/);
  const line = log.lines.find((l) => l.event === 'upgrade-refused');
  assert.equal(line?.status, 403);
  assert.equal(line?.message, 'Origin not allowed');
  assert.equal(line?.origin, 'https://evil.example');
  assert.equal(line?.remote, '127.0.0.1');
});

test('never logs SDP, candidates, keys or access tokens, even at trace level', async (t) => {
  const log = memoryLog('trace');
  const { connect, idle } = await startServer(t, { logger: log.logger });
  const host = await connect('v1', {}, '/?token=TOKEN-MARKER');
  host.send({ key: 'KEY-MARKER' });
  await host.next();
  const joiner = await connect('v1');
  joiner.send({ joinkey: 'KEY-MARKER' });
  await joiner.next();
  await host.next();
  joiner.send({ offer: { type: 'offer', sdp: 'v=0 SDP-MARKER c=IN IP4 192.0.2.7' } });
  await host.next();
  joiner.send({ candidate: { candidate: 'candidate:1 1 udp 2 192.0.2.7 5000 typ host CANDIDATE-MARKER' } });
  await host.next();
  host.send({ answer: { sdp: 'ANSWER-MARKER' }, id: 1 });
  await joiner.next();
  await joiner.close();
  await host.close();
  await idle();
  assert.ok(log.raw.length >= 2, 'a close line per connection');
  for (const line of log.raw) assert.doesNotMatch(line, /MARKER|192\.0\.2\.7/);
});

test('writes nothing at level silent, and no info lines at level warn', async (t) => {
  for (const level of ['silent', 'warn']) {
    const log = memoryLog(level);
    const { connect, idle } = await startServer(t, { logger: log.logger });
    const client = await connect();
    await client.close();
    await idle();
    assert.deepEqual(log.raw, [], level);
  }
});
