// (b) Headless Chromium: two pages load the browser bundle and connect
// through a real Sigver server, in both dialects, with and without
// encryption; and a Chromium page connects to a werift peer in Node.
//
// Each test runs in a private network namespace (support/private-network.ts):
// outside it, this file only starts the namespace and reports its result.

import assert from 'node:assert/strict';

import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { weriftOn } from '../support/loopback-werift.js';
import { WebSocket } from 'ws';
import { hostPeers } from '../../src/client/index.js';
import type { Dialect } from '../../src/protocol/dialect.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../support/chromium.js';
import { buildBundle, startPageServer, type PageServer } from '../support/page-server.js';
import { exactName, insidePrivateNetwork, PRIVATE_ADDRESS, runInPrivateNetwork } from '../support/private-network.js';
import { nextMessage } from '../support/stack.js';
import { WAIT_MS, withTimeout } from '../support/waits.js';

/** How the test launches Debian's Chromium. */
export const CHROMIUM_LAUNCH = { executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] };

/**
 * Installed in every page before it loads: connects with the bundle's
 * connectPeer, records the frames its WebSocket sends, queues messages.
 * Plain JavaScript text, so no test transpiler helper leaks into the page.
 */
const PAGE_HARNESS = `
window.sigverTest = (() => {
  const inbox = [];
  const waiters = [];
  const sent = [];
  class RecordingWebSocket extends WebSocket {
    send(data) { sent.push(String(data)); super.send(data); }
  }
  let session;
  return {
    sent,
    async connect(options) {
      const { connectPeer } = await import('/sigver-client.js');
      session = await connectPeer({
        ...options,
        WebSocket: RecordingWebSocket,
        onKey: (key) => window.sigverRegistered?.(key),
      });
      session.channel.addEventListener('message', (event) => {
        const waiter = waiters.shift();
        if (waiter) waiter(String(event.data)); else inbox.push(String(event.data));
      });
      return session.key;
    },
    send(text) { session.channel.send(text); },
    receive() {
      return inbox.length > 0 ? Promise.resolve(inbox.shift()) : new Promise((resolve) => waiters.push(resolve));
    },
    close() { return session ? session.close() : undefined; },
  };
})();
`;

interface Stage {
  browser: Browser;
  server: PageServer;
}

interface Scenario {
  readonly name: string;
  run(t: TestContext, stage: Stage): Promise<void>;
}

async function openPage(t: TestContext, context: BrowserContext, server: PageServer): Promise<Page> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  t.after(() => assert.deepEqual(errors, [], 'no uncaught error in the page'));
  await page.addInitScript(PAGE_HARNESS);
  await page.goto(`${server.origin}/blank.html`);
  return page;
}

function connectIn(page: Page, options: Record<string, unknown>): Promise<string> {
  return withTimeout(
    page.evaluate<string>(`window.sigverTest.connect(${JSON.stringify(options)})`),
    'the page to connect',
  );
}

function receiveIn(page: Page): Promise<string> {
  return withTimeout(page.evaluate<string>('window.sigverTest.receive()'), 'a message in the page');
}

async function sendIn(page: Page, text: string): Promise<void> {
  await page.evaluate(`window.sigverTest.send(${JSON.stringify(text)})`);
}

