// Authentication: with --auth-secret an upgrade needs a valid access token
// (query parameter, subprotocol entry or bearer header), else HTTP 401; a
// token may allow one key only, which the core enforces.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import WebSocket from 'ws';
import { accessTokenOf, mintAccessToken, verifyAccessToken } from '../../src/ops/access-token.js';
import { ACCESS_TOKEN_SUBPROTOCOL_PREFIX, V1_SUBPROTOCOL, selectSubprotocol } from '../../src/protocol/index.js';
import { createSigverServer } from '../../src/server.js';
import { TestClient } from '../support/client.js';
import { withTimeout } from '../support/waits.js';
import { fetchText } from '../support/http.js';
import { startServer } from '../support/server.js';

const SECRET = 'test-secret-test-secret-test-secret!';
const NOW = Date.UTC(2030, 0, 1);
const inOneHour = (now = Date.now()): number => Math.floor(now / 1000) + 3_600;

/** A JWT signed by hand, the way any HS256 library would. */
function handMade(header: object, payload: object, secret = SECRET): string {
  const body = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

test('verifies a token it minted, with or without a key, until it expires', () => {
  const exp = NOW / 1000 + 60;
  assert.deepEqual(verifyAccessToken(mintAccessToken(SECRET, { expiresAt: exp }), SECRET, NOW), {
    ok: true,
    allowedKey: null,
    expiresAt: exp,
  });
  assert.deepEqual(verifyAccessToken(mintAccessToken(SECRET, { expiresAt: exp, key: 'room-1' }), SECRET, NOW), {
    ok: true,
    allowedKey: 'room-1',
    expiresAt: exp,
  });
  assert.equal(
    (verifyAccessToken(mintAccessToken(SECRET, { expiresAt: exp, key: 42 }), SECRET, NOW) as { allowedKey: string })
      .allowedKey,
    '42',
  );
  assert.deepEqual(verifyAccessToken(mintAccessToken(SECRET, { expiresAt: exp }), SECRET, NOW + 60_000), {
    ok: false,
    reason: 'expired',
  });
});

test('refuses tokens that are forged, tampered with, malformed or not yet valid', () => {
  const exp = NOW / 1000 + 60;
  const good = mintAccessToken(SECRET, { expiresAt: exp, key: 'a' });
  const [h, p, s] = good.split('.') as [string, string, string];
  const cases: [string, string][] = [
    [mintAccessToken('another-secret-another-secret-another', { expiresAt: exp }), 'signature'],
    [`${h}.${Buffer.from(JSON.stringify({ exp, key: 'b' })).toString('base64url')}.${s}`, 'signature'],
    [`${h}.${p}.${s.slice(0, -2)}`, 'signature'],
    [`${h}.${p}`, 'malformed'],
    ['', 'malformed'],
    ['a.b.c.d', 'malformed'],
    [`${h}.${p}.`, 'malformed'],
    [handMade({ alg: 'none', typ: 'JWT' }, { exp }), 'malformed'],
    [handMade({ alg: 'HS512', typ: 'JWT' }, { exp }), 'malformed'],
    [handMade({ alg: 'HS256', typ: 'JWT' }, { key: 'a' }), 'malformed'],
    [handMade({ alg: 'HS256', typ: 'JWT' }, { exp: String(exp) }), 'malformed'],
    [handMade({ alg: 'HS256', typ: 'JWT' }, { exp, key: '' }), 'malformed'],
    [handMade({ alg: 'HS256', typ: 'JWT' }, { exp, key: { not: 'a key' } }), 'malformed'],
    [handMade({ alg: 'HS256', typ: 'JWT' }, { exp, nbf: exp - 1 }), 'not-yet-valid'],
  ];
  for (const [token, reason] of cases)
    assert.deepEqual(verifyAccessToken(token, SECRET, NOW), { ok: false, reason }, token);
});

test('accepts a token any HS256 JWT library would make', () => {
  const token = handMade(
    { typ: 'JWT', alg: 'HS256' },
    { sub: 'alice', iat: NOW / 1000, exp: NOW / 1000 + 10, nbf: NOW / 1000, key: 'room-9' },
  );
  assert.deepEqual(verifyAccessToken(token, SECRET, NOW), {
    ok: true,
    allowedKey: 'room-9',
    expiresAt: NOW / 1000 + 10,
  });
});

test('reads the token from the query, then a sigver.auth. subprotocol entry, then a bearer header', () => {
  const request = (url: string, headers: Record<string, string>): IncomingMessage =>
    ({ url, headers }) as unknown as IncomingMessage;
  assert.equal(accessTokenOf(request('/?token=Q', { 'sec-websocket-protocol': 'sigver.auth.S' })), 'Q');
  assert.equal(
    accessTokenOf(
      request('/x?a=1', { 'sec-websocket-protocol': 'sigver.v1, sigver.auth.S', authorization: 'Bearer B' }),
    ),
    'S',
  );
  assert.equal(accessTokenOf(request('/', { authorization: 'Bearer B' })), 'B');
  assert.equal(accessTokenOf(request('/?token=', { 'sec-websocket-protocol': 'sigver.auth.' })), undefined);
});

test('selects sigver.v1 whenever offered, else the token entry, else nothing', () => {
  assert.equal(selectSubprotocol(['sigver.auth.T', V1_SUBPROTOCOL]), V1_SUBPROTOCOL);
  assert.equal(selectSubprotocol([V1_SUBPROTOCOL, 'sigver.auth.T']), V1_SUBPROTOCOL);
  assert.equal(selectSubprotocol(['chat', 'sigver.auth.T']), 'sigver.auth.T');
  assert.equal(selectSubprotocol(['chat']), undefined);
});

test('refuses upgrades with a missing, bad or expired token with HTTP 401', async (t) => {
  const { url } = await startServer(t, { authSecret: SECRET });
  const upgrade = async (path: string, headers: Record<string, string> = {}): Promise<string> => {
    const response = await fetchText(url + path, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...headers,
      },
    });
    return `${response.status} ${response.body.trim()}`;
  };
  assert.equal(await upgrade('/'), '401 Access token required');
  assert.equal(await upgrade('/?token=nonsense'), '401 Invalid access token');
  const forged = mintAccessToken('another-secret-another-secret-another', { expiresAt: inOneHour() });
  assert.equal(await upgrade(`/?token=${forged}`), '401 Invalid access token');
  const expired = mintAccessToken(SECRET, { expiresAt: Math.floor(Date.now() / 1000) - 1 });
  assert.equal(await upgrade(`/?token=${expired}`), '401 Access token expired');
  assert.equal(
    await upgrade('/', { 'sec-websocket-protocol': `${ACCESS_TOKEN_SUBPROTOCOL_PREFIX}${expired}` }),
    '401 Access token expired',
  );
  await assert.rejects(TestClient.connect(url), /Unexpected server response: 401/);
});

