// @ts-check
// The Sigver test page: host a key or join one, chat over a WebRTC data
// channel, and watch the signaling messages, ICE states, candidates and
// getStats() figures of every peer connection. Plain ESM, no build step;
// type-checked by `npm run typecheck` (demo/tsconfig.json). This module
// holds the session (host, join, leave) and wires the page; the signaling
// log, the Connections panel, the chat and the ICE settings have their own.

import { connectPeer, hostPeers, SigverClientError } from '/sigver-client.js';
import { addChat, addNotice, chatText, parseChannelMessage, peerName, setChatEnabled } from './chat.js';
import { PeerView, trackedPeerConnection } from './connections-panel.js';
import { loadIceServers, parseIceServers, rtcConfiguration, updateIceSummary } from './ice-settings.js';
import { ui } from './page.js';
import { LoggedWebSocket, logEvent } from './signaling-log.js';

const SIGNALING_URL = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/`;
const HANDSHAKE_TIMEOUT_MS = 30_000;

/** @typedef {import('./connections-panel.js').TrackedPeerConnection} TrackedPeerConnection */
/** @typedef {import('/sigver-client.js').HostedPeer<TrackedPeerConnection>} HostedPeer */
/** @typedef {import('/sigver-client.js').PeerSession<TrackedPeerConnection>} PeerSession */

/**
 * What this page is doing: hosting or joining.
 *
 * @typedef {object} Session
 * @property {'host' | 'joiner'} role
 * @property {(text: string) => void} send sends a chat message
 * @property {() => Promise<void>} close
 */

/**
 * A joiner, seen by the host: its view from its first offer, its peer once connected.
 *
 * @typedef {object} Joiner
 * @property {PeerView} view
 * @property {HostedPeer} [peer]
 * @property {HostedPeer['channel']} [channel]
 * @property {boolean} [ready] said hello, so it listens
 */

// ---------------------------------------------------------------- status and errors

/** @param {string} text */
function setStatus(text) {
  ui.status.textContent = text;
}

/** @param {string} text '' hides the error */
function showError(text) {
  ui.error.textContent = text;
  ui.error.hidden = text === '';
}

/**
 * A refusal or failure from the SDK, in words that say what to do.
 *
 * @param {unknown} error
 */
function explainError(error) {
  const code = error instanceof SigverClientError ? error.code : undefined;
  switch (code) {
    case 'KEY_UNKNOWN':
      return 'No host has this key: it may have left. Ask for a new link.';
    case 'KEY_FULL':
      return 'This session has as many joiners as the server allows.';
    case 'HOST_AWAY':
      return 'The host lost its connection and may come back: try again in a few seconds.';
    case 'INVALID_KEY':
      return 'That is not a valid key.';
    case 'CONNECT_FAILED':
      return `Could not reach the Sigver server at ${SIGNALING_URL}.`;
    case 'PEER_FAILED':
    case 'TIMEOUT':
      return `${/** @type {SigverClientError} */ (error).message}. If the peers are on different networks, add a STUN server (or a TURN server behind strict NATs) under “ICE servers” and try again.`;
    case 'PEER_GONE':
      return 'The other peer left before the connection was made.';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

// ---------------------------------------------------------------- session

/** The current session, or undefined. @type {Session | undefined} */
let session;

function setIdle() {
  session = undefined;
  ui.host.disabled = false;
  ui.host.hidden = false;
  ui.leave.hidden = true;
  ui.joinForm.hidden = false;
  ui.invite.hidden = true;
  setChatEnabled(false);
}

function setBusy() {
  ui.host.disabled = true;
  ui.host.hidden = true;
  ui.leave.hidden = false;
  ui.joinForm.hidden = true;
  showError('');
}

async function startHost() {
  if (session !== undefined) return;
  setBusy();
  setStatus('Registering a key with the server…');
  /** Joiner ids → their view and open channel. @type {Map<number, Joiner>} */
  const joiners = new Map();
  /** Views of peer connections created before the offer naming their joiner was seen. @type {PeerView[]} */
  const unnamed = [];
  /** Set once registered; `close` may run before. @type {import('/sigver-client.js').SigverHost<TrackedPeerConnection>} */
  let host;
  /** @type {Session} */
  const current = {
    role: 'host',
    send(text) {
      broadcast({ type: 'chat', from: 0, text });
      addChat('You (host)', text, true);
    },
    async close() {
      for (const joiner of joiners.values()) {
        joiner.peer?.close();
        joiner.view.close('closed: you left');
      }
      for (const view of unnamed) view.close('closed: you left');
      await host?.close();
    },
  };
  session = current;
  /** Joiners that said hello and whose channel is open. */
  const present = () => [...joiners].filter(([, joiner]) => joiner.ready && joiner.channel?.readyState === 'open');
  /**
   * @param {object} message
   * @param {number} [except] the joiner not to send it to
   */
  const broadcast = (message, except) => {
    const frame = JSON.stringify(message);
    for (const [id, joiner] of present()) if (id !== except) joiner.channel?.send(frame);
  };
  const updateStatus = () => {
    const open = present().length;
    setStatus(
      open === 0
        ? `Hosting key ${host.key}. Waiting for someone to open the join link…`
        : `Hosting key ${host.key}: ${open} joiner${open === 1 ? '' : 's'} connected.`,
    );
    setChatEnabled(open > 0);
  };
  /**
   * The view made for `pc` when it was created, or a new one.
   *
   * @param {TrackedPeerConnection} pc
   * @param {string} title
   */
  const takeView = (pc, title) => {
    const index = unnamed.findIndex((view) => view.pc === pc);
    const view = (index >= 0 ? unnamed.splice(index, 1)[0] : undefined) ?? new PeerView(pc, title);
    view.setTitle(title);
    return view;
  };
  try {
    host = await hostPeers({
      url: SIGNALING_URL,
      key: null,
      rtcConfig: await rtcConfiguration(),
      WebSocket: LoggedWebSocket,
      RTCPeerConnection: trackedPeerConnection((pc) => unnamed.push(new PeerView(pc, 'Joiner (connecting)'))),
      timeoutMs: HANDSHAKE_TIMEOUT_MS,
      onPeer(peer) {
        const joiner = joiners.get(peer.id) ?? { view: takeView(peer.pc, `Joiner ${peer.id}`) };
        joiner.peer = peer;
        joiner.channel = peer.channel;
        joiner.ready = false;
        joiners.set(peer.id, joiner);
        const name = peerName(peer.id);
        peer.channel.addEventListener('message', (event) => {
          const message = parseChannelMessage(event.data);
          if (message?.type === 'hello' && !joiner.ready) {
            joiner.ready = true;
            peer.channel.send(JSON.stringify({ type: 'welcome', id: peer.id }));
            broadcast({ type: 'presence', id: peer.id, present: true }, peer.id);
            updateStatus();
            void joiner.view.refresh().then(() => addNotice(`${name} joined. `, joiner.view.quoteExplanation()));
            // Into the chat, unless the user is busy elsewhere on the page.
            if (document.activeElement === document.body || document.activeElement === ui.copyLink) ui.message.focus();
          } else if (message?.type === 'chat' && joiner.ready) {
            const text = chatText(message.text);
            addChat(name, text);
            broadcast({ type: 'chat', from: peer.id, text }, peer.id);
          }
        });
        peer.channel.addEventListener('close', () => {
          if (session !== current) return;
          joiner.view.close('closed: the data channel ended');
          if (joiner.ready) {
            addNotice(`${name} left.`);
            broadcast({ type: 'presence', id: peer.id, present: false }, peer.id);
          }
          updateStatus();
        });
      },
      onPeerError(error) {
        const id = error.joinerId;
        const view = id === undefined ? undefined : joiners.get(id)?.view;
        view?.fail(explainError(error));
        addNotice(`${id === undefined ? 'A joiner' : peerName(id)} could not connect: ${explainError(error)}`);
      },
    });
  } catch (error) {
    if (session === current) {
      await current.close();
      showError(`Could not host: ${explainError(error)}`);
      setStatus('Not connected.');
      setIdle();
    }
    return;
  }
  if (session !== current) {
    await host.close();
    return;
  }
  // The SDK creates a joiner's RTCPeerConnection as its first offer arrives,
  // synchronously, just before this listener runs: that connection is this joiner's.
  host.client.on('offer', ({ id }) => {
    if (id === undefined || joiners.has(id)) return;
    const view = unnamed.pop();
    if (view === undefined) return;
    view.setTitle(peerName(id));
    joiners.set(id, { view });
  });
  host.client.on('close', ({ reconnecting }) => {
    if (session !== current) return;
    if (reconnecting) setStatus('Lost the server; reconnecting (open data channels keep working)…');
    else setStatus(`The signaling connection ended: no new joiners can come. Open data channels keep working.`);
  });
  host.client.on('reconnect', () => {
    if (session === current) updateStatus();
  });

  const link = joinLink(host.key);
  ui.joinLink.value = link;
  ui.openLink.href = link;
  ui.hostedKey.textContent = host.key;
  ui.localhostHint.hidden = !isLocalhost(location.hostname);
  ui.invite.hidden = false;
  updateStatus();
  ui.copyLink.focus();
}

/** @param {string} key */
async function startJoin(key) {
  if (session !== undefined) return;
  setBusy();
  setStatus(`Joining key ${key}…`);
  // Set by callbacks the compiler does not follow: typed by a cast, so that it does not narrow them to undefined.
  let view = /** @type {PeerView | undefined} */ (undefined);
  /** Our id, as the host's welcome says. @type {number | undefined} */
  let myId;
  /** @type {PeerSession | undefined} */
  let peer;
  /** @type {Session} */
  const current = {
    role: 'joiner',
    send(text) {
      peer?.channel.send(JSON.stringify({ type: 'chat', text }));
      addChat(myId === undefined ? 'You' : `You (${peerName(myId)})`, text, true);
    },
    async close() {
      view?.close('closed: you left');
      await peer?.close();
    },
  };
  session = current;
  try {
    peer = await connectPeer({
      role: 'joiner',
      url: SIGNALING_URL,
      key,
      rtcConfig: await rtcConfiguration(),
      WebSocket: LoggedWebSocket,
      RTCPeerConnection: trackedPeerConnection((pc) => {
        view = new PeerView(pc, 'Host');
      }),
      timeoutMs: HANDSHAKE_TIMEOUT_MS,
    });
  } catch (error) {
    if (session === current) {
      view?.fail(explainError(error));
      showError(`Could not join: ${explainError(error)}`);
      setStatus('Not connected.');
      setIdle();
    }
    return;
  }
  if (session !== current) {
    await peer.close();
    return;
  }
  logEvent('Data channel open: the peers talk directly, signaling is no longer needed (closed).');
  peer.channel.addEventListener('message', (event) => {
    const message = parseChannelMessage(event.data);
    if (message === undefined) return;
    if (message.type === 'welcome' && Number.isInteger(message.id)) {
      myId = /** @type {number} */ (message.id);
      setStatus(`Connected to the host of key ${key} as ${peerName(myId)}.`);
    } else if (message.type === 'chat') {
      addChat(
        Number.isInteger(message.from) ? peerName(/** @type {number} */ (message.from)) : 'Host',
        chatText(message.text),
      );
    } else if (message.type === 'presence' && Number.isInteger(message.id)) {
      addNotice(`${peerName(/** @type {number} */ (message.id))} ${message.present ? 'joined' : 'left'}.`);
    }
  });
  peer.channel.addEventListener('close', () => {
    if (session !== current) return;
    view?.close('closed: the data channel ended');
    addNotice('The host left.');
    setStatus('The host left. Open a new join link to connect again.');
    setIdle();
  });
  peer.channel.send(JSON.stringify({ type: 'hello' }));
  setStatus(`Connected to the host of key ${key}.`);
  void view
    ?.refresh()
    .then(() =>
      view === undefined
        ? addNotice('Connected to the host.')
        : addNotice('Connected to the host. ', view.quoteExplanation()),
    );
  setChatEnabled(true);
  ui.message.focus();
}

async function leave() {
  const current = session;
  if (current === undefined) return;
  setIdle();
  setStatus('Not connected.');
  addNotice('You left.');
  await current.close();
  ui.host.focus();
}

/**
 * The link that joins `key` from this page.
 *
 * @param {string} key
 */
function joinLink(key) {
  const url = new URL(location.href);
  url.search = '';
  url.hash = `join=${encodeURIComponent(key)}`;
  return url.href;
}

/**
 * The key of a join link (`#join=KEY` or `?join=KEY`), or of a bare key.
 *
 * @param {string} text
 */
