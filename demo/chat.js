// @ts-check
// The chat: its messages on the data channel, and its lines on the page.
//
// Messages on the data channel are JSON text. The joiner speaks first,
// `{"type":"hello"}`, once it listens (the SDK hands it the channel only
// after closing its signaling connection, and what arrives before would be
// lost); the host answers `{"type":"welcome","id":n}`. Then the host sends
// `{"type":"chat","from":id,"text":...}` (id 0 is the host) and
// `{"type":"presence","id":n,"present":bool}`, the joiner sends
// `{"type":"chat","text":...}`, and the host relays each joiner's messages
// to the others, so everyone sees everyone.

import { clockTime, element, ui } from './page.js';

/** Longest chat message, in characters. */
const MAX_TEXT = 2_000;

/**
 * A message of the data channel, as received: its fields are checked where read.
 *
 * @typedef {{ type?: unknown, id?: unknown, from?: unknown, text?: unknown, present?: unknown }} ChannelMessage
 */

/**
 * What the chat calls a peer: id 0 is the host.
 *
 * @param {number} id
 */
export function peerName(id) {
  return id === 0 ? 'Host' : `Joiner ${id}`;
}

/**
 * Shows a message.
 *
 * @param {string} who
 * @param {string} text
 * @param {boolean} [mine] sent by this page
 */
export function addChat(who, text, mine = false) {
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

/**
 * A line of the chat that is not a message; `parts` may include live elements.
 *
 * @param {...(string | Node)} parts
 */
export function addNotice(...parts) {
  const item = element('li', undefined, 'notice');
  item.append(...parts);
  showChatItem(item);
}

/** @param {HTMLElement} item */
function showChatItem(item) {
  ui.messages.append(item);
  ui.messages.scrollTop = ui.messages.scrollHeight;
}

/**
 * A data channel message as an object, or undefined when it is not text.
 *
 * @param {unknown} data
 * @returns {ChannelMessage | undefined}
 */
export function parseChannelMessage(data) {
  if (typeof data !== 'string') return undefined;
  try {
    /** @type {unknown} */
    const message = JSON.parse(data);
    return message && typeof message === 'object' ? message : undefined;
  } catch {
    // Another client may send plain text: show it as it is.
    return { type: 'chat', text: data };
  }
}

/**
 * A message's text, cut to the longest allowed.
 *
 * @param {unknown} value
 */
export function chatText(value) {
  return String(value ?? '').slice(0, MAX_TEXT);
}

/** @param {boolean} enabled */
export function setChatEnabled(enabled) {
  ui.message.disabled = !enabled;
  ui.send.disabled = !enabled;
}
