// The Sigver test page: host a key or join one, chat over a WebRTC data
// channel, and watch the signaling messages, ICE states, candidates and
// getStats() figures of every peer connection. Plain ESM, no build step.

import { connectPeer, hostPeers, SigverClientError } from '/sigver-client.js';

const SIGNALING_URL = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/`;
/** Longest chat message, in characters. */
const MAX_TEXT = 2_000;
/** Signaling log rows kept (keep-alive pings would grow it without end). */
const MAX_LOG_ROWS = 500;
const STATS_INTERVAL_MS = 1_000;
const HANDSHAKE_TIMEOUT_MS = 30_000;
const ICE_FETCH_TIMEOUT_MS = 3_000;

const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const ui = {
  status: byId('status'),
  error: byId('error'),
  host: /** @type {HTMLButtonElement} */ (byId('host')),
  leave: /** @type {HTMLButtonElement} */ (byId('leave')),
  invite: byId('invite'),
  joinLink: /** @type {HTMLInputElement} */ (byId('join-link')),
  copyLink: /** @type {HTMLButtonElement} */ (byId('copy-link')),
  openLink: /** @type {HTMLAnchorElement} */ (byId('open-link')),
  hostedKey: byId('hosted-key'),
  localhostHint: byId('localhost-hint'),
  joinForm: /** @type {HTMLFormElement} */ (byId('join-form')),
  joinKey: /** @type {HTMLInputElement} */ (byId('join-key')),
  iceServers: /** @type {HTMLTextAreaElement} */ (byId('ice-servers')),
  iceSummary: byId('ice-summary'),
  relayOnly: /** @type {HTMLInputElement} */ (byId('relay-only')),
  messages: byId('messages'),
  chatForm: /** @type {HTMLFormElement} */ (byId('chat-form')),
  message: /** @type {HTMLInputElement} */ (byId('message')),
  send: /** @type {HTMLButtonElement} */ (byId('send')),
  noConnections: byId('no-connections'),
  peerViews: byId('peer-views'),
  logCounts: byId('log-counts'),
  log: byId('signaling-log'),
  peerTemplate: /** @type {HTMLTemplateElement} */ (byId('peer-view')),
};

// ---------------------------------------------------------------- formatting

function clockTime(date = new Date()) {
  const pad = (n, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

function formatBytes(n) {
  if (typeof n !== 'number') return '–';
  if (n < 1_000) return `${n} B`;
  if (n < 1_000_000) return `${(n / 1_000).toFixed(1)} kB`;
  return `${(n / 1_000_000).toFixed(2)} MB`;
}

function formatMs(seconds) {
  if (typeof seconds !== 'number') return '–';
  const ms = seconds * 1_000;
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

function hostPort(address, port) {
  // Browsers do not disclose the address of a peer-reflexive remote candidate.
  if (!address)
    return port === undefined ? '(address hidden by the browser)' : `(address hidden by the browser):${port}`;
  const host = address.includes(':') ? `[${address}]` : address;
  return port === undefined ? host : `${host}:${port}`;
}

/** `host udp 127.0.0.1:50000`, from an RTCIceCandidateStats. */
function describeCandidate(candidate) {
  if (candidate === undefined) return 'unknown';
  const relay = candidate.relayProtocol ? ` (to the relay over ${candidate.relayProtocol})` : '';
  return `${candidate.candidateType} ${candidate.protocol}${relay} ${hostPort(candidate.address ?? candidate.ip, candidate.port)}`;
}

/** `host udp 127.0.0.1:50000`, from a candidate line of SDP or an ICE candidate's `candidate` string. */
function describeCandidateLine(line) {
  const candidate = parseCandidateLine(line);
  if (candidate === undefined) return String(line);
  return `${candidate.type} ${candidate.protocol} ${hostPort(candidate.address, candidate.port)}`;
}

/** `{ type, protocol, port }` of a candidate line, or undefined. */
function parseCandidateLine(line) {
  const fields = String(line).replace(/^a=/, '').split(' ');
  const typeAt = fields.indexOf('typ');
  if (fields.length < 8 || typeAt < 0) return undefined;
  return { type: fields[typeAt + 1], protocol: fields[2]?.toLowerCase(), address: fields[4], port: fields[5] };
}

/**
 * The type of the selected remote candidate. A connectivity check that
 * arrives before the candidate it comes from makes a peer-reflexive
 * candidate, which keeps that type in the statistics (and its address
 * hidden) even once the signaled candidate arrives: a signaled candidate
 * of one type with the same protocol and port is what it really is.
 */
function remoteType(remote, signaledLines) {
  if (remote?.candidateType !== 'prflx') return remote?.candidateType;
  const types = new Set();
  for (const line of signaledLines) {
    const candidate = parseCandidateLine(line);
    const sameAddress = !remote.address || candidate?.address === remote.address;
    if (candidate?.protocol === remote.protocol && candidate.port === String(remote.port) && sameAddress) {
      types.add(candidate.type);
    }
  }
  return types.size === 1 ? [...types][0] : 'prflx';
}

/** In plain words, how a selected pair carries the data. */
function explainPair(local, remote, signaledLines) {
  const types = [local?.candidateType, remoteType(remote, signaledLines)];
  const transport = (local?.relayProtocol ?? local?.protocol ?? '').toUpperCase();
  if (types.includes('relay')) return `Relayed through a TURN server, over ${transport}.`;
  if (types.includes('srflx'))
    return `Direct, through NAT: an address found with STUN (server-reflexive), over ${transport}.`;
  if (types.includes('prflx')) {
    return `Direct, over ${transport}. The peer's address was learned from its connectivity checks (peer-reflexive): it is behind a NAT, or its candidate had not arrived yet.`;
  }
  return `Direct, host to host (same machine or local network), over ${transport}.`;
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className !== undefined) node.className = className;
  return node;
}