function twoPages(dialect: Dialect, password?: string): Scenario {
  const what = password === undefined ? 'without encryption' : 'with encryption';
  return {
    name: `two Chromium pages connect through Sigver in ${dialect} ${what} and exchange messages both ways`,
    async run(t, { browser, server }) {
      const context = await browser.newContext();
      t.after(() => context.close());
      const host = await openPage(t, context, server);
      const joiner = await openPage(t, context, server);
      let announce: (key: string) => void = () => {};
      const registered = new Promise<string>((resolve) => {
        announce = resolve;
      });
      await host.exposeFunction('sigverRegistered', (key: string) => announce(key));
      const common = { url: server.url, dialect, password, timeoutMs: WAIT_MS };
      const hosting = connectIn(host, { ...common, role: 'host', key: null });
      const key = await withTimeout(Promise.race([registered, hosting]), 'the host page to register');
      const [hostKey, joinerKey] = await Promise.all([hosting, connectIn(joiner, { ...common, role: 'joiner', key })]);
      assert.equal(hostKey, joinerKey);

      const atHost = receiveIn(host);
      await sendIn(joiner, `hello host, ${dialect}`);
      assert.equal(await atHost, `hello host, ${dialect}`);
      const atJoiner = receiveIn(joiner);
      await sendIn(host, `hello joiner, ${dialect}`);
      assert.equal(await atJoiner, `hello joiner, ${dialect}`);

      const frames = [
        ...(await host.evaluate<string[]>('window.sigverTest.sent')),
        ...(await joiner.evaluate<string[]>('window.sigverTest.sent')),
      ];
      const relayed = frames.filter((frame) => /"(offer|answer|candidate)"/.test(frame));
      assert.ok(relayed.length >= 2, 'an offer and an answer went through the server');
      for (const frame of relayed) {
        if (password === undefined) continue;
        assert.match(frame, /"enc":"v1"/);
        assert.doesNotMatch(frame, /sdp|candidate:/, 'the server sees no SDP nor candidate in clear');
      }
      const candidates = relayed.filter((frame) => frame.startsWith('{"candidate"'));
      if (dialect === 'v0') assert.equal(candidates.length, 0, 'v0 does not trickle');
      else assert.ok(candidates.length > 0, 'v1 trickles');

      await host.evaluate('window.sigverTest.close()');
      await joiner.evaluate('window.sigverTest.close()');
    },
  };
}

const crossStack: Scenario = {
  name: 'a Chromium page joins a werift host in Node through Sigver',
  async run(t, { browser, server }) {
    const RTCPeerConnection = await weriftOn(PRIVATE_ADDRESS);
    const host = await hostPeers({
      url: server.url,
      key: 'cross-stack',
      RTCPeerConnection,
      WebSocket,
      timeoutMs: WAIT_MS,
    });
    t.after(() => host.close());
    const context = await browser.newContext();
    t.after(() => context.close());
    const page = await openPage(t, context, server);
    const [, peer] = await Promise.all([
      connectIn(page, { url: server.url, role: 'joiner', key: 'cross-stack', timeoutMs: WAIT_MS }),
      host.nextPeer({ timeoutMs: WAIT_MS }),
    ]);
    t.after(() => peer.close());
    const atNode = nextMessage(peer.channel);
    await sendIn(page, 'from chromium');
    assert.equal(await atNode, 'from chromium');
    const atPage = receiveIn(page);
    peer.channel.send('from werift');
    assert.equal(await atPage, 'from werift');
    await page.evaluate('window.sigverTest.close()');
  },
};

const SCENARIOS: readonly Scenario[] = [
  twoPages('v1'),
  twoPages('v0'),
  twoPages('v1', 'correct horse battery staple'),
  twoPages('v0', 'correct horse battery staple'),
  crossStack,
];

if (insidePrivateNetwork()) {
  describe('Chromium through Sigver', () => {
    let stage: Stage | undefined;
    before(async () => {
      const bundle = await buildBundle();
      const pages = { '/blank.html': '<!doctype html><title>sigver test</title>' };
      const server = await startPageServer(bundle, pages);
      const browser = await chromium.launch(CHROMIUM_LAUNCH);
      stage = { browser, server };
    });
    after(async () => {
      await stage?.browser.close();
      await stage?.server.close();
    });
    for (const scenario of SCENARIOS) {
      it(scenario.name, (t) => scenario.run(t, stage!));
    }
  });
} else {
  describe('Chromium through Sigver (in a private network namespace)', () => {
    const file = fileURLToPath(import.meta.url);
    for (const scenario of SCENARIOS) {
      it(scenario.name, async () => {
        const { status, output } = await runInPrivateNetwork(file, exactName(scenario.name), 3 * WAIT_MS);
        assert.equal(status, 0, output);
        assert.match(output, /pass 1\b/, `the scenario ran:\n${output}`);
      });
    }
  });
}
