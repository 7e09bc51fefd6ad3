// @ts-check
// The Connections panel: one view per RTCPeerConnection with its states, a
// timeline, its candidates and pairs, and getStats() figures, refreshed
// every second while the connection lasts.

import { describeCandidate, describeCandidateLine, explainPair, hostPort } from './candidates.js';
import { element, row, ui } from './page.js';

/** @typedef {import('./candidates.js').CandidateStats} CandidateStats */

const STATS_INTERVAL_MS = 1_000;

/**
 * The RTCPeerConnection states shown, with their names in the timeline.
 *
 * @type {Readonly<Record<'signalingState' | 'iceGatheringState' | 'iceConnectionState' | 'connectionState', string>>}
 */
const STATE_LABELS = {
  signalingState: 'signaling state',
  iceGatheringState: 'ICE gathering',
  iceConnectionState: 'ICE connection',
  connectionState: 'connection',
};

/**
 * A peer connection made by {@link trackedPeerConnection}: it keeps the
 * candidate lines the other peer signaled.
 *
 * @typedef {RTCPeerConnection & { remoteCandidateLines: string[] }} TrackedPeerConnection
 */

/**
 * An entry of an RTCStatsReport, with the fields the page reads of the types it reads.
 *
 * @typedef {CandidateStats & {
 *   type: string,
 *   selectedCandidatePairId?: string,
 *   selected?: boolean,
 *   nominated?: boolean,
 *   state?: string,
 *   localCandidateId?: string,
 *   remoteCandidateId?: string,
 *   currentRoundTripTime?: number,
 *   bytesSent?: number,
 *   bytesReceived?: number,
 *   messagesSent?: number,
 *   messagesReceived?: number,
 * }} StatsEntry
 */

/**
 * The figures a view shows, read from one RTCStatsReport.
 *
 * @typedef {object} Figures
 * @property {Map<string, StatsEntry>} byId
 * @property {StatsEntry | undefined} pair the selected candidate pair
 * @property {StatsEntry | undefined} local its local candidate
 * @property {StatsEntry | undefined} remote its remote candidate
 * @property {StatsEntry[]} locals
 * @property {StatsEntry[]} remotes
 * @property {StatsEntry[]} pairs
 * @property {StatsEntry[]} channels
 * @property {number | undefined} bytesSent
 * @property {number | undefined} bytesReceived
 */

/**
 * The fields of the panel's template, by their `data-field` names.
 *
 * @typedef {Record<
 *   'title' | 'badge' | 'how' | 'pair' | 'pairLocal' | 'pairRemote' | 'rtt' | 'bytesSent' | 'bytesReceived'
 *   | 'messagesSent' | 'messagesReceived' | 'candidateCounts' | 'candidates' | 'candidatesRegion' | 'pairCounts'
 *   | 'pairs' | 'pairsRegion' | 'timeline' | keyof typeof STATE_LABELS,
 *   HTMLElement
 * >} Fields
 */

/** One peer connection's panel: states, timeline, candidates and statistics. */
export class PeerView {
  static count = 0;

  /**
   * @param {TrackedPeerConnection} pc
   * @param {string} title
   */
  constructor(pc, title) {
    this.pc = pc;
    this.started = performance.now();
    this.stopped = false;
    /** @type {string} */
    this.title = title;
    /** Chat lines' copies of the explanation. @type {HTMLElement[]} */
    this.quotes = [];
    const fragment = /** @type {DocumentFragment} */ (ui.peerTemplate.content.cloneNode(true));
    this.root = /** @type {HTMLElement} */ (fragment.firstElementChild);
    /** @type {Partial<Fields>} */
    const fields = {};
    for (const node of this.root.querySelectorAll('[data-field]')) {
      if (node instanceof HTMLElement && node.dataset.field !== undefined) {
        fields[/** @type {keyof Fields} */ (node.dataset.field)] = node;
      }
    }
    // The template has every field.
    this.fields = /** @type {Fields} */ (fields);
    const titleId = `peer-title-${PeerView.count++}`;
    this.fields.title.id = titleId;
    this.root.setAttribute('aria-labelledby', titleId);
    this.fields.candidatesRegion.setAttribute('aria-label', 'Candidates');
    this.fields.pairsRegion.setAttribute('aria-label', 'Candidate pairs');
    this.setTitle(title);
    ui.noConnections.hidden = true;
    ui.peerViews.prepend(this.root);

    for (const [state, label] of /** @type {[keyof typeof STATE_LABELS, string][]} */ (Object.entries(STATE_LABELS))) {
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
      const error = /** @type {RTCPeerConnectionIceErrorEvent} */ (event);
      this.note(`ICE server error: ${error.url || 'unknown server'} ${error.errorCode} ${error.errorText}`.trim());
    });
    this.timer = setInterval(() => void this.refresh(), STATS_INTERVAL_MS);
  }

  /** @param {string} title */
  setTitle(title) {
    this.title = title;
    this.fields.title.textContent = title;
  }

  /**
   * Adds a line to the timeline, timed from the view's creation.
   *
   * @param {string} text
   */
  note(text) {
    const seconds = ((performance.now() - this.started) / 1_000).toFixed(3);
    const item = element('li');
    item.append(element('span', `+${seconds} s`, 'time'), ' ', element('span', text));
    this.fields.timeline.append(item);
  }

  /**
   * How the connection carries the data, in the panel and in every chat line that quotes it.
   *
   * @param {string} text
   */
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

  /**
   * @param {string} text
   * @param {'ok' | 'bad'} [kind]
   */
  setBadge(text, kind) {
    this.fields.badge.textContent = text;
    this.fields.badge.className = `badge ${kind ?? ''}`.trim();
  }

  /** @param {RTCPeerConnectionState} state */
  onConnectionState(state) {
    this.setBadge(state, state === 'connected' ? 'ok' : state === 'failed' ? 'bad' : undefined);
    if (state === 'connected') void this.refresh();
  }

  /**
   * The connection failed or was refused before it opened.
   *
   * @param {string} text
   */
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

  /**
   * The connection is over (its channel closed, or this page left).
   *
   * @param {string} [text]
   */
  close(text = 'closed') {
    if (this.fields.badge.textContent !== 'failed') this.setBadge(text);
    this.note(text);
    this.stop();
  }

  /** @param {boolean} [final] the last reading, after the connection ended */
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

  /** @param {Figures} stats */
  render(stats) {
    const { pair, local, remote, locals, remotes, pairs, channels } = stats;
    const f = this.fields;
    if (pair !== undefined) {
      f.pairLocal.textContent = describeCandidate(local);
      f.pairRemote.textContent = describeCandidate(remote);
      this.setExplanation(explainPair(local, remote, this.pc.remoteCandidateLines));
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
    /** @type {[string, StatsEntry][]} */
    const sides = [
      ...locals.map((c) => /** @type {[string, StatsEntry]} */ (['local', c])),
      ...remotes.map((c) => /** @type {[string, StatsEntry]} */ (['remote', c])),
    ];
    f.candidates.replaceChildren(
      ...sides.map(([side, c]) =>
        row([
          side,
          c.candidateType ?? '',
          (c.protocol ?? '') + (c.relayProtocol ? ` (relay over ${c.relayProtocol})` : ''),
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
          describeCandidate(byIdMap.get(p.localCandidateId ?? '')),
          describeCandidate(byIdMap.get(p.remoteCandidateId ?? '')),
          p.id === pair?.id ? `${p.state} (selected)` : (p.state ?? ''),
          p.nominated ? 'yes' : 'no',
          formatMs(p.currentRoundTripTime),
        ]),
      ),
    );
  }
}

