// `npm run bench`: measures Sigver against the raw-ws forwarder in one run,
// alternating short bursts between them so that machine drift cancels out,
// and prints each figure beside the forwarder's with their ratio.
//
// Everything runs on loopback: the servers and the load generator are
// separate processes, all ended on exit. See docs/PERFORMANCE.md.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LoadGenProcess } from './load-gen-client.js';
import type { Dialect, HandshakeResult, IdleResult, Verify } from './load-gen-messages.js';
import { killAllChildren } from './server-process.js';
import { DEFAULT_YWEBRTC_OPTIONS, renderYWebrtc, runYWebrtcWorkload, type YWebrtcResult } from './y-webrtc-workload.js';
import {
  DEFAULT_METRICS_SCRAPE_OPTIONS,
  renderMetricsScrape,
  runMetricsScrape,
  type MetricsScrapeResult,
} from './metrics-scrape.js';
import {
  addBurst,
  addFailures,
  newTally,
  percentile,
  ratio,
  summarize,
  type Tally,
  type TallySummary,
} from './stats.js';
import {
  buildForwarder,
  commandTarget,
  forwarderTarget,
  sigverClusterTarget,
  sigverTarget,
  targetCpuNs,
  targetRssBytes,
  targetSupportCpuNs,
  type Target,
  type TargetInstance,
} from './targets.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const WORKLOADS = [
  'v1-saturation',
  'v1-rate',
  'v0-saturation',
  'v0-rate',
  'fan-in',
  'v1-cluster',
  'idle',
  'idle-max',
  'ywebrtc',
  'metrics',
] as const;
type WorkloadId = (typeof WORKLOADS)[number];

/** Workloads of a run without --only: all (v1-cluster is left out, with a note, where it cannot run). */
const DEFAULT_WORKLOADS = WORKLOADS;

/** Ratio targets from the benchmark issue: subject / forwarder at most this. */
const TARGETS = { 'v1-rate': 1.1, 'v1-saturation': 1.15, idle: 1.05 } as const;

const HELP = `Usage: npm run bench -- [options]

Runs each workload against Sigver (dist/, built first) and the raw-ws
forwarder (bench/raw-forwarder.ts), alternating short bursts, and prints a
table of figures with forwarder ratios. Exits non-zero on any failed
handshake or dropped idle connection.

  --pairs N            concurrent pairs at saturation (default 200)
  --rate N             handshakes per second in the fixed-rate phase (default 300)
  --burst-ms N         length of one saturation burst, ms (default 3000)
  --rate-burst-ms N    length of one fixed-rate burst, ms (default 4000)
  --rounds N           bursts per target, v1 workloads (default 4)
  --v0-rounds N        bursts per target, v0 workloads (default 2)
  --warmup-ms N        unmeasured warm-up per target, ms (default 2000)
  --fan-in N           joiners of the one host in the fan-in workload (default 256)
  --fan-in-rounds N    fan-in bursts per target (default 3)
  --idle N             idle connections for RSS per connection (default 10000)
  --idle-rounds N      fresh-process idle measurements per target (default 3)
  --idle-max N         idle connections to hold with no error (default 19000)
  --hold-ms N          how long to hold them, ms (default 3000)
  --settle-ms N        wait before reading RSS, ms (default 500)
  --only LIST          comma-separated workloads (default: all):
                       ${WORKLOADS.join(', ')}
                       v1-cluster: the v1 fixed-rate handshake with hosts on
                       one Sigver process and joiners on another, both --redis
                       to a private redis-server started on a free loopback
                       port (needs redis-server on PATH; a default run leaves
                       it out, with a note, where it cannot run), alternating
                       with the single process and the forwarder
                       ywebrtc: the y-webrtc dialect beside y-webrtc's own
                       server and a raw pub/sub forwarder (bench/y-webrtc-workload.ts)
                       metrics: server CPU per GET /metrics with no connection
                       and with 10,000 open (bench/metrics-scrape.ts)
  --verify MODE        parse and check frames: none, first (default: the first
                       session of each burst), all
  --json               print the results as JSON instead of the table
  --strict             also exit non-zero when a ratio target is missed
  --no-build           do not run "npm run build" first
  --sigver-cmd "..."   start the subject with this command instead of
                       dist/cli/main.js (split on spaces; it must print
                       "listening on ws://HOST:PORT")
  --aa                 A/A check: the forwarder against itself (noise floor)
  --max-seconds N      abort the whole run after N seconds (default 290)
  -h, --help           show this help
`;

