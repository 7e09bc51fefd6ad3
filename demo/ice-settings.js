// @ts-check
// The "ICE servers" settings: pre-filled from the server's GET /ice-servers,
// edited as one URL per line (or JSON), and turned into the RTCConfiguration
// of each new connection.

import { ui } from './page.js';

const ICE_FETCH_TIMEOUT_MS = 3_000;

/** The field's text as last filled from the server; '' when it never was. */
let iceFromServer = '';
/** Settles once the first answer of the server is in the field. */
let iceReady = Promise.resolve();

/**
 * `GET /ice-servers` (a server may vend STUN/TURN settings there): a list, or undefined.
 *
 * @returns {Promise<RTCIceServer[] | undefined>}
 */
async function fetchIceServers() {
  try {
    const response = await fetch('/ice-servers', {
      cache: 'no-store',
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(ICE_FETCH_TIMEOUT_MS),
    });
    if (!response.ok) return undefined;
    /** @type {unknown} */
    const body = await response.json();
    const list = Array.isArray(body) ? body : /** @type {{ iceServers?: unknown } | null} */ (body)?.iceServers;
    return Array.isArray(list)
      ? list.filter((server) => server && (typeof server.urls === 'string' || Array.isArray(server.urls)))
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The field's text for `servers`: one URL per line, TURN credentials after it.
 *
 * @param {readonly RTCIceServer[]} servers
 */
function formatIceServers(servers) {
  const lines = [];
  for (const server of servers) {
    const urls = Array.isArray(server.urls) ? server.urls : [server.urls];
    const credentials = server.username ? ` ${server.username} ${server.credential ?? ''}` : '';
    for (const url of urls) lines.push(`${url}${credentials}`.trim());
  }
  return lines.join('\n');
}

/**
 * The field's servers; throws an Error naming the faulty line.
 *
 * @param {string} text
 * @returns {RTCIceServer[]}
 */
export function parseIceServers(text) {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    /** @type {unknown} */
    let parsed;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new Error('ICE servers: the JSON does not parse.');
    }
    const list = Array.isArray(parsed) ? parsed : /** @type {{ iceServers?: unknown } | null} */ (parsed)?.iceServers;
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

/** Shows how many servers the field lists (and whether they came from the server) in its summary. */
export function updateIceSummary() {
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

/** Asks the server for its ICE servers and fills the field with them, unless the user typed some first. */
export function loadIceServers() {
  iceReady = fetchIceServers().then((servers) => {
    if (servers === undefined || servers.length === 0 || ui.iceServers.value !== '') return;
    ui.iceServers.value = formatIceServers(servers);
    iceFromServer = ui.iceServers.value;
    updateIceSummary();
  });
}

/**
 * The RTCConfiguration for the next connection. Credentials from the server are fetched afresh (they may expire).
 *
 * @returns {Promise<RTCConfiguration>}
 */
export async function rtcConfiguration() {
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
