// Origins and proxies: --allow-origin refuses other browser origins with
// 403 at the upgrade; --max-connections-per-address refuses with 429, per
// client address, which --trust-proxy takes from X-Forwarded-For.

import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { clientAddress } from '../../src/ops/client-address.js';
import { OriginPolicy, originPatternProblem } from '../../src/ops/origin-policy.js';
import { createSigverServer } from '../../src/server.js';
import { TestClient } from '../support/client.js';
import { startServer } from '../support/server.js';

const POLICY = ['https://app.example.com', 'https://*.example.org', 'http://localhost:5173', 'null'];

const ORIGINS: readonly [string | undefined, boolean][] = [
  [undefined, true],
  ['https://app.example.com', true],
  ['https://APP.Example.com', true],
  ['https://app.example.com:443', true],
  ['http://app.example.com', false],
  ['https://app.example.com:8443', false],
  ['https://app.example.com.evil.test', false],
  ['https://evil.test', false],
  ['https://a.example.org', true],
  ['https://a.b.example.org', true],
  ['https://example.org', false],
  ['https://evilexample.org', false],
  ['http://a.example.org', false],
  ['https://a.example.org:8443', false],
  ['http://localhost:5173', true],
  ['http://localhost:5174', false],
  ['null', true],
  ['not an origin', false],
];

test('matches exact origins and subdomain wildcards', () => {
  const policy = new OriginPolicy(POLICY);
  for (const [origin, allowed] of ORIGINS) assert.equal(policy.allows(origin), allowed, String(origin));
  assert.equal(new OriginPolicy([]).allows('https://anything.test'), true, 'no list: any origin');
  assert.equal(new OriginPolicy(['*']).allows('https://anything.test'), true);
  assert.equal(new OriginPolicy(['https://a.test']).allows('null'), false);
});

test('says what is wrong with a bad --allow-origin entry', () => {
  for (const good of [...POLICY, '*', 'https://*.example.com:8443', 'chrome-extension://abcdef']) {
    assert.equal(originPatternProblem(good), undefined, good);
  }
  for (const bad of [
    'https://a.com/',
    'https://a.com/path',
    'https://a.com?x',
    'example.com',
    'https://*.',
    'https://a.*.com',
    '*.example.com',
    'https://user@a.com',
  ]) {
    assert.match(originPatternProblem(bad) ?? '', /is not/, bad);
  }
  assert.throws(
    () => createSigverServer({ allowOrigin: ['https://ok.test', 'nope'] }),
    /allowOrigin: "nope" is not an origin/,
  );
});

test('refuses a browser origin that is not allowed with HTTP 403, and lets allowed and origin-less clients in', async (t) => {
  const { url, connect } = await startServer(t, { allowOrigin: ['https://app.example.com', 'https://*.example.org'] });
  await connect('v0', { headers: { origin: 'https://app.example.com' } });
  await connect('v1', { headers: { origin: 'https://room.example.org' } });
  await connect('v0');
  await assert.rejects(
    TestClient.connect(url, 'v0', { headers: { origin: 'https://evil.test' } }),
    /Unexpected server response: 403/,
  );
  await assert.rejects(TestClient.connect(url, 'v1', { headers: { origin: 'https://example.org' } }), /403/);
});

function fakeRequest(remoteAddress: string, forwarded?: string | string[]): IncomingMessage {
  return {
    socket: { remoteAddress },
    headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded },
  } as unknown as IncomingMessage;
}

test('takes the client address from the last X-Forwarded-For entry only with --trust-proxy', () => {
  assert.equal(clientAddress(fakeRequest('::ffff:10.0.0.1', '203.0.113.9'), false), '10.0.0.1');
  assert.equal(clientAddress(fakeRequest('10.0.0.1', '203.0.113.9'), true), '203.0.113.9');
  assert.equal(clientAddress(fakeRequest('10.0.0.1', 'forged, 203.0.113.9'), true), '203.0.113.9');
  assert.equal(clientAddress(fakeRequest('10.0.0.1', ['forged', '2001:db8::1']), true), '2001:db8::1');
  assert.equal(clientAddress(fakeRequest('10.0.0.1'), true), '10.0.0.1');
  assert.equal(clientAddress(fakeRequest('10.0.0.1', ' '), true), '10.0.0.1');
});

test('refuses connections past --max-connections-per-address with 429, and counts a closed one out', async (t) => {
  const { url, connect, nextEnd } = await startServer(t, { maxConnectionsPerAddress: 2 });
  const first = await connect();
  await connect('v1');
  await assert.rejects(TestClient.connect(url), /Unexpected server response: 429/);
  const ended = nextEnd();
  await first.close();
  await ended;
  await connect();
  await assert.rejects(TestClient.connect(url), /429/);
});

test('with --trust-proxy, counts connections per forwarded address', async (t) => {
  const { url, connect } = await startServer(t, { maxConnectionsPerAddress: 1, trustProxy: true });
  const from = (address: string): { headers: Record<string, string> } => ({ headers: { 'x-forwarded-for': address } });
  await connect('v0', from('203.0.113.1'));
  await connect('v0', from('203.0.113.2'));
  await assert.rejects(TestClient.connect(url, 'v0', from('203.0.113.1')), /429/);
  await assert.rejects(
    TestClient.connect(url, 'v0', from('198.51.100.7, 203.0.113.2')),
    /429/,
    'only the last entry counts',
  );
});

test('without --trust-proxy, X-Forwarded-For is ignored', async (t) => {
  const { url, connect } = await startServer(t, { maxConnectionsPerAddress: 1 });
  await connect('v0', { headers: { 'x-forwarded-for': '203.0.113.1' } });
  await assert.rejects(TestClient.connect(url, 'v0', { headers: { 'x-forwarded-for': '203.0.113.2' } }), /429/);
});
