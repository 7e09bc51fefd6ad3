// @ts-check
// The signaling log: every frame the SDK's WebSocket sends and receives,
// with SDP and candidates summarised, and the connection's own events.

import { describeCandidateLine } from './candidates.js';
import { clockTime, element, row, ui } from './page.js';

/** Signaling log rows kept (keep-alive pings would grow it without end). */
const MAX_LOG_ROWS = 500;

/** @typedef {'sent' | 'received'} Direction */

/** Frames counted in the log's heading. @type {Record<Direction, number>} */
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

/**
 * A frame as parsed JSON; the log reads whatever fields it has.
 *
 * @typedef {Record<string, any>} Frame
 */

/**
 * Adds a row for one frame.
 *
 * @param {Direction} direction
 * @param {string} text
 */
function logFrame(direction, text) {
  logCounts[direction] += 1;
  ui.logCounts.textContent = `${logCounts.sent} sent, ${logCounts.received} received`;
  /** @type {unknown} */
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const frame = parsed && typeof parsed === 'object' ? /** @type {Frame} */ (parsed) : undefined;
  const type = (frame && FRAME_TYPES.find((name) => name in frame)) || 'unknown';
  const size = new TextEncoder().encode(text).length;
  appendLogRow(direction, type, `${size} B`, logContent(type, frame, text));
}

/**
 * Adds a row for something that happened to the connection.
 *
 * @param {string} text
 */
export function logEvent(text) {
  appendLogRow('event', '', '', element('span', text));
}

/**
 * @param {Direction | 'event'} direction
 * @param {string} type
 * @param {string} size
 * @param {Node} content
 */
function appendLogRow(direction, type, size, content) {
  const label = direction === 'sent' ? '↑ sent' : direction === 'received' ? '↓ received' : '· connection';
  const tr = row([clockTime(), element('span', label, `direction ${direction}`), element('code', type), size, content]);
  tr.className = direction;
  ui.log.append(tr);
  while (ui.log.childElementCount > MAX_LOG_ROWS) ui.log.firstElementChild?.remove();
}

/**
 * What a log row shows of a frame: SDP and candidates summarised, the whole frame one click away.
 *
 * @param {string} type
 * @param {Frame | undefined} frame
 * @param {string} text
 */
function logContent(type, frame, text) {
  const description = frame?.[type];
  if ((type === 'offer' || type === 'answer') && typeof description?.sdp === 'string') {
    const lines = description.sdp.split(/\r?\n/).filter((/** @type {string} */ line) => line !== '');
    const candidates = lines.filter((/** @type {string} */ line) => line.startsWith('a=candidate:')).length;
    return details(
      `SDP ${description.type}, ${lines.length} lines, ${candidates} candidates${idSuffix(frame)}`,
      description.sdp,
    );
  }
  if (type === 'candidate' && frame !== undefined) {
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

/** @param {Frame | undefined} frame */
function idSuffix(frame) {
  return typeof frame?.id === 'number' ? `, joiner ${frame.id}` : '';
}

/**
 * @param {string} summaryText
 * @param {string} body
 */
function details(summaryText, body) {
  const node = document.createElement('details');
  node.append(element('summary', summaryText), element('pre', body));
  return node;
}

/**
 * The browser's WebSocket, logging every frame the SDK sends and receives.
 * The SDK takes a WebSocket class as an option; this is the one it gets.
 */
export class LoggedWebSocket extends WebSocket {
  /**
   * @param {string | URL} url
   * @param {string | string[]} [protocols]
   */
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

  /** @param {Parameters<WebSocket['send']>[0]} data */
  send(data) {
    super.send(data);
    logFrame('sent', String(data));
  }
}
