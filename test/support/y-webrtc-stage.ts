// What the y-webrtc browser tests run on: the real, unmodified `yjs` and
// `y-webrtc` bundled for the page, a page server, y-webrtc's own signaling
// server (its bin/server.js) as a child process, and pages that each hold
// one Yjs document with a WebrtcProvider.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { freePort, type Cleanup } from '../cluster/redis-server.js';
import { WAIT_MS, withTimeout } from './waits.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** yjs and y-webrtc as one browser script: `window.Y` and `window.WebrtcProvider`. */
export async function buildYjsBundle(): Promise<string> {
  const result = await build({
    stdin: {
      contents:
        "import * as Y from 'yjs'; import { WebrtcProvider } from 'y-webrtc'; Object.assign(window, { Y, WebrtcProvider });",
      resolveDir: ROOT,
      loader: 'js',
    },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['es2022'],
    write: false,
    logLevel: 'warning',
  });
  return result.outputFiles[0]!.text;
}

/**
 * The page: one document, its provider, and waits. Every frame its
 * WebSockets send is recorded (`yt.sent`), to look at what a server sees.
 * STUN is off: the test network has loopback and one private address only.
 */
const PAGE = `<!doctype html><title>y-webrtc test</title>
<script>
window.yt = { sent: [] };
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) { window.yt.sent.push(String(data)); return send.call(this, data); };
</script>
<script src="/yjs-bundle.js"></script>
<script>
Object.assign(window.yt, {
  start(url, room, password) {
    this.doc = new Y.Doc();
    this.text = this.doc.getText('t');
    this.provider = new WebrtcProvider(room, this.doc, {
      signaling: [url],
      password: password ?? null,
      peerOpts: { config: { iceServers: [] } },
    });
  },
  insert(s) { this.text.insert(this.text.length, s); },
  value() { return this.text.toString(); },
  webrtcPeers() {
    const room = this.provider.room;
    return room ? [...room.webrtcConns.values()].filter((conn) => conn.connected).length : 0;
  },
  bcPeers() { return this.provider.room ? this.provider.room.bcConns.size : 0; },
  until(what, ms) {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!what()) return false;
        clearInterval(timer); clearTimeout(limit); resolve(); return true;
      };
      const timer = setInterval(check, 25);
      const limit = setTimeout(() => { clearInterval(timer); reject(new Error('timed out')); }, ms);
      check();
    });
  },
});
</script>`;

/** Serves the page and the bundle. */
export async function startYjsPageServer(t: Cleanup, bundle: string): Promise<{ origin: string }> {
  const http: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/yjs-bundle.js')
      return void response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    if (path === '/y.html') return void response.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
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

/** Starts y-webrtc's own signaling server, `node_modules/y-webrtc/bin/server.js`, on a free port. */
export async function startNativeServer(t: Cleanup): Promise<{ url: string }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('node_modules/y-webrtc/bin/server.js', `file://${ROOT}`))],
    {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  });
  const listening = new Promise<void>((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('Signaling server running')) resolve();
    });
  });
  await withTimeout(listening, "y-webrtc's server to start");
  return { url: `ws://127.0.0.1:${port}` };
}

/** A page holding one document of `room`, signaling through `url`. */
export class DocPage {
  private constructor(readonly page: Page) {}

  static async open(
    t: Cleanup,
    browser: Browser,
    origin: string,
    url: string,
    room: string,
    password?: string,
  ): Promise<DocPage> {
    // A context of its own: pages of one context would also find each other over BroadcastChannel.
    const context = await browser.newContext();
    t.after(() => context.close());
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    t.after(() => {
      if (errors.length > 0) throw new Error(`uncaught errors in a page: ${errors.join('; ')}`);
    });
    await page.goto(`${origin}/y.html`);
    const page_ = new DocPage(page);
    await page_.run(`yt.start(${json(url)}, ${json(room)}, ${json(password ?? null)})`);
    return page_;
  }

  /** Evaluates `expression` in the page (plain JavaScript text: no compiled helper leaks into the page). */
  run<T = unknown>(expression: string): Promise<T> {
    return this.page.evaluate<T>(expression);
  }

  insert(text: string): Promise<void> {
    return this.run(`yt.insert(${json(text)})`);
  }

  value(): Promise<string> {
    return this.run('yt.value()');
  }

  /** Waits until the document holds every one of `parts`. */
  async holds(parts: readonly string[], ms = WAIT_MS): Promise<void> {
    await this.run(`yt.until(() => ${json(parts)}.every((part) => yt.value().includes(part)), ${ms})`);
  }

  /** Waits until `n` WebRTC peers are connected. */
  async webrtcPeers(n: number, ms = WAIT_MS): Promise<void> {
    await this.run(`yt.until(() => yt.webrtcPeers() >= ${n}, ${ms})`);
  }

  connectedPeers(): Promise<number> {
    return this.run('yt.webrtcPeers()');
  }

  bcPeers(): Promise<number> {
    return this.run('yt.bcPeers()');
  }

  /** The frames the page's WebSockets sent. */
  sent(): Promise<string[]> {
    return this.run('yt.sent');
  }
}

function json(value: unknown): string {
  return JSON.stringify(value);
}