function row(cells) {
  const tr = document.createElement('tr');
  for (const cell of cells) tr.append(cell instanceof Node ? wrapCell(cell) : element('td', cell));
  return tr;
}

function wrapCell(node) {
  const td = document.createElement('td');
  td.append(node);
  return td;
}

// ---------------------------------------------------------------- status and errors

function setStatus(text) {
  ui.status.textContent = text;
}

function showError(text) {
  ui.error.textContent = text;
  ui.error.hidden = text === '';
}

/** A refusal or failure from the SDK, in words that say what to do. */
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
      return `${error.message}. If the peers are on different networks, add a STUN server (or a TURN server behind strict NATs) under “ICE servers” and try again.`;
    case 'PEER_GONE':
      return 'The other peer left before the connection was made.';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

// ---------------------------------------------------------------- signaling log

const logCounts = { sent: 0, received: 0 };

/** The type of a Sigver frame: its first known field, in the protocol's order. */
const FRAME_TYPES = [
  'key',
  'joinkey',
  'registered',
  'reachable',
  'join',
  'leave',
  'offer',
  'answer',
  'candidate',
  'ping',
  'pong',
  'error',
];

function logFrame(direction, text) {
  logCounts[direction] += 1;
  ui.logCounts.textContent = `${logCounts.sent} sent, ${logCounts.received} received`;
  let frame;
  try {
    frame = JSON.parse(text);
  } catch {
    frame = undefined;
  }
  const type = (frame && typeof frame === 'object' && FRAME_TYPES.find((name) => name in frame)) || 'unknown';
  const size = new TextEncoder().encode(text).length;
  appendLogRow(direction, type, `${size} B`, logContent(type, frame, text));
}

function logEvent(text) {
  appendLogRow('event', '', '', element('span', text));
}

function appendLogRow(direction, type, size, content) {
  const label = direction === 'sent' ? '↑ sent' : direction === 'received' ? '↓ received' : '· connection';
  const tr = row([clockTime(), element('span', label, `direction ${direction}`), element('code', type), size, content]);
  tr.className = direction;
  ui.log.append(tr);
  while (ui.log.childElementCount > MAX_LOG_ROWS) ui.log.firstElementChild?.remove();
}

/** What a log row shows of a frame: SDP and candidates summarised, the whole frame one click away. */
function logContent(type, frame, text) {
  const description = frame?.[type];
  if ((type === 'offer' || type === 'answer') && typeof description?.sdp === 'string') {
    const lines = description.sdp.split(/\r?\n/).filter((line) => line !== '');
    const candidates = lines.filter((line) => line.startsWith('a=candidate:')).length;
    return details(
      `SDP ${description.type}, ${lines.length} lines, ${candidates} candidates${idSuffix(frame)}`,
      description.sdp,
    );
  }
  if (type === 'candidate') {
    const candidate = frame.candidate;
    const summary =
      candidate === null || candidate?.candidate === ''
        ? 'end of candidates'
        : describeCandidateLine(candidate?.candidate ?? candidate);
    return details(`${summary}${idSuffix(frame)}`, JSON.stringify(frame, null, 2));
  }
  // A resume token lets whoever has it take the key over: keep it out of screenshots.
  const shown =
    typeof frame?.token === 'string' ? text.replace(JSON.stringify(frame.token), '"(resume token, hidden)"') : text;
  return element('code', shown.length > 300 ? `${shown.slice(0, 300)}…` : shown, 'frame');
}