/**
 * The browser's RTCPeerConnection, giving each new connection to `onCreate`
 * (the SDK takes the class as an option) and keeping the candidate lines
 * the other peer signaled, for the panel's explanation.
 *
 * @param {(pc: TrackedPeerConnection) => void} onCreate
 * @returns {new (configuration?: RTCConfiguration) => TrackedPeerConnection}
 */
export function trackedPeerConnection(onCreate) {
  return class TrackedPeerConnection extends RTCPeerConnection {
    /** @param {RTCConfiguration} [configuration] */
    constructor(configuration) {
      super(configuration);
      /** Candidate lines received through signaling, trickled or in the remote description. @type {string[]} */
      this.remoteCandidateLines = [];
      onCreate(this);
    }

    /** @param {RTCIceCandidateInit | null} [candidate] */
    addIceCandidate(candidate) {
      if (candidate?.candidate) this.remoteCandidateLines.push(candidate.candidate);
      // `null` (end of candidates) goes through as the SDK gave it.
      return super.addIceCandidate(/** @type {RTCIceCandidateInit} */ (candidate));
    }

    /** @param {RTCSessionDescriptionInit} description */
    setRemoteDescription(description) {
      const lines = description.sdp?.split(/\r?\n/) ?? [];
      this.remoteCandidateLines.push(...lines.filter((line) => line.startsWith('a=candidate:')));
      return super.setRemoteDescription(description);
    }
  };
}

/** @param {unknown} n */
function formatBytes(n) {
  if (typeof n !== 'number') return '–';
  if (n < 1_000) return `${n} B`;
  if (n < 1_000_000) return `${(n / 1_000).toFixed(1)} kB`;
  return `${(n / 1_000_000).toFixed(2)} MB`;
}

/** @param {unknown} seconds */
function formatMs(seconds) {
  if (typeof seconds !== 'number') return '–';
  const ms = seconds * 1_000;
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

/**
 * `2 succeeded, 1 failed`: how many pairs are in each state.
 *
 * @param {readonly StatsEntry[]} pairs
 */
function countStates(pairs) {
  /** @type {Map<string | undefined, number>} */
  const counts = new Map();
  for (const p of pairs) counts.set(p.state, (counts.get(p.state) ?? 0) + 1);
  return [...counts].map(([state, n]) => `${n} ${state}`).join(', ');
}

/**
 * The figures the panel shows, from an RTCStatsReport (Chromium, Firefox and Safari name a few differently).
 *
 * @param {RTCStatsReport} report
 * @returns {Figures}
 */
function readStats(report) {
  /** @type {StatsEntry[]} */
  const all = [...report.values()];
  const byIdMap = new Map(all.map((s) => [s.id, s]));
  const transport = all.find((s) => s.type === 'transport');
  let pair = transport?.selectedCandidatePairId ? byIdMap.get(transport.selectedCandidatePairId) : undefined;
  pair ??= all.find((s) => s.type === 'candidate-pair' && (s.selected || (s.nominated && s.state === 'succeeded')));
  return {
    byId: byIdMap,
    pair,
    local: pair ? byIdMap.get(pair.localCandidateId ?? '') : undefined,
    remote: pair ? byIdMap.get(pair.remoteCandidateId ?? '') : undefined,
    locals: all.filter((s) => s.type === 'local-candidate'),
    remotes: all.filter((s) => s.type === 'remote-candidate'),
    pairs: all.filter((s) => s.type === 'candidate-pair'),
    channels: all.filter((s) => s.type === 'data-channel'),
    bytesSent: transport?.bytesSent ?? pair?.bytesSent,
    bytesReceived: transport?.bytesReceived ?? pair?.bytesReceived,
  };
}
