// Workloads that start servers of their own and print a section of their own
// after the main table (y-webrtc beside its native server, ...). Each lives in
// its own file; adding one to `npm run bench` is one entry in the list below.
import { DEFAULT_METRICS_SCRAPE_OPTIONS, renderMetricsScrape, runMetricsScrape } from './metrics-scrape.js';
import { DEFAULT_PEERJS_OPTIONS, renderPeerJs, runPeerJsWorkload } from './peerjs-workload.js';
import { DEFAULT_YWEBRTC_OPTIONS, renderYWebrtc, runYWebrtcWorkload } from './y-webrtc-workload.js';

/** What a separate workload gets from the driver. */
export interface SeparateWorkloadContext {
  /** The repository root (Sigver is `dist/cli/main.js` under it, built). */
  readonly root: string;
  /** Extra flags for every Sigver process (`--sigver-args`); empty: defaults. */
  readonly sigverArgs: readonly string[];
  /** Shows one status line. */
  progress(text: string): void;
}

/** What a separate workload measured. */
export interface SeparateOutcome {
  /** Failure reasons and counts: any makes the run exit 1. */
  readonly failures: ReadonlyMap<string, number>;
  /** Its section of the text report, ending with a newline. */
  render(): string;
  /** Its value in the `--json` report, under its id. */
  readonly json: unknown;
}

/** A workload with servers of its own. It runs Sigver from dist/, so not with --aa or --sigver-cmd. */
export interface SeparateWorkload {
  /** Its name in `--only`. */
  readonly id: string;
  /** One line of `--help`. */
  readonly description: string;
  run(context: SeparateWorkloadContext): Promise<SeparateOutcome>;
}

const yWebrtc: SeparateWorkload = {
  id: 'ywebrtc',
  description:
    "the y-webrtc dialect beside y-webrtc's own server and a raw pub/sub forwarder (bench/y-webrtc-workload.ts)",
  async run({ root, sigverArgs, progress }) {
    const result = await runYWebrtcWorkload(root, DEFAULT_YWEBRTC_OPTIONS, progress, sigverArgs);
    return {
      failures: result.failures,
      render: () => renderYWebrtc(result, DEFAULT_YWEBRTC_OPTIONS),
      json: result,
    };
  },
};

const peerJs: SeparateWorkload = {
  id: 'peerjs',
  description:
    "the PeerJS dialect beside PeerJS's own server (peer) and a raw forwarder by id (bench/peerjs-workload.ts)",
  async run({ root, sigverArgs, progress }) {
    const result = await runPeerJsWorkload(root, DEFAULT_PEERJS_OPTIONS, progress, sigverArgs);
    return { failures: result.failures, render: () => renderPeerJs(result, DEFAULT_PEERJS_OPTIONS), json: result };
  },
};

const metricsScrape: SeparateWorkload = {
  id: 'metrics',
  description: 'server CPU per GET /metrics with no connection and with 10,000 open (bench/metrics-scrape.ts)',
  async run({ root, sigverArgs, progress }) {
    const result = await runMetricsScrape(root, DEFAULT_METRICS_SCRAPE_OPTIONS, progress, sigverArgs);
    return { failures: result.failures, render: () => renderMetricsScrape(result), json: result };
  },
};

/** Run in this order, after the driver's own workloads. */
export const SEPARATE_WORKLOADS: readonly SeparateWorkload[] = [yWebrtc, peerJs, metricsScrape];