test('judges expiry by the wall clock it is given', async (t) => {
  const token = mintAccessToken(SECRET, { expiresAt: inOneHour() });
  const { url } = await startServer(t, { authSecret: SECRET, wallClock: () => Date.now() + 2 * 3_600_000 });
  await assert.rejects(TestClient.connect(`${url}/?token=${token}`), /401/);
});

test('accepts a token in the query parameter, as a bearer header, or as a subprotocol entry with either dialect', async (t) => {
  const token = mintAccessToken(SECRET, { expiresAt: inOneHour() });
  const { url, connect } = await startServer(t, { authSecret: SECRET });
  const host = await connect('v0', {}, `/?token=${token}`);
  host.send({ key: 'auth-room' });
  const joiner = await connect('v0', { headers: { authorization: `Bearer ${token}` } });
  joiner.send({ joinkey: 'auth-room' });
  assert.deepEqual(await joiner.next(), { reachable: 'true' });

  // A v0 client that offers only its token entry: the server selects that entry, and the dialect is v0.
  const entry = `${ACCESS_TOKEN_SUBPROTOCOL_PREFIX}${token}`;
  const v0 = new WebSocket(url, [entry]);
  t.after(() => v0.terminate());
  await withTimeout(new Promise((resolve, reject) => v0.once('open', resolve).once('error', reject)), 'open');
  assert.equal(v0.protocol, entry);
  v0.send(JSON.stringify({ joinkey: 'auth-room' }));
  const reply = await withTimeout(
    new Promise<string>((resolve) => v0.once('message', (data: Buffer) => resolve(data.toString()))),
    'reply',
  );
  assert.equal(reply, '{"reachable":"true"}');

  // A v1 client offers both, in any order: the server selects sigver.v1.
  for (const protocols of [
    [V1_SUBPROTOCOL, entry],
    [entry, V1_SUBPROTOCOL],
  ]) {
    const v1 = new WebSocket(url, protocols);
    t.after(() => v1.terminate());
    await withTimeout(new Promise((resolve, reject) => v1.once('open', resolve).once('error', reject)), 'open');
    assert.equal(v1.protocol, V1_SUBPROTOCOL);
    v1.send(JSON.stringify({ key: null }));
    const registered = await withTimeout(
      new Promise<string>((resolve) => v1.once('message', (data: Buffer) => resolve(data.toString()))),
      'registered',
    );
    assert.ok('registered' in (JSON.parse(registered) as object));
  }
});

