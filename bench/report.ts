// The report of `npm run bench`: figures of each workload as rows beside the
// forwarder's, their targets, failures, and the sections of the separate
// workloads; printed as a table or as JSON.
import os from 'node:os';
import { supportTallyName, type Bench } from './driver.js';
import type { DriverWorkloadId, Options } from './options.js';
import type { SeparateOutcome } from './separate-workloads.js';
import { addFailures, percentile, ratio, summarize, type Tally, type TallySummary } from './stats.js';

/** Ratio targets from the benchmark issues: subject / forwarder at most this. */
const TARGETS = { 'v1-rate': 1.05, 'v1-saturation': 1.1, idle: 1.03 } as const;
/** Highest p99 one-way latency at the fixed rate, ms (issue #16). */
const P99_TARGET_MS = { single: 2, cluster: 5 } as const;

/** What a run produced, for the report. */
export interface RunOutcome {
  readonly bench: Bench;
  readonly subject: string;
  readonly baseline: string;
  readonly cluster: string | null;
  readonly elapsedS: number;
  /** Results of the separate workloads that ran, by id. */
  readonly separate: ReadonlyMap<string, SeparateOutcome>;
}

/** One line of the table. */
export interface Row {
  readonly workload: string;
  readonly metric: string;
  readonly subject: number;
  readonly baseline: number;
  readonly ratio: number;
  readonly digits: number;
  /** Highest acceptable ratio, when an issue sets one. */
  readonly maxRatio?: number;
  /** Highest acceptable value of Sigver's figure itself, when an issue sets one. */
  readonly maxValue?: number;
}

/** Whether a row meets its target; null when it has none. */
function targetMet(r: Row): boolean | null {
  if (r.maxRatio !== undefined) return r.ratio <= r.maxRatio;
  if (r.maxValue !== undefined) return r.subject <= r.maxValue;
  return null;
}

/** Everything the report says, before it is printed. */
interface Findings {
  readonly rows: Row[];
  readonly summaries: Record<string, Record<string, TallySummary>>;
  readonly failures: Map<string, number>;
  readonly failed: number;
  /** The idle-max target: null when it did not run. */
  readonly holdMet: boolean | null;
  readonly targetsMet: boolean;
}

/** Prints the report; returns the exit code (1: failures, 4: a target missed under --strict). */
export function report(outcome: RunOutcome): number {
  const { options } = outcome.bench;
  const findings = findingsOf(outcome);
  process.stdout.write(options.json ? jsonReport(outcome, findings) : textReport(outcome, findings));
  if (findings.failed > 0) return 1;
  if (options.strict && !findings.targetsMet) return 4;
  return 0;
}

function findingsOf(outcome: RunOutcome): Findings {
  const { bench } = outcome;
  const failures = new Map(bench.warmupFailures);
  const summaries: Record<string, Record<string, TallySummary>> = {};
  const rows = [
    ...handshakeSection(outcome, summaries, failures),
    ...idleRows(outcome, failures),
    ...holdRows(outcome, failures),
  ];
  for (const separate of outcome.separate.values()) addFailures(failures, Object.fromEntries(separate.failures));
  const failed = [...failures.values()].reduce((a, v) => a + v, 0);
  const holdMet = holdTargetMet(outcome);
  const missed = rows.filter((r) => targetMet(r) === false);
  return { rows, summaries, failures, failed, holdMet, targetsMet: missed.length === 0 && holdMet !== false };
}

function labelOf(workload: DriverWorkloadId, options: Options): string {
  switch (workload) {
    case 'v1-saturation':
      return `v1, ${options.pairs} pairs at saturation`;
    case 'v1-rate':
      return `v1, ${options.rate} handshakes/s`;
    case 'v0-saturation':
      return `v0, ${options.pairs} pairs at saturation`;
    case 'v0-rate':
      return `v0, ${options.rate} handshakes/s`;
    case 'fan-in':
      return `fan-in, 1 host + ${options.fanIn} joiners`;
    case 'v1-cluster':
      return `v1-cluster, ${options.rate} handshakes/s, hosts on A, joiners on B`;
    case 'idle':
      return `idle, ${options.idle} connections`;
    case 'idle-max':
      return `idle-max, ${options.idleMax} connections`;
  }
}

