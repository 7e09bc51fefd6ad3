// @ts-check
// The test page's elements, found once by id, and small helpers that build DOM nodes.

/**
 * The element with `id`; the page's HTML has each one.
 *
 * @param {string} id
 */
const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** The page's fixed elements (demo/index.html). */
export const ui = {
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

/**
 * `HH:MM:SS.mmm` of `date`, local time.
 *
 * @param {Date} [date]
 */
export function clockTime(date = new Date()) {
  /** @type {(n: number, width?: number) => string} */
  const pad = (n, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/**
 * A new element with optional text and class.
 *
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [text]
 * @param {string} [className]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className !== undefined) node.className = className;
  return node;
}

/**
 * A table row: text cells, or cells holding the given nodes.
 *
 * @param {readonly (string | Node)[]} cells
 */
export function row(cells) {
  const tr = document.createElement('tr');
  for (const cell of cells) tr.append(cell instanceof Node ? wrapCell(cell) : element('td', cell));
  return tr;
}

/** @param {Node} node */
function wrapCell(node) {
  const td = document.createElement('td');
  td.append(node);
  return td;
}