function idSuffix(frame) {
  return typeof frame.id === 'number' ? `, joiner ${frame.id}` : '';
}

function details(summaryText, body) {
  const node = document.createElement('details');
  node.append(element('summary', summaryText), element('pre', body));
  return node;
}

/**
 * The browser's WebSocket, logging every frame the SDK sends and receives.
 * The SDK takes a WebSocket class as an option; this is the one it gets.
 */
class LoggedWebSocket extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols);
    logEvent(`Opening a WebSocket to ${url}`);
    this.addEventListener('open', () =>
      logEvent(`WebSocket open, dialect ${this.protocol === 'sigver.v1' ? 'v1 (sigver.v1)' : 'v0'}`),
    );
    this.addEventListener('message', (event) => {
      if (typeof event.data === 'string') logFrame('received', event.data);
    });
    this.addEventListener('close', (event) =>
      logEvent(`WebSocket closed: ${event.code}${event.reason ? ` ${event.reason}` : ''}`),
    );
  }

  send(data) {
    super.send(data);
    logFrame('sent', String(data));
  }
}

// ---------------------------------------------------------------- ICE servers

let iceFromServer = '';

/** `GET /ice-servers` (a server may vend STUN/TURN settings there): a list, or undefined. */
async function fetchIceServers() {
  try {
    const response = await fetch('/ice-servers', {
      cache: 'no-store',
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(ICE_FETCH_TIMEOUT_MS),
    });
    if (!response.ok) return undefined;
    const body = await response.json();
    const list = Array.isArray(body) ? body : body?.iceServers;
    return Array.isArray(list)
      ? list.filter((server) => server && (typeof server.urls === 'string' || Array.isArray(server.urls)))
      : undefined;
  } catch {
    return undefined;
  }
}

function formatIceServers(servers) {
  const lines = [];
  for (const server of servers) {
    const urls = Array.isArray(server.urls) ? server.urls : [server.urls];
    const credentials = server.username ? ` ${server.username} ${server.credential ?? ''}` : '';
    for (const url of urls) lines.push(`${url}${credentials}`.trim());
  }
  return lines.join('\n');
}

/** The field's servers; throws an Error naming the faulty line. */
function parseIceServers(text) {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let parsed;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new Error('ICE servers: the JSON does not parse.');
    }
    const list = Array.isArray(parsed) ? parsed : parsed?.iceServers;
    if (!Array.isArray(list))
      throw new Error('ICE servers: expected a JSON array of {"urls", "username", "credential"}.');
    return list;
  }
  return trimmed.split('\n').flatMap((line, index) => {
    const [url, username, credential] = line.trim().split(/\s+/);
    if (url === undefined || url === '' || url.startsWith('#')) return [];
    if (!/^(stun|stuns|turn|turns):/i.test(url)) {
      throw new Error(`ICE servers, line ${index + 1}: “${url}” should start with stun:, stuns:, turn: or turns:.`);
    }
    if (/^turns?:/i.test(url) && (username === undefined || credential === undefined)) {
      throw new Error(`ICE servers, line ${index + 1}: a TURN server needs a username and a password after its URL.`);
    }
    return [username === undefined ? { urls: url } : { urls: url, username, credential: credential ?? '' }];
  });
}

function updateIceSummary() {
  let servers;
  try {
    servers = parseIceServers(ui.iceServers.value);
  } catch {
    ui.iceSummary.textContent = 'invalid (see below)';
    return;
  }
  const source = ui.iceServers.value === iceFromServer && iceFromServer !== '' ? ' from the server' : '';
  const count = servers.length === 0 ? 'none' : `${servers.length}${source}`;
  ui.iceSummary.textContent = ui.relayOnly.checked ? `${count}, relay only` : count;
}

const iceReady = fetchIceServers().then((servers) => {
  if (servers === undefined || servers.length === 0 || ui.iceServers.value !== '') return;
  ui.iceServers.value = formatIceServers(servers);
  iceFromServer = ui.iceServers.value;
  updateIceSummary();
});

