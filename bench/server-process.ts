// A server under test as a child process: started, awaited until it prints
// its listening line, measured through /proc, and stopped.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';

const READY_LINE = /listening on (ws:\/\/\S+)/;
const TAIL_LINES = 20;
const CLOCK_TICK_NS = 10_000_000; // USER_HZ is 100 on Linux

/** Every child process started by the benchmark, so that an exit can end them all. */
const live = new Set<ChildProcess>();

/** Sends SIGKILL to every child still running; for exit paths that cannot wait. */
export function killAllChildren(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** Registers a child so that {@link killAllChildren} reaches it. */
export function trackChild(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/**
 * CPU time of a process, all threads, in nanoseconds. Reads the scheduler's
 * per-thread runtime (ns precision); falls back to utime+stime (10 ms
 * ticks) where schedstat is not available.
 */
export function processCpuNs(pid: number): number {
  let total = 0;
  let threads = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const first = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ', 1)[0];
        total += Number(first);
        threads++;
      } catch {
        // The thread ended between the listing and the read.
      }
    }
  } catch {
    threads = 0;
  }
  if (threads > 0 && total > 0) return total;
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // Fields after the command name, which sits in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_NS;
}

/** Resident set size of a process, bytes. */
export function processRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (match?.[1] === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** How to start one server process. */
export interface ServerCommand {
  /** Label in messages. */
  readonly label: string;
  /** Executable; usually process.execPath. */
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** How long the server may take to print its listening line, ms. */
  readonly readyTimeoutMs: number;
  /**
   * The stdout line that says the process is ready; its first group, when
   * it has one, is the URL. Default: `listening on (ws://...)`.
   */
  readonly readyLine?: RegExp;
}

/** A running server process. */
export class ServerProcess {
  private readonly tail: string[] = [];

  private constructor(
    readonly label: string,
    private readonly child: ChildProcess,
    /** The `ws://host:port` it printed (empty when its ready line has no URL). */
    readonly url: string,
    tail: readonly string[],
  ) {
    this.tail.push(...tail);
  }

  /** Process id, for /proc. */
  get pid(): number {
    const pid = this.child.pid;
    if (pid === undefined) throw new Error(`${this.label} has no pid`);
    return pid;
  }

  /** CPU time used so far, all threads, ns. */
  cpuNs(): number {
    return processCpuNs(this.pid);
  }

  /** Resident set size now, bytes. */
  rssBytes(): number {
    return processRssBytes(this.pid);
  }

  /** True while the process runs. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Last lines it printed, for error reports. */
  output(): string {
    return this.tail.join('\n');
  }

  /**
   * Starts a server and resolves once it prints `... listening on ws://...`
   * (or the command's own ready line).
   * Its output is drained all along (a full pipe would stall it) and the
   * last lines are kept.
   */
  static async start(spec: ServerCommand): Promise<ServerProcess> {
    // NODE_OPTIONS is dropped so that every server runs with the same flags.
    const { NODE_OPTIONS: _dropped, ...env } = process.env;
    const child = spawn(spec.command, [...spec.args], { cwd: spec.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    const tail: string[] = [];
    let server: ServerProcess | null = null;
    const keep = (chunk: Buffer): void => {
      const target = server === null ? tail : server.tail;
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.length === 0) continue;
        target.push(line.length > 300 ? `${line.slice(0, 300)}...` : line);
        if (target.length > TAIL_LINES) target.shift();
      }
    };
    child.stderr?.on('data', keep);
    const url = await new Promise<string>((resolve, reject) => {
      let pending = '';
      const readyLine = spec.readyLine ?? READY_LINE;
      const timer = setTimeout(
        () => fail(new Error(`${spec.label} printed no ready line within ${spec.readyTimeoutMs} ms`)),
        spec.readyTimeoutMs,
      );
      const onData = (chunk: Buffer): void => {
        keep(chunk);
        pending += chunk.toString('utf8');
        const match = readyLine.exec(pending);
        if (match !== null) {
          clearTimeout(timer);
          child.off('exit', onExit);
          resolve(match[1] ?? '');
        } else if (pending.length > 65_536) pending = pending.slice(-1024);
      };
      const onExit = (code: number | null, signal: string | null): void =>
        fail(new Error(`${spec.label} exited (${code ?? signal}) before listening`));
      const fail = (error: Error): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`${error.message}\n${tail.join('\n')}`));
      };
      child.stdout?.on('data', onData);
      child.once('exit', onExit);
      child.once('error', (error) => fail(error));
    });
    server = new ServerProcess(spec.label, child, url, tail);
    child.stdout?.removeAllListeners('data');
    child.stdout?.on('data', keep);
    return server;
  }

  /** Sends SIGTERM and waits for the exit; SIGKILL after graceMs. Resolves the exit code. */
  async stop(graceMs = 5_000): Promise<number | null> {
    if (!this.running) return this.child.exitCode;
    const exited = once(this.child, 'exit') as Promise<[number | null, string | null]>;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const [code] = await exited;
    clearTimeout(timer);
    return code;
  }
}
