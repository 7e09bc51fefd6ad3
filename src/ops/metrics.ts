// Prometheus metrics for one server, on its own registry: connections,
// keys, relays, refusals, closes, handshake times, abuse events and the
// process. Events only bump plain numbers; prom-client sees them at scrape
// time, so the relay hot path pays one property increment.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SignalingObserver } from '../core/ports.js';
import type { ConnectionCensus, SignalingStats, TopicStats } from '../core/signaling.js';
import { DIALECTS, ERRORS, type Dialect, type ErrorCode, type RelayKind } from '../protocol/index.js';

/** Where the gauges read the current state. */
export interface MetricsSource {
  stats(): SignalingStats;
  census(): ConnectionCensus;
  topicStats(): TopicStats;
}

/** Options of {@link SigverMetrics}. */
export interface SigverMetricsOptions {
  /**
   * Registry to register on (an application's own, say). Default: a new one
   * per server, with Node process metrics (`collectDefaultMetrics`).
   */
  readonly registry?: Registry;
}

/** Close codes counted under their own label; any other is `other` (a peer picks its code). */
const CLOSE_CODES = ['1000', '1001', '1002', '1003', '1005', '1006', '1007', '1008', '1009', '1011', '4001'] as const;

/** Handshake buckets, seconds: joinkey accepted to first answer delivered, bounded by people and networks. */
const HANDSHAKE_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

let processRegistry: Registry | undefined;

/**
 * Default process metrics whose collection walks every handle (socket) or
 * open file of the process: at 10,000 connections they made a scrape cost
 * about 20 ms of CPU. Left out; `sigver_connections` counts the sockets.
 */
const PER_HANDLE_METRICS = [
  'nodejs_active_handles',
  'nodejs_active_handles_total',
  'nodejs_active_resources',
  'nodejs_active_resources_total',
  'process_open_fds',
] as const;

/**
 * How often the event loop delay is sampled, ms. prom-client's 10 ms wakes
 * an idle server about 200 times a second (and a busy one as many times
 * more than its traffic does); a delay worth alerting on lasts far longer
 * than 100 ms.
 */
const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * Node process metrics, collected once per process and shared by every
 * server's registry: prom-client's collectors (a GC observer, an event loop
 * monitor) cannot be stopped, so one set per server would pile up.
 */
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    for (const name of PER_HANDLE_METRICS) processRegistry.removeSingleMetric(name);
  }
  return processRegistry;
}

/** A server's metrics and the observer hooks that feed them. */
export class SigverMetrics {
  readonly registry: Registry;
  /** Hooks to give the signaling core. */
  readonly observer: SignalingObserver;
  private readonly relays: Record<RelayKind, number> = { offer: 0, answer: 0, candidate: 0 };
  private readonly refusals = Object.fromEntries(Object.keys(ERRORS).map((code) => [code, 0])) as Record<
    ErrorCode,
    number
  >;
  private readonly closes = new Map<string, number>(CLOSE_CODES.map((code) => [code, 0]));
  private readonly opened = Object.fromEntries(DIALECTS.map((dialect) => [dialect, 0])) as Record<Dialect, number>;
  private readonly upgradeRefusals = new Map<string, number>();
  private publications = 0;
  private publicationDeliveries = 0;
  private rateLimited = 0;
  private slowConsumers = 0;
  private keysRegistered = 0;