/** Rows of the handshake workloads, in the order they ran; fills `summaries` and `failures`. */
function handshakeSection(
  outcome: RunOutcome,
  summaries: Record<string, Record<string, TallySummary>>,
  failures: Map<string, number>,
): Row[] {
  const { bench, subject, baseline, cluster } = outcome;
  const rows: Row[] = [];
  const tallies = (byTarget: ReadonlyMap<string, { tally: Tally }>, name: string | null): Tally | undefined =>
    name === null ? undefined : byTarget.get(name)?.tally;
  for (const [workload, byTarget] of bench.handshakes) {
    const s = tallies(byTarget, subject);
    const b = tallies(byTarget, baseline);
    if (s === undefined || b === undefined) continue;
    const label = labelOf(workload, bench.options);
    if (workload !== 'v1-cluster') {
      for (const t of [s, b]) addFailures(failures, Object.fromEntries(t.failures));
      const [ss, bs] = [summarize(s), summarize(b)];
      summaries[workload] = { [subject]: ss, [baseline]: bs };
      rows.push(...handshakeRows(label, workload, ss, bs));
      continue;
    }
    const c = tallies(byTarget, cluster);
    const r = tallies(byTarget, cluster === null ? null : supportTallyName(cluster));
    if (cluster === null || c === undefined || r === undefined) continue;
    // The Redis tally counts the cluster's handshakes again: its failures are the cluster's.
    for (const t of [c, s, b]) addFailures(failures, Object.fromEntries(t.failures));
    const [cs, rs, ss, bs] = [summarize(c), summarize(r), summarize(s), summarize(b)];
    summaries[workload] = { [cluster]: cs, [supportTallyName(cluster)]: rs, [subject]: ss, [baseline]: bs };
    rows.push(...clusterRows(label, cs, rs, ss, bs));
  }
  return rows;
}

function handshakeRows(label: string, workload: DriverWorkloadId, s: TallySummary, b: TallySummary): Row[] {
  const row = rowMaker(label);
  const cpuTarget = workload === 'v1-rate' || workload === 'v1-saturation' ? TARGETS[workload] : undefined;
  const rows = [
    row('handshakes/s', s.handshakesPerSec, b.handshakesPerSec, 0),
    row('relayed messages/s', s.relayedPerSec, b.relayedPerSec, 0),
    row('server CPU-s per 1000 handshakes', s.cpuSecPer1000, b.cpuSecPer1000, 3, cpuTarget),
    row('server CPU, % of one core', s.serverCpuShare * 100, b.serverCpuShare * 100, 0),
  ];
  if (workload.endsWith('-rate')) {
    rows.push(
      row('offer-to-answer p50, ms', s.latencyP50Ms, b.latencyP50Ms, 2),
      row('offer-to-answer p99, ms', s.latencyP99Ms, b.latencyP99Ms, 2),
      ...oneWayRows(row, '', s, b, workload === 'v1-rate' ? P99_TARGET_MS.single : undefined),
    );
  } else {
    rows.push(row('load generator CPU, % of one core', s.clientCpuShare * 100, b.clientCpuShare * 100, 0));
  }
  return rows;
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
  const row = rowMaker(label);
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
    ...oneWayRows(row, '2 processes: ', cluster, forwarder, P99_TARGET_MS.cluster),
    row('1 process, same run: server CPU-s per 1000 handshakes', single.cpuSecPer1000, forwarder.cpuSecPer1000, 3),
    row('1 process, same run: offer-to-answer p50, ms', single.latencyP50Ms, forwarder.latencyP50Ms, 2),
    row('1 process, same run: offer-to-answer p99, ms', single.latencyP99Ms, forwarder.latencyP99Ms, 2),
    ...oneWayRows(row, '1 process, same run: ', single, forwarder, P99_TARGET_MS.single),
  ];
}

/** Offer-to-host and answer-to-joiner latency, median and p99 (the p99 with its target in ms, if any). */
function oneWayRows(
  row: ReturnType<typeof rowMaker>,
  prefix: string,
  s: TallySummary,
  b: TallySummary,
  p99TargetMs: number | undefined,
): Row[] {
  return [
    row(`${prefix}offer-to-host p50, ms`, s.offerToHostP50Ms, b.offerToHostP50Ms, 2),
    row(`${prefix}offer-to-host p99, ms`, s.offerToHostP99Ms, b.offerToHostP99Ms, 2, undefined, p99TargetMs),
    row(`${prefix}answer-to-joiner p50, ms`, s.answerToJoinerP50Ms, b.answerToJoinerP50Ms, 2),
    row(`${prefix}answer-to-joiner p99, ms`, s.answerToJoinerP99Ms, b.answerToJoinerP99Ms, 2, undefined, p99TargetMs),
  ];
}

function rowMaker(label: string) {
  return (
    metric: string,
    subject: number,
    baseline: number,
    digits: number,
    maxRatio?: number,
    maxValue?: number,
  ): Row => ({
    workload: label,
    metric,
    subject,
    baseline,
    ratio: ratio(subject, baseline),
    digits,
    ...(maxRatio === undefined ? {} : { maxRatio }),
    ...(maxValue === undefined ? {} : { maxValue }),
  });
}

