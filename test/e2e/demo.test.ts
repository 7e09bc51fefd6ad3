// The test page at GET /, in headless Chromium: one page hosts, another
// opens the join link, they chat both ways, and the panels show how the
// connection was made. Also the page's HTTP routes.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createSigverServer } from '../../src/server.js';
import { ensureBundle } from '../support/bundle.js';
import { launchChromium } from '../support/chromium.js';
import { PRIVATE_ADDRESS, testsInPrivateNetwork } from '../support/private-network.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Screenshots go here, outside git (.gitignore lists .artifacts/). */
const ARTIFACTS = join(ROOT, '.artifacts/demo');
/** Longest wait for one thing to appear on a page. */
const WAIT_MS = 15_000;
/** The private network's address, as a pattern. */
const NAMESPACE_ADDRESS = PRIVATE_ADDRESS.replaceAll('.', '\\.');

let shared: Promise<Browser> | undefined;

/** One browser for the file, in the file's private network (see test/support/private-network.ts). */
function browser(): Promise<Browser> {
  shared ??= launchChromium();
  return shared;
}

/** Starts a Sigver server on 127.0.0.1, port 0, closed after the test; resolves with its http:// origin. */
async function startServer(t: TestContext): Promise<string> {
  ensureBundle();
  const server = createSigverServer({ port: 0, host: '127.0.0.1', shutdownGraceMs: 2_000 });
  const { port } = await server.listen();
  t.after(() => server.close());
  return `http://127.0.0.1:${port}`;
}

/** A browser context, as another user would have it. */
async function newContext(
  t: TestContext,
  origin: string,
  options: { viewport?: { width: number; height: number }; isMobile?: boolean } = {},
): Promise<BrowserContext> {
  const context = await (await browser()).newContext(options);
  t.after(() => context.close());
  // Chromium offers WebRTC every interface only on a page with media
  // permission; otherwise just the default route's address.
  await context.grantPermissions(['camera', 'microphone'], { origin });
  return context;
}

/**
 * A page that fails the test on any uncaught error of the page; with
 * `consoleErrors`, also on any error in its console (a failed request
 * shows there in red).
 */
async function openPage(
  context: BrowserContext,
  url: string,
  errors: string[],
  { consoleErrors = false } = {},
): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.on('pageerror', (error) => errors.push(`${url}: ${error.message}`));
  if (consoleErrors) {
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`${url} console: ${message.text()}`);
    });
  }
  await page.goto(url);
  return page;
}

/** Waits until the text of `selector` (the first match) matches `pattern`; returns that text. */
async function waitForText(page: Page, selector: string, pattern: RegExp): Promise<string> {
  const handle = await page.waitForFunction(
    ([sel, source, flags]) => {
      const text = document.querySelector(sel)?.textContent ?? '';
      return new RegExp(source, flags).test(text) ? text : false;
    },
    [selector, pattern.source, pattern.flags] as const,
    { timeout: WAIT_MS },
  );
  return (await handle.jsonValue()) as string;
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
}

/** Runs `body`; if it fails, screenshots every page it opened (as NAME-failed.png) before failing. */
async function screenshotOnFailure(body: (pages: Map<string, Page>) => Promise<void>): Promise<void> {
  const pages = new Map<string, Page>();
  try {
    await body(pages);
  } catch (error) {
    for (const [name, page] of pages) await screenshot(page, `${name}-failed.png`).catch(() => {});
    throw error;
  }
}

