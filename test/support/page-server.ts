// An HTTP server for browser tests: serves the client bundle and test pages,
// with a real Sigver server attached for WebSocket upgrades on the same origin.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createSigverServer, type SigverServerOptions } from '../../src/server.js';

const run = promisify(execFile);

/** Builds the browser bundle with the project's own script, into a temporary folder. */
export async function buildBundle(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sigver-bundle-'));
  try {
    const outfile = join(dir, 'sigver-client.js');
    const script = fileURLToPath(new URL('../../scripts/build-client-bundle.mjs', import.meta.url));
    await run(process.execPath, [script, '--outfile', outfile]);
    return await readFile(outfile, 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A running page server. */
export interface PageServer {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  /** `ws://127.0.0.1:PORT/`: Sigver. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `GET /sigver-client.js` (the bundle) and `pages` (path to HTML),
 * and hands WebSocket upgrades on `/` to a Sigver server.
 */
export async function startPageServer(
  bundle: string,
  pages: Readonly<Record<string, string>> = {},
  options: SigverServerOptions = {},
): Promise<PageServer> {
  const http = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (path === '/sigver-client.js') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bundle);
      return;
    }
    const page = pages[path];
    if (page !== undefined) {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
      return;
    }
    response.writeHead(404).end();
  });
  const sigver = createSigverServer({ ...options, server: http, path: '/', shutdownGraceMs: 1_000 });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const address = http.address();
  if (address === null || typeof address === 'string') throw new Error('page server has no port');
  const origin = `http://127.0.0.1:${address.port}`;
  return {
    origin,
    url: `ws://127.0.0.1:${address.port}/`,
    async close() {
      await sigver.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
