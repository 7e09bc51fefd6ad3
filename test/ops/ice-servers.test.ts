// GET /ice-servers: time-limited TURN credentials in the TURN REST API
// scheme coturn implements, only to allowed origins and token holders.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { mintAccessToken } from '../../src/ops/access-token.js';
import { createLogger } from '../../src/ops/logger.js';
import type { IceServersResponse } from '../../src/protocol/ice-servers.js';
import { createSigverServer } from '../../src/server.js';
import { fetchText } from '../support/http.js';
import { startServer } from '../support/server.js';

const TURN_SECRET = 'coturn-static-auth-secret';
const AUTH_SECRET = 'auth-secret-auth-secret-auth-secret-';
const NOW = Date.UTC(2030, 0, 1, 12);
const TURN = {
  turnSecret: TURN_SECRET,
  turnUrl: ['stun:turn.example.com:3478', 'turn:turn.example.com:3478?transport=udp', 'turns:turn.example.com:5349'],
  wallClock: () => NOW,
};

test('hands out coturn REST credentials: username "expiry:id", credential base64 HMAC-SHA1 of it', async (t) => {
  const { url } = await startServer(t, { ...TURN, turnTtlSeconds: 600 });
  const response = await fetchText(`${url}/ice-servers`);
  assert.equal(response.status, 200);
  assert.equal(response.headers['content-type'], 'application/json');
  assert.equal(response.headers['cache-control'], 'no-store');
  const body = JSON.parse(response.body) as IceServersResponse;
  const expiresAt = NOW / 1000 + 600;
  assert.equal(body.ttl, 600);
  assert.equal(body.expiresAt, expiresAt);
  assert.equal(body.iceServers.length, 2);
  assert.deepEqual(body.iceServers[0], { urls: ['stun:turn.example.com:3478'] });
  const turn = body.iceServers[1]!;
  assert.deepEqual(turn.urls, ['turn:turn.example.com:3478?transport=udp', 'turns:turn.example.com:5349']);
  assert.match(turn.username ?? '', new RegExp(`^${expiresAt}:[0-9a-f]{16}$`));
  assert.equal(turn.credential, createHmac('sha1', TURN_SECRET).update(turn.username!).digest('base64'));
  const again = JSON.parse((await fetchText(`${url}/ice-servers`)).body) as IceServersResponse;
  assert.notEqual(again.iceServers[1]!.username, turn.username, 'each request gets its own id');
});

test('lasts a day by default, serves STUN alone without a secret, and an empty list when no URL is set', async (t) => {
  const turn = await startServer(t, TURN);
  assert.equal((JSON.parse((await fetchText(`${turn.url}/ice-servers`)).body) as IceServersResponse).ttl, 86_400);
  const stun = await startServer(t, { turnUrl: ['stun:stun.example.com:3478'], wallClock: () => NOW });
  assert.deepEqual(JSON.parse((await fetchText(`${stun.url}/ice-servers`)).body), {
    iceServers: [{ urls: ['stun:stun.example.com:3478'] }],
    ttl: 86_400,
    expiresAt: NOW / 1000 + 86_400,
  });
  const none = await startServer(t);
  const empty = await fetchText(`${none.url}/ice-servers`);
  assert.equal(empty.status, 200);
  assert.equal(empty.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(empty.body), { iceServers: [] });
});

test('answers allowed origins with CORS headers, refuses others with 403, and answers preflights', async (t) => {
  const { url } = await startServer(t, { ...TURN, allowOrigin: ['https://app.example.com'] });
  const allowed = await fetchText(`${url}/ice-servers`, { headers: { origin: 'https://app.example.com' } });
  assert.equal(allowed.status, 200);
  assert.equal(allowed.headers['access-control-allow-origin'], 'https://app.example.com');
  assert.equal(allowed.headers.vary, 'Origin');
  const refused = await fetchText(`${url}/ice-servers`, { headers: { origin: 'https://evil.test' } });
  assert.equal(refused.status, 403);
  assert.equal(refused.headers['access-control-allow-origin'], undefined);
  assert.equal((await fetchText(`${url}/ice-servers`)).status, 200, 'no Origin header: not a browser');
  const preflight = await fetchText(`${url}/ice-servers`, {
    method: 'OPTIONS',
    headers: {
      origin: 'https://app.example.com',
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'authorization',
    },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example.com');
  assert.match(String(preflight.headers['access-control-allow-headers']), /authorization/);
  assert.equal(
    (await fetchText(`${url}/ice-servers`, { method: 'OPTIONS', headers: { origin: 'https://evil.test' } })).status,
    403,
  );
  assert.equal((await fetchText(`${url}/ice-servers`, { method: 'POST' })).status, 405);
});

test('with --auth-secret, needs an access token in the query or a bearer header', async (t) => {
  const { url } = await startServer(t, { ...TURN, authSecret: AUTH_SECRET });
  const token = mintAccessToken(AUTH_SECRET, { expiresAt: NOW / 1000 + 60, key: 'any-key-will-do' });
  const missing = await fetchText(`${url}/ice-servers`, { headers: { origin: 'https://app.example.com' } });
  assert.equal(missing.status, 401);
  assert.equal(missing.body, 'Access token required\n');
  assert.equal(missing.headers['access-control-allow-origin'], 'https://app.example.com', 'a page can read why');
  assert.equal((await fetchText(`${url}/ice-servers?token=bad`)).status, 401);
  assert.equal((await fetchText(`${url}/ice-servers?token=${token}`)).status, 200);
  assert.equal((await fetchText(`${url}/ice-servers`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
});

test('refuses TURN settings that cannot work', () => {
  assert.throws(
    () => createSigverServer({ turnUrl: ['turn:t.example.com'] }),
    /--turn-url with turn: or turns: URLs needs --turn-secret/,
  );
  assert.throws(
    () => createSigverServer({ turnSecret: 's' }),
    /--turn-secret needs at least one turn: or turns: --turn-url/,
  );
  assert.throws(
    () => createSigverServer({ turnSecret: 's', turnUrl: ['http://t.example.com'] }),
    /"http:\/\/t\.example\.com" is not a stun:, stuns:, turn: or turns: URL/,
  );
  assert.throws(() => createSigverServer({ turnTtlSeconds: 0 }), /turnTtlSeconds must be an integer >= 1/);
});

test('warns at start-up that TURN credentials are open to anyone without --auth-secret', () => {
  const warningsWith = (options: { authSecret?: string }): string[] => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    createSigverServer({ ...TURN, ...options, logger: createLogger({ level: 'info', stream }) });
    return lines
      .map((line) => JSON.parse(line) as { level: string; event?: string; msg: string })
      .filter((line) => line.level === 'warn')
      .map((line) => `${line.event}: ${line.msg}`);
  };
  const [warning, ...more] = warningsWith({});
  assert.deepEqual(more, []);
  assert.match(warning ?? '', /^turn-credentials-open: /);
  assert.match(warning ?? '', /--auth-secret/);
  assert.match(warning ?? '', /any website/);
  assert.deepEqual(warningsWith({ authSecret: AUTH_SECRET }), []);
});