testsInPrivateNetwork(import.meta.url, 'the test page in Chromium', 240_000, () => {
  after(async () => {
    if (shared !== undefined) await (await shared).close();
  });

  test(
    'two pages host and join, chat both ways, and show the selected candidate pair and round-trip time',
    { timeout: 60_000 },
    (t) =>
      screenshotOnFailure(async (pages) => {
        const origin = await startServer(t);
        const errors: string[] = [];
        const hostPage = await openPage(await newContext(t, origin), `${origin}/`, errors, { consoleErrors: true });
        pages.set('host', hostPage);

        await hostPage.getByRole('button', { name: 'Host' }).click();
        const linkField = hostPage.getByLabel('Join link');
        await linkField.waitFor({ state: 'visible' });
        const link = await linkField.inputValue();
        assert.match(link, new RegExp(`^${origin}/#join=[A-Za-z0-9_-]{22,}$`));

        // The joiner is another user (its own context) on a phone-sized screen.
        const joinerContext = await newContext(t, origin, { viewport: { width: 390, height: 844 }, isMobile: true });
        const joinerPage = await openPage(joinerContext, link, errors, { consoleErrors: true });
        pages.set('joiner-phone', joinerPage);
        await waitForText(joinerPage, '#status', /Connected to the host of key .+ as Joiner 1/);
        await waitForText(hostPage, '#status', /1 joiner connected/);

        await joinerPage.getByRole('textbox', { name: 'Message' }).fill('hello from the joiner');
        await joinerPage.getByRole('button', { name: 'Send' }).click();
        const hostChat = hostPage.getByRole('log', { name: 'Chat messages' });
        await hostChat.getByText('hello from the joiner').waitFor();
        assert.match(
          (await hostChat.locator('li', { hasText: 'hello from the joiner' }).textContent()) ?? '',
          /^Joiner 1/,
        );

        await hostPage.getByRole('textbox', { name: 'Message' }).fill('hello from the host');
        await hostPage.keyboard.press('Enter');
        const joinerChat = joinerPage.getByRole('log', { name: 'Chat messages' });
        await joinerChat.getByText('hello from the host').waitFor();
        assert.match((await joinerChat.locator('li', { hasText: 'hello from the host' }).textContent()) ?? '', /^Host/);

        for (const page of [hostPage, joinerPage]) {
          const local = await waitForText(page, '.peer-view [data-field="pairLocal"]', /^host (udp|tcp) /);
          const remote = await waitForText(page, '.peer-view [data-field="pairRemote"]', /^(host|prflx) (udp|tcp) /);
          // The namespace's one address (Chromium leaves loopback out of WebRTC).
          assert.match(local, new RegExp(`${NAMESPACE_ADDRESS}:\\d+$`));
          // A check that arrives before the candidate it comes from makes a peer-reflexive candidate, whose address is not disclosed.
          assert.match(
            remote,
            new RegExp(
              `^(host (udp|tcp) ${NAMESPACE_ADDRESS}|prflx (udp|tcp) \\(address hidden by the browser\\)):\\d+$`,
            ),
          );
          await waitForText(page, '.peer-view [data-field="rtt"]', /^\d+(\.\d)? ms$/);
          await waitForText(page, '.peer-view [data-field="bytesReceived"]', /^\d/);
          await waitForText(page, '.peer-view [data-field="connectionState"]', /^connected$/);
          await waitForText(page, '.peer-view [data-field="iceGatheringState"]', /^complete$/);
          // The panel and the chat explain the same pair alike. A joiner whose checks came before the
          // host's candidates, and which closed its signaling once connected, only knows a peer-reflexive
          // address: neither then claims a NAT.
          const how = await waitForText(page, '.peer-view [data-field="how"]', /host to host|peer-reflexive/);
          const chat = page.getByRole('log', { name: 'Chat messages' });
          await chat.locator('li.notice', { hasText: how }).waitFor();
          assert.equal(await chat.getByText(/NAT/).count(), 0, 'no chat line says a peer is behind a NAT');
        }
        // The signaling log shows the v1 handshake: the joiner's offer out, the host's answer in, candidates both ways.
        const rows = (page: Page, direction: string, type: string) =>
          page
            .locator(`#signaling-log tr.${direction}`)
            .filter({ has: page.locator('code', { hasText: new RegExp(`^${type}$`) }) });
        assert.ok((await rows(joinerPage, 'sent', 'offer').count()) >= 1);
        assert.ok((await rows(joinerPage, 'received', 'answer').count()) >= 1);
        assert.ok((await rows(hostPage, 'received', 'offer').count()) >= 1);
        assert.ok((await rows(hostPage, 'sent', 'candidate').count()) >= 1);
        assert.ok((await rows(hostPage, 'received', 'registered').count()) === 1);

        await screenshot(hostPage, 'host.png');
        await screenshot(joinerPage, 'joiner-phone.png');

        // The joiner leaves: the host sees its data channel close.
        await joinerPage.getByRole('button', { name: 'Leave' }).click();
        await hostChat.getByText('Joiner 1 left.').waitFor();
        await waitForText(hostPage, '#status', /Waiting for someone to open the join link/);
        assert.equal(await hostPage.getByRole('textbox', { name: 'Message' }).isDisabled(), true);
        await joinerPage.getByRole('button', { name: 'Host' }).waitFor({ state: 'visible' });
        assert.deepEqual(errors, []);
      }),
  );

  test(
    'the ICE servers field is pre-filled from GET /ice-servers and checks what is typed',
    { timeout: 30_000 },
    async (t) => {
      const origin = await startServer(t);
      const context = await newContext(t, origin);
      await context.route(`${origin}/ice-servers`, (route) =>
        route.fulfill({
          json: {
            iceServers: [
              {
                urls: ['stun:127.0.0.1:3478', 'turn:127.0.0.1:3478?transport=udp'],
                username: '1700000000:alice',
                credential: 'c2VjcmV0',
              },
            ],
          },
        }),
      );
      const errors: string[] = [];
      const page = await openPage(context, `${origin}/`, errors);
      await waitForText(page, '#ice-summary', /^2 from the server$/);
      await page.locator('summary', { hasText: 'ICE servers:' }).click();
      const field = page.getByLabel('STUN and TURN servers', { exact: false });
      assert.equal(
        await field.inputValue(),
        'stun:127.0.0.1:3478 1700000000:alice c2VjcmV0\nturn:127.0.0.1:3478?transport=udp 1700000000:alice c2VjcmV0',
      );
      await field.fill('turn:127.0.0.1:3478');
      await waitForText(page, '#error', /line 1: a TURN server needs a username and a password/);
      assert.equal(await field.getAttribute('aria-invalid'), 'true');
      await field.fill('');
      await waitForText(page, '#ice-summary', /^none$/);
      assert.deepEqual(errors, []);
    },
  );

  test('a page with a join link for an unknown key says so and offers to host', { timeout: 30_000 }, async (t) => {
    const origin = await startServer(t);
    const errors: string[] = [];
    const page = await openPage(await newContext(t, origin), `${origin}/#join=nobody-here`, errors);
    await waitForText(page, '#error', /No host has this key/);
    await page.getByRole('button', { name: 'Host' }).waitFor({ state: 'visible' });
    assert.deepEqual(errors, []);
  });

  test('the page, its assets and the SDK bundle are served with content types, ETags and revalidation', async (t) => {
    const origin = await startServer(t);
    const expected = [
      ['/', 'text/html; charset=utf-8', '<!doctype html>'],
      ['/demo.js', 'application/javascript; charset=utf-8', "from '/sigver-client.js'"],
      ['/demo.css', 'text/css; charset=utf-8', ':root'],
      ['/sigver-client.js', 'application/javascript; charset=utf-8', 'hostPeers'],
      ['/connections-panel.js', 'application/javascript; charset=utf-8', 'class PeerView'],
      ['/signaling-log.js', 'application/javascript; charset=utf-8', 'class LoggedWebSocket'],
      ['/chat.js', 'application/javascript; charset=utf-8', 'function addChat'],
    ] as const;
    for (const [path, type, excerpt] of expected) {
      const response = await fetch(`${origin}${path}`);
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get('content-type'), type, path);
      assert.equal(response.headers.get('cache-control'), 'no-cache', path);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff', path);
      // Pages served elsewhere load the SDK as a module script, fetched in CORS mode.
      const cors = path === '/sigver-client.js' ? '*' : null;
      assert.equal(response.headers.get('access-control-allow-origin'), cors, path);
      const body = await response.text();
      assert.ok(body.includes(excerpt), `${path} contains ${excerpt}`);
      assert.equal(Number(response.headers.get('content-length')), Buffer.byteLength(body), path);
      const etag = response.headers.get('etag');
      assert.match(etag ?? '', /^"[A-Za-z0-9_-]+"$/, path);
      const revalidated = await fetch(`${origin}${path}`, { headers: { 'if-none-match': `W/${etag}` } });
      assert.equal(revalidated.status, 304, path);
      assert.equal(await revalidated.text(), '');
      const head = await fetch(`${origin}${path}`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), response.headers.get('content-length'));
    }
    const page = await fetch(`${origin}/?join=abc`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    for (const path of ['/index.html', '/demo/demo.js', '/package.json', '/../package.json']) {
      assert.equal((await fetch(`${origin}${path}`)).status, 404, path);
    }
    assert.equal((await fetch(`${origin}/`, { method: 'POST' })).status, 405);
  });

  test('a Sigver attached to an app leaves the test page to the app, and serves the SDK through handleRequest', async (t) => {
    const app = createServer((request, response) => {
      if (!sigver.handleRequest(request, response)) response.end('app page');
    });
    const sigver = createSigverServer({ server: app, path: '/signal' });
    app.listen(0, '127.0.0.1');
    await once(app, 'listening');
    t.after(async () => {
      await sigver.close();
      await new Promise((resolve) => app.close(resolve));
    });
    const origin = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    assert.equal(await (await fetch(`${origin}/`)).text(), 'app page');
    assert.equal(await (await fetch(`${origin}/demo.js`)).text(), 'app page');
    const sdk = await fetch(`${origin}/sigver-client.js`);
    assert.equal(sdk.headers.get('content-type'), 'application/javascript; charset=utf-8');
    assert.match(await sdk.text(), /hostPeers/);
    assert.equal((await fetch(`${origin}/health`)).headers.get('content-type'), 'application/json');
  });
});