function idleRows(outcome: RunOutcome, failures: Map<string, number>): Row[] {
  const { bench, subject, baseline } = outcome;
  const idleS = bench.idle.get(subject);
  const idleB = bench.idle.get(baseline);
  if (idleS === undefined || idleB === undefined) return [];
  for (const figures of [idleS, idleB]) addFailures(failures, Object.fromEntries(figures.failures));
  const s = percentile(idleS.rssPerConnection, 50) / 1024;
  const b = percentile(idleB.rssPerConnection, 50) / 1024;
  return [rowMaker(labelOf('idle', bench.options))('RSS per idle connection (median), KB', s, b, 2, TARGETS.idle)];
}

function holdRows(outcome: RunOutcome, failures: Map<string, number>): Row[] {
  const { bench, subject, baseline } = outcome;
  const holdS = bench.hold.get(subject);
  const holdB = bench.hold.get(baseline);
  if (holdS === undefined || holdB === undefined) return [];
  for (const figures of [holdS, holdB]) addFailures(failures, Object.fromEntries(figures.failures));
  const row = rowMaker(labelOf('idle-max', bench.options));
  return [
    { ...row('connections held, no error', holdS.held, holdB.held, 0), ratio: Number.NaN },
    row('server RSS, MB', holdS.rssBytes / 2 ** 20, holdB.rssBytes / 2 ** 20, 1),
  ];
}

/** Whether the subject held every idle-max connection with no error; null when it did not run. */
function holdTargetMet(outcome: RunOutcome): boolean | null {
  const hold = outcome.bench.hold.get(outcome.subject);
  return hold === undefined ? null : hold.held === outcome.bench.options.idleMax && hold.failed === 0;
}

function jsonReport(outcome: RunOutcome, findings: Findings): string {
  const { bench, subject, baseline, elapsedS } = outcome;
  const { options } = bench;
  const value = {
    machine: machineInfo(),
    subject,
    baseline,
    sigverArgs: options.sigverArgs,
    elapsedS,
    options: { ...options, only: [...options.only] },
    rows: findings.rows.map((r) => ({ ...r, met: targetMet(r) })),
    summaries: findings.summaries,
    idle: Object.fromEntries(bench.idle),
    hold: Object.fromEntries(
      [...bench.hold].map(([k, v]) => [
        k,
        { ...v, failures: Object.fromEntries(v.failures), met: v.held === options.idleMax && v.failed === 0 },
      ]),
    ),
    ...Object.fromEntries([...outcome.separate].map(([id, separate]) => [id, separate.json])),
    failures: Object.fromEntries(findings.failures),
    failed: findings.failed,
    targetsMet: findings.targetsMet,
  };
  const replacer = (_key: string, v: unknown): unknown =>
    v instanceof Map ? Object.fromEntries(v) : typeof v === 'number' && !Number.isFinite(v) ? null : v;
  return `${JSON.stringify(value, replacer, 2)}\n`;
}

function textReport(outcome: RunOutcome, findings: Findings): string {
  const { subject, baseline, elapsedS } = outcome;
  const { options } = outcome.bench;
  const m = machineInfo();
  const settings =
    options.sigverCmd !== null || options.aa
      ? ''
      : options.sigverArgs.length === 0
        ? ' (Sigver at its default settings)'
        : ` (Sigver with ${options.sigverArgs.join(' ')})`;
  let text =
    `Sigver benchmark: ${subject} vs ${baseline}${settings}, ${m.cores} x ${m.cpuModel}, node ${m.node}, ` +
    `load average ${m.loadAverage}, ${elapsedS.toFixed(0)} s\n\n`;
  if (findings.rows.length > 0) {
    const header = ['workload', 'metric', subject, baseline, 'ratio', 'target'];
    text += `${renderTable(
      header,
      findings.rows.map((r) => tableCells(r, findings, options)),
    )}\n`;
  }
  for (const separate of outcome.separate.values()) text += `${text.endsWith('\n\n') ? '' : '\n'}${separate.render()}`;
  if (findings.failed > 0) {
    text += `\nFAILURES (${findings.failed}):\n`;
    for (const [reason, count] of findings.failures) text += `  ${count} x ${reason}\n`;
  } else text += '\nNo failed handshake, no idle connection lost.\n';
  return text;
}

function tableCells(r: Row, findings: Findings, options: Options): string[] {
  let target = '';
  const met = targetMet(r) ? 'met' : 'MISSED';
  if (r.maxRatio !== undefined) target = `<= ${r.maxRatio.toFixed(2)}x ${met}`;
  if (r.maxValue !== undefined) target = `<= ${r.maxValue} ${met}`;
  if (r.metric === 'connections held, no error' && findings.holdMet !== null)
    target = `${options.idleMax} ${findings.holdMet ? 'met' : 'MISSED'}`;
  return [
    r.workload,
    r.metric,
    formatNumber(r.subject, r.digits),
    formatNumber(r.baseline, r.digits),
    Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}x` : '',
    target,
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

/** The machine, and how busy it was at the end of the run (the machine may be shared). */
export function machineInfo(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    loadAverage: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
}
