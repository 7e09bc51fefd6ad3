// The queue of joiners waiting for an answer in one room (PROTOCOL.md,
// "Answer routing"): entries in arrival order, each owned by a joiner id.
// Every operation is O(1) except `removeJoiner`, which is linear in that
// joiner's own entries: no client's departure costs time in others' entries.

interface Entry {
  readonly joiner: number;
  prev: Entry | null;
  next: Entry | null;
  /** The next entry of the same joiner, newer than this one. */
  newerOfJoiner: Entry | null;
}

/** One joiner's entries, oldest first, chained through `newerOfJoiner`. */
interface JoinerEntries {
  oldest: Entry;
  newest: Entry;
  count: number;
}

/** A FIFO of joiner ids, one entry per queued offer, with O(1) removal of a joiner's oldest entry. */
export class OfferQueue {
  private head: Entry | null = null;
  private tail: Entry | null = null;
  private readonly byJoiner = new Map<number, JoinerEntries>();
  private length = 0;

  /** Entries in the queue, all joiners together. */
  get size(): number {
    return this.length;
  }

  /** Entries of `joiner` in the queue. */
  count(joiner: number): number {
    return this.byJoiner.get(joiner)?.count ?? 0;
  }

  /** Appends an entry for `joiner`. */
  push(joiner: number): void {
    const entry: Entry = { joiner, prev: this.tail, next: null, newerOfJoiner: null };
    if (this.tail === null) this.head = entry;
    else this.tail.next = entry;
    this.tail = entry;
    this.length += 1;
    const own = this.byJoiner.get(joiner);
    if (own === undefined) {
      this.byJoiner.set(joiner, { oldest: entry, newest: entry, count: 1 });
    } else {
      own.newest.newerOfJoiner = entry;
      own.newest = entry;
      own.count += 1;
    }
  }

  /** Removes the oldest entry of all and returns its joiner, or undefined when the queue is empty. */
  shift(): number | undefined {
    const head = this.head;
    if (head === null) return undefined;
    // The oldest entry of all is also the oldest of its joiner.
    this.takeOldestOf(head.joiner);
    return head.joiner;
  }

  /** Removes the oldest entry of `joiner`; false when it has none. */
  take(joiner: number): boolean {
    return this.takeOldestOf(joiner);
  }

  /** Removes every entry of `joiner`. */
  removeJoiner(joiner: number): void {
    const own = this.byJoiner.get(joiner);
    if (own === undefined) return;
    this.byJoiner.delete(joiner);
    for (let entry: Entry | null = own.oldest; entry !== null; entry = entry.newerOfJoiner) this.unlink(entry);
  }

  /** Joiner ids in queue order, one per entry (for tests and debugging). */
  toArray(): number[] {
    const ids: number[] = [];
    for (let entry = this.head; entry !== null; entry = entry.next) ids.push(entry.joiner);
    return ids;
  }

  private takeOldestOf(joiner: number): boolean {
    const own = this.byJoiner.get(joiner);
    if (own === undefined) return false;
    const entry = own.oldest;
    if (own.count === 1) this.byJoiner.delete(joiner);
    else {
      own.oldest = entry.newerOfJoiner!;
      own.count -= 1;
    }
    this.unlink(entry);
    return true;
  }

  private unlink(entry: Entry): void {
    if (entry.prev === null) this.head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === null) this.tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = null;
    entry.next = null;
    this.length -= 1;
  }
}