interface Options {
  readonly pairs: number;
  readonly rate: number;
  readonly burstMs: number;
  readonly rateBurstMs: number;
  readonly rounds: number;
  readonly v0Rounds: number;
  readonly warmupMs: number;
  readonly fanIn: number;
  readonly fanInRounds: number;
  readonly idle: number;
  readonly idleRounds: number;
  readonly idleMax: number;
  readonly holdMs: number;
  readonly settleMs: number;
  /** The workloads to run; the driver may leave out one that cannot run here. */
  readonly only: Set<WorkloadId>;
  /** --only was given: a workload that cannot run is an error, not a note. */
  readonly explicitOnly: boolean;
  readonly verify: Verify;
  readonly json: boolean;
  readonly strict: boolean;
  readonly build: boolean;
  readonly sigverCmd: readonly string[] | null;
  readonly aa: boolean;
  readonly maxSeconds: number;
}

function parseOptions(argv: readonly string[]): Options | null {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      pairs: { type: 'string', default: '200' },
      rate: { type: 'string', default: '300' },
      'burst-ms': { type: 'string', default: '3000' },
      'rate-burst-ms': { type: 'string', default: '4000' },
      rounds: { type: 'string', default: '4' },
      'v0-rounds': { type: 'string', default: '2' },
      'warmup-ms': { type: 'string', default: '2000' },
      'fan-in': { type: 'string', default: '256' },
      'fan-in-rounds': { type: 'string', default: '3' },
      idle: { type: 'string', default: '10000' },
      'idle-rounds': { type: 'string', default: '3' },
      'idle-max': { type: 'string', default: '19000' },
      'hold-ms': { type: 'string', default: '3000' },
      'settle-ms': { type: 'string', default: '500' },
      only: { type: 'string' },
      verify: { type: 'string', default: 'first' },
      json: { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      'no-build': { type: 'boolean', default: false },
      'sigver-cmd': { type: 'string' },
      aa: { type: 'boolean', default: false },
      'max-seconds': { type: 'string', default: '290' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return null;
  const int = (name: string, text: string, min: number): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}, got ${text}`);
    return value;
  };
  const only = new Set<WorkloadId>();
  for (const name of (values.only ?? DEFAULT_WORKLOADS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)) {
    const id = WORKLOADS.find((w) => w === name);
    if (id === undefined) throw new Error(`unknown workload ${name}; known: ${WORKLOADS.join(', ')}`);
    only.add(id);
  }
  const verify = values.verify;
  if (verify !== 'none' && verify !== 'first' && verify !== 'all')
    throw new Error(`--verify must be none, first or all, got ${verify}`);
  const sigverCmd = values['sigver-cmd']?.split(' ').filter((s) => s.length > 0) ?? null;
  return {
    explicitOnly: values.only !== undefined,
    pairs: int('pairs', values.pairs, 1),
    rate: int('rate', values.rate, 1),
    burstMs: int('burst-ms', values['burst-ms'], 100),
    rateBurstMs: int('rate-burst-ms', values['rate-burst-ms'], 100),
    rounds: int('rounds', values.rounds, 1),
    v0Rounds: int('v0-rounds', values['v0-rounds'], 1),
    warmupMs: int('warmup-ms', values['warmup-ms'], 0),
    fanIn: int('fan-in', values['fan-in'], 1),
    fanInRounds: int('fan-in-rounds', values['fan-in-rounds'], 1),
    idle: int('idle', values.idle, 2),
    idleRounds: int('idle-rounds', values['idle-rounds'], 1),
    idleMax: int('idle-max', values['idle-max'], 1),
    holdMs: int('hold-ms', values['hold-ms'], 0),
    settleMs: int('settle-ms', values['settle-ms'], 0),
    only,
    verify,
    json: values.json,
    strict: values.strict,
    build: !values['no-build'],
    sigverCmd: sigverCmd !== null && sigverCmd.length > 0 ? sigverCmd : null,
    aa: values.aa,
    maxSeconds: int('max-seconds', values['max-seconds'], 10),
  };
}

/** One status line on stderr, rewritten in place on a terminal. */
class Progress {
  private readonly startAt = performance.now();
  private readonly tty = process.stderr.isTTY;

  update(text: string): void {
    const line = `[${this.elapsedS().toFixed(0).padStart(3)}s] ${text}`;
    if (this.tty) process.stderr.write(`\r\x1b[K${line}`);
    else process.stderr.write(`${line}\n`);
  }

  done(): void {
    if (this.tty) process.stderr.write('\r\x1b[K');
  }

  elapsedS(): number {
    return (performance.now() - this.startAt) / 1000;
  }
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Open-file soft limit of this process (the children inherit it). */
function openFileLimit(): number {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
    return match?.[1] === undefined ? Number.POSITIVE_INFINITY : Number(match[1]);
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** Measurements of one target in one workload. */
interface HandshakeFigures {
  readonly tally: Tally;
}

/** Idle measurements of one target. */
interface IdleFigures {
  /** One sample per fresh process, bytes. */
  readonly rssPerConnection: number[];
  readonly failures: Map<string, number>;
}

/** The idle-max hold of one target. */
interface HoldFigures {
  held: number;
  failed: number;
  readonly failures: Map<string, number>;
  rssBytes: number;
}

class Bench {
  readonly progress = new Progress();
  readonly handshakes = new Map<WorkloadId, Map<string, HandshakeFigures>>();
  readonly idle = new Map<string, IdleFigures>();
  readonly hold = new Map<string, HoldFigures>();
  readonly warmupFailures = new Map<string, number>();
  private readonly running = new Set<TargetInstance>();

  constructor(
    readonly options: Options,
    readonly loadGen: LoadGenProcess,
    readonly targets: readonly [Target, Target],
  ) {}

  async start(target: Target): Promise<TargetInstance> {
    const instance = await target.start();
    this.running.add(instance);
    return instance;
  }

  async stop(instance: TargetInstance): Promise<void> {
    this.running.delete(instance);
    await instance.stop();
  }

  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.running].map((instance) => this.stop(instance)));
  }

  /** Targets in ABBA order (ABC CBA with three), so that a linear drift weighs on all alike. */
  order<T>(items: readonly T[], round: number): readonly T[] {
    return round % 2 === 0 ? items : [...items].reverse();
  }

  tallyOf(workload: WorkloadId, target: string): Tally {
    let byTarget = this.handshakes.get(workload);
    if (byTarget === undefined) {
      byTarget = new Map();
      this.handshakes.set(workload, byTarget);
    }
    let figures = byTarget.get(target);
    if (figures === undefined) {
      figures = { tally: newTally() };
      byTarget.set(target, figures);
    }
    return figures.tally;
  }

  async burst(
    instance: TargetInstance,
    dialect: Dialect,
    ratePerSec: number | null,
    durationMs: number,
  ): Promise<{ result: HandshakeResult; cpuNs: number; supportCpuNs: number }> {
    const { options } = this;
    const cpuBefore = targetCpuNs(instance);
    const supportBefore = targetSupportCpuNs(instance);
    const result = await this.loadGen.run({
      kind: 'handshakes',
      hostUrl: instance.hostUrl,
      joinUrl: instance.joinUrl,
      dialect,
      concurrency: ratePerSec === null ? options.pairs : Math.max(options.pairs, ratePerSec) * 10,
      ratePerSec,
      durationMs,
      maxHandshakes: null,
      drainTimeoutMs: 15_000,
      verify: options.verify,
    });
    return {
      result,
      cpuNs: targetCpuNs(instance) - cpuBefore,
      supportCpuNs: targetSupportCpuNs(instance) - supportBefore,
    };
  }

  async warmUp(instances: readonly [TargetInstance, TargetInstance]): Promise<void> {
    if (this.options.warmupMs === 0) return;
    for (const instance of instances) {
      this.progress.update(`warm-up ${instance.name}`);
      for (const dialect of ['v1', 'v0'] as const) {
        const { result } = await this.burst(
          instance,
          dialect,
          null,
          dialect === 'v1' ? this.options.warmupMs * 0.75 : this.options.warmupMs * 0.25,
        );
        addFailures(this.warmupFailures, result.failures);
      }
    }
  }

  async handshakeWorkload(
    workload: WorkloadId,
    instances: readonly TargetInstance[],
    dialect: Dialect,
    ratePerSec: number | null,
    rounds: number,
    durationMs: number,
  ): Promise<void> {
    for (let round = 0; round < rounds; round++) {
      for (const instance of this.order(instances, round)) {
        const what = `${workload} round ${round + 1}/${rounds} ${instance.name}`;
        this.progress.update(what);
        const { result, cpuNs, supportCpuNs } = await this.burst(instance, dialect, ratePerSec, durationMs);
        const tally = this.tallyOf(workload, instance.name);
        addBurst(tally, result, cpuNs);
        // The same handshakes again, with Redis's CPU: a tally of its own.
        if (instance.support !== undefined)
          addBurst(this.tallyOf(workload, supportTallyName(instance.name)), result, supportCpuNs);
        const rate = (result.completed / result.elapsedMs) * 1000;
        const cpu = result.completed === 0 ? 0 : (cpuNs / 1e9 / result.completed) * 1000;
        this.progress.update(
          `${what}: ${rate.toFixed(0)} handshakes/s, ${cpu.toFixed(3)} CPU-s/1000${result.failed > 0 ? `, ${result.failed} FAILED` : ''}`,
        );
      }
    }
  }

  /**
   * The v1 fixed-rate handshake across two Sigver processes, alternating
   * with the single process and the forwarder (already running and warm).
   * The cluster is started for this workload only, so that its idle
   * heartbeats do not weigh on the others.
   */
  async clusterWorkload(cluster: Target, instances: readonly [TargetInstance, TargetInstance]): Promise<void> {
    const { options } = this;
    this.progress.update(`starting ${cluster.name}: redis-server and 2 Sigver processes`);
    const instance = await this.start(cluster);
    try {
      if (options.warmupMs > 0) {
        this.progress.update(`warm-up ${instance.name}`);
        const { result } = await this.burst(instance, 'v1', null, options.warmupMs);
        addFailures(this.warmupFailures, result.failures);
      }
      await this.handshakeWorkload(
        'v1-cluster',
        [instance, ...instances],
        'v1',
        options.rate,
        options.rounds,
        options.rateBurstMs,
      );
    } finally {
      await this.stop(instance);
    }
  }

  async fanInWorkload(instances: readonly [TargetInstance, TargetInstance]): Promise<void> {
    const { options } = this;
    for (let round = 0; round < options.fanInRounds; round++) {
      for (const instance of this.order(instances, round)) {
        this.progress.update(
          `fan-in round ${round + 1}/${options.fanInRounds} ${instance.name}: 1 host, ${options.fanIn} joiners`,
        );
        const cpuBefore = targetCpuNs(instance);
        const result = await this.loadGen.run({
          kind: 'fanIn',
          hostUrl: instance.hostUrl,
          joinUrl: instance.joinUrl,
          joiners: options.fanIn,
          timeoutMs: 30_000,
          verify: options.verify,
        });
        addBurst(this.tallyOf('fan-in', instance.name), result, targetCpuNs(instance) - cpuBefore);
      }
    }
  }

  /** Opens idle connections and records failures; true when all opened. */
  private async openIdle(instance: TargetInstance, count: number, into: Map<string, number>): Promise<IdleResult> {
    const result = await this.loadGen.run({
      kind: 'idleOpen',
      url: instance.hostUrl,
      count,
      concurrency: 256,
      timeoutMs: 120_000,
    });
    addFailures(into, result.failures);
    return result;
  }

  async idleWorkload(): Promise<void> {
    const { options } = this;
    const warm = 100;
    for (let round = 0; round < options.idleRounds; round++) {
      for (const target of this.order(this.targets, round)) {
        const what = `idle round ${round + 1}/${options.idleRounds} ${target.name}`;
        this.progress.update(`${what}: fresh process`);
        let figures = this.idle.get(target.name);
        if (figures === undefined) {
          figures = { rssPerConnection: [], failures: new Map() };
          this.idle.set(target.name, figures);
        }
        const instance = await this.start(target);
        try {
          // A few connections first, so that the code paths are loaded and
          // compiled before the baseline is read.
          await this.openIdle(instance, warm, figures.failures);
          await delay(options.settleMs);
          const rssBase = targetRssBytes(instance);
          this.progress.update(`${what}: opening ${options.idle} connections`);
          await this.openIdle(instance, options.idle, figures.failures);
          await delay(options.settleMs);
          const rssFull = targetRssBytes(instance);
          const check = await this.loadGen.run({ kind: 'idleCheck' });
          if (check.open !== warm + options.idle)
            figures.failures.set(
              `${warm + options.idle - check.open} of ${warm + options.idle} idle connections not open`,
              1,
            );
          figures.rssPerConnection.push((rssFull - rssBase) / options.idle);
          this.progress.update(`${what}: ${((rssFull - rssBase) / options.idle / 1024).toFixed(2)} KB per connection`);
        } finally {
          await this.loadGen.run({ kind: 'idleClose', timeoutMs: 30_000 });
          await this.stop(instance);
        }
      }
    }
  }

  async holdWorkload(): Promise<void> {
    const { options } = this;
    for (const target of this.targets) {
      const figures: HoldFigures = { held: 0, failed: 0, failures: new Map(), rssBytes: 0 };
      this.hold.set(target.name, figures);
      this.progress.update(`idle-max ${target.name}: opening ${options.idleMax} connections`);
      const instance = await this.start(target);
      try {
        const opened = await this.openIdle(instance, options.idleMax, figures.failures);
        this.progress.update(`idle-max ${target.name}: ${opened.open} open, holding ${options.holdMs} ms`);
        await delay(options.holdMs);
        const check = await this.loadGen.run({ kind: 'idleCheck' });
        figures.held = check.open;
        figures.failed = check.failed;
        addFailures(figures.failures, check.failures);
        figures.rssBytes = targetRssBytes(instance);
        if (!instance.processes.every((p) => p.running)) {
          figures.failed++;
          figures.failures.set('server process died', 1);
        }
      } finally {
        await this.loadGen.run({ kind: 'idleClose', timeoutMs: 30_000 });
        await this.stop(instance);
      }
    }
  }
}

interface Row {
  readonly workload: string;
  readonly metric: string;
  readonly subject: number;
  readonly baseline: number;
  readonly ratio: number;
  readonly digits: number;
  /** Highest acceptable ratio, when the issue sets one. */
  readonly maxRatio?: number;
}

function handshakeRows(
  label: string,
  workload: WorkloadId,
  s: TallySummary,
  b: TallySummary,
  withLatency: boolean,
): Row[] {
  const row = (metric: string, subject: number, baseline: number, digits: number, maxRatio?: number): Row => ({
    workload: label,
    metric,
    subject,
    baseline,
    ratio: ratio(subject, baseline),
    digits,
    ...(maxRatio === undefined ? {} : { maxRatio }),
  });
  const cpuTarget = workload === 'v1-rate' || workload === 'v1-saturation' ? TARGETS[workload] : undefined;
  const rows = [
    row('handshakes/s', s.handshakesPerSec, b.handshakesPerSec, 0),
    row('relayed messages/s', s.relayedPerSec, b.relayedPerSec, 0),
    row('server CPU-s per 1000 handshakes', s.cpuSecPer1000, b.cpuSecPer1000, 3, cpuTarget),
    row('server CPU, % of one core', s.serverCpuShare * 100, b.serverCpuShare * 100, 0),
  ];
  if (withLatency) {
    rows.push(
      row('offer-to-answer p50, ms', s.latencyP50Ms, b.latencyP50Ms, 2),
      row('offer-to-answer p99, ms', s.latencyP99Ms, b.latencyP99Ms, 2),
    );
  } else {
    rows.push(row('load generator CPU, % of one core', s.clientCpuShare * 100, b.clientCpuShare * 100, 0));
  }
  return rows;
}

/** Name of the tally that holds a target's support (Redis) CPU. */
function supportTallyName(target: string): string {
  return `${target}/redis`;
}

/**
 * Rows of the cross-process workload: the two Sigver processes (summed),
 * Redis apart and with them, and the single process from the same bursts,
 * each beside the forwarder.
 */
function clusterRows(
  label: string,
  cluster: TallySummary,
  redis: TallySummary,
  single: TallySummary,
  forwarder: TallySummary,
): Row[] {
  const row = (metric: string, subject: number, baseline: number, digits: number): Row => ({
    workload: label,
    metric,
    subject,
    baseline,
    ratio: ratio(subject, baseline),
    digits,
  });
  return [
    row('2 processes: handshakes/s', cluster.handshakesPerSec, forwarder.handshakesPerSec, 0),
    row('2 processes: relayed messages/s', cluster.relayedPerSec, forwarder.relayedPerSec, 0),
    row('2 processes: server CPU-s per 1000 handshakes', cluster.cpuSecPer1000, forwarder.cpuSecPer1000, 3),
    row('redis-server: CPU-s per 1000 handshakes', redis.cpuSecPer1000, Number.NaN, 3),
    row(
      '2 processes + Redis: CPU-s per 1000 handshakes',
      cluster.cpuSecPer1000 + redis.cpuSecPer1000,
      forwarder.cpuSecPer1000,
      3,
    ),
    row('2 processes: server CPU, % of one core', cluster.serverCpuShare * 100, forwarder.serverCpuShare * 100, 0),
    row('2 processes: offer-to-answer p50, ms', cluster.latencyP50Ms, forwarder.latencyP50Ms, 2),
    row('2 processes: offer-to-answer p99, ms', cluster.latencyP99Ms, forwarder.latencyP99Ms, 2),
    row('1 process, same run: server CPU-s per 1000 handshakes', single.cpuSecPer1000, forwarder.cpuSecPer1000, 3),
    row('1 process, same run: offer-to-answer p50, ms', single.latencyP50Ms, forwarder.latencyP50Ms, 2),
    row('1 process, same run: offer-to-answer p99, ms', single.latencyP99Ms, forwarder.latencyP99Ms, 2),
  ];
}

function formatNumber(value: number, digits: number): string {
  if (!Number.isFinite(value)) return '-';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function machineInfo(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
  };
}

async function main(): Promise<number> {
  let options: Options | null;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    return 2;
  }
  if (options === null) {
    process.stdout.write(HELP);
    return 0;
  }
  const opts = options;
  const watchdog = setTimeout(() => {
    process.stderr.write(`\nbench: aborted after --max-seconds ${opts.maxSeconds}\n`);
    killAllChildren();
    process.exit(3);
  }, opts.maxSeconds * 1000);
  watchdog.unref();

  const wants = (w: WorkloadId): boolean => opts.only.has(w);
  const limit = openFileLimit();
  if (wants('idle-max') && opts.idleMax + 200 > limit) {
    process.stderr.write(
      `bench: --idle-max ${opts.idleMax} needs an open-file limit above ${opts.idleMax + 200}; this one is ${limit}\n`,
    );
    return 2;
  }

  if (wants('v1-cluster')) {
    let why: string | null = null;
    if (opts.aa || opts.sigverCmd !== null) why = 'it runs the built Sigver only (not with --aa or --sigver-cmd)';
    else if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).error !== undefined)
      why = 'redis-server is not installed';
    if (why !== null && opts.explicitOnly) {
      process.stderr.write(`bench: cannot run v1-cluster: ${why}\n`);
      return 2;
    }
    if (why !== null) {
      process.stderr.write(`bench: leaving out v1-cluster: ${why}\n`);
      opts.only.delete('v1-cluster');
    }
  }

  const forwarderScript = await buildForwarder(ROOT);
  let subject: Target;
  let cluster: Target | null = null;
  if (opts.aa) subject = forwarderTarget(ROOT, forwarderScript, 'forwarder-a');
  else if (opts.sigverCmd !== null) subject = commandTarget(ROOT, 'subject', opts.sigverCmd);
  else {
    if (opts.build) {
      const built = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
      if (built.status !== 0) {
        process.stderr.write('bench: npm run build failed\n');
        return 2;
      }
    }
    subject = sigverTarget(ROOT, { maxJoiners: Math.max(256, opts.fanIn) });
    cluster = sigverClusterTarget(ROOT, { maxJoiners: Math.max(256, opts.fanIn) });
  }
  const baseline = forwarderTarget(ROOT, forwarderScript, opts.aa ? 'forwarder-b' : 'forwarder');
  const loadGen = await LoadGenProcess.start();
  const bench = new Bench(opts, loadGen, [subject, baseline]);
  let aborted: unknown = null;
  let yWebrtc: YWebrtcResult | null = null;
  let metricsScrape: MetricsScrapeResult | null = null;
  try {
    const handshakeWorkloads = WORKLOADS.filter(
      (w) => w !== 'idle' && w !== 'idle-max' && w !== 'ywebrtc' && w !== 'metrics' && wants(w),
    );
    if (handshakeWorkloads.length > 0) {
      bench.progress.update('starting servers');
      const instances = [await bench.start(subject), await bench.start(baseline)] as const;
      await bench.warmUp(instances);
      if (wants('v1-saturation'))
        await bench.handshakeWorkload('v1-saturation', instances, 'v1', null, opts.rounds, opts.burstMs);
      if (wants('v1-rate'))
        await bench.handshakeWorkload('v1-rate', instances, 'v1', opts.rate, opts.rounds, opts.rateBurstMs);
      if (wants('v0-saturation'))
        await bench.handshakeWorkload('v0-saturation', instances, 'v0', null, opts.v0Rounds, opts.burstMs);
      if (wants('v0-rate'))
        await bench.handshakeWorkload('v0-rate', instances, 'v0', opts.rate, opts.v0Rounds, opts.rateBurstMs);
      if (wants('fan-in')) await bench.fanInWorkload(instances);
      if (wants('v1-cluster') && cluster !== null) await bench.clusterWorkload(cluster, instances);
      await bench.stopAll();
    }
    if (wants('idle')) await bench.idleWorkload();
    if (wants('idle-max')) await bench.holdWorkload();
    if (wants('ywebrtc') && !opts.aa && opts.sigverCmd === null)
      yWebrtc = await runYWebrtcWorkload(ROOT, DEFAULT_YWEBRTC_OPTIONS, (text) => bench.progress.update(text));
    if (wants('metrics') && !opts.aa && opts.sigverCmd === null)
      metricsScrape = await runMetricsScrape(ROOT, DEFAULT_METRICS_SCRAPE_OPTIONS, (text) =>
        bench.progress.update(text),
      );
  } catch (error) {
    aborted = error;
  } finally {
    bench.progress.done();
    await bench.stopAll();
    await loadGen.stop();
  }
  const elapsedS = bench.progress.elapsedS();
  if (aborted !== null) {
    process.stderr.write(`bench: ${aborted instanceof Error ? aborted.message : String(aborted)}\n`);
    return 1;
  }
  return report(bench, subject.name, baseline.name, cluster?.name ?? null, elapsedS, yWebrtc, metricsScrape);
}

function report(
  bench: Bench,
  subjectName: string,
  baselineName: string,
  clusterName: string | null,
  elapsedS: number,
  yWebrtc: YWebrtcResult | null,
  metricsScrape: MetricsScrapeResult | null = null,
): number {
  const { options } = bench;
  const rows: Row[] = [];
  const failures = new Map<string, number>();
  addFailures(failures, Object.fromEntries(bench.warmupFailures));
  const labels: Record<WorkloadId, string> = {
    'v1-saturation': `v1, ${options.pairs} pairs at saturation`,
    'v1-rate': `v1, ${options.rate} handshakes/s`,
    'v0-saturation': `v0, ${options.pairs} pairs at saturation`,
    'v0-rate': `v0, ${options.rate} handshakes/s`,
    'fan-in': `fan-in, 1 host + ${options.fanIn} joiners`,
    'v1-cluster': `v1-cluster, ${options.rate} handshakes/s, hosts on A, joiners on B`,
    idle: `idle, ${options.idle} connections`,
    'idle-max': `idle-max, ${options.idleMax} connections`,
    ywebrtc: 'ywebrtc',
    metrics: 'metrics',
  };
  const summaries: Record<string, Record<string, TallySummary>> = {};
  for (const [workload, byTarget] of bench.handshakes) {
    const s = byTarget.get(subjectName)?.tally;
    const b = byTarget.get(baselineName)?.tally;
    if (s === undefined || b === undefined) continue;
    if (workload === 'v1-cluster') {
      const c = clusterName === null ? undefined : byTarget.get(clusterName)?.tally;
      const r = clusterName === null ? undefined : byTarget.get(supportTallyName(clusterName))?.tally;
      if (clusterName === null || c === undefined || r === undefined) continue;
      // The Redis tally counts the cluster's handshakes again: its failures are the cluster's.
      for (const t of [c, s, b]) addFailures(failures, Object.fromEntries(t.failures));
      const [cs, rs, ss, bs] = [summarize(c), summarize(r), summarize(s), summarize(b)];
      summaries[workload] = {
        [clusterName]: cs,
        [supportTallyName(clusterName)]: rs,
        [subjectName]: ss,
        [baselineName]: bs,
      };
      rows.push(...clusterRows(labels[workload], cs, rs, ss, bs));
      continue;
    }
    addFailures(failures, Object.fromEntries(s.failures));
    addFailures(failures, Object.fromEntries(b.failures));
    const ss = summarize(s);
    const bs = summarize(b);
    summaries[workload] = { [subjectName]: ss, [baselineName]: bs };
    rows.push(...handshakeRows(labels[workload], workload, ss, bs, workload.endsWith('-rate')));
  }
  const idleS = bench.idle.get(subjectName);
  const idleB = bench.idle.get(baselineName);
  if (idleS !== undefined && idleB !== undefined) {
    addFailures(failures, Object.fromEntries(idleS.failures));
    addFailures(failures, Object.fromEntries(idleB.failures));
    const s = percentile(idleS.rssPerConnection, 50) / 1024;
    const b = percentile(idleB.rssPerConnection, 50) / 1024;
    rows.push({
      workload: labels.idle,
      metric: 'RSS per idle connection (median), KB',
      subject: s,
      baseline: b,
      ratio: ratio(s, b),
      digits: 2,
      maxRatio: TARGETS.idle,
    });
  }
  const holdS = bench.hold.get(subjectName);
  const holdB = bench.hold.get(baselineName);
  const holdMet = holdS === undefined ? null : holdS.held === options.idleMax && holdS.failed === 0;
  if (holdS !== undefined && holdB !== undefined) {
    addFailures(failures, Object.fromEntries(holdS.failures));
    addFailures(failures, Object.fromEntries(holdB.failures));
    rows.push({
      workload: labels['idle-max'],
      metric: 'connections held, no error',
      subject: holdS.held,
      baseline: holdB.held,
      ratio: Number.NaN,
      digits: 0,
    });
    rows.push({
      workload: labels['idle-max'],
      metric: 'server RSS, MB',
      subject: holdS.rssBytes / 2 ** 20,
      baseline: holdB.rssBytes / 2 ** 20,
      ratio: ratio(holdS.rssBytes, holdB.rssBytes),
      digits: 1,
    });
  }
  if (yWebrtc !== null) addFailures(failures, Object.fromEntries(yWebrtc.failures));
  if (metricsScrape !== null) addFailures(failures, Object.fromEntries(metricsScrape.failures));
  const failed = [...failures.values()].reduce((a, v) => a + v, 0);
  const targetRows = rows.filter((r) => r.maxRatio !== undefined);
  const missed = targetRows.filter((r) => !(r.ratio <= (r.maxRatio ?? Number.NaN)));
  const targetsMet = missed.length === 0 && holdMet !== false;

  if (options.json) {
    process.stdout.write(
      `${JSON.stringify(
        {
          machine: machineInfo(),
          subject: subjectName,
          baseline: baselineName,
          elapsedS,
          options: { ...options, only: [...options.only] },
          rows: rows.map((r) => ({ ...r, met: r.maxRatio === undefined ? null : r.ratio <= r.maxRatio })),
          summaries,
          idle: Object.fromEntries(bench.idle),
          hold: Object.fromEntries(
            [...bench.hold].map(([k, v]) => [
              k,
              { ...v, failures: Object.fromEntries(v.failures), met: v.held === options.idleMax && v.failed === 0 },
            ]),
          ),
          ywebrtc: yWebrtc,
          metrics: metricsScrape,
          failures: Object.fromEntries(failures),
          failed,
          targetsMet,
        },
        (_key, value: unknown) =>
          value instanceof Map
            ? Object.fromEntries(value)
            : typeof value === 'number' && !Number.isFinite(value)
              ? null
              : value,
        2,
      )}\n`,
    );
  } else {
    const cells = rows.map((r) => {
      let target = '';
      if (r.maxRatio !== undefined) target = `<= ${r.maxRatio.toFixed(2)}x ${r.ratio <= r.maxRatio ? 'met' : 'MISSED'}`;
      if (r.metric === 'connections held, no error' && holdS !== undefined)
        target = `${options.idleMax} ${holdMet === true ? 'met' : 'MISSED'}`;
      return [
        r.workload,
        r.metric,
        formatNumber(r.subject, r.digits),
        formatNumber(r.baseline, r.digits),
        Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}x` : '',
        target,
      ];
    });
    const m = machineInfo();
    process.stdout.write(
      `Sigver benchmark: ${subjectName} vs ${baselineName}, ${m.cores} x ${m.cpuModel}, node ${m.node}, ${elapsedS.toFixed(0)} s\n\n`,
    );
    if (cells.length > 0)
      process.stdout.write(
        `${renderTable(['workload', 'metric', subjectName, baselineName, 'ratio', 'target'], cells)}\n`,
      );
    if (yWebrtc !== null) process.stdout.write(`\n${renderYWebrtc(yWebrtc, DEFAULT_YWEBRTC_OPTIONS)}`);
    if (metricsScrape !== null) process.stdout.write(`\n${renderMetricsScrape(metricsScrape)}`);
    if (failed > 0) {
      process.stdout.write(`\nFAILURES (${failed}):\n`);
      for (const [reason, count] of failures) process.stdout.write(`  ${count} x ${reason}\n`);
    } else process.stdout.write('\nNo failed handshake, no idle connection lost.\n');
  }
  if (failed > 0) return 1;
  if (options.strict && !targetsMet) return 4;
  return 0;
}

process.on('exit', killAllChildren);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    process.stderr.write(`\nbench: ${signal}, stopping\n`);
    killAllChildren();
    process.exit(130);
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    killAllChildren();
    process.exitCode = 1;
  },
);
