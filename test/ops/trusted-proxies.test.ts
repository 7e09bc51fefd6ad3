// --trust-proxy with a list of proxy addresses and CIDR ranges: which peers
// may report the client address, how X-Forwarded-For is walked past them, how
// much of it is read, how the setting is spelled, and real sockets.

import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { parseCommandLine, type Command } from '../../src/cli/arguments.js';
import { MAX_FORWARDED_CHARS, clientAddress } from '../../src/ops/client-address.js';
import { TrustedProxies, proxyEntryProblem } from '../../src/ops/trusted-proxies.js';
import { SettingError, resolveSettings } from '../../src/options.js';
import { TestClient } from '../support/client.js';
import { startServer } from '../support/server.js';

function request(remoteAddress: string, forwarded?: string | string[]): IncomingMessage {
  return {
    socket: { remoteAddress },
    headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded },
  } as unknown as IncomingMessage;
}

const LIST = ['10.0.0.0/8', '127.0.0.1', 'fd00::/8', '::1', '::ffff:192.0.2.1', '::ffff:198.18.0.0/111'];

test('trusts the listed addresses and ranges, IPv4, IPv6 and IPv4-mapped IPv6', () => {
  const proxies = new TrustedProxies(LIST);
  const cases: Array<[string, boolean]> = [
    ['10.0.0.1', true],
    ['10.255.255.255', true],
    ['11.0.0.1', false],
    ['127.0.0.1', true],
    ['127.0.0.2', false],
    ['::ffff:127.0.0.1', true],
    ['::FFFF:10.1.2.3', true],
    ['::ffff:11.0.0.1', false],
    ['192.0.2.1', true],
    ['198.19.255.255', true],
    ['::ffff:198.18.0.1', true],
    ['198.20.0.0', false],
    ['fd00::5', true],
    ['fdff:1::1', true],
    ['fe80::1', false],
    ['::1', true],
    ['::2', false],
    ['not an address', false],
    ['', false],
  ];
  for (const [address, trusted] of cases) assert.equal(proxies.trusts(address), trusted, address);
  assert.equal(new TrustedProxies(true).trusts('198.51.100.1'), true);
  assert.equal(new TrustedProxies(false).trusts('127.0.0.1'), false);
  assert.equal(new TrustedProxies([]).enabled, false);
});

test('names entries that are no address or range', () => {
  for (const good of [
    '10.0.0.0/8',
    '0.0.0.0/0',
    '127.0.0.1',
    '::/0',
    '2001:db8::/32',
    '::ffff:127.0.0.1',
    '::1/128',
    '::ffff:10.0.0.0/104',
  ]) {
    assert.equal(proxyEntryProblem(good, '--trust-proxy'), undefined, good);
  }
  for (const bad of [
    '10.0.0.0/33',
    '::/129',
    '10.0.0.0/',
    '/8',
    '10.0.0.0/8/8',
    '10.0.0',
    'localhost',
    '10.0.0.0/x',
    '',
  ]) {
    assert.match(proxyEntryProblem(bad, '--trust-proxy') ?? '', /--trust-proxy: .* is not an IP address or CIDR range/);
  }
});

test('reads X-Forwarded-For only from a trusted peer, right to left past trusted hops', () => {
  const proxies = new TrustedProxies(LIST);
  const cases: Array<[string, string | string[] | undefined, string]> = [
    // An untrusted peer's header is ignored.
    ['198.51.100.1', '203.0.113.9', '198.51.100.1'],
    ['::ffff:198.51.100.1', '203.0.113.9', '198.51.100.1'],
    // A trusted peer: the nearest untrusted entry is the client.
    ['127.0.0.1', '203.0.113.9', '203.0.113.9'],
    ['::ffff:127.0.0.1', '203.0.113.9', '203.0.113.9'],
    ['127.0.0.1', 'forged, 203.0.113.9, 10.0.0.2, 10.0.0.3', '203.0.113.9'],
    ['10.0.0.1', '198.51.100.7, 203.0.113.9', '203.0.113.9'],
    ['127.0.0.1', ['198.51.100.7', '203.0.113.9, fd00::1'], '203.0.113.9'],
    ['127.0.0.1', '2001:db8::1', '2001:db8::1'],
    ['127.0.0.1', '::ffff:203.0.113.9', '203.0.113.9'],
    // Every hop trusted: the leftmost one.
    ['127.0.0.1', '10.0.0.5, 10.0.0.6', '10.0.0.5'],
    // An entry that is no address ends the walk at the hop before it.
    ['127.0.0.1', '203.0.113.9, unknown', '127.0.0.1'],
    ['127.0.0.1', '203.0.113.9, garbage, 10.0.0.2', '10.0.0.2'],
    ['127.0.0.1', ' ', '127.0.0.1'],
    ['127.0.0.1', undefined, '127.0.0.1'],
  ];
  for (const [peer, forwarded, expected] of cases) {
    assert.equal(clientAddress(request(peer, forwarded), proxies), expected, `${peer} / ${String(forwarded)}`);
  }
  // The boolean form: any peer, one hop (the last entry).
  assert.equal(clientAddress(request('198.51.100.1', '203.0.113.9, 10.0.0.2'), true), '10.0.0.2');
  assert.equal(clientAddress(request('198.51.100.1', '203.0.113.9'), false), '198.51.100.1');
});

