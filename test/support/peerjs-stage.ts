// What the PeerJS tests run on: PeerJS's own server, `peer` 1.0.2,
// unmodified, as a child process on a free port; a page server with the
// PeerJS client's own browser bundle; pages that each hold one `Peer`.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { freePort, type Cleanup } from '../cluster/redis-server.js';
import { WAIT_MS, withTimeout } from './waits.js';

const PEER_BIN = fileURLToPath(new URL('../../node_modules/peer/dist/bin/peerjs.js', import.meta.url));

/** A running `peer` server: `http://` and `ws://` bases without a trailing slash. */
export interface NativePeerServer {
  readonly port: number;
  readonly http: string;
  readonly ws: string;
}

/** Starts `peer` (its `peerjs` command) for `t`; killed after. Options are its own flags. */
export async function startNativePeer(
  t: Cleanup,
  options: { readonly expireMs?: number; readonly discovery?: boolean } = {},
): Promise<NativePeerServer> {
  const port = await freePort();
  const args = [PEER_BIN, '--port', String(port), '--host', '127.0.0.1'];
  if (options.expireMs !== undefined) args.push('--expire_timeout', String(options.expireMs));
  if (options.discovery === true) args.push('--allow_discovery');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  });
  const lines = createInterface({ input: child.stdout! });
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      lines.on('line', (line) => {
        if (line.includes('Started PeerServer')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`peer exited with ${String(code)}`)));
    }),
    'the native peer server to start',
    15_000,
  );
  return { port, http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}` };
}

/**
 * The page: the PeerJS client's own browser bundle, unmodified, and helpers
 * that drive one `Peer`. Data connections answer each message with
 * `reply:<message>`; calls are answered with the page's own fake camera and
 * microphone. STUN is off: the test network has loopback and one private address only.
 */
const PAGE = `<!doctype html><title>PeerJS test</title>
<script src="/peerjs.js"></script>
<script>
window.pj = {
  received: [],
  errors: [],
  remoteTracks: [],
  start(options, id) {
    const all = { ...options, debug: 0, config: { iceServers: [] } };
    this.peer = id === null ? new peerjs.Peer(all) : new peerjs.Peer(id, all);
    this.peer.on('error', (error) => this.errors.push(error.type));
    this.peer.on('connection', (conn) => {
      conn.on('data', (data) => {
        this.received.push(conn.peer + ':' + data);
        conn.send('reply:' + data);
      });
    });
    this.peer.on('call', async (call) => {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
      call.on('stream', (remote) => { this.remoteTracks = remote.getTracks().map((track) => track.kind).sort(); });
      call.answer(stream);
    });
    return new Promise((resolve) => {
      this.peer.on('open', (opened) => resolve({ id: opened }));
      this.peer.on('error', (error) => resolve({ error: error.type }));
    });
  },
  /** Opens a data connection, sends one message and waits for its reply. */
  exchange(other, message) {
    return new Promise((resolve) => {
      const conn = this.peer.connect(other, { reliable: true });
      conn.on('open', () => conn.send(message));
      conn.on('data', (data) => resolve(String(data)));
      this.peer.on('error', (error) => resolve('error:' + error.type));
    });
  },
  /** Calls with audio and video, and waits for the remote stream: the kinds of its tracks. */
  async call(other) {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    return new Promise((resolve) => {
      const call = this.peer.call(other, stream);
      call.on('stream', (remote) => resolve(remote.getTracks().map((track) => track.kind).sort()));
    });
  },
  /** Resolves with the first error type this peer reports from now on. */
  nextError() {
    return new Promise((resolve) => this.peer.once('error', (error) => resolve(error.type)));
  },
};
</script>`;

/** Serves the page and the PeerJS client's browser bundle (node_modules/peerjs/dist/peerjs.min.js). */
export async function startPeerJsPageServer(t: Cleanup): Promise<{ origin: string }> {
  const bundle = await readFile(
    fileURLToPath(new URL('../../node_modules/peerjs/dist/peerjs.min.js', import.meta.url)),
  );
  const http: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/peerjs.js') return void response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    if (path === '/p.html') return void response.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    response.writeHead(404).end();
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  t.after(() => {
    http.closeAllConnections();
    return new Promise<void>((resolve) => http.close(() => resolve()));
  });
  const address = http.address();
  if (address === null || typeof address === 'string') throw new Error('page server has no port');
  return { origin: `http://127.0.0.1:${address.port}` };
}

/** The options a PeerJS app passes to `new Peer`: only these change from one server to another. */
export interface PeerJsServerOptions {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly key: string;
  readonly secure: false;
}

/** A page holding one PeerJS `Peer`. */
export class PeerPage {
  private constructor(
    readonly page: Page,
    readonly id: string,
  ) {}

  /** Opens a page and starts a `Peer` (with `id`, or one the server assigns); rejects with the error type it got instead. */
  static async open(
    t: Cleanup,
    context: BrowserContext,
    origin: string,
    server: PeerJsServerOptions,
    id: string | null = null,
  ): Promise<PeerPage> {
    const page = await context.newPage();
    t.after(() => page.close());
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    t.after(() => {
      if (errors.length > 0) throw new Error(`uncaught errors in a page: ${errors.join('; ')}`);
    });
    await page.goto(`${origin}/p.html`);
    const started = await withTimeout(
      page.evaluate<{ id?: string; error?: string }>(`pj.start(${json(server)}, ${json(id)})`),
      'the peer to open',
    );
    if (started.id === undefined) throw new PeerStartError(started.error ?? 'unknown');
    return new PeerPage(page, started.id);
  }

  run<T = unknown>(expression: string, what: string, ms = WAIT_MS): Promise<T> {
    return withTimeout(this.page.evaluate<T>(expression), what, ms);
  }

  /** Sends `message` over a new data connection to `other`; the reply. */
  exchange(other: string, message: string, ms = WAIT_MS): Promise<string> {
    return this.run(`pj.exchange(${json(other)}, ${json(message)})`, `a reply from ${other}`, ms);
  }

  call(other: string): Promise<string[]> {
    return this.run(`pj.call(${json(other)})`, `the remote stream of ${other}`);
  }

  received(): Promise<string[]> {
    return this.run('pj.received', 'received');
  }

  remoteTracks(): Promise<string[]> {
    return this.run('pj.remoteTracks', 'remote tracks');
  }
}

/** A `Peer` that reported an error (its PeerJS type) instead of opening. */
export class PeerStartError extends Error {
  constructor(readonly type: string) {
    super(`the peer did not open: ${type}`);
  }
}

function json(value: unknown): string {
  return JSON.stringify(value);
}
