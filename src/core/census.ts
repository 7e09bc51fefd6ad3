// Open connections of one process by dialect and role, kept up to date as
// connections open, change role or dialect, and end: a metrics scrape reads
// a dozen numbers instead of walking every connection.

import { DIALECTS, type Dialect } from '../protocol/index.js';

/** A role as logs and metrics name it. */
export type RoleName = 'none' | 'host' | 'joiner';

/** Open connections of this process by dialect and role. */
export type ConnectionCensus = Record<Dialect, Record<RoleName, number>>;

/** The running census of a process's connections. */
export class Census {
  private readonly counts: ConnectionCensus = Object.fromEntries(
    DIALECTS.map((dialect) => [dialect, { none: 0, host: 0, joiner: 0 }]),
  ) as ConnectionCensus;

  /** A connection opened, or ended (`by` -1). */
  count(dialect: Dialect, role: RoleName, by: 1 | -1): void {
    this.counts[dialect][role] += by;
  }

  /** A connection moved from one dialect and role to another. */
  move(from: Dialect, fromRole: RoleName, to: Dialect, toRole: RoleName): void {
    if (from === to && fromRole === toRole) return;
    this.counts[from][fromRole] -= 1;
    this.counts[to][toRole] += 1;
  }

  /** A copy of the counts now. */
  read(): ConnectionCensus {
    return Object.fromEntries(DIALECTS.map((dialect) => [dialect, { ...this.counts[dialect] }])) as ConnectionCensus;
  }
}