  constructor(source: MetricsSource, options: SigverMetricsOptions = {}) {
    const own = options.registry ?? new Registry();
    const registers = [own];
    const metrics = this;

    new Gauge({
      name: 'sigver_connections',
      help: 'Open WebSocket connections by dialect and role',
      labelNames: ['dialect', 'role'] as const,
      registers,
      collect() {
        const census = source.census();
        for (const dialect of DIALECTS) {
          for (const role of ['none', 'host', 'joiner'] as const) this.set({ dialect, role }, census[dialect][role]);
        }
      },
    });
    gauge('sigver_keys', 'Registered keys (hosts away within their resume grace included)', () => source.stats().keys);
    gauge('sigver_joiners', 'Joiners attached to a key', () => source.stats().joiners);
    gauge('sigver_hosts_away', 'v1 hosts away within their resume grace', () => source.stats().hostsAway);

    tally('sigver_connections_opened_total', 'WebSocket connections accepted, by dialect', 'dialect', () =>
      Object.entries(metrics.opened),
    );
    tally(
      'sigver_connections_closed_total',
      'WebSocket connections closed, by close code',
      'code',
      () => metrics.closes,
    );
    tally('sigver_messages_relayed_total', 'Messages relayed between peers, by type', 'type', () =>
      Object.entries(metrics.relays),
    );
    tally('sigver_refusals_total', 'Requests refused (v1 error or v0 close), by error code', 'code', () =>
      Object.entries(metrics.refusals),
    );
    tally(
      'sigver_upgrades_refused_total',
      'WebSocket upgrades refused, by HTTP status',
      'status',
      () => metrics.upgradeRefusals,
    );
    gauge('sigver_topics', 'y-webrtc topics with a subscriber in this process', () => source.topicStats().topics);
    total(
      'sigver_publications_total',
      'y-webrtc publications fanned out by this process (its own and those of other processes)',
      () => metrics.publications,
    );
    total(
      'sigver_publication_deliveries_total',
      'Frames sent to y-webrtc subscribers for publications',
      () => metrics.publicationDeliveries,
    );
    total('sigver_rate_limited_total', 'Connections closed for exceeding the rate limit', () => metrics.rateLimited);
    total('sigver_slow_consumers_total', 'Connections closed as slow consumers', () => metrics.slowConsumers);
    total('sigver_keys_registered_total', 'Keys registered', () => metrics.keysRegistered);

    const handshake = new Histogram({
      name: 'sigver_handshake_seconds',
      help: 'Time from a joiner attaching to its first answer being delivered, seconds',
      buckets: HANDSHAKE_BUCKETS,
      registers,
    });

    this.registry = options.registry === undefined ? Registry.merge([own, processMetrics()]) : own;

    this.observer = {
      opened: (_conn, dialect) => {
        this.opened[dialect] += 1;
      },
      // A connection opened without a subprotocol (counted as v0) turned out to speak y-webrtc.
      recognised: (_conn, from, to) => {
        this.opened[from] -= 1;
        this.opened[to] += 1;
      },
      ended: (_conn, _dialect, _role, code) => {
        const label = this.closes.has(String(code)) ? String(code) : 'other';
        this.closes.set(label, (this.closes.get(label) ?? 0) + 1);
      },
      refused: (_conn, _dialect, code) => {
        this.refusals[code] += 1;
      },
      relayed: (kind) => {
        this.relays[kind] += 1;
      },
      published: (recipients) => {
        this.publications += 1;
        this.publicationDeliveries += recipients;
      },
      keyRegistered: () => {
        this.keysRegistered += 1;
      },
      handshake: (ms) => handshake.observe(ms / 1000),
      rateLimited: () => {
        this.rateLimited += 1;
      },
      slowConsumer: () => {
        this.slowConsumers += 1;
      },
    };

    function gauge(name: string, help: string, read: () => number): void {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    }

    /** A counter whose per-label totals live in plain numbers until a scrape. */
    function tally(name: string, help: string, label: string, read: () => Iterable<[string, number]>): void {
      new Counter({
        name,
        help,
        labelNames: [label],
        registers,
        collect() {
          this.reset();
          for (const [value, count] of read()) this.inc({ [label]: value }, count);
        },
      });
    }

    function total(name: string, help: string, read: () => number): void {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    }
  }

  /** Counts a WebSocket upgrade refused with an HTTP status. */
  upgradeRefused(status: number): void {
    const label = String(status);
    this.upgradeRefusals.set(label, (this.upgradeRefusals.get(label) ?? 0) + 1);
  }

  /** The text exposition of every metric of the registry. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The Content-Type of {@link render}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
