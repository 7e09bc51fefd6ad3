// TLS: with --tls-cert and --tls-key (and --tls-ca for the chain) the same
// port serves wss:// and https://, with a certificate chain made by the test.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { after, before, test } from 'node:test';
import { createSigverServer } from '../../src/server.js';
import { SettingError } from '../../src/options.js';
import { makeCertificates, type TestCertificates } from '../support/certificates.js';
import { TestClient } from '../support/client.js';
import { withTimeout } from '../support/waits.js';
import { runCli } from '../support/cli.js';
import { fetchText } from '../support/http.js';
import { startServer } from '../support/server.js';

let certs: TestCertificates;
before(() => {
  certs = makeCertificates();
});
after(() => certs.remove());

/** The fingerprint of the certificate a TLS server presents. */
async function presented(url: string, ca: string): Promise<string> {
  const req = request(new URL(url.replace(/^wss/, 'https') + '/health'), { ca, agent: false });
  req.end();
  const [response] = (await withTimeout(once(req, 'response'), 'https response')) as [
    import('node:http').IncomingMessage,
  ];
  const fingerprint = (response.socket as TLSSocket).getPeerCertificate().fingerprint256;
  response.resume();
  await once(response, 'end');
  return fingerprint;
}

test('serves wss:// and https:// on one port, sending the intermediate from --tls-ca', async (t) => {
  const { url, connect } = await startServer(t, { tlsCert: certs.cert, tlsKey: certs.key, tlsCa: certs.intermediate });
  assert.match(url, /^wss:\/\/127\.0\.0\.1:\d+$/);
  const host = await connect('v0', { ca: certs.rootPem });
  host.send({ key: 'secure' });
  const joiner = await connect('v1', { ca: certs.rootPem });
  joiner.send({ joinkey: 'secure' });
  assert.deepEqual(await joiner.next(), { reachable: 'true' });
  joiner.send({ offer: { sdp: 'x' } });
  assert.deepEqual(await host.next(), { offer: { sdp: 'x' } });
  const health = await fetchText(`${url}/health`, { ca: certs.rootPem });
  assert.equal(health.status, 200);
  assert.equal((JSON.parse(health.body) as { connections: number }).connections, 2);
  assert.equal((await fetchText(`${url}/metrics`, { ca: certs.rootPem })).status, 200);
});

test('without --tls-ca a client that trusts only the root cannot verify the chain', async (t) => {
  const { url } = await startServer(t, { tlsCert: certs.cert, tlsKey: certs.key });
  await assert.rejects(fetchText(`${url}/health`, { ca: certs.rootPem }), /unable to verify/);
  await assert.rejects(TestClient.connect(url, 'v0', { ca: certs.rootPem }), /unable to verify/);
});

test('refuses unreadable or invalid TLS files, and a certificate without its key, when the server is built', () => {
  assert.throws(
    () => createSigverServer({ tlsCert: `${certs.dir}/missing.pem`, tlsKey: certs.key }),
    (error: unknown) => {
      assert.ok(error instanceof SettingError);
      assert.match(error.message, /^--tls-cert: cannot read ".*missing\.pem" \(ENOENT\)$/);
      return true;
    },
  );
  assert.throws(() => createSigverServer({ tlsCert: certs.key, tlsKey: certs.key }), SettingError);
  assert.throws(() => createSigverServer({ tlsCert: certs.cert }), /--tls-cert and --tls-key go together/);
  assert.throws(() => createSigverServer({ tlsCa: certs.intermediate }), /--tls-ca needs --tls-cert/);
});

test('the command prints a wss:// URL, and SIGHUP makes it serve a renewed certificate', async (t) => {
  const cli = runCli(t, [
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--tls-cert',
    certs.cert,
    '--tls-key',
    certs.key,
    '--tls-ca',
    certs.intermediate,
  ]);
  const url = await cli.listening();
  assert.match(url, /^wss:\/\/127\.0\.0\.1:\d+$/);
  const first = await presented(url, certs.rootPem);
  const client = await TestClient.connect(url, 'v1', { ca: certs.rootPem });
  t.after(() => client.ws.terminate());
  const renewed = new X509Certificate(certs.renew()).fingerprint256;
  assert.notEqual(renewed, first);
  cli.child.kill('SIGHUP');
  await cli.stderr(/"event":"tls-reloaded"/);
  assert.equal(await presented(url, certs.rootPem), renewed);
  client.send({ ping: 1 });
  assert.deepEqual(await client.next(), { pong: 1 }, 'open connections are kept');
  cli.child.kill('SIGTERM');
  assert.equal((await cli.exit()).code, 0);
});
