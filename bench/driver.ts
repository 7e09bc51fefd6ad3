// The driver's own workloads: bursts of handshakes and idle connections
// against Sigver and the forwarder, alternating between them, with each
// target's figures kept for the report.
import type { LoadGenProcess } from './load-gen-client.js';
import type { Dialect, HandshakeResult, IdleResult } from './load-gen-messages.js';
import { HANDSHAKE_WORKLOADS, type DriverWorkloadId, type Options } from './options.js';
import { addBurst, addFailures, newTally, type Tally } from './stats.js';
import { targetCpuNs, targetRssBytes, targetSupportCpuNs, type Target, type TargetInstance } from './targets.js';

/** One status line on stderr, rewritten in place on a terminal. */
export class Progress {
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

/** Measurements of one target in one workload. */
export interface HandshakeFigures {
  readonly tally: Tally;
}

/** Idle measurements of one target. */
export interface IdleFigures {
  /** One sample per fresh process, bytes. */
  readonly rssPerConnection: number[];
  readonly failures: Map<string, number>;
}

/** The idle-max hold of one target. */
export interface HoldFigures {
  held: number;
  failed: number;
  readonly failures: Map<string, number>;
  rssBytes: number;
}

/** The targets of a run: the subject (Sigver), the forwarder, and the cluster where it can run. */
export interface Targets {
  readonly subject: Target;
  readonly baseline: Target;
  readonly cluster: Target | null;
}

/** Runs the driver's workloads and keeps their figures. */
export class Bench {
  readonly progress = new Progress();
  readonly handshakes = new Map<DriverWorkloadId, Map<string, HandshakeFigures>>();
  readonly idle = new Map<string, IdleFigures>();
  readonly hold = new Map<string, HoldFigures>();
  readonly warmupFailures = new Map<string, number>();
  private readonly running = new Set<TargetInstance>();

  constructor(
    readonly options: Options,
    readonly loadGen: LoadGenProcess,
    readonly run: Targets,
  ) {
    this.targets = [run.subject, run.baseline];
  }

  /** Subject and forwarder, the pair most workloads alternate between. */
  readonly targets: readonly [Target, Target];

  private wants(workload: DriverWorkloadId): boolean {
    return this.options.only.has(workload);
  }

  /**
   * The handshake workloads asked for, on one subject and one forwarder
   * process kept up (and warm) across them; the cluster joins them for
   * v1-cluster only.
   */
  async handshakePhase(): Promise<void> {
    if (!HANDSHAKE_WORKLOADS.some((w) => this.wants(w))) return;
    const { options } = this;
    this.progress.update('starting servers');
    const instances = [await this.start(this.run.subject), await this.start(this.run.baseline)] as const;
    try {
      await this.warmUp(instances);
      const phases: ReadonlyArray<readonly [DriverWorkloadId, Dialect, number | null, number, number]> = [
        ['v1-saturation', 'v1', null, options.rounds, options.burstMs],
        ['v1-rate', 'v1', options.rate, options.rounds, options.rateBurstMs],
        ['v0-saturation', 'v0', null, options.v0Rounds, options.burstMs],
        ['v0-rate', 'v0', options.rate, options.v0Rounds, options.rateBurstMs],
      ];
      for (const [workload, dialect, rate, rounds, durationMs] of phases) {
        if (this.wants(workload)) await this.handshakeWorkload(workload, instances, dialect, rate, rounds, durationMs);
      }
      if (this.wants('fan-in')) await this.fanInWorkload(instances);
      if (this.wants('v1-cluster') && this.run.cluster !== null)
        await this.clusterWorkload(this.run.cluster, instances);
    } finally {
      await this.stopAll();
    }
  }

  /** Idle RSS and the idle-max hold, each on fresh processes. */
  async idlePhase(): Promise<void> {
    if (this.wants('idle')) await this.idleWorkload();
    if (this.wants('idle-max')) await this.holdWorkload();
  }

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

  tallyOf(workload: DriverWorkloadId, target: string): Tally {
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
    workload: DriverWorkloadId,
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

/** Name of the tally that holds a target's support (Redis) CPU. */
export function supportTallyName(target: string): string {
  return `${target}/redis`;
}