function keyFrom(text) {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  try {
    const url = new URL(trimmed);
    const fromHash = new URLSearchParams(url.hash.slice(1)).get('join');
    return fromHash ?? url.searchParams.get('join') ?? undefined;
  } catch {
    return trimmed;
  }
}

/** The key this page was opened to join, if any. */
function keyFromLocation() {
  return (
    new URLSearchParams(location.hash.slice(1)).get('join') ??
    new URLSearchParams(location.search).get('join') ??
    undefined
  );
}

/** @param {string} hostname */
function isLocalhost(hostname) {
  return (
    hostname === 'localhost' || hostname === '[::1]' || hostname.startsWith('127.') || hostname.endsWith('.localhost')
  );
}

async function copyLink() {
  const link = ui.joinLink.value;
  try {
    await navigator.clipboard.writeText(link);
  } catch {
    // The Clipboard API needs a secure context (https or localhost): select the text instead.
    ui.joinLink.select();
    if (!document.execCommand('copy')) {
      setStatus('Select the link and copy it by hand.');
      return;
    }
  }
  ui.copyLink.textContent = 'Copied';
  setStatus('Join link copied. Open it in another tab, browser or machine.');
  setTimeout(() => {
    ui.copyLink.textContent = 'Copy link';
  }, 2_000);
}

