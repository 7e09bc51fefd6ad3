// The driver's handle on the load generator process: forks it, sends it
// commands over IPC and resolves their results.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { LoadGenCommand, LoadGenReply, LoadGenRequest, LoadGenResults } from './load-gen-messages.js';
import { trackChild } from './server-process.js';

const SCRIPT = fileURLToPath(new URL('./load-gen.ts', import.meta.url));
const READY_TIMEOUT_MS = 15_000;

type Pending = { resolve: (result: unknown) => void; reject: (error: Error) => void };

/** A running load generator. */
export class LoadGenProcess {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: LoadGenReply) => {
      const waiter = this.pending.get(reply.seq);
      if (waiter === undefined) return;
      this.pending.delete(reply.seq);
      if (reply.ok) waiter.resolve(reply.result);
      else waiter.reject(new Error(`load generator: ${reply.error}`));
    });
    child.once('exit', (code, signal) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`load generator exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  /** Process id. */
  get pid(): number {
    const pid = this.child.pid;
    if (pid === undefined) throw new Error('load generator has no pid');
    return pid;
  }

  /** Forks the load generator (through tsx) and waits until it listens for commands. */
  static async start(): Promise<LoadGenProcess> {
    const { NODE_OPTIONS: _dropped, ...env } = process.env;
    const child = fork(SCRIPT, [], {
      execArgv: ['--import', 'tsx'],
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    trackChild(child);
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('load generator did not start')), READY_TIMEOUT_MS);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`load generator exited (${code ?? signal}) while starting`));
      });
    });
    await ready;
    return new LoadGenProcess(child);
  }

  /** Runs one command and resolves its result. */
  run<K extends LoadGenCommand['kind']>(command: Extract<LoadGenCommand, { kind: K }>): Promise<LoadGenResults[K]> {
    const seq = ++this.seq;
    return new Promise<LoadGenResults[K]>((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (result: unknown) => void, reject });
      const request: LoadGenRequest = { seq, command };
      this.child.send(request, (error) => {
        if (error === null) return;
        this.pending.delete(seq);
        reject(error);
      });
    });
  }

  /** Closes the IPC channel, which ends the process; SIGKILL after graceMs. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    if (this.child.connected) this.child.disconnect();
    else this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
