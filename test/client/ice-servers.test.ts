// fetchIceServers against a real Sigver server, with and without TURN.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetchIceServers } from '../../src/client/index.js';
import { startServer } from '../support/server.js';

test('fetchIceServers returns the TURN credentials a server vends', async (t) => {
  const { url } = await startServer(t, {
    turnSecret: 'a-turn-secret',
    turnUrl: ['stun:turn.example.com:3478', 'turn:turn.example.com:3478'],
  });
  const servers = await fetchIceServers(`${url}/some/path`);
  assert.deepEqual(servers[0], { urls: ['stun:turn.example.com:3478'] });
  assert.deepEqual(servers[1]?.urls, ['turn:turn.example.com:3478']);
  assert.match(String(servers[1]?.username), /^\d+:/);
  assert.equal(typeof servers[1]?.credential, 'string');
});

test('fetchIceServers returns [] from a server that vends none', async (t) => {
  const { url } = await startServer(t);
  assert.deepEqual(await fetchIceServers(url), []);
});