test('reads only the end of a long X-Forwarded-For', () => {
  const proxies = new TrustedProxies(['10.0.0.0/8', '127.0.0.1']);
  // The client's own entry lies past the bound, behind a wall of trusted hops: the walk stops at the bound.
  const wall = Array.from({ length: 5_000 }, (_, i) => `10.0.${(i >> 8) & 255}.${i & 255}`).join(', ');
  const address = clientAddress(request('127.0.0.1', `203.0.113.9, ${wall}`), proxies);
  assert.match(address, /^10\.0\.\d+\.\d+$/);
  assert.ok(wall.slice(-MAX_FORWARDED_CHARS).includes(address));
  // A megabyte of junk before the real hops costs nothing and changes nothing.
  assert.equal(
    clientAddress(request('127.0.0.1', `${'x'.repeat(1 << 20)}, 203.0.113.9, 10.0.0.2`), proxies),
    '203.0.113.9',
  );
});

function settingOf(command: Command): unknown {
  assert.ok(command.kind === 'serve');
  return command.settings.trustProxy;
}

test('--trust-proxy alone means any peer; with values, a list, from flags, environment and config file', () => {
  const parse = (argv: string[], env: Record<string, string> = {}, file?: string): unknown =>
    settingOf(parseCommandLine(argv, env, () => file ?? '{}'));
  assert.equal(parse([]), false);
  assert.equal(parse(['--trust-proxy']), true);
  assert.equal(parse(['--trust-proxy', '--port', '1']), true);
  assert.equal(parse(['--trust-proxy=true']), true);
  assert.equal(parse(['--no-trust-proxy'], { SIGVER_TRUST_PROXY: 'true' }), false);
  assert.deepEqual(parse(['--trust-proxy', '10.0.0.0/8', '--trust-proxy', '127.0.0.1']), ['10.0.0.0/8', '127.0.0.1']);
  assert.deepEqual(parse(['--trust-proxy=10.0.0.0/8,::1']), ['10.0.0.0/8', '::1']);
  assert.deepEqual(parse([], { SIGVER_TRUST_PROXY: '10.0.0.0/8, ::ffff:127.0.0.1' }), [
    '10.0.0.0/8',
    '::ffff:127.0.0.1',
  ]);
  assert.equal(parse([], { SIGVER_TRUST_PROXY: '1' }), true);
  assert.equal(parse([], { SIGVER_TRUST_PROXY: 'off' }), false);
  assert.deepEqual(parse(['--config', 'c.json'], {}, '{"trustProxy":["fd00::/8"]}'), ['fd00::/8']);
  assert.equal(parse(['--config', 'c.json'], {}, '{"trustProxy":true}'), true);
  assert.throws(
    () => parse(['--trust-proxy', '10.0.0.0/33']),
    (error: unknown) => {
      assert.ok(error instanceof SettingError);
      assert.match(error.message, /--trust-proxy: "10.0.0.0\/33" is not an IP address or CIDR range/);
      return true;
    },
  );
  assert.throws(() => parse([], { SIGVER_TRUST_PROXY: 'proxy.example' }), SettingError);
  assert.throws(() => parse(['--trust-proxy', '--no-trust-proxy']), SettingError);
  assert.throws(() => resolveSettings({ trustProxy: ['nope'] }), SettingError);
  assert.deepEqual(resolveSettings({ trustProxy: ['127.0.0.1'] }).trustProxy, ['127.0.0.1']);
});

test('on real sockets: X-Forwarded-For counts only when the list trusts the peer, 127.0.0.1', async (t) => {
  const from = (address: string): { headers: Record<string, string> } => ({ headers: { 'x-forwarded-for': address } });
  for (const trusted of [['127.0.0.1'], ['::ffff:127.0.0.0/104'], ['10.0.0.0/8', '127.0.0.0/8']]) {
    const { url, connect } = await startServer(t, { maxConnectionsPerAddress: 1, trustProxy: trusted });
    await connect('v0', from('203.0.113.1'));
    await connect('v0', from('203.0.113.2'));
    await connect('v0', from('203.0.113.3, 127.0.0.1'));
    await assert.rejects(TestClient.connect(url, 'v0', from('203.0.113.1')), /429/, String(trusted));
    await assert.rejects(TestClient.connect(url, 'v0', from('198.51.100.9, 203.0.113.2')), /429/);
  }
  const { url, connect } = await startServer(t, { maxConnectionsPerAddress: 1, trustProxy: ['10.0.0.0/8'] });
  await connect('v0', from('203.0.113.1'));
  await assert.rejects(
    TestClient.connect(url, 'v0', from('203.0.113.2')),
    /429/,
    'an untrusted peer cannot name its address',
  );
});
