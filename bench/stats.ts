// Small arithmetic for the benchmark report: percentiles, tallies, ratios.
import type { FailureCounts, HandshakeResult } from './load-gen-messages.js';

/** Nearest-rank percentile of unsorted samples (p in 0..100); NaN when empty. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

/** Sum of one target's bursts in one workload. */
export interface Tally {
  bursts: number;
  started: number;
  completed: number;
  failed: number;
  readonly failures: Map<string, number>;
  relayed: number;
  elapsedMs: number;
  /** Server CPU time over the bursts, ns. */
  cpuNs: number;
  clientCpuMs: number;
  readonly latenciesMs: number[];
  readonly offerToHostMs: number[];
  readonly answerToJoinerMs: number[];
}

/** An empty tally. */
export function newTally(): Tally {
  return {
    bursts: 0,
    started: 0,
    completed: 0,
    failed: 0,
    failures: new Map(),
    relayed: 0,
    elapsedMs: 0,
    cpuNs: 0,
    clientCpuMs: 0,
    latenciesMs: [],
    offerToHostMs: [],
    answerToJoinerMs: [],
  };
}

/** Adds failure counts into a map. */
export function addFailures(into: Map<string, number>, failures: FailureCounts): void {
  for (const [reason, count] of Object.entries(failures)) into.set(reason, (into.get(reason) ?? 0) + count);
}

/** Adds one burst to a tally. */
export function addBurst(tally: Tally, result: HandshakeResult, cpuNs: number): void {
  tally.bursts++;
  tally.started += result.started;
  tally.completed += result.completed;
  tally.failed += result.failed;
  addFailures(tally.failures, result.failures);
  tally.relayed += result.relayed;
  tally.elapsedMs += result.elapsedMs;
  tally.cpuNs += cpuNs;
  tally.clientCpuMs += result.clientCpuMs;
  for (const latency of result.latenciesMs) tally.latenciesMs.push(latency);
  for (const latency of result.offerToHostMs) tally.offerToHostMs.push(latency);
  for (const latency of result.answerToJoinerMs) tally.answerToJoinerMs.push(latency);
}

/** The figures a tally stands for. */
export interface TallySummary {
  readonly bursts: number;
  readonly completed: number;
  readonly failed: number;
  readonly handshakesPerSec: number;
  readonly relayedPerSec: number;
  /** Server CPU-seconds per 1000 handshakes. */
  readonly cpuSecPer1000: number;
  /** Server CPU use while the bursts ran, as a share of one core. */
  readonly serverCpuShare: number;
  /** Load generator CPU use while the bursts ran, as a share of one core. */
  readonly clientCpuShare: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly offerToHostP50Ms: number;
  readonly offerToHostP99Ms: number;
  readonly answerToJoinerP50Ms: number;
  readonly answerToJoinerP99Ms: number;
}

/** Turns a tally into rates and per-handshake costs. */
export function summarize(tally: Tally): TallySummary {
  const seconds = tally.elapsedMs / 1000;
  return {
    bursts: tally.bursts,
    completed: tally.completed,
    failed: tally.failed,
    handshakesPerSec: tally.completed / seconds,
    relayedPerSec: tally.relayed / seconds,
    cpuSecPer1000: tally.completed === 0 ? Number.NaN : (tally.cpuNs / 1e9 / tally.completed) * 1000,
    serverCpuShare: tally.cpuNs / 1e6 / tally.elapsedMs,
    clientCpuShare: tally.clientCpuMs / tally.elapsedMs,
    latencyP50Ms: percentile(tally.latenciesMs, 50),
    latencyP99Ms: percentile(tally.latenciesMs, 99),
    offerToHostP50Ms: percentile(tally.offerToHostMs, 50),
    offerToHostP99Ms: percentile(tally.offerToHostMs, 99),
    answerToJoinerP50Ms: percentile(tally.answerToJoinerMs, 50),
    answerToJoinerP99Ms: percentile(tally.answerToJoinerMs, 99),
  };
}

/** subject / baseline, or NaN when either is missing. */
export function ratio(subject: number, baseline: number): number {
  return Number.isFinite(subject) && Number.isFinite(baseline) && baseline !== 0 ? subject / baseline : Number.NaN;
}