test('a server without --auth-secret still selects the token entry, so such clients connect', async (t) => {
  const { url } = await startServer(t);
  const client = new WebSocket(url, [`${ACCESS_TOKEN_SUBPROTOCOL_PREFIX}whatever`]);
  t.after(() => client.terminate());
  await withTimeout(new Promise((resolve, reject) => client.once('open', resolve).once('error', reject)), 'open');
  assert.equal(client.protocol, `${ACCESS_TOKEN_SUBPROTOCOL_PREFIX}whatever`);
});

test('a token for one key allows hosting or joining that key only: KEY_FORBIDDEN in v1, close 1008 in v0', async (t) => {
  const { connect } = await startServer(t, { authSecret: SECRET });
  const forRoom = mintAccessToken(SECRET, { expiresAt: inOneHour(), key: 'room-1' });
  const any = mintAccessToken(SECRET, { expiresAt: inOneHour() });
  const error = async (client: TestClient): Promise<string> =>
    ((await client.next()) as { error: { code: string } }).error.code;

  const host = await connect('v1', {}, `/?token=${forRoom}`);
  host.send({ key: 'other' });
  assert.equal(await error(host), 'KEY_FORBIDDEN');
  host.send({ key: null });
  assert.equal(await error(host), 'KEY_FORBIDDEN');
  host.send({ key: '' });
  assert.equal(await error(host), 'INVALID_KEY', 'an invalid key is reported as such first');
  host.send({ key: 'room-1' });
  assert.equal(((await host.next()) as { registered: string }).registered, 'room-1');
  host.send({ key: 'other' });
  assert.equal(await error(host), 'ROLE_SET', 'a role already set is reported first');

  const otherHost = await connect('v1', {}, `/?token=${any}`);
  otherHost.send({ key: 'other' });
  await otherHost.next();
  const joiner = await connect('v1', {}, `/?token=${forRoom}`);
  joiner.send({ joinkey: 'other' });
  assert.equal(await error(joiner), 'KEY_FORBIDDEN');
  joiner.send({ joinkey: 'room-1' });
  assert.deepEqual(await joiner.next(), { reachable: 'true' });

  const v0 = await connect('v0', {}, `/?token=${forRoom}`);
  v0.send({ joinkey: 'other' });
  assert.deepEqual(await v0.waitClose(), { code: 1008, reason: 'Key not allowed' });
});

test('a token for an integer key allows that key written as a number', async (t) => {
  const { connect } = await startServer(t, { authSecret: SECRET });
  const host = await connect('v1', {}, `/?token=${mintAccessToken(SECRET, { expiresAt: inOneHour(), key: 42 })}`);
  host.send('{"key": 42.0}');
  assert.equal(((await host.next()) as { registered: string }).registered, '42');
});

test('refuses an --auth-secret shorter than 32 bytes', () => {
  assert.throws(() => createSigverServer({ authSecret: 'short' }), /authSecret must be at least 32 bytes/);
});
