// Connection logs: one JSON line per connection opened, closed and refused,
// with no payloads, keys or access tokens in them.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../../src/ops/logger.js';
import { TestClient } from '../support/client.js';
import { startServer } from '../support/server.js';

/** A pino destination that keeps each line, parsed. */
function memoryLog(level: string): {
  logger: ReturnType<typeof createLogger>;
  lines: Record<string, unknown>[];
  raw: string[];
} {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk
        .toString()
        .split('\n')
        .filter((l) => l !== '')) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: createLogger({ level, stream }), lines, raw };
}

test('logs a JSON line when a connection opens, one per refusal, and one when it closes, with code and reason', async (t) => {
  const log = memoryLog('info');
  const { connect, idle } = await startServer(t, { logger: log.logger });
  const client = await connect('v1', { headers: { origin: 'https://app.example.com' } }, '/room?x=1');
  client.send({ joinkey: 'nobody' });
  assert.equal(((await client.next()) as { error: { code: string } }).error.code, 'KEY_UNKNOWN');
  client.ws.close(4321, 'bye now');
  await idle();

  const opened = log.lines.find((l) => l.event === 'opened');
  assert.ok(opened !== undefined);
  assert.equal(opened.level, 'info');
  assert.equal(opened.msg, 'connection opened');
  assert.equal(opened.dialect, 'v1');
  assert.equal(opened.remote, '127.0.0.1');
  assert.equal(opened.origin, 'https://app.example.com');
  assert.equal(opened.path, '/room');
  assert.equal(typeof opened.time, 'number', 'epoch milliseconds');
  const conn = opened.conn;
  assert.equal(typeof conn, 'number');

  const refused = log.lines.find((l) => l.event === 'refused');
  assert.deepEqual(
    { conn: refused?.conn, code: refused?.code, dialect: refused?.dialect },
    { conn, code: 'KEY_UNKNOWN', dialect: 'v1' },
  );
  const closed = log.lines.find((l) => l.event === 'closed');
  assert.deepEqual(
    { conn: closed?.conn, code: closed?.code, reason: closed?.reason, role: closed?.role },
    { conn, code: 4321, reason: 'bye now', role: 'none' },
  );
  assert.equal(typeof closed?.durationMs, 'number');
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
  assert.ok(log.raw.length >= 4);
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