// ---------------------------------------------------------------- wiring

/**
 * `task` as an event listener: its failure is shown, not left unhandled.
 *
 * @template {unknown[]} A
 * @param {(...args: A) => Promise<void>} task
 * @returns {(...args: A) => void}
 */
function safely(task) {
  return (...args) => {
    task(...args).catch((error) => showError(explainError(error)));
  };
}

ui.host.addEventListener('click', safely(startHost));
ui.leave.addEventListener('click', safely(leave));
ui.copyLink.addEventListener('click', safely(copyLink));
ui.joinLink.addEventListener('focus', () => ui.joinLink.select());
ui.joinForm.addEventListener(
  'submit',
  safely(async (/** @type {SubmitEvent} */ event) => {
    event.preventDefault();
    const key = keyFrom(ui.joinKey.value);
    if (key === undefined) {
      showError('Enter a key, or paste a join link.');
      ui.joinKey.focus();
      return;
    }
    await startJoin(key);
  }),
);
ui.chatForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = ui.message.value.trim();
  if (text === '' || session === undefined) return;
  try {
    session.send(chatText(text));
    ui.message.value = '';
  } catch (error) {
    showError(`Could not send: ${explainError(error)}`);
  }
});
ui.iceServers.addEventListener('input', () => {
  updateIceSummary();
  try {
    parseIceServers(ui.iceServers.value);
    ui.iceServers.removeAttribute('aria-invalid');
    showError('');
  } catch (error) {
    ui.iceServers.setAttribute('aria-invalid', 'true');
    showError(/** @type {Error} */ (error).message);
  }
});
ui.relayOnly.addEventListener('change', updateIceSummary);
window.addEventListener('hashchange', () => {
  const key = keyFromLocation();
  if (key !== undefined && session === undefined) safely(startJoin)(key);
});
window.addEventListener('pagehide', () => {
  void session?.close();
});

loadIceServers();
updateIceSummary();
const initialKey = keyFromLocation();
if (initialKey !== undefined) {
  ui.joinKey.value = initialKey;
  safely(startJoin)(initialKey);
}