/** The RTCConfiguration for the next connection. Credentials from the server are fetched afresh (they may expire). */
async function rtcConfiguration() {
  await iceReady;
  if (iceFromServer !== '' && ui.iceServers.value === iceFromServer) {
    const fresh = await fetchIceServers();
    if (fresh !== undefined && fresh.length > 0) {
      ui.iceServers.value = formatIceServers(fresh);
      iceFromServer = ui.iceServers.value;
    }
  }
  const iceServers = parseIceServers(ui.iceServers.value);
  return { iceServers, iceTransportPolicy: ui.relayOnly.checked ? 'relay' : 'all' };
}

// ---------------------------------------------------------------- peer connection views

/** The RTCPeerConnection states shown, with their names in the timeline. */
const STATE_LABELS = {
  signalingState: 'signaling state',
  iceGatheringState: 'ICE gathering',
  iceConnectionState: 'ICE connection',
  connectionState: 'connection',
};

/** One peer connection's panel: states, timeline, candidates and statistics. */
class PeerView {
  constructor(pc, title) {
    this.pc = pc;
    this.started = performance.now();
    this.stopped = false;
    /** Chat lines' copies of the explanation. */
    this.quotes = [];
    const fragment = /** @type {DocumentFragment} */ (ui.peerTemplate.content.cloneNode(true));
    this.root = /** @type {HTMLElement} */ (fragment.firstElementChild);
    this.fields = {};
    for (const node of this.root.querySelectorAll('[data-field]')) this.fields[node.dataset.field] = node;
    const titleId = `peer-title-${PeerView.count++}`;
    this.fields.title.id = titleId;
    this.root.setAttribute('aria-labelledby', titleId);
    this.fields.candidatesRegion.setAttribute('aria-label', 'Candidates');
    this.fields.pairsRegion.setAttribute('aria-label', 'Candidate pairs');
    this.setTitle(title);
    ui.noConnections.hidden = true;
    ui.peerViews.prepend(this.root);

    for (const [state, label] of Object.entries(STATE_LABELS)) {
      this.fields[state].textContent = pc[state];
      pc.addEventListener(`${state.toLowerCase()}change`, () => {
        this.fields[state].textContent = pc[state];
        this.note(`${label}: ${pc[state]}`);
        if (state === 'connectionState') this.onConnectionState(pc[state]);
      });
    }
    pc.addEventListener('icecandidate', (event) => {
      if (event.candidate && event.candidate.candidate) {
        this.note(`local candidate: ${describeCandidateLine(event.candidate.candidate)}`);
      }
    });
    pc.addEventListener('icecandidateerror', (event) => {
      this.note(`ICE server error: ${event.url || 'unknown server'} ${event.errorCode} ${event.errorText}`.trim());
    });
    this.timer = setInterval(() => void this.refresh(), STATS_INTERVAL_MS);
  }

  setTitle(title) {
    this.title = title;
    this.fields.title.textContent = title;
  }

  note(text) {
    const seconds = ((performance.now() - this.started) / 1_000).toFixed(3);
    const item = element('li');
    item.append(element('span', `+${seconds} s`, 'time'), ' ', element('span', text));
    this.fields.timeline.append(item);
  }

  /** How the connection carries the data, in the panel and in every chat line that quotes it. */
  setExplanation(text) {
    this.fields.how.textContent = text;
    for (const span of this.quotes) span.textContent = text;
  }

  /** A span that shows this connection's explanation, kept up to date as the selected pair settles. */
  quoteExplanation() {
    const span = element('span', this.fields.how.textContent ?? '');
    this.quotes.push(span);
    return span;
  }

  setBadge(text, kind) {
    this.fields.badge.textContent = text;
    this.fields.badge.className = `badge ${kind ?? ''}`.trim();
  }

  onConnectionState(state) {
    this.setBadge(state, state === 'connected' ? 'ok' : state === 'failed' ? 'bad' : undefined);
    if (state === 'connected') void this.refresh();
  }

  /** The connection failed or was refused before it opened. */
  fail(text) {
    this.setBadge('failed', 'bad');
    this.setExplanation(text);
    this.stop();
  }

  /** Stops the statistics after one last reading. */
  stop() {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    void this.refresh(true);
  }

  /** The connection is over (its channel closed, or this page left). */
  close(text = 'closed') {
    if (this.fields.badge.textContent !== 'failed') this.setBadge(text);
    this.note(text);
    this.stop();
  }

