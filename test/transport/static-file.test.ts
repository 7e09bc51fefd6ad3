// StaticFile: read once and kept, revalidated with its ETag, and a missing
// file (a build output not built yet) retried on the next request.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { StaticFile } from '../../src/transport/static-file.js';

async function serve(t: TestContext, file: StaticFile): Promise<string> {
  const server = createServer((request, response) => file.serve(request, response));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

function tempFile(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'sigver-static-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'file.js');
}

test('serves the file as read on the first request, with its type, length and ETag', async (t) => {
  const path = tempFile(t);
  writeFileSync(path, 'first');
  const url = await serve(
    t,
    new StaticFile(path, { contentType: 'application/javascript', headers: { 'x-extra': '1' } }),
  );
  const first = await fetch(url);
  assert.equal(first.status, 200);
  assert.equal(await first.text(), 'first');
  assert.equal(first.headers.get('content-type'), 'application/javascript');
  assert.equal(first.headers.get('content-length'), '5');
  assert.equal(first.headers.get('cache-control'), 'no-cache');
  assert.equal(first.headers.get('x-extra'), '1');
  writeFileSync(path, 'second');
  const again = await fetch(url);
  assert.equal(await again.text(), 'first', 'kept in memory, not read again');
  assert.equal(again.headers.get('etag'), first.headers.get('etag'));
});

test('answers 304 to a matching If-None-Match, weak, in a list, or *', async (t) => {
  const path = tempFile(t);
  writeFileSync(path, 'body');
  const url = await serve(t, new StaticFile(path, { contentType: 'text/plain', cacheControl: 'max-age=60' }));
  const etag = (await fetch(url)).headers.get('etag') ?? '';
  for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
    const response = await fetch(url, { headers: { 'if-none-match': header } });
    assert.equal(response.status, 304, header);
    assert.equal(response.headers.get('cache-control'), 'max-age=60');
    assert.equal(response.headers.get('etag'), etag);
  }
  assert.equal((await fetch(url, { headers: { 'if-none-match': '"other"' } })).status, 200);
});

test('answers 404 with its hint while the file is missing, and serves it once it exists', async (t) => {
  const path = tempFile(t);
  const url = await serve(t, new StaticFile(path, { contentType: 'text/plain', missingText: 'run the build' }));
  const missing = await fetch(url);
  assert.equal(missing.status, 404);
  assert.equal(await missing.text(), 'run the build\n');
  assert.equal(missing.headers.get('cache-control'), 'no-store');
  writeFileSync(path, 'built');
  const found = await fetch(url);
  assert.equal(found.status, 200);
  assert.equal(await found.text(), 'built');
});
