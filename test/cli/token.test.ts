// `sigver token`: mints access tokens that a server run with the same
// secret accepts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verifyAccessToken } from '../../src/ops/access-token.js';
import { parseDuration } from '../../src/cli/token-command.js';
import { TestClient } from '../support/client.js';
import { runCli } from '../support/cli.js';

const SECRET = 'cli-secret-cli-secret-cli-secret-cli';

test('parses durations in seconds, minutes, hours and days', () => {
  assert.equal(parseDuration('90'), 90);
  assert.equal(parseDuration('90s'), 90);
  assert.equal(parseDuration('15m'), 900);
  assert.equal(parseDuration('1h'), 3_600);
  assert.equal(parseDuration('7d'), 604_800);
  for (const bad of ['', '0', '1w', '-1h', '1.5h', 'h']) assert.equal(parseDuration(bad), undefined, bad);
});

test('prints a token for the key and lifetime asked for', async (t) => {
  const before = Math.floor(Date.now() / 1000);
  const cli = runCli(t, ['token', '--secret', SECRET, '--ttl', '1h', '--key', 'room-7']);
  assert.equal((await cli.exit()).code, 0);
  assert.equal(cli.stdoutLines.length, 1);
  const verdict = verifyAccessToken(cli.stdoutLines[0]!, SECRET, Date.now());
  assert.ok(verdict.ok);
  assert.equal(verdict.allowedKey, 'room-7');
  assert.ok(verdict.expiresAt >= before + 3_600 && verdict.expiresAt <= Math.floor(Date.now() / 1000) + 3_600);
});

test('reads the secret from SIGVER_AUTH_SECRET, and the server started with it accepts the token', async (t) => {
  const minted = runCli(t, ['token', '--ttl', '5m'], { SIGVER_AUTH_SECRET: SECRET });
  assert.equal((await minted.exit()).code, 0);
  const token = minted.stdoutLines[0]!;
  const server = runCli(t, ['--host', '127.0.0.1', '--port', '0'], { SIGVER_AUTH_SECRET: SECRET });
  const url = await server.listening();
  await assert.rejects(TestClient.connect(url), /401/);
  const client = await TestClient.connect(`${url}/?token=${token}`, 'v1');
  t.after(() => client.ws.terminate());
  client.send({ key: 'any' });
  assert.equal(((await client.next()) as { registered: string }).registered, 'any');
});

test('reports a missing or short secret and a bad lifetime, one line each, with exit code 1', async (t) => {
  const missing = runCli(t, ['token', '--ttl', 'soon']);
  assert.equal((await missing.exit()).code, 1);
  assert.deepEqual(missing.stderrLines, [
    'sigver: --secret is required (or set SIGVER_AUTH_SECRET)',
    'sigver: --ttl must be a duration like 90s, 15m, 1h or 7d, got "soon"',
  ]);
  const short = runCli(t, ['token', '--secret', 'short']);
  assert.equal((await short.exit()).code, 1);
  assert.deepEqual(short.stderrLines, ['sigver: --secret must be at least 32 bytes long']);
  const help = runCli(t, ['token', '--help']);
  assert.equal((await help.exit()).code, 0);
  assert.match(help.stdoutLines.join('\n'), /--ttl <duration>/);
});