  async refresh(final = false) {
    let report;
    try {
      report = await this.pc.getStats();
    } catch {
      return;
    }
    if (this.stopped && !final) return;
    const stats = readStats(report);
    // A closed connection may report nothing: keep the last figures then.
    if (final && stats.pairs.length === 0) return;
    this.render(stats);
  }

  render(stats) {
    const { pair, local, remote, locals, remotes, pairs, channels } = stats;
    const f = this.fields;
    if (pair !== undefined) {
      f.pairLocal.textContent = describeCandidate(local);
      f.pairRemote.textContent = describeCandidate(remote);
      this.setExplanation(explainPair(local, remote, this.pc.remoteCandidateLines ?? []));
      f.pair.dataset.selected = 'true';
    }
    f.rtt.textContent = formatMs(pair?.currentRoundTripTime);
    f.bytesSent.textContent = formatBytes(stats.bytesSent);
    f.bytesReceived.textContent = formatBytes(stats.bytesReceived);
    const sent = channels.reduce((sum, c) => sum + (c.messagesSent ?? 0), 0);
    const received = channels.reduce((sum, c) => sum + (c.messagesReceived ?? 0), 0);
    f.messagesSent.textContent = channels.length === 0 ? '–' : String(sent);
    f.messagesReceived.textContent = channels.length === 0 ? '–' : String(received);

    f.candidateCounts.textContent = `${locals.length} local, ${remotes.length} remote`;
    f.candidates.replaceChildren(
      ...[...locals.map((c) => ['local', c]), ...remotes.map((c) => ['remote', c])].map(([side, c]) =>
        row([
          side,
          c.candidateType,
          c.protocol + (c.relayProtocol ? ` (relay over ${c.relayProtocol})` : ''),
          hostPort(c.address ?? c.ip, c.port),
          c.url ?? '',
          c.id === local?.id || c.id === remote?.id ? '✓ selected' : '',
        ]),
      ),
    );
    const byIdMap = stats.byId;
    f.pairCounts.textContent = pairs.length === 0 ? 'none yet' : countStates(pairs);
    f.pairs.replaceChildren(
      ...pairs.map((p) =>
        row([
          describeCandidate(byIdMap.get(p.localCandidateId)),
          describeCandidate(byIdMap.get(p.remoteCandidateId)),
          p.id === pair?.id ? `${p.state} (selected)` : p.state,
          p.nominated ? 'yes' : 'no',
          formatMs(p.currentRoundTripTime),
        ]),
      ),
    );
  }
}
PeerView.count = 0;

function countStates(pairs) {
  const counts = new Map();
  for (const p of pairs) counts.set(p.state, (counts.get(p.state) ?? 0) + 1);
  return [...counts].map(([state, n]) => `${n} ${state}`).join(', ');
}

/** The figures the panel shows, from an RTCStatsReport (Chromium, Firefox and Safari name a few differently). */
function readStats(report) {
  const all = [...report.values()];
  const byIdMap = new Map(all.map((s) => [s.id, s]));
  const transport = all.find((s) => s.type === 'transport');
  let pair = transport?.selectedCandidatePairId ? byIdMap.get(transport.selectedCandidatePairId) : undefined;
  pair ??= all.find((s) => s.type === 'candidate-pair' && (s.selected || (s.nominated && s.state === 'succeeded')));
  return {
    byId: byIdMap,
    pair,
    local: pair ? byIdMap.get(pair.localCandidateId) : undefined,
    remote: pair ? byIdMap.get(pair.remoteCandidateId) : undefined,
    locals: all.filter((s) => s.type === 'local-candidate'),
    remotes: all.filter((s) => s.type === 'remote-candidate'),
    pairs: all.filter((s) => s.type === 'candidate-pair'),
    channels: all.filter((s) => s.type === 'data-channel'),
    bytesSent: transport?.bytesSent ?? pair?.bytesSent,
    bytesReceived: transport?.bytesReceived ?? pair?.bytesReceived,
  };
}

/**
 * The browser's RTCPeerConnection, giving each new connection to `onCreate`
 * (the SDK takes the class as an option) and keeping the candidate lines
 * the other peer signaled, for {@link remoteType}.
 */
function trackedPeerConnection(onCreate) {
  return class TrackedPeerConnection extends RTCPeerConnection {
    constructor(configuration) {
      super(configuration);
      /** Candidate lines received through signaling, trickled or in the remote description. */
      this.remoteCandidateLines = [];
      onCreate(this);
    }

    addIceCandidate(candidate) {
      if (candidate?.candidate) this.remoteCandidateLines.push(candidate.candidate);
      return super.addIceCandidate(candidate);
    }

    setRemoteDescription(description) {
      const lines = description?.sdp?.split(/\r?\n/) ?? [];
      this.remoteCandidateLines.push(...lines.filter((line) => line.startsWith('a=candidate:')));
      return super.setRemoteDescription(description);
    }
  };
}

// ---------------------------------------------------------------- chat

/**
 * Messages on the data channel are JSON text. The joiner speaks first,
 * `{"type":"hello"}`, once it listens (the SDK hands it the channel only
 * after closing its signaling connection, and what arrives before would be
 * lost); the host answers `{"type":"welcome","id":n}`. Then the host sends
 * `{"type":"chat","from":id,"text":...}` (id 0 is the host) and
 * `{"type":"presence","id":n,"present":bool}`, the joiner sends
 * `{"type":"chat","text":...}`, and the host relays each joiner's messages
 * to the others, so everyone sees everyone.
 */
function peerName(id) {
  return id === 0 ? 'Host' : `Joiner ${id}`;
}

function addChat(who, text, mine = false) {
  const item = element('li', undefined, mine ? 'mine' : undefined);
  item.append(
    element('span', who, 'who'),
    ' ',
    element('span', text, 'text'),
    ' ',
    element('time', clockTime().slice(0, 8)),
  );
  showChatItem(item);
}

/** A line of the chat that is not a message; `parts` may include live elements. */
function addNotice(...parts) {
  const item = element('li', undefined, 'notice');
  item.append(...parts);
  showChatItem(item);
}

function showChatItem(item) {
  ui.messages.append(item);
  ui.messages.scrollTop = ui.messages.scrollHeight;
}

function parseChannelMessage(data) {
  if (typeof data !== 'string') return undefined;
  try {
    const message = JSON.parse(data);
    return message && typeof message === 'object' ? message : undefined;
  } catch {
    // Another client may send plain text: show it as it is.
    return { type: 'chat', text: data };
  }
}

function chatText(value) {
  return String(value ?? '').slice(0, MAX_TEXT);
}

function setChatEnabled(enabled) {
  ui.message.disabled = !enabled;
  ui.send.disabled = !enabled;
}

// ---------------------------------------------------------------- session

/** The current session: `{ role, send(text), close() }`, or undefined. */
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
  /** Joiner ids → their view and open channel. */
  const joiners = new Map();
  /** Views of peer connections created before the offer naming their joiner was seen. */
  const unnamed = [];
  let host;
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
  const present = () => [...joiners].filter(([, joiner]) => joiner.ready && joiner.channel.readyState === 'open');
  const broadcast = (message, except) => {
    const frame = JSON.stringify(message);
    for (const [id, joiner] of present()) if (id !== except) joiner.channel.send(frame);
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
  const takeView = (pc, title) => {
    const index = unnamed.findIndex((view) => view.pc === pc);
    const view = index >= 0 ? unnamed.splice(index, 1)[0] : new PeerView(pc, title);
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

async function startJoin(key) {
  if (session !== undefined) return;
  setBusy();
  setStatus(`Joining key ${key}…`);
  let view;
  let myId;
  let peer;
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
      myId = message.id;
      setStatus(`Connected to the host of key ${key} as ${peerName(myId)}.`);
    } else if (message.type === 'chat') {
      addChat(Number.isInteger(message.from) ? peerName(message.from) : 'Host', chatText(message.text));
    } else if (message.type === 'presence' && Number.isInteger(message.id)) {
      addNotice(`${peerName(message.id)} ${message.present ? 'joined' : 'left'}.`);
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

function joinLink(key) {
  const url = new URL(location.href);
  url.search = '';
  url.hash = `join=${encodeURIComponent(key)}`;
  return url.href;
}

/** The key of a join link (`#join=KEY` or `?join=KEY`), or of a bare key. */
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

function keyFromLocation() {
  return (
    new URLSearchParams(location.hash.slice(1)).get('join') ??
    new URLSearchParams(location.search).get('join') ??
    undefined
  );
}

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
  safely(async (event) => {
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
    showError(error.message);
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

updateIceSummary();
const initialKey = keyFromLocation();
if (initialKey !== undefined) {
  ui.joinKey.value = initialKey;
  safely(startJoin)(initialKey);
}
